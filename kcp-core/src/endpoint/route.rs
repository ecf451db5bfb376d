//! What an opened datagram says about where it belongs, read the way
//! kcp-go's listener reads it (`Listener.packetInput`, 5.6.1).

use crate::arq::segment::{segments, Command, HEADER_LEN};
use crate::fec;

/// Offset of `sn` in a KCP segment header.
const SN_OFFSET: usize = 12;

/// The conversation a datagram's payload names, and the `sn` of its first
/// segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A KCP segment run (bare or in a FEC data packet).
    Conv {
        /// The conversation id.
        conv: u32,
        /// The `sn` of the first segment.
        first_sn: u32,
    },
    /// A FEC parity packet: it names no conversation, so it belongs to
    /// whichever session of its address the FEC group is for.
    Parity,
}

/// Reads the route of an opened payload; `None` when it is too short to
/// name a conversation (kcp-go drops those too).
pub fn route(payload: &[u8]) -> Option<Route> {
    if payload.len() < HEADER_LEN {
        return None;
    }
    // A KCP segment's bytes 4..6 are cmd (81..=84) and frg; they never
    // read as a FEC type (0x00f1, 0x00f2), so the two cannot be confused.
    let segments = match fec::packet_type(payload) {
        Some(fec::PacketType::Parity) => return Some(Route::Parity),
        Some(fec::PacketType::Data) => payload.get(fec::DATA_HEADER_LEN..)?,
        None => payload,
    };
    if segments.len() < HEADER_LEN {
        return None;
    }
    let word = |at: usize| {
        u32::from_le_bytes([
            segments[at],
            segments[at + 1],
            segments[at + 2],
            segments[at + 3],
        ])
    };
    Some(Route::Conv {
        conv: word(0),
        first_sn: word(SN_OFFSET),
    })
}

/// Why an unknown conversation's datagram opens no session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not well-formed KCP: a bad FEC size field, a segment that is cut
    /// short or names an unknown command, mixed conversations, bytes left
    /// over, or a message of more fragments than the receive window holds.
    Malformed,
    /// Well-formed, but nothing a fresh connection would act on: no data
    /// segment inside its receive window (acknowledgements, probes, or
    /// data far ahead of the stream's start).
    Inert,
}

/// Checks that an opened payload for an unknown conversation may open a
/// session: it must parse completely as KCP (in a FEC data packet or bare)
/// and carry data a fresh connection with receive window `rcv_wnd` would
/// take. Nothing is allocated, so a flood of garbage costs no state.
pub fn admissible(payload: &[u8], rcv_wnd: u32, stream: bool) -> Result<(), Refusal> {
    let run = match fec::packet_type(payload) {
        Some(fec::PacketType::Parity) => return Err(Refusal::Inert),
        Some(fec::PacketType::Data) => fec::data_kcp_bytes(payload).ok_or(Refusal::Malformed)?,
        None => payload,
    };
    let mut conv = None;
    let mut walked = 0;
    let mut takes_data = false;
    for segment in segments(run) {
        let (h, body) = segment.map_err(|_| Refusal::Malformed)?;
        if *conv.get_or_insert(h.conv) != h.conv {
            return Err(Refusal::Malformed);
        }
        if h.cmd == Command::Push {
            if !stream && u32::from(h.frg) >= rcv_wnd {
                return Err(Refusal::Malformed);
            }
            takes_data |= h.sn < rcv_wnd;
        }
        walked += HEADER_LEN + body.len();
    }
    if walked == 0 || walked != run.len() {
        return Err(Refusal::Malformed);
    }
    if takes_data {
        Ok(())
    } else {
        Err(Refusal::Inert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(conv: u32, sn: u32) -> Vec<u8> {
        let mut s = vec![0u8; HEADER_LEN];
        s[..4].copy_from_slice(&conv.to_le_bytes());
        s[4] = 81;
        s[SN_OFFSET..SN_OFFSET + 4].copy_from_slice(&sn.to_le_bytes());
        s
    }

    #[test]
    fn bare_segment_names_conv_and_sn() {
        assert_eq!(
            route(&segment(7, 3)),
            Some(Route::Conv {
                conv: 7,
                first_sn: 3
            })
        );
    }

    #[test]
    fn fec_data_packet_is_read_past_its_header() {
        let mut p = vec![0u8; fec::DATA_HEADER_LEN];
        p[4..6].copy_from_slice(&fec::TYPE_DATA.to_le_bytes());
        p.extend(segment(0xdead_beef, 0));
        assert_eq!(
            route(&p),
            Some(Route::Conv {
                conv: 0xdead_beef,
                first_sn: 0
            })
        );
        // A FEC data packet too short to hold a segment names nothing.
        assert_eq!(route(&p[..p.len() - 1]), None);
    }

    #[test]
    fn parity_names_no_conv() {
        let mut p = vec![0u8; 40];
        p[4..6].copy_from_slice(&fec::TYPE_PARITY.to_le_bytes());
        assert_eq!(route(&p), Some(Route::Parity));
    }

    fn with_len(mut s: Vec<u8>, len: u32, body: &[u8]) -> Vec<u8> {
        s[20..24].copy_from_slice(&len.to_le_bytes());
        s.extend_from_slice(body);
        s
    }

    #[test]
    fn only_well_formed_data_in_the_window_is_admissible() {
        let push = |conv, sn| with_len(segment(conv, sn), 3, b"abc");
        assert_eq!(admissible(&push(1, 0), 128, false), Ok(()));
        assert_eq!(admissible(&push(1, 127), 128, false), Ok(()));
        let two = [push(1, 0), push(1, 1)].concat();
        assert_eq!(admissible(&two, 128, false), Ok(()));
        let mut fec = vec![0u8; fec::DATA_HEADER_LEN];
        fec[4..6].copy_from_slice(&fec::TYPE_DATA.to_le_bytes());
        fec.extend(push(1, 0));
        let size = (fec.len() - fec::HEADER_LEN) as u16;
        fec[6..8].copy_from_slice(&size.to_le_bytes());
        assert_eq!(admissible(&fec, 128, false), Ok(()));

        let malformed = |d: &[u8]| assert_eq!(admissible(d, 128, false), Err(Refusal::Malformed));
        // A length past the end, a length short of it, an unknown command.
        malformed(&with_len(segment(1, 0), 1000, &[0; 10]));
        malformed(&with_len(segment(1, 0), 2, b"abc"));
        let mut bad_cmd = push(1, 0);
        bad_cmd[4] = 99;
        malformed(&bad_cmd);
        malformed(&[push(1, 0), push(2, 1)].concat());
        let mut fragments = push(1, 0);
        fragments[5] = 200;
        malformed(&fragments);
        assert_eq!(admissible(&fragments, 256, false), Ok(()));
        assert_eq!(admissible(&fragments, 128, true), Ok(()));
        let mut bad_size = fec.clone();
        bad_size[6] ^= 1;
        malformed(&bad_size);
        malformed(&[]);

        let inert = |d: &[u8]| assert_eq!(admissible(d, 128, false), Err(Refusal::Inert));
        let mut ack = segment(1, 0);
        ack[4] = 82;
        inert(&ack);
        inert(&push(1, 128));
        let mut parity = vec![0u8; 40];
        parity[4..6].copy_from_slice(&fec::TYPE_PARITY.to_le_bytes());
        inert(&parity);
    }

    #[test]
    fn short_payloads_are_refused() {
        assert_eq!(route(&[]), None);
        assert_eq!(route(&segment(1, 0)[..23]), None);
    }
}

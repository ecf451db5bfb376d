//! What an opened datagram says about where it belongs, read the way
//! kcp-go's listener reads it (`Listener.packetInput`, 5.6.1).

use crate::fec;

/// Length of a KCP segment header.
const SEGMENT_HEADER_LEN: usize = 24;
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
    if payload.len() < SEGMENT_HEADER_LEN {
        return None;
    }
    // A KCP segment's bytes 4..6 are cmd (81..=84) and frg; they never
    // read as a FEC type (0x00f1, 0x00f2), so the two cannot be confused.
    let segments = match fec::packet_type(payload) {
        Some(fec::PacketType::Parity) => return Some(Route::Parity),
        Some(fec::PacketType::Data) => payload.get(fec::DATA_HEADER_LEN..)?,
        None => payload,
    };
    if segments.len() < SEGMENT_HEADER_LEN {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(conv: u32, sn: u32) -> Vec<u8> {
        let mut s = vec![0u8; SEGMENT_HEADER_LEN];
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

    #[test]
    fn short_payloads_are_refused() {
        assert_eq!(route(&[]), None);
        assert_eq!(route(&segment(1, 0)[..23]), None);
    }
}

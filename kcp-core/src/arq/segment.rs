//! The KCP segment header: 24 little-endian bytes, then `len` bytes of data.
//!
//! `conv u32 | cmd u8 | frg u8 | wnd u16 | ts u32 | sn u32 | una u32 | len u32`
//!
//! Several segments may share one datagram. Decoding never trusts `len`: a
//! segment that claims more bytes than the datagram holds is an error.

use super::InputError;

/// Size of a segment header on the wire.
pub const HEADER_LEN: usize = 24;

/// A segment's command byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Command {
    /// Data (`IKCP_CMD_PUSH`).
    Push = 81,
    /// Acknowledgement of one segment (`IKCP_CMD_ACK`).
    Ack = 82,
    /// Window probe: "tell me your window" (`IKCP_CMD_WASK`).
    WindowAsk = 83,
    /// Window report (`IKCP_CMD_WINS`).
    WindowTell = 84,
}

impl Command {
    /// Parses a command byte; `None` for anything KCP does not define.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            81 => Some(Self::Push),
            82 => Some(Self::Ack),
            83 => Some(Self::WindowAsk),
            84 => Some(Self::WindowTell),
            _ => None,
        }
    }
}

/// A decoded segment header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Conversation id; both ends must agree.
    pub conv: u32,
    /// What the segment is.
    pub cmd: Command,
    /// Fragments that follow this one in the same message (0 = last).
    pub frg: u8,
    /// The sender's free receive window, in segments.
    pub wnd: u16,
    /// Send timestamp (PUSH) or the echoed timestamp of the acknowledged segment (ACK).
    pub ts: u32,
    /// Sequence number.
    pub sn: u32,
    /// Everything before this sequence number has been received by the sender.
    pub una: u32,
    /// Data bytes that follow the header.
    pub len: u32,
}

impl SegmentHeader {
    /// Writes the header into the first [`HEADER_LEN`] bytes of `out`.
    ///
    /// # Panics
    /// If `out` is shorter than [`HEADER_LEN`]; callers size their buffers from the MTU.
    #[inline]
    pub fn encode(&self, out: &mut [u8]) {
        let out = &mut out[..HEADER_LEN];
        out[0..4].copy_from_slice(&self.conv.to_le_bytes());
        out[4] = self.cmd as u8;
        out[5] = self.frg;
        out[6..8].copy_from_slice(&self.wnd.to_le_bytes());
        out[8..12].copy_from_slice(&self.ts.to_le_bytes());
        out[12..16].copy_from_slice(&self.sn.to_le_bytes());
        out[16..20].copy_from_slice(&self.una.to_le_bytes());
        out[20..24].copy_from_slice(&self.len.to_le_bytes());
    }

    /// Decodes one header from the front of `buf` (data not included).
    #[inline]
    pub fn decode(buf: &[u8]) -> Result<Self, InputError> {
        let Some(head) = buf.get(..HEADER_LEN) else {
            return Err(InputError::Truncated { len: buf.len() });
        };
        let u32_at =
            |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let cmd = Command::from_byte(head[4]).ok_or(InputError::UnknownCommand { cmd: head[4] })?;
        Ok(Self {
            conv: u32_at(0),
            cmd,
            frg: head[5],
            wnd: u16::from_le_bytes([head[6], head[7]]),
            ts: u32_at(8),
            sn: u32_at(12),
            una: u32_at(16),
            len: u32_at(20),
        })
    }
}

/// Iterates over the segments of one datagram, yielding each header and its data.
///
/// Stops at the first malformed segment with an error; trailing bytes too
/// short to hold a header are ignored, as ikcp does.
pub fn segments(datagram: &[u8]) -> Segments<'_> {
    Segments { rest: datagram }
}

/// Iterator returned by [`segments`].
pub struct Segments<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Segments<'a> {
    type Item = Result<(SegmentHeader, &'a [u8]), InputError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.len() < HEADER_LEN {
            return None;
        }
        let header = match SegmentHeader::decode(self.rest) {
            Ok(h) => h,
            Err(e) => {
                self.rest = &[];
                return Some(Err(e));
            }
        };
        let body = &self.rest[HEADER_LEN..];
        let len = header.len as usize;
        if len > body.len() {
            self.rest = &[];
            return Some(Err(InputError::BadLength {
                len: header.len,
                remaining: body.len(),
            }));
        }
        self.rest = &body[len..];
        Some(Ok((header, &body[..len])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trips_and_matches_the_reference_layout() {
        let h = SegmentHeader {
            conv: 0x0403_0201,
            cmd: Command::Push,
            frg: 7,
            wnd: 0x0908,
            ts: 0x0d0c_0b0a,
            sn: 0x1110_0f0e,
            una: 0x1514_1312,
            len: 3,
        };
        let mut buf = [0u8; HEADER_LEN];
        h.encode(&mut buf);
        assert_eq!(
            buf,
            [
                1, 2, 3, 4, 81, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12,
                0x13, 0x14, 0x15, 3, 0, 0, 0
            ]
        );
        assert_eq!(SegmentHeader::decode(&buf), Ok(h));
    }

    #[test]
    fn decoding_rejects_lies_and_unknown_commands() {
        let mut buf = [0u8; HEADER_LEN + 2];
        SegmentHeader {
            conv: 1,
            cmd: Command::Push,
            frg: 0,
            wnd: 1,
            ts: 0,
            sn: 0,
            una: 0,
            len: 5,
        }
        .encode(&mut buf);
        let first = segments(&buf).next();
        assert_eq!(
            first,
            Some(Err(InputError::BadLength {
                len: 5,
                remaining: 2
            }))
        );
        buf[4] = 99;
        assert_eq!(
            segments(&buf).next(),
            Some(Err(InputError::UnknownCommand { cmd: 99 }))
        );
        assert_eq!(
            SegmentHeader::decode(&buf[..10]),
            Err(InputError::Truncated { len: 10 })
        );
    }
}

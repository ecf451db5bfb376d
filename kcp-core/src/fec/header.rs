//! The FEC header: reading and writing `seqid u32 | type u16 [| size u16]`.

use super::{FecError, DATA_HEADER_LEN, HEADER_LEN, MAX_PACKET_LEN, TYPE_DATA, TYPE_PARITY};

/// What a FEC packet carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    /// `size u16 | KCP bytes`.
    Data,
    /// One parity shard.
    Parity,
}

/// Tells a FEC packet from a plain KCP datagram by the `u16` at offset 4, as
/// kcp-go does: a KCP segment has `cmd | frg << 8` there (cmd 81..=84), which
/// is never 0xF1 or 0xF2. `None` for anything else, including a packet too
/// short to say.
pub fn packet_type(packet: &[u8]) -> Option<PacketType> {
    match read_u16(packet, 4)? {
        TYPE_DATA => Some(PacketType::Data),
        TYPE_PARITY => Some(PacketType::Parity),
        _ => None,
    }
}

/// A checked FEC packet.
#[derive(Debug, Clone, Copy)]
pub(super) struct Parsed<'a> {
    pub seqid: u32,
    pub kind: PacketType,
    /// The shard: `size | KCP bytes` for data, the parity bytes for parity.
    pub shard: &'a [u8],
}

impl<'a> Parsed<'a> {
    /// The KCP bytes of a data packet.
    pub fn kcp_bytes(&self) -> Option<&'a [u8]> {
        match self.kind {
            PacketType::Data => Some(&self.shard[2..]),
            PacketType::Parity => None,
        }
    }
}

/// Checks a received FEC packet (starting at its header) without trusting
/// any field of it.
pub(super) fn parse(packet: &[u8]) -> Result<Parsed<'_>, FecError> {
    if packet.len() < DATA_HEADER_LEN {
        return Err(FecError::Truncated {
            len: packet.len(),
            need: DATA_HEADER_LEN,
        });
    }
    if packet.len() > MAX_PACKET_LEN {
        return Err(FecError::TooLong {
            len: packet.len(),
            max: MAX_PACKET_LEN,
        });
    }
    let seqid = read_u32(packet, 0).unwrap_or_default();
    let shard = &packet[HEADER_LEN..];
    let kind = match read_u16(packet, 4).unwrap_or_default() {
        TYPE_DATA => PacketType::Data,
        TYPE_PARITY => PacketType::Parity,
        other => return Err(FecError::UnknownType(other)),
    };
    if kind == PacketType::Data {
        let size = read_u16(shard, 0).unwrap_or_default();
        if usize::from(size) != shard.len() {
            return Err(FecError::SizeMismatch {
                size,
                actual: shard.len(),
            });
        }
    }
    Ok(Parsed { seqid, kind, shard })
}

/// The KCP bytes of a FEC data packet, checked as the decoder checks them
/// (length, type, and a `size` field that matches); `None` for anything
/// else.
pub fn data_kcp_bytes(packet: &[u8]) -> Option<&[u8]> {
    parse(packet).ok()?.kcp_bytes()
}

/// Writes `seqid | type` at the start of `out` (at least 6 bytes).
pub(super) fn write(out: &mut [u8], seqid: u32, kind: PacketType) {
    let code = match kind {
        PacketType::Data => TYPE_DATA,
        PacketType::Parity => TYPE_PARITY,
    };
    out[..4].copy_from_slice(&seqid.to_le_bytes());
    out[4..HEADER_LEN].copy_from_slice(&code.to_le_bytes());
}

/// The little-endian `u16` at `at`, if the bytes are there.
pub(super) fn read_u16(bytes: &[u8], at: usize) -> Option<u16> {
    let b = bytes.get(at..at.checked_add(2)?)?;
    Some(u16::from_le_bytes([b[0], b[1]]))
}

fn read_u32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

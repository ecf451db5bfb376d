//! kcp-go's forward error correction: Reed-Solomon shards with its header and rules.
//!
//! Every FEC packet starts with a 6-byte header, little-endian:
//! `seqid u32 | type u16` ([`TYPE_DATA`] `0xF1` or [`TYPE_PARITY`] `0xF2`).
//! A data packet then carries `size u16 | KCP bytes` with `size = 2 + len(KCP bytes)`;
//! a parity packet carries one parity shard. Packets are numbered by one
//! counter, `data_shards + parity_shards` to a group: a seqid whose remainder
//! modulo that sum is below `data_shards` is data, the rest are parity. A
//! group's shards are the data packets' `size | KCP bytes`, zero-padded to the
//! group's longest, and parity is Reed-Solomon over GF(2^8) with the matrix of
//! klauspost/reedsolomon (which `reed-solomon-erasure` builds identically;
//! the tests check parity bytes against kcp-go's).
//!
//! - [`Encoder`] numbers data packets in place (the caller reserves room for
//!   the header) and, once a group is full, builds its parity packets.
//! - [`Decoder`] hands every data packet's KCP bytes straight back, and when
//!   parity completes a group with holes, the recovered KCP bytes as well.
//!
//! Everything is sans-IO: the time is passed in as `now` (milliseconds, a
//! wrapping `u32`). Buffers are allocated up to a fixed bound and reused.

mod autotune;
mod decoder;
mod encoder;
mod error;
mod group;
mod header;
mod pool;

#[cfg(test)]
mod tests;

pub use decoder::{Decoded, Decoder, DecoderStats, DecoderUsage, Recovered};
pub use encoder::{Encoder, EncoderStats, ParityPackets};
pub use error::FecError;
pub use header::{data_kcp_bytes, packet_type, PacketType};

/// Bytes of the FEC header on every FEC packet: `seqid u32 | type u16`.
pub const HEADER_LEN: usize = 6;

/// Bytes before the KCP bytes of a data packet: the header and `size u16`.
/// This is the room a sender reserves in front of its KCP bytes.
pub const DATA_HEADER_LEN: usize = HEADER_LEN + 2;

/// The `type` of a data packet.
pub const TYPE_DATA: u16 = 0xF1;

/// The `type` of a parity packet.
pub const TYPE_PARITY: u16 = 0xF2;

/// Longest FEC packet (header included, crypto header excluded) either side
/// accepts: kcp-go reads datagrams into 1500-byte buffers (its `mtuLimit`).
pub const MAX_PACKET_LEN: usize = 1500;

/// Longest shard: a FEC packet without its 6-byte header.
pub const MAX_SHARD_LEN: usize = MAX_PACKET_LEN - HEADER_LEN;

/// Most shards (data + parity) in a group: GF(2^8) Reed-Solomon, and
/// klauspost/reedsolomon, stop at 256.
pub const MAX_TOTAL_SHARDS: usize = 256;

/// Most shards (data + parity) a decoder follows a peer to when the
/// session's own counts are smaller: kcptun's presets stay far below it
/// (10/3 at most), and it bounds what any input can make a session hold to
/// [`GROUP_SLOTS`] x 32 shard buffers (144 KB) plus the codec's cached
/// inverses (at most 254 of 31 x 31 bytes, 244 KB).
pub const AUTOTUNE_MAX_TOTAL: usize = 32;

/// A group still incomplete this many milliseconds after its first shard
/// arrived is dropped (kcp-go's `fecExpire`).
pub const GROUP_EXPIRE_MS: u32 = 60_000;

/// Groups a decoder tracks at once (kcp-go keeps three groups' worth).
pub const GROUP_SLOTS: usize = 3;

/// Default for [`Encoder::set_parity_latency`]: when the last data packet of a
/// group comes this many milliseconds or more after the one before it, kcp-go
/// (after 5.6.1, its `maxFECEncodeLatency`) sends no parity for the group.
pub const PARITY_LATENCY_MS: u32 = 500;

//! What can go wrong in the FEC layer.

/// Errors from [`Encoder`](super::Encoder) and [`Decoder`](super::Decoder).
///
/// A refused packet changes nothing in the decoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FecError {
    /// Shard counts outside what kcp-go can use: each at least 1, at most
    /// 256 together.
    #[error(
        "FEC needs 1 or more data and parity shards, 256 at most together; got {data} + {parity}"
    )]
    InvalidShardCount {
        /// Data shards asked for.
        data: usize,
        /// Parity shards asked for.
        parity: usize,
    },
    /// The packet is shorter than its header (8 bytes: kcp-go refuses a FEC
    /// packet of either type shorter than that).
    #[error("FEC packet of {len} bytes is shorter than the {need}-byte header")]
    Truncated {
        /// Bytes available.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// The packet is longer than any kcp-go peer sends or reads.
    #[error("FEC packet of {len} bytes is longer than the {max}-byte limit")]
    TooLong {
        /// Length of the packet.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The `type` field is neither data (0xF1) nor parity (0xF2).
    #[error("unknown FEC packet type {0:#06x} (expected 0xf1 or 0xf2)")]
    UnknownType(u16),
    /// A data packet's `size` field disagrees with its length.
    #[error("FEC data packet says {size} bytes follow its header, but {actual} do")]
    SizeMismatch {
        /// The `size` field.
        size: u16,
        /// Bytes actually after the 6-byte header.
        actual: usize,
    },
    /// The datagram handed to the encoder has no room for the crypto and FEC
    /// headers in front of its KCP bytes.
    #[error("datagram of {len} bytes cannot hold the {need} bytes of headroom and FEC header")]
    NoHeadroom {
        /// Length of the datagram.
        len: usize,
        /// Headroom plus the 8-byte FEC data header.
        need: usize,
    },
}

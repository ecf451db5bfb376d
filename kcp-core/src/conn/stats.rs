//! One connection's counters (kcp-go's SNMP set, as far as one peer goes)
//! and a few gauges of its path.

use crate::arq::PathStats;

/// What a [`Conn`](super::Conn) has seen and done. Names follow kcp-go's
/// `Snmp` fields where one exists.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// Application bytes accepted by `send` (`BytesSent`).
    pub bytes_sent: u64,
    /// Application bytes handed out by `recv` (`BytesReceived`).
    pub bytes_received: u64,
    /// Datagrams received (`InPkts`).
    pub in_packets: u64,
    /// Datagrams emitted, parity included (`OutPkts`).
    pub out_packets: u64,
    /// Bytes of the datagrams received (`InBytes`).
    pub in_bytes: u64,
    /// Bytes of the datagrams emitted (`OutBytes`).
    pub out_bytes: u64,
    /// KCP segments accepted (`InSegs`).
    pub in_segments: u64,
    /// Data segments emitted, retransmissions included (`OutSegs`).
    pub out_segments: u64,
    /// Retransmissions of any kind (`RetransSegs`).
    pub retransmits: u64,
    /// Retransmissions from the fast-resend count (`FastRetransSegs`).
    pub fast_retransmits: u64,
    /// Retransmissions of losses found early, by RACK (`EarlyRetransSegs`).
    pub early_retransmits: u64,
    /// Retransmissions after a timeout (`LostSegs`).
    pub lost_segments: u64,
    /// Duplicate data segments received (`RepeatSegs`).
    pub repeat_segments: u64,
    /// Copies sent in spare datagram room (budgeted redundancy; no kcp-go
    /// counterpart).
    pub redundant_segments: u64,
    /// Data shards rebuilt from parity (`FECRecovered`).
    pub fec_recovered: u64,
    /// Malformed FEC packets, or groups whose rebuild failed (`FECErrs`).
    pub fec_errors: u64,
    /// Parity packets emitted (`FECParityShards`).
    pub fec_parity_shards: u64,
    /// Groups given up with data missing (`FECShortShards`).
    pub fec_short_shards: u64,
    /// Datagrams whose checksum or decryption failed (`InCsumErrors`).
    pub checksum_errors: u64,
    /// Datagrams too short for the crypto header (`InErrs`).
    pub in_errors: u64,
    /// Datagrams the ARQ refused as malformed (`KCPInErrors`).
    pub kcp_in_errors: u64,
    /// Gauges, not counters: the ARQ's view of the path when the stats
    /// were taken ([`Arq::path_stats`](crate::Arq::path_stats)).
    pub path: PathStats,
}

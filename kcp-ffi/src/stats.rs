//! `struct kcp_session_stats`: what kcp_session_get_stats and
//! kcp_conn_get_stats fill. Its first fields are, in order, those of the
//! older `struct kcp_conn_stats`, so the deprecated getters fill that
//! struct with a prefix of this one.

use kcp_core::ConnStats;

/// A session's counters (kcp-go's SNMP names in brackets), then gauges of
/// its path. Filled by kcp_session_get_stats and kcp_conn_get_stats; plain
/// data owned by the caller. Later releases append fields (see
/// kcp_session_get_stats). C has no typedef for it (the older function
/// kcp_session_stats has the name): write `struct kcp_session_stats`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct kcp_session_stats {
    /// Application bytes sent (BytesSent).
    pub bytes_sent: u64,
    /// Application bytes received (BytesReceived).
    pub bytes_received: u64,
    /// Datagrams received (InPkts).
    pub in_packets: u64,
    /// Datagrams emitted, parity included (OutPkts).
    pub out_packets: u64,
    /// Bytes received on the wire (InBytes).
    pub in_bytes: u64,
    /// Bytes emitted on the wire (OutBytes).
    pub out_bytes: u64,
    /// KCP segments accepted (InSegs).
    pub in_segments: u64,
    /// Data segments emitted (OutSegs).
    pub out_segments: u64,
    /// Retransmissions (RetransSegs).
    pub retransmits: u64,
    /// Fast retransmissions (FastRetransSegs).
    pub fast_retransmits: u64,
    /// Early (RACK) retransmissions (EarlyRetransSegs).
    pub early_retransmits: u64,
    /// Timeout retransmissions (LostSegs).
    pub lost_segments: u64,
    /// Duplicate data segments received (RepeatSegs).
    pub repeat_segments: u64,
    /// Data shards rebuilt from parity (FECRecovered).
    pub fec_recovered: u64,
    /// Malformed FEC packets or failed rebuilds (FECErrs).
    pub fec_errors: u64,
    /// Parity packets emitted (FECParityShards).
    pub fec_parity_shards: u64,
    /// FEC groups given up with data missing (FECShortShards).
    pub fec_short_shards: u64,
    /// Datagrams failing the checksum (InCsumErrors).
    pub checksum_errors: u64,
    /// Datagrams too short for the crypto header (InErrs).
    pub in_errors: u64,
    /// Datagrams the ARQ refused (KCPInErrors).
    pub kcp_in_errors: u64,
    /// Copies sent in spare datagram room (budgeted redundancy, the
    /// `redundancy` key; no kcp-go counterpart).
    pub redundant_segments: u64,
    /// Gauge: the smoothed round-trip time in ms (0 before the first
    /// sample).
    pub srtt_ms: u64,
    /// Gauge: the round-trip time's mean deviation in ms.
    pub rttvar_ms: u64,
    /// Gauge: the retransmission timeout in ms.
    pub rto_ms: u64,
    /// Gauge: the congestion window in segments.
    pub cwnd: u64,
    /// Gauge: the free receive window the peer last advertised, in segments.
    pub remote_window: u64,
    /// Gauge: segments queued or in flight, not yet acknowledged.
    pub wait_snd: u64,
}

impl From<ConnStats> for kcp_session_stats {
    fn from(s: ConnStats) -> Self {
        Self {
            bytes_sent: s.bytes_sent,
            bytes_received: s.bytes_received,
            in_packets: s.in_packets,
            out_packets: s.out_packets,
            in_bytes: s.in_bytes,
            out_bytes: s.out_bytes,
            in_segments: s.in_segments,
            out_segments: s.out_segments,
            retransmits: s.retransmits,
            fast_retransmits: s.fast_retransmits,
            early_retransmits: s.early_retransmits,
            lost_segments: s.lost_segments,
            repeat_segments: s.repeat_segments,
            fec_recovered: s.fec_recovered,
            fec_errors: s.fec_errors,
            fec_parity_shards: s.fec_parity_shards,
            fec_short_shards: s.fec_short_shards,
            checksum_errors: s.checksum_errors,
            in_errors: s.in_errors,
            kcp_in_errors: s.kcp_in_errors,
            redundant_segments: s.redundant_segments,
            srtt_ms: s.path.srtt_ms.into(),
            rttvar_ms: s.path.rttvar_ms.into(),
            rto_ms: s.path.rto_ms.into(),
            cwnd: s.path.cwnd.into(),
            remote_window: s.path.remote_window.into(),
            wait_snd: s.path.wait_snd.into(),
        }
    }
}

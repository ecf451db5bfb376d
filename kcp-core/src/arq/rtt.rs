//! Round-trip time estimation and the retransmission timeout (RFC 6298 style,
//! with ikcp's constants): `rto = srtt + max(interval, 4 * rttvar)`, clamped to
//! `[min_rto, RTO_MAX]`.

/// Lower bound of the RTO in normal mode (`IKCP_RTO_MIN`).
pub const RTO_MIN: u32 = 100;
/// Lower bound of the RTO in nodelay mode (`IKCP_RTO_NDL`).
pub const RTO_NODELAY_MIN: u32 = 30;
/// RTO before the first sample (`IKCP_RTO_DEF`).
pub const RTO_DEFAULT: u32 = 200;
/// Upper bound of the RTO (`IKCP_RTO_MAX`).
pub const RTO_MAX: u32 = 60_000;

/// Smoothed RTT, its mean deviation, and the RTO derived from them.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: u32,
    rttvar: u32,
    rto: u32,
    min_rto: u32,
    /// The largest recent sample, decaying by 1/64 per sample.
    peak: u32,
}

impl Default for RttEstimator {
    fn default() -> Self {
        Self {
            srtt: 0,
            rttvar: 0,
            rto: RTO_DEFAULT,
            min_rto: RTO_MIN,
            peak: 0,
        }
    }
}

impl RttEstimator {
    /// Folds one RTT sample (ms) into the estimate. `interval` is the flush
    /// interval, the floor of the variance term (an ACK can wait that long).
    ///
    /// A sample longer than the RTO ceiling (60 s) cannot be real (the segment would
    /// have been retransmitted long before): it comes from a forged or
    /// corrupted timestamp and is ignored. Returns whether it was used.
    pub fn sample(&mut self, rtt: u32, interval: u32) -> bool {
        if rtt > RTO_MAX {
            return false;
        }
        if self.srtt == 0 {
            self.srtt = rtt.max(1);
            self.rttvar = rtt / 2;
        } else {
            // Both terms are at most RTO_MAX, so nothing here can overflow.
            let delta = rtt.abs_diff(self.srtt);
            self.rttvar = (3 * self.rttvar + delta) / 4;
            self.srtt = ((7 * self.srtt + rtt) / 8).max(1);
        }
        self.peak = rtt.max(self.peak - self.peak / 64);
        self.recompute(interval);
        true
    }

    fn recompute(&mut self, interval: u32) {
        let rto = self
            .srtt
            .saturating_add(interval.max(self.rttvar.saturating_mul(4)));
        self.rto = rto.clamp(self.min_rto, RTO_MAX);
    }

    /// The current retransmission timeout in ms.
    pub fn rto(&self) -> u32 {
        self.rto
    }

    /// The RTO, but never under a quarter more than the largest recent
    /// sample. ikcp's RTO allows for our own interval as the ACK delay, but
    /// a peer may hold its ACKs longer (kcp-go's default interval is
    /// 100 ms): its ACK-clocked samples then sit just under that delay
    /// with no variance, and the bare RTO fires just before every ACK.
    /// The improved recovery uses this one.
    pub fn rto_above_peak(&self) -> u32 {
        let floor = self.peak.saturating_add(self.peak / 4);
        self.rto.max(floor).min(RTO_MAX)
    }

    /// Folds in how long a delivered segment (sent once) took to be
    /// acknowledged, counting the peer's ACK delay: it raises the peak
    /// only, never the smoothed RTT.
    pub fn observe_delivery(&mut self, ms: u32) {
        if ms <= RTO_MAX {
            self.peak = self.peak.max(ms);
        }
    }

    /// The largest recent RTT (a sample or a delivery time), decaying.
    pub fn peak(&self) -> u32 {
        self.peak
    }

    /// Smoothed RTT in ms (0 before the first sample).
    pub fn srtt(&self) -> u32 {
        self.srtt
    }

    /// Mean deviation of the RTT in ms.
    pub fn rttvar(&self) -> u32 {
        self.rttvar
    }

    /// The RTO floor in ms.
    pub fn min_rto(&self) -> u32 {
        self.min_rto
    }

    /// Sets the RTO floor; takes effect at once on the current RTO.
    pub fn set_min_rto(&mut self, min_rto: u32) {
        self.min_rto = min_rto.min(RTO_MAX);
        self.rto = self.rto.clamp(self.min_rto, RTO_MAX);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_sample_sets_srtt_and_half_variance() {
        let mut e = RttEstimator::default();
        e.set_min_rto(RTO_NODELAY_MIN);
        e.sample(100, 10);
        assert_eq!((e.srtt(), e.rttvar(), e.rto()), (100, 50, 300));
    }

    #[test]
    fn rto_stays_within_bounds() {
        let mut e = RttEstimator::default();
        e.sample(1, 10);
        assert_eq!(e.rto(), RTO_MIN);
        for _ in 0..100 {
            assert!(e.sample(RTO_MAX, 5000));
        }
        assert_eq!(e.rto(), RTO_MAX);
    }

    #[test]
    fn implausible_samples_are_ignored() {
        let mut e = RttEstimator::default();
        e.sample(100, 10);
        let before = (e.srtt(), e.rttvar(), e.rto());
        assert!(!e.sample(RTO_MAX + 1, 10));
        assert!(!e.sample(u32::MAX, 10));
        assert_eq!((e.srtt(), e.rttvar(), e.rto()), before);
    }
}

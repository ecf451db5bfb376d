//! Loss detection: which segments in flight are lost, from the ACKs alone.
//!
//! Classic recovery is ikcp's: a segment counts every ACK of a higher `sn`
//! (`fastack`) and is resent once the count reaches `resend`. The improved
//! recovery adds RACK (RFC 8985) and counts only ACKs of segments sent
//! after the segment's latest transmission. Neither changes the wire.

use std::collections::VecDeque;

use super::{diff, Recovery, Segment};

/// What RACK knows: the newest transmission known delivered, the RTT it
/// measured, and whether the path has been seen to reorder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RackState {
    /// (ts, sn) of the newest delivered transmission.
    newest: Option<(u32, u32)>,
    rtt: u32,
    min_rtt: u32,
    /// An ACK arrived for a segment sent before one already acknowledged:
    /// the path reorders, so loss detection must allow for it.
    reordering_seen: bool,
}

impl Default for RackState {
    fn default() -> Self {
        Self {
            newest: None,
            rtt: 0,
            min_rtt: u32::MAX,
            reordering_seen: false,
        }
    }
}

impl RackState {
    /// Folds in the ACK of `sn` (sent at `ts`, measuring `rtt`). `acked` is
    /// that segment as it is in the send buffer, if it is still in flight.
    pub fn note_delivered(&mut self, acked: Option<&Segment>, sn: u32, ts: u32, rtt: u32) {
        let Some(seg) = acked else {
            // Only ACKs of segments still in flight say something new.
            return;
        };
        self.min_rtt = self.min_rtt.min(rtt);
        let newer = match self.newest {
            None => true,
            Some((rts, rsn)) => diff(ts, rts) > 0 || (ts == rts && diff(sn, rsn) > 0),
        };
        if newer {
            self.newest = Some((ts, sn));
            self.rtt = rtt;
        } else if !seg.acked && seg.xmit == 1 {
            self.reordering_seen = true;
        }
    }

    /// The loss test in force, if the recovery uses RACK and an ACK has
    /// told it enough.
    pub fn test(&self, recovery: Recovery) -> Option<RackTest> {
        let (ts, sn) = self.newest.filter(|_| recovery == Recovery::Improved)?;
        // RFC 8985, 6.2: no reordering allowance until reordering is seen.
        let allowance = if self.reordering_seen {
            self.min_rtt / 4
        } else {
            0
        };
        Some(RackTest {
            ts,
            sn,
            wait: self.rtt + allowance,
        })
    }
}

/// The newest delivered transmission and how long an older one may still take.
#[derive(Debug, Clone, Copy)]
pub(super) struct RackTest {
    ts: u32,
    sn: u32,
    wait: u32,
}

impl RackTest {
    /// Whether `seg`'s latest transmission went out before the newest
    /// delivered one (same millisecond: by sequence, the order of a flush).
    pub fn sent_before(&self, seg: &Segment) -> bool {
        diff(self.ts, seg.ts) > 0 || (self.ts == seg.ts && diff(self.sn, seg.sn) > 0)
    }

    /// Sent before the newest delivered segment, and overdue.
    pub fn is_lost(&self, seg: &Segment, now: u32) -> bool {
        self.sent_before(seg) && seg.xmit > 0 && diff(now, seg.ts) >= self.wait as i32
    }
}

/// A tail loss probe (RFC 8985, 7): RACK needs an ACK of something sent
/// after a lost segment, so when the tail of a burst is lost nothing would
/// reveal it before the RTO (200 ms while the RTT is unknown). After two
/// smoothed RTTs plus an interval (the peer may hold its ACKs that long)
/// without progress, the newest segment in flight goes again; its ACK lets
/// RACK find the rest. One probe per silence; a probe is not a loss, so
/// it costs the congestion window nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(super) struct TailProbe {
    last_progress: u32,
    probed: bool,
}

impl TailProbe {
    /// Something was delivered or first sent at `now`.
    pub fn on_progress(&mut self, now: u32) {
        self.last_progress = now;
        self.probed = false;
    }

    /// Whether a probe is due at `now`, given the smoothed RTT (0 until the
    /// first sample, when there is no basis for one) and the interval.
    pub fn is_due(&mut self, now: u32, srtt: u32, interval: u32) -> bool {
        if self.probed || srtt == 0 {
            return false;
        }
        let timeout = srtt.saturating_mul(2).saturating_add(interval);
        if diff(now, self.last_progress) < timeout.min(i32::MAX as u32) as i32 {
            return false;
        }
        self.probed = true;
        true
    }
}

/// Whether `rack` finds any segment lost that is not marked yet, so the
/// next `update` should retransmit without waiting for the interval tick.
/// (The flush marks them, so that its congestion response counts each loss once.)
///
/// First transmissions happen in `sn` order, so once a segment sent only
/// once is newer than the newest delivered one, every later segment is
/// newer too (a retransmission is newer than its first send): the scan
/// stops there, which in steady state is the first segment it looks at.
pub(super) fn finds_loss(
    snd_buf: &VecDeque<Segment>,
    rack: RackTest,
    now: u32,
    fastlimit: u32,
) -> bool {
    for seg in snd_buf.iter() {
        if seg.acked || seg.xmit == 0 {
            continue;
        }
        if seg.xmit == 1 && !rack.sent_before(seg) {
            break;
        }
        if !seg.lost && rack.is_lost(seg, now) && within_fastlimit(seg, fastlimit) {
            return true;
        }
    }
    false
}

/// Whether `seg` may still be retransmitted before its timeout (0 = no limit).
pub(super) fn within_fastlimit(seg: &Segment, fastlimit: u32) -> bool {
    seg.xmit <= fastlimit || fastlimit == 0
}

/// Counts an ACK of the segment at `acked_index` (sent at `ts`) against
/// every earlier segment still unacknowledged. Time-ordered counting (the
/// improved recovery) skips segments retransmitted after `ts`: that ACK was
/// already in flight and says nothing about the retransmission.
pub(super) fn count_fastack(
    snd_buf: &mut VecDeque<Segment>,
    acked_index: usize,
    ts: u32,
    time_ordered: bool,
) {
    for seg in snd_buf.iter_mut().take(acked_index) {
        if !seg.acked && (!time_ordered || diff(ts, seg.ts) >= 0) {
            seg.fastack += 1;
        }
    }
}

//! The congestion window, and how it answers each event: an ACK that
//! delivered data, a detected loss, a retransmission timeout.
//!
//! [`Recovery::Classic`] is ikcp's arithmetic exactly (the differential test
//! against ikcp depends on it). [`Recovery::Improved`] keeps ikcp's growth
//! but answers loss the way TCP does since RFC 6937:
//! - one reduction per loss episode (everything in flight when the first
//!   loss was found), not one per flush;
//! - while the episode lasts, transmissions are bounded by what the peer
//!   reports delivered (proportional rate reduction), so the
//!   retransmission of a lost window cannot come out as one burst that
//!   overflows the same buffer again. With `nc` the window is not reduced
//!   and only retransmissions are bounded;
//! - with `nc`, an episode in which one look found more than a quarter of
//!   the flight lost at once (a buffer overflowed, not random loss)
//!   restarts the window from what the path delivered per round trip during
//!   the episode, and grows it back as congestion avoidance does, so the
//!   next window is not one burst either;
//! - an ACK proving a retransmission spurious undoes the episode.

use super::{diff, Recovery, THRESH_INIT, THRESH_MIN};

/// Fewest segments found lost at once that can count as a mass loss.
const MASS_LOSS_MIN: u32 = 32;

/// With `nc`, a flush in a loss episode may always send this many
/// segments: a few losses go out at once, as ikcp would send them, and
/// only a mass loss is held to the pace of the ACKs.
const NC_BURST_MIN: u32 = 8;

/// A loss episode: from the first loss found until everything that was in
/// flight then has been acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Episode {
    /// It ends when `snd_una` reaches this (`snd_nxt` when it began).
    until: u32,
    /// Segments in flight when it began (RFC 6937's RecoverFS), at least 1.
    flight: u32,
    /// The window to come back to: `ssthresh`, or the whole window with `nc`.
    target: u32,
    /// Segments delivered since it began (`prr_delivered`).
    delivered: u32,
    /// Segments transmitted since it began (`prr_out`).
    sent: u32,
    /// More than a quarter of the flight was found lost at once.
    mass: bool,
    /// When it began.
    started: u32,
    /// Congestion control is off (`nc`).
    nc: bool,
}

/// The congestion state of one engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Congestion {
    /// Segments the window allows in flight. ikcp starts it at 0, so its
    /// first flush sends nothing with congestion control on.
    cwnd: u32,
    /// Slow-start threshold in segments.
    ssthresh: u32,
    /// ikcp's byte counter for additive increase (u64: `cwnd * mss` can
    /// exceed u32 at the extremes of window and MTU).
    incr: u64,
    episode: Option<Episode>,
    /// With `nc`, after a mass loss: the window is limited by `cwnd` until
    /// it has grown back to the whole window.
    restarting: bool,
    /// Segments delivered since the last flush.
    fresh_delivered: u32,
    /// `cwnd`, `ssthresh` and `restarting` before the open episode's
    /// reduction, to restore if its losses prove spurious.
    before_episode: Option<(u32, u32, bool)>,
}

impl Default for Congestion {
    fn default() -> Self {
        Self {
            cwnd: 0,
            ssthresh: THRESH_INIT,
            incr: 0,
            episode: None,
            restarting: false,
            fresh_delivered: 0,
            before_episode: None,
        }
    }
}

impl Congestion {
    /// The congestion window in segments.
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    /// Whether a loss episode is open.
    pub fn in_episode(&self) -> bool {
        self.episode.is_some()
    }

    /// The window a flush may fill: `window` (the lesser of ours and the
    /// peer's), limited by `cwnd` unless `nc` turned it off and no mass
    /// loss is being recovered from. The improved mode starts `cwnd` at one
    /// segment where ikcp starts it at 0.
    pub fn window(&mut self, window: u32, nc: bool, recovery: Recovery, mss: usize) -> u32 {
        if self.cwnd == 0 && recovery == Recovery::Improved {
            // One segment, and slow start until the first loss (RFC 5681;
            // ikcp leaves slow start at 2 segments, which takes a long
            // path many round trips to fill).
            self.cwnd = 1;
            self.incr = mss as u64;
            self.ssthresh = u32::MAX;
        }
        if nc && !self.restarting {
            window
        } else {
            window.min(self.cwnd)
        }
    }

    /// An input at `now` (the smoothed RTT being `srtt`) that acknowledged
    /// `delivered` segments, advancing `snd_una` to `snd_una` if
    /// `una_advanced`. `rmt_wnd` caps the window.
    #[allow(clippy::too_many_arguments)]
    pub fn on_ack(
        &mut self,
        now: u32,
        srtt: u32,
        recovery: Recovery,
        delivered: u32,
        una_advanced: bool,
        snd_una: u32,
        rmt_wnd: u32,
        mss: usize,
    ) {
        let mss = mss as u64;
        if recovery == Recovery::Classic {
            if una_advanced {
                self.grow(rmt_wnd, mss, 1);
            }
            return;
        }
        self.fresh_delivered = self.fresh_delivered.saturating_add(delivered);
        if let Some(ep) = self.episode.as_mut() {
            ep.delivered = ep.delivered.saturating_add(delivered);
            if diff(snd_una, ep.until) < 0 {
                // No growth while the episode lasts.
                return;
            }
            let ep = *ep;
            self.episode = None;
            if ep.nc && (self.restarting || ep.mass) {
                // A buffer overflowed. Restart from what the path delivered
                // per round trip while the episode lasted (its rate times
                // the RTT), and grow back as congestion avoidance does, so
                // the next window is not one burst into the same buffer.
                let rounds = (diff(now, ep.started).max(1) as u32).div_ceil(srtt.max(1));
                let per_round = ep.delivered / rounds.max(1);
                self.restarting = true;
                self.cwnd = per_round.clamp(THRESH_MIN, ep.target.max(THRESH_MIN));
                self.ssthresh = self.cwnd;
            } else if !ep.nc {
                self.cwnd = self.ssthresh.max(1);
            }
            self.incr = u64::from(self.cwnd) * mss;
            return;
        }
        if delivered > 0 || una_advanced {
            self.grow(rmt_wnd, mss, delivered.max(1));
        }
        if self.restarting && self.cwnd >= rmt_wnd {
            self.restarting = false;
            self.ssthresh = u32::MAX;
        }
    }

    /// ikcp's growth: slow start below `ssthresh`, then about one segment
    /// per window plus a sixteenth, capped at the peer's window. ikcp grows
    /// once per ACK datagram (`acked` is 1); the improved mode passes the
    /// segments delivered, since one datagram acknowledges many.
    fn grow(&mut self, rmt_wnd: u32, mss: u64, acked: u32) {
        // ikcp leaves a window above the peer's alone (a peer that closed
        // its window must not take ours to zero).
        if self.cwnd >= rmt_wnd {
            return;
        }
        for _ in 0..acked {
            if self.cwnd >= rmt_wnd {
                break;
            }
            if self.cwnd < self.ssthresh {
                self.cwnd += 1;
                self.incr += mss;
            } else {
                self.incr = self.incr.max(mss);
                self.incr += mss * mss / self.incr + mss / 16;
                if (u64::from(self.cwnd) + 1) * mss <= self.incr {
                    self.cwnd = self.incr.div_ceil(mss.max(1)).min(u64::from(u32::MAX)) as u32;
                }
            }
        }
        if self.cwnd > rmt_wnd {
            self.cwnd = rmt_wnd;
            self.incr = u64::from(rmt_wnd) * mss;
        }
    }

    /// ikcp's answer to a flush that fast-retransmitted: `ssthresh` half of
    /// what is in flight, `cwnd` that plus the fast-resend threshold.
    /// (Classic only reaches this through the threshold, so it is a number;
    /// this is also the one place a loss may raise ikcp's `cwnd`.)
    pub fn classic_fast_loss(&mut self, inflight: u32, resend: u32, mss: usize) {
        self.ssthresh = (inflight / 2).max(THRESH_MIN);
        self.cwnd = self
            .ssthresh
            .saturating_add(resend.min(u32::from(u16::MAX)));
        self.incr = u64::from(self.cwnd) * mss as u64;
    }

    /// ikcp's answer to a flush that retransmitted on timeout: `ssthresh`
    /// half the window that flush used, `cwnd` one segment.
    pub fn classic_timeout(&mut self, window_used: u32, mss: usize) {
        self.ssthresh = (window_used / 2).max(THRESH_MIN);
        self.cwnd = 1;
        self.incr = mss as u64;
    }

    /// The improved mode's answer to `lost` segments found lost (by RACK,
    /// the fast-resend threshold, or a timeout if `timeout`) at one look, with `flight` segments in
    /// flight, `snd_nxt` the next to send and `window` the most the windows
    /// allow. Opens an episode, or adds to the open one: the reduction
    /// happens once per episode. A timeout also takes `cwnd` to one
    /// segment, as TCP does, unless `nc`.
    #[allow(clippy::too_many_arguments)]
    pub fn on_loss(
        &mut self,
        now: u32,
        lost: u32,
        timeout: bool,
        flight: u32,
        snd_nxt: u32,
        window: u32,
        nc: bool,
        mss: usize,
    ) {
        if lost == 0 {
            return;
        }
        if self.episode.is_none() {
            self.before_episode = Some((self.cwnd, self.ssthresh, self.restarting));
            let target = if nc {
                window.max(1)
            } else {
                let ssthresh = (flight / 2).max(THRESH_MIN);
                self.ssthresh = ssthresh;
                self.cwnd = self.cwnd.min(ssthresh).max(1);
                self.incr = u64::from(self.cwnd) * mss as u64;
                ssthresh
            };
            self.episode = Some(Episode {
                until: snd_nxt,
                flight: flight.max(1),
                target,
                delivered: 0,
                sent: 0,
                mass: false,
                started: now,
                nc,
            });
        }
        if let Some(ep) = self.episode.as_mut() {
            // An overflow shows as many holes found at once by the ACKs of
            // what got through; timeouts mean nothing got through (an
            // outage), which says nothing about a buffer.
            ep.mass |= !timeout && lost >= MASS_LOSS_MIN && lost > flight / 4;
        }
        if timeout && !nc {
            self.cwnd = 1;
            self.incr = mss as u64;
        }
    }

    /// An ACK echoed the timestamp of a transmission older than the latest
    /// of its segment: the original arrived, and the retransmission was
    /// spurious (RFC 3522's test; the peer was only slow to acknowledge,
    /// as a kcp-go peer at its default 100 ms interval is). Undoes the open
    /// episode's reduction and closes it, as Linux's undo does, so a late
    /// ACK does not cost the window.
    pub fn on_spurious_retransmission(&mut self, mss: usize) {
        if self.episode.take().is_none() {
            return;
        }
        if let Some((cwnd, ssthresh, restarting)) = self.before_episode.take() {
            self.cwnd = self.cwnd.max(cwnd);
            self.ssthresh = self.ssthresh.max(ssthresh);
            self.restarting = restarting;
            self.incr = u64::from(self.cwnd) * mss as u64;
        }
    }

    /// How many segments this flush may transmit (new or again) while an
    /// episode is open, `pipe` being those still believed in flight;
    /// `None` outside episodes. RFC 6937's rule: proportional to what was
    /// delivered while more than the target is in flight, and otherwise
    /// what was delivered plus one (so a flush always makes progress).
    pub fn budget(&mut self, pipe: u32) -> Option<u32> {
        let fresh = std::mem::take(&mut self.fresh_delivered);
        let ep = self.episode.as_ref()?;
        let allowed = if ep.nc {
            // No window to reduce towards: only conserve packets, sending
            // what was delivered (the windows still cap the flight).
            ep.delivered
                .saturating_sub(ep.sent)
                .max(fresh)
                .saturating_add(1)
        } else if pipe > ep.target {
            let share = u64::from(ep.delivered) * u64::from(ep.target);
            let due = share.div_ceil(u64::from(ep.flight));
            due.saturating_sub(u64::from(ep.sent))
                .min(u64::from(u32::MAX)) as u32
        } else {
            let behind = ep.delivered.saturating_sub(ep.sent);
            (ep.target - pipe).min(behind.max(fresh).saturating_add(1))
        };
        let floor = if ep.nc { NC_BURST_MIN } else { 0 };
        Some(allowed.max(floor))
    }

    /// Counts transmissions made under an episode's budget.
    pub fn on_sent(&mut self, segments: u32) {
        if let Some(ep) = self.episode.as_mut() {
            ep.sent = ep.sent.saturating_add(segments);
        }
    }

    /// ikcp's floor after every flush.
    pub fn at_least_one(&mut self, mss: usize) {
        if self.cwnd < 1 {
            self.cwnd = 1;
            self.incr = mss as u64;
        }
    }
}

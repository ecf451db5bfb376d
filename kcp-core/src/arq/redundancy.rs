//! Budgeted redundancy (improved recovery only).
//!
//! While the path is losing packets, a datagram that goes out anyway and
//! has room left also carries copies of recent unacknowledged segments. A
//! lost transmission is then usually covered by the next datagram, instead
//! of waiting for the loss to be detected and repaired a round trip later.
//! That is what a game's tick stream needs: small messages, one or a few per
//! datagram, where a loss otherwise costs an RTO.
//!
//! A copy repeats a segment's last transmission byte for byte (the same
//! `sn`, `ts` and data; `una` and `wnd` are current). It is valid KCP: ikcp
//! and kcp-go count it as a repeat and drop it. The sender's RTT estimate,
//! RACK, Karn's rule and the congestion state never see copies: an ACK
//! echoes the same `ts` whichever copy arrived, so at worst one RTT sample
//! includes the gap between a lost original and its copy.
//!
//! Nothing adds a datagram: copies only fill room in one that is leaving.
//! The byte budget is a share of the bytes the engine packs anyway, kept as
//! a credit that cannot bank more than one MTU.

use std::collections::VecDeque;

use super::packer::Packer;
use super::segment::{Command, SegmentHeader, HEADER_LEN};
use super::{diff, Segment};

/// How long after the last sign of loss the path still counts as lossy,
/// in ms. A game at 20 Hz with 5% loss retransmits about once a second;
/// five seconds keeps the copies flowing between losses and stops them soon
/// after the path heals.
pub(super) const LOSS_MEMORY_MS: u32 = 5_000;

/// Largest budget accepted, in percent of the bytes packed anyway: three
/// copies of every segment.
pub const REDUNDANCY_MAX: u32 = 300;

/// The redundancy state of one engine.
#[derive(Debug, Default)]
pub(super) struct Redundancy {
    /// Copies may add at most this percentage of the bytes packed anyway.
    percent: u32,
    /// Bytes of copies the budget allows now.
    credit: u64,
    /// When a segment was last retransmitted; `None` before any loss.
    last_loss: Option<u32>,
}

impl Redundancy {
    /// Sets the budget in percent (0 = off), capped at [`REDUNDANCY_MAX`].
    pub fn set_percent(&mut self, percent: u32) {
        self.percent = percent.min(REDUNDANCY_MAX);
        if self.percent == 0 {
            self.credit = 0;
        }
    }

    /// The budget in percent.
    pub fn percent(&self) -> u32 {
        self.percent
    }

    /// Most copies of one transmission, each in a later flush's datagram:
    /// one per hundred percent of budget (at least one). One copy leaves a
    /// double loss, which then holds every later message behind it for
    /// the round trips of its recovery; a second copy makes that a triple.
    pub fn copies_per_transmission(&self) -> u8 {
        self.percent.div_ceil(100).max(1) as u8
    }

    /// Notes evidence of loss at `now` (a retransmission of ours, or a hole
    /// in what the peer sent): the path is losing packets.
    pub fn on_loss(&mut self, now: u32) {
        self.last_loss = Some(now);
    }

    /// Earns credit for `packed` bytes the flush sends anyway, banking at
    /// most `mtu` bytes so a quiet or loss-free stretch cannot fund a burst.
    pub fn earn(&mut self, packed: usize, mtu: usize) {
        let earned = packed as u64 * u64::from(self.percent) / 100;
        self.credit = (self.credit + earned).min(mtu as u64);
    }

    /// Whether copies go out at `now`: a budget is set and a loss was seen
    /// within [`LOSS_MEMORY_MS`].
    pub fn is_active(&self, now: u32) -> bool {
        self.percent > 0
            && self
                .last_loss
                .is_some_and(|t| now.wrapping_sub(t) < LOSS_MEMORY_MS)
    }

    /// Spends `bytes` of credit if there is that much.
    pub fn spend(&mut self, bytes: usize) -> bool {
        let bytes = bytes as u64;
        if bytes > self.credit {
            return false;
        }
        self.credit -= bytes;
        true
    }
}

/// Whether a segment's last transmission, `age` ms ago, is worth a copy:
/// sent in an earlier flush (a copy in the same datagram would share its
/// fate), and recent enough that its ACK could not have come back yet
/// (older losses are the loss detection's job).
pub(super) fn worth_copying(age: i32, rtt: u32) -> bool {
    age > 0 && (age as u32) <= rtt.max(1)
}

/// Fills the room left in the datagram being packed with copies, oldest
/// segment first (the one holding the receiver's queue back), within the
/// credit, at most one per segment per flush. `header` brings the flush's
/// `conv`, `una` and `wnd`; the rest is set here, the command included
/// (the flush may have packed an ACK last).
/// Returns how many copies were packed.
pub(super) fn pack_copies(
    now: u32,
    rtt: u32,
    snd_buf: &mut VecDeque<Segment>,
    redundancy: &mut Redundancy,
    packer: &mut Packer<'_>,
    header: &mut SegmentHeader,
) -> u64 {
    let mut copies = 0;
    for seg in snd_buf.iter_mut() {
        if packer.room() <= HEADER_LEN {
            break;
        }
        if seg.acked
            || seg.lost
            || seg.copies >= redundancy.copies_per_transmission()
            || seg.xmit == 0
            || !worth_copying(diff(now, seg.ts), rtt)
        {
            continue;
        }
        let need = HEADER_LEN + seg.data.len();
        if need > packer.room() || !redundancy.spend(need) {
            continue;
        }
        header.cmd = Command::Push;
        header.frg = seg.frg;
        header.ts = seg.ts;
        header.sn = seg.sn;
        header.len = seg.data.len() as u32;
        if packer.append_within_room(header, &seg.data) {
            seg.copies += 1;
            copies += 1;
        }
    }
    copies
}

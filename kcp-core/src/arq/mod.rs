//! The KCP ARQ engine: one control block, byte-compatible with ikcp and kcp-go.
//!
//! The file follows the life of a packet, like ikcp.c: configuration, send,
//! receive, input (ACKs, data, window probes), flush, update/check.
//!
//! Differences from ikcp, none of them visible on the wire:
//! - Segments live in ring buffers (`VecDeque`) and their data buffers are
//!   recycled, so steady-state traffic allocates nothing. The send buffer is
//!   indexed by `sn - snd_una` and the receive buffer by `sn - rcv_nxt`, so
//!   ACKs and out-of-order data are O(1) instead of list scans.
//! - `input` validates the whole datagram before touching any state.
//! - Messages that the peer could never reassemble are refused at `send`.
//! - Stream-mode `recv` fills the caller's buffer and may split a segment.
//! - [`Recovery::Improved`] (the default) detects losses sooner; see there.
//!
//! In the improved recovery only, and visible on the wire as fewer or
//! extra segments of the usual kinds: a repeat of data already delivered
//! is answered by the `una` of the next segment sent, or after
//! [`REPEAT_ACK_DELAY`] by an ACK; after a pause the flush ticks restart,
//! so the first ACK waits up to one interval for a reply to carry it; and
//! budgeted redundancy ([`Arq::set_redundancy`], off by default) adds
//! copies of recent segments to datagrams with room.

mod congestion;
mod error;
mod packer;
mod recovery;
mod redundancy;
mod rtt;
pub mod segment;

use std::collections::VecDeque;

use congestion::Congestion;
pub use error::{ArqError, InputError, RecvError, SendError, SettingError};
use packer::Packer;
use recovery::{RackState, TailProbe};
pub use redundancy::REDUNDANCY_MAX;
use redundancy::{pack_copies, Redundancy};
pub use rtt::RttEstimator;
pub(crate) use rtt::{RTO_MAX, RTO_MIN, RTO_NODELAY_MIN};
use segment::{segments, Command, SegmentHeader, HEADER_LEN};

/// Default MTU (`IKCP_MTU_DEF`).
pub const MTU_DEFAULT: usize = 1400;
/// Smallest MTU accepted.
pub const MTU_MIN: usize = 50;
/// Largest MTU accepted (a UDP payload).
pub const MTU_MAX: usize = 65_507;
/// Default send window in segments (`IKCP_WND_SND`).
pub const SND_WND_DEFAULT: u16 = 32;
/// Default receive window in segments (`IKCP_WND_RCV`).
pub const RCV_WND_DEFAULT: u16 = 128;
/// Default flush interval in ms.
pub const INTERVAL_DEFAULT: u32 = 100;
/// Smallest flush interval in ms.
pub const INTERVAL_MIN: u32 = 10;
/// Largest flush interval in ms.
pub const INTERVAL_MAX: u32 = 5000;
/// Transmissions of one segment after which the link is dead.
pub const DEAD_LINK_DEFAULT: u32 = 20;
/// Initial slow-start threshold.
pub const THRESH_INIT: u32 = 2;
/// Floor of the slow-start threshold.
pub const THRESH_MIN: u32 = 2;
/// First zero-window probe delay in ms.
pub const PROBE_INIT: u32 = 7_000;
/// Longest zero-window probe delay in ms.
pub const PROBE_LIMIT: u32 = 120_000;
/// Fast retransmissions allowed per segment (`fastlimit`).
pub const FASTACK_LIMIT: u32 = 5;
/// Most fragments one message may have: `frg` is one byte, and kcp-go refuses more.
pub const MAX_FRAGMENTS: usize = 255;

/// How long a repeat of already-delivered data may wait, in ms, for
/// something else to carry `una` back before it gets an ACK of its own
/// (improved recovery). A peer's redundant copy needs no answer; a
/// retransmission whose ACK was lost gets one this much later.
pub const REPEAT_ACK_DELAY: u32 = 40;

const ASK_SEND: u8 = 1;
const ASK_TELL: u8 = 2;

/// Signed distance `a - b` on the wrapping 32-bit sequence/time line.
#[inline]
fn diff(a: u32, b: u32) -> i32 {
    a.wrapping_sub(b) as i32
}

/// How lost segments are detected, and the few start-up guesses that go
/// with it. Either way the bytes on the wire are plain KCP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recovery {
    /// Exactly ikcp's behaviour, for comparison and for tests against it: a
    /// segment counts every ACK of a higher `sn` towards fast resend, the
    /// congestion window starts at 0, and the peer's window is assumed to be
    /// 128 segments until it speaks.
    Classic,
    /// Loss detection that needs no change on the wire:
    /// - RACK (RFC 8985): a segment is lost once a segment sent after it has
    ///   been acknowledged and it has had that segment's RTT (plus a quarter
    ///   of the minimum RTT, once the path has been seen to reorder) to
    ///   follow. Works with `resend` 0, and notices lost retransmissions.
    /// - The fast-resend count only counts ACKs of segments sent after this
    ///   segment's latest transmission (their echoed `ts` proves it), so ACKs
    ///   already in flight do not trigger a second, spurious retransmission.
    /// - The congestion window starts at one segment, and until the peer
    ///   advertises its window it is assumed to equal our receive window.
    /// - The RTO keeps ikcp's normal-mode slack of rto/8 on first
    ///   transmissions in nodelay mode too: it is the backstop now.
    /// - A detected loss is retransmitted at the next `update`, not the next
    ///   interval tick; and data that arrives out of order (or fills a hole)
    ///   is acknowledged at the next `update`, as TCP does (RFC 5681, 4.2).
    /// - A tail loss probe, an RTO kept above the RTT peak the peer shows
    ///   (its ACK delay included), and Karn's back-off for new segments.
    /// - The loss response of `congestion.rs`: one reduction per episode,
    ///   retransmission bursts bounded by what was delivered (with `nc`
    ///   too), a restart after a mass loss with `nc`, and an undo when an
    ///   ACK proves a retransmission spurious.
    #[default]
    Improved,
}

/// Counters, kcp-go's SNMP set for the ARQ layer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArqStats {
    /// Data segments transmitted, retransmissions included.
    pub out_segments: u64,
    /// Segments accepted by `input`, every command.
    pub in_segments: u64,
    /// Datagrams handed to the output.
    pub out_datagrams: u64,
    /// Retransmissions of any kind.
    pub retransmits: u64,
    /// Retransmissions triggered by the fast-resend threshold.
    pub fast_retransmits: u64,
    /// Retransmissions of losses detected by RACK ([`Recovery::Improved`]).
    pub early_retransmits: u64,
    /// Retransmissions after an RTO expired.
    pub timeout_retransmits: u64,
    /// Data segments received that were already received (or outside the window).
    pub repeat_segments: u64,
    /// Datagrams refused by `input`.
    pub input_errors: u64,
    /// Copies of unacknowledged segments sent in spare datagram room
    /// ([`Arq::set_redundancy`]); not counted in `out_segments`.
    pub redundant_segments: u64,
}

/// What an [`Arq`] believes about its path right now: gauges, not
/// counters ([`Arq::path_stats`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PathStats {
    /// The smoothed round-trip time in ms (0 before the first sample).
    pub srtt_ms: u32,
    /// The round-trip time's mean deviation in ms.
    pub rttvar_ms: u32,
    /// The retransmission timeout in ms.
    pub rto_ms: u32,
    /// The congestion window in segments.
    pub cwnd: u32,
    /// The free receive window the peer last advertised, in segments.
    pub remote_window: u32,
    /// Segments queued or in flight, not yet acknowledged (saturating).
    pub wait_snd: u32,
}

/// Segments held by an [`Arq`], per queue. What a peer can make it hold is
/// bounded by the windows: `rcv_buf` and `rcv_queue` by the receive window,
/// `acklist` by twice the receive window, `pooled` by the send window plus
/// twice the receive window. `snd_queue` grows only with what the
/// application sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Messages waiting for the send window.
    pub snd_queue: usize,
    /// Segments in flight (acknowledged ones still waiting at the front count too).
    pub snd_buf: usize,
    /// Out-of-order segments waiting for a hole to fill.
    pub rcv_buf: usize,
    /// In-order segments waiting for the application.
    pub rcv_queue: usize,
    /// ACKs waiting for the next flush.
    pub acklist: usize,
    /// Spare data buffers kept for reuse.
    pub pooled: usize,
}

/// One segment in a queue or buffer. `data` comes from and returns to the pool.
#[derive(Debug)]
struct Segment {
    sn: u32,
    frg: u8,
    ts: u32,
    resend_ts: u32,
    rto: u32,
    fastack: u32,
    xmit: u32,
    acked: bool,
    /// Declared lost (by RACK, the fast-resend threshold or a timeout, in
    /// the improved recovery); retransmitted as soon as the budget allows.
    lost: bool,
    /// Copies of the last transmission sent so far (budgeted redundancy).
    copies: u8,
    data: Vec<u8>,
}

impl Segment {
    fn new(data: Vec<u8>) -> Self {
        Self {
            sn: 0,
            frg: 0,
            ts: 0,
            resend_ts: 0,
            rto: 0,
            fastack: 0,
            xmit: 0,
            acked: false,
            lost: false,
            copies: 0,
            data,
        }
    }
}

/// A KCP control block.
///
/// Drive it like ikcp: [`send`](Self::send) and [`recv`](Self::recv) messages,
/// feed datagrams to [`input`](Self::input), and call
/// [`update`](Self::update) at the time [`check`](Self::check) names; output
/// datagrams are handed to the closure given to `update`/`flush`.
///
/// ```
/// use kcp_core::{Arq, RecvError};
///
/// let (mut a, mut b) = (Arq::new(1), Arq::new(1));
/// a.set_nodelay(Some(1), Some(10), Some(2), Some(true)); // kcptun's fast3
/// a.send(&[7u8; 3000])?; // three fragments at the default MTU
/// let mut wire = Vec::new();
/// a.update(0, &mut |d: &mut [u8]| wire.push(d.to_vec()));
/// for d in &wire {
///     b.input(5, d)?;
/// }
/// let mut small = [0u8; 100];
/// assert!(matches!(b.recv(&mut small), Err(RecvError::BufferTooSmall { needed: 3000, .. })));
/// let mut buf = vec![0u8; b.peek_size()?];
/// assert_eq!(b.recv(&mut buf)?, 3000);
/// # Ok::<(), kcp_core::ArqError>(())
/// ```
#[derive(Debug)]
pub struct Arq {
    conv: u32,
    mtu: usize,
    mss: usize,
    reserved: usize,
    stream: bool,
    recovery: Recovery,

    snd_una: u32,
    snd_nxt: u32,
    snd_wnd: u16,
    rmt_wnd: u16,
    peer_wnd_max: Option<u16>,
    cc: Congestion,
    snd_queue: VecDeque<Segment>,
    /// Every sn from `snd_una` to `snd_nxt - 1`, in order; acked ones wait as tombstones.
    snd_buf: VecDeque<Segment>,
    /// Segments in `snd_buf` not yet acknowledged.
    in_flight: usize,

    rcv_nxt: u32,
    rcv_wnd: u16,
    /// Slot `i` holds sn `rcv_nxt + i`.
    rcv_buf: VecDeque<Option<Segment>>,
    rcv_queue: VecDeque<Segment>,
    /// Bytes of the front of `rcv_queue` already read (stream mode only).
    rcv_offset: usize,
    acklist: Vec<(u32, u32)>,
    /// The newest repeat of already-delivered data (improved recovery),
    /// with when the first unanswered repeat arrived: `(sn, ts, since)`.
    /// Every segment we send carries `una`, which already covers it, so it
    /// gets an ACK of its own only if nothing else leaves within
    /// [`REPEAT_ACK_DELAY`]. Copies from a peer's redundancy would
    /// otherwise each cost an ACK, often a datagram.
    repeat_ack: Option<(u32, u32, u32)>,

    rtt: RttEstimator,
    rack: RackState,
    tail_probe: TailProbe,
    redundancy: Redundancy,
    /// The backed-off RTO of the last timeout, kept for new segments until
    /// a segment sent once is acknowledged (Karn's rule; improved recovery).
    rto_backoff: u32,
    current: u32,
    interval: u32,
    ts_flush: u32,
    updated: bool,
    /// Something should go out before the next interval tick: an ACK of
    /// out-of-order data, or the retransmission of a detected loss.
    urgent: bool,
    /// Flush ACKs at the next `update` instead of the next tick (kcp-go's
    /// `SetACKNoDelay`).
    ack_nodelay: bool,
    nodelay: u8,
    fastresend: u32,
    fastlimit: u32,
    nocwnd: bool,
    probe: u8,
    ts_probe: u32,
    probe_wait: u32,
    dead_link: u32,
    dead: bool,

    stats: ArqStats,
    pool: Vec<Vec<u8>>,
    buffer: Vec<u8>,
}

impl Arq {
    /// A control block for conversation `conv` with ikcp's defaults.
    pub fn new(conv: u32) -> Self {
        let mut arq = Self {
            conv,
            mtu: MTU_DEFAULT,
            mss: MTU_DEFAULT - HEADER_LEN,
            reserved: 0,
            stream: false,
            recovery: Recovery::default(),
            snd_una: 0,
            snd_nxt: 0,
            snd_wnd: SND_WND_DEFAULT,
            rmt_wnd: RCV_WND_DEFAULT,
            peer_wnd_max: None,
            cc: Congestion::default(),
            snd_queue: VecDeque::new(),
            snd_buf: VecDeque::new(),
            in_flight: 0,
            rcv_nxt: 0,
            rcv_wnd: RCV_WND_DEFAULT,
            rcv_buf: VecDeque::new(),
            rcv_queue: VecDeque::new(),
            rcv_offset: 0,
            acklist: Vec::new(),
            repeat_ack: None,
            rtt: RttEstimator::default(),
            rack: RackState::default(),
            tail_probe: TailProbe::default(),
            redundancy: Redundancy::default(),
            rto_backoff: 0,
            current: 0,
            interval: INTERVAL_DEFAULT,
            ts_flush: INTERVAL_DEFAULT,
            updated: false,
            urgent: false,
            ack_nodelay: false,
            nodelay: 0,
            fastresend: 0,
            fastlimit: FASTACK_LIMIT,
            nocwnd: false,
            probe: 0,
            ts_probe: 0,
            probe_wait: 0,
            dead_link: DEAD_LINK_DEFAULT,
            dead: false,
            stats: ArqStats::default(),
            pool: Vec::new(),
            buffer: Vec::new(),
        };
        arq.resize_buffer();
        arq
    }

    // ----- configuration -------------------------------------------------

    /// The conversation id.
    pub fn conv(&self) -> u32 {
        self.conv
    }

    /// Sets the MTU: the largest datagram `flush` emits, `reserved` bytes included.
    ///
    /// Segments already queued or in flight keep their size, so the MTU
    /// cannot shrink below what they need: that is refused with
    /// [`SettingError::SegmentsTooLarge`] (ikcp would overflow its buffer).
    pub fn set_mtu(&mut self, mtu: usize) -> Result<(), SettingError> {
        let min = (MTU_MIN).max(self.reserved + HEADER_LEN + 1);
        if !(min..=MTU_MAX).contains(&mtu) {
            return Err(out_of_range("mtu", min, MTU_MAX, mtu));
        }
        self.check_segments_fit(mtu - self.reserved - HEADER_LEN)?;
        self.mtu = mtu;
        self.mss = mtu - self.reserved - HEADER_LEN;
        self.resize_buffer();
        Ok(())
    }

    /// Refuses an MSS smaller than a segment waiting to be (re)sent.
    fn check_segments_fit(&self, mss: usize) -> Result<(), SettingError> {
        let largest = self
            .snd_queue
            .iter()
            .chain(self.snd_buf.iter().filter(|s| !s.acked))
            .map(|s| s.data.len())
            .max()
            .unwrap_or(0);
        if largest > mss {
            return Err(SettingError::SegmentsTooLarge { largest, mss });
        }
        Ok(())
    }

    /// The MTU in bytes.
    pub fn mtu(&self) -> usize {
        self.mtu
    }

    /// Largest segment payload: MTU minus reserved bytes minus the header.
    pub fn mss(&self) -> usize {
        self.mss
    }

    /// Reserves `bytes` at the front of every output datagram for the layers
    /// below (FEC and crypto headers), so they can write in place. The
    /// closure given to `flush` receives the whole buffer, reserved bytes first.
    pub fn set_reserved(&mut self, bytes: usize) -> Result<(), SettingError> {
        let max = self.mtu.saturating_sub(HEADER_LEN + 1);
        if bytes > max {
            return Err(out_of_range("reserved", 0, max, bytes));
        }
        self.check_segments_fit(self.mtu - bytes - HEADER_LEN)?;
        self.reserved = bytes;
        self.mss = self.mtu - bytes - HEADER_LEN;
        self.resize_buffer();
        Ok(())
    }

    fn resize_buffer(&mut self) {
        self.buffer.resize(self.mtu, 0);
    }

    /// Sets the send and receive windows in segments; 0 keeps a value.
    pub fn set_window(&mut self, snd: u32, rcv: u32) -> Result<(), SettingError> {
        for (what, v) in [("send window", snd), ("receive window", rcv)] {
            if v > u32::from(u16::MAX) {
                return Err(out_of_range(what, 1, u16::MAX as usize, v as usize));
            }
        }
        if snd > 0 {
            self.snd_wnd = snd as u16;
        }
        if rcv > 0 {
            self.rcv_wnd = rcv as u16;
        }
        self.guess_remote_window();
        Ok(())
    }

    /// Until the peer advertises its window, ikcp assumes 128 segments, so a
    /// first burst can overflow a smaller window and its tail is resent on
    /// every timeout until the link is declared dead. The improved mode
    /// assumes the peer is configured like us instead (the same as ikcp with
    /// default windows).
    fn guess_remote_window(&mut self) {
        if self.peer_wnd_max.is_none() {
            self.rmt_wnd = match self.recovery {
                Recovery::Classic => RCV_WND_DEFAULT,
                Recovery::Improved => self.rcv_wnd,
            };
        }
    }

    /// The send window in segments.
    pub fn snd_wnd(&self) -> u16 {
        self.snd_wnd
    }

    /// The receive window in segments.
    pub fn rcv_wnd(&self) -> u16 {
        self.rcv_wnd
    }

    /// ikcp's `nodelay`: `nodelay` 0 (normal), 1 or 2 (faster back-off, RTO floor
    /// 30 ms); `interval` in ms, clamped to 10..=5000; `resend` the fast-resend
    /// threshold (0 = off); `nc` true turns congestion control off. `None` keeps a value.
    pub fn set_nodelay(
        &mut self,
        nodelay: Option<u32>,
        interval: Option<u32>,
        resend: Option<u32>,
        nc: Option<bool>,
    ) {
        if let Some(nodelay) = nodelay {
            self.nodelay = nodelay.min(2) as u8;
            self.rtt.set_min_rto(if nodelay > 0 {
                RTO_NODELAY_MIN
            } else {
                RTO_MIN
            });
        }
        if let Some(interval) = interval {
            self.interval = interval.clamp(INTERVAL_MIN, INTERVAL_MAX);
        }
        if let Some(resend) = resend {
            self.fastresend = resend;
        }
        if let Some(nc) = nc {
            self.nocwnd = nc;
        }
    }

    /// The flush interval in ms.
    pub fn interval(&self) -> u32 {
        self.interval
    }

    /// Sets the RTO floor in ms (ikcp's `rx_minrto`).
    pub fn set_min_rto(&mut self, ms: u32) {
        self.rtt.set_min_rto(ms);
    }

    /// Message mode (false, the default) or stream mode (true).
    pub fn set_stream(&mut self, on: bool) {
        self.stream = on;
    }

    /// Whether the engine is in stream mode.
    pub fn is_stream(&self) -> bool {
        self.stream
    }

    /// Chooses the loss detection; see [`Recovery`].
    pub fn set_recovery(&mut self, recovery: Recovery) {
        self.recovery = recovery;
        self.guess_remote_window();
    }

    /// Acknowledge data at the next `update` rather than the next interval
    /// tick (kcp-go's `SetACKNoDelay`, kcptun's `acknodelay`): lower latency
    /// for more ACK datagrams.
    pub fn set_ack_nodelay(&mut self, on: bool) {
        self.ack_nodelay = on;
    }

    /// Budgeted redundancy, in the improved recovery: while the path is
    /// losing packets (a retransmission of ours, or a hole in the peer's
    /// data, within the last few seconds), a datagram that
    /// leaves with room also carries copies of recent unacknowledged
    /// segments, adding at most `percent` of the bytes sent anyway and no
    /// datagram. 0 (the default) turns it off; at most [`REDUNDANCY_MAX`].
    /// Copies are valid KCP that any peer drops as repeats.
    pub fn set_redundancy(&mut self, percent: u32) {
        self.redundancy.set_percent(percent);
    }

    /// The redundancy budget in percent (0 = off).
    pub fn redundancy(&self) -> u32 {
        self.redundancy.percent()
    }

    /// Transmissions of one segment after which the link is declared dead.
    pub fn set_dead_link(&mut self, transmissions: u32) {
        self.dead_link = transmissions.max(1);
    }

    /// Fast retransmissions allowed per segment (0 = unlimited).
    pub fn set_fast_limit(&mut self, limit: u32) {
        self.fastlimit = limit;
    }

    /// Starts the send and receive sequence numbers at `snd` and `rcv`
    /// instead of 0. ikcp always starts at 0; this exists so tests can run
    /// across the 2^32 wrap, and for protocols that agree on other starting
    /// points. Both ends must agree (`snd` here is `rcv` there). Refused
    /// once anything has been queued, sent or received.
    pub fn set_initial_sequence(&mut self, snd: u32, rcv: u32) -> Result<(), SettingError> {
        let untouched = self.snd_queue.is_empty()
            && self.snd_buf.is_empty()
            && self.rcv_buf.is_empty()
            && self.rcv_queue.is_empty()
            && self.snd_nxt == 0
            && self.rcv_nxt == 0;
        if !untouched {
            return Err(SettingError::AlreadyStarted);
        }
        self.snd_una = snd;
        self.snd_nxt = snd;
        self.rcv_nxt = rcv;
        Ok(())
    }

    // ----- state ---------------------------------------------------------

    /// True once a segment has been sent `dead_link` times without an ACK.
    pub fn is_dead(&self) -> bool {
        self.dead
    }

    /// Nothing to send, acknowledge, retransmit or probe: `update` would do
    /// nothing until data is sent or a datagram arrives, so a runtime need
    /// not wake this engine at all (ikcp's [`check`](Self::check) still
    /// names the next interval tick, which is what makes idle kcp-go
    /// sessions cost CPU).
    pub fn is_idle(&self) -> bool {
        self.snd_queue.is_empty()
            && self.in_flight == 0
            && self.acklist.is_empty()
            && self.repeat_ack.is_none()
            && !self.urgent
            && self.probe == 0
            && self.rmt_wnd != 0
    }

    /// Gives back memory an idle engine does not need: the datagram buffer
    /// (rebuilt at the next flush), pooled segment buffers and spare queue
    /// capacity. For runtimes holding many idle sessions.
    pub fn trim(&mut self) {
        self.buffer = Vec::new();
        self.pool = Vec::new();
        self.snd_queue.shrink_to_fit();
        self.snd_buf.shrink_to_fit();
        self.rcv_buf.shrink_to_fit();
        self.rcv_queue.shrink_to_fit();
        self.acklist.shrink_to_fit();
    }

    /// Whether a flush right after input would be worth a datagram: a loss
    /// or out-of-order data to answer (or `ack_nodelay`), at least
    /// `ack_batch` ACKs owed, or queued data that new ACKs may let out.
    /// Otherwise the ACKs can wait for the next interval tick, or ride on
    /// the application's reply.
    pub fn wants_flush(&self, ack_batch: usize) -> bool {
        // A repeat's ACK never hurries a flush: `una` already covers it.
        self.urgent || self.acklist.len() >= ack_batch || !self.snd_queue.is_empty()
    }

    /// Asks the peer for its window at the next flush (a WASK segment,
    /// answered with WINS): a keepalive that any KCP peer understands.
    pub fn ask_window(&mut self) {
        self.probe |= ASK_SEND;
    }

    /// Segments queued and not yet sent (held back by the windows).
    pub fn queued(&self) -> usize {
        self.snd_queue.len()
    }

    /// Segments waiting to be sent or acknowledged.
    pub fn wait_snd(&self) -> usize {
        self.snd_queue.len() + self.in_flight
    }

    /// The RTT estimator (srtt, rttvar, rto).
    pub fn rtt(&self) -> &RttEstimator {
        &self.rtt
    }

    /// The counters.
    pub fn stats(&self) -> ArqStats {
        self.stats
    }

    /// The path's gauges as of now: RTT, RTO, windows, what is unacknowledged.
    pub fn path_stats(&self) -> PathStats {
        PathStats {
            srtt_ms: self.rtt.srtt(),
            rttvar_ms: self.rtt.rttvar(),
            rto_ms: self.rtt.rto(),
            cwnd: self.cwnd(),
            remote_window: u32::from(self.rmt_wnd),
            wait_snd: u32::try_from(self.wait_snd()).unwrap_or(u32::MAX),
        }
    }

    /// Next sequence number to send, lowest unacknowledged, next expected.
    pub fn sequence_state(&self) -> (u32, u32, u32) {
        (self.snd_nxt, self.snd_una, self.rcv_nxt)
    }

    /// How many segments each queue and buffer holds right now.
    pub fn usage(&self) -> Usage {
        Usage {
            snd_queue: self.snd_queue.len(),
            snd_buf: self.snd_buf.len(),
            rcv_buf: self.rcv_buf.iter().filter(|s| s.is_some()).count(),
            rcv_queue: self.rcv_queue.len(),
            acklist: self.acklist.len(),
            pooled: self.pool.len(),
        }
    }

    /// The congestion window in segments.
    pub fn cwnd(&self) -> u32 {
        self.cc.cwnd()
    }

    /// The peer's last advertised free window in segments.
    pub fn remote_window(&self) -> u16 {
        self.rmt_wnd
    }

    // ----- send ----------------------------------------------------------

    fn take_buffer(&mut self) -> Vec<u8> {
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf
    }

    fn recycle(&mut self, mut buf: Vec<u8>) {
        // The pool never holds more buffers than the windows can use at once.
        let cap = usize::from(self.snd_wnd) + 2 * usize::from(self.rcv_wnd);
        if self.pool.len() < cap {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// The most fragments one message may have towards this peer: our own
    /// receive window, or the largest window the peer advertised if that is
    /// larger, and never more than the wire's 255.
    ///
    /// The advertisement is the peer's *free* space, so it only ever proves
    /// a window at least that large; a busy peer advertises little. Taking
    /// it as the limit refused sends at random (a file transfer whose
    /// receiver was slow to start got `MessageTooLarge` for a message its
    /// window could hold). Our own window is the floor, so with the usual
    /// symmetric configuration whether a send is accepted never depends on
    /// timing. A peer configured with a smaller window than ours is not
    /// detected here: as in kcp-go, such a message waits for it.
    pub fn max_fragments(&self) -> usize {
        let peer = self.peer_wnd_max.unwrap_or(0);
        MAX_FRAGMENTS.min(usize::from(peer.max(self.rcv_wnd)).max(1))
    }

    /// Queues a message (or, in stream mode, bytes). Returns the byte count.
    ///
    /// A message that needs more fragments than [`Arq::max_fragments`] is
    /// refused with [`SendError::MessageTooLarge`] and nothing is queued.
    pub fn send(&mut self, mut data: &[u8]) -> Result<usize, SendError> {
        let total = data.len();
        if self.stream {
            if let Some(last) = self.snd_queue.back_mut() {
                let room = self.mss.saturating_sub(last.data.len());
                let take = room.min(data.len());
                last.data.extend_from_slice(&data[..take]);
                data = &data[take..];
            }
            if data.is_empty() {
                return Ok(total);
            }
        }
        let count = data.len().div_ceil(self.mss).max(1);
        if !self.stream && count > self.max_fragments() {
            return Err(SendError::MessageTooLarge {
                len: total,
                fragments: count,
                limit: self.max_fragments(),
            });
        }
        for i in 0..count {
            let take = data.len().min(self.mss);
            let mut buf = self.take_buffer();
            buf.extend_from_slice(&data[..take]);
            data = &data[take..];
            let mut seg = Segment::new(buf);
            seg.frg = if self.stream {
                0
            } else {
                (count - i - 1) as u8
            };
            self.snd_queue.push_back(seg);
        }
        Ok(total)
    }

    // ----- receive -------------------------------------------------------

    /// Size of the next complete message (stream mode: bytes ready to read).
    pub fn peek_size(&self) -> Result<usize, RecvError> {
        let front = self.rcv_queue.front().ok_or(RecvError::WouldBlock)?;
        if self.stream {
            return Ok(self.rcv_queue.iter().map(|s| s.data.len()).sum::<usize>() - self.rcv_offset);
        }
        if front.frg == 0 {
            return Ok(front.data.len());
        }
        if self.rcv_queue.len() < usize::from(front.frg) + 1 {
            return Err(RecvError::WouldBlock);
        }
        let mut len = 0;
        for seg in &self.rcv_queue {
            len += seg.data.len();
            if seg.frg == 0 {
                break;
            }
        }
        Ok(len)
    }

    /// Takes the next message into `buf` and returns its length. In stream
    /// mode, copies as many bytes as fit. A buffer too small for a message
    /// gets [`RecvError::BufferTooSmall`] and the message stays queued.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, RecvError> {
        let size = self.peek_size()?;
        if !self.stream && size > buf.len() {
            return Err(RecvError::BufferTooSmall {
                needed: size,
                capacity: buf.len(),
            });
        }
        let was_full = self.rcv_queue.len() >= usize::from(self.rcv_wnd);
        let free_before = self.wnd_unused();
        let mut written = 0;
        while let Some(seg) = self.rcv_queue.front() {
            let chunk = &seg.data[self.rcv_offset..];
            let take = chunk.len().min(buf.len() - written);
            buf[written..written + take].copy_from_slice(&chunk[..take]);
            written += take;
            if take < chunk.len() {
                self.rcv_offset += take;
                break;
            }
            self.rcv_offset = 0;
            let last = seg.frg == 0;
            if let Some(seg) = self.rcv_queue.pop_front() {
                self.recycle(seg.data);
            }
            if !self.stream && last {
                break;
            }
        }
        self.move_to_rcv_queue();
        if was_full && self.rcv_queue.len() < usize::from(self.rcv_wnd) {
            // Tell the peer that the window reopened (ikcp: at the next flush).
            self.probe |= ASK_TELL;
        }
        let half = self.rcv_wnd / 2;
        if self.recovery == Recovery::Improved && free_before < half && self.wnd_unused() >= half {
            // A sender held back by a nearly full window would otherwise
            // wait for our next tick (up to an interval) to hear it has
            // room: tell it now.
            self.probe |= ASK_TELL;
            self.urgent = true;
        }
        Ok(written)
    }

    fn move_to_rcv_queue(&mut self) {
        while self.rcv_queue.len() < usize::from(self.rcv_wnd) {
            match self.rcv_buf.front() {
                Some(Some(_)) => {}
                _ => break,
            }
            if let Some(Some(seg)) = self.rcv_buf.pop_front() {
                self.rcv_queue.push_back(seg);
                self.rcv_nxt = self.rcv_nxt.wrapping_add(1);
            }
        }
    }

    fn wnd_unused(&self) -> u16 {
        self.rcv_wnd
            .saturating_sub(self.rcv_queue.len().min(usize::from(u16::MAX)) as u16)
    }

    // ----- input ---------------------------------------------------------

    /// Feeds one datagram received from the peer, at time `now`.
    ///
    /// The whole datagram is checked first; a malformed one (truncated, wrong
    /// conv, unknown command, lying length) is refused and changes nothing.
    /// Returns the number of segments processed.
    pub fn input(&mut self, now: u32, datagram: &[u8]) -> Result<usize, InputError> {
        if let Err(e) = self.validate(datagram) {
            self.stats.input_errors += 1;
            return Err(e);
        }
        self.current = now;
        let was_idle = self.is_idle();
        let prev_una = self.snd_una;
        let prev_in_flight = self.in_flight;
        let mut spurious = false;
        // The freshest ACK of this datagram: (sn, ts).
        let mut newest_ack: Option<(u32, u32)> = None;
        let mut count = 0;
        for (h, data) in segments(datagram).flatten() {
            count += 1;
            self.stats.in_segments += 1;
            self.rmt_wnd = h.wnd;
            self.peer_wnd_max = Some(self.peer_wnd_max.map_or(h.wnd, |m| m.max(h.wnd)));
            // Judged before `una` (often covering this very segment) is applied.
            let ack_rtt =
                (h.cmd == Command::Ack && diff(now, h.ts) >= 0 && self.is_fresh_ack(h.sn, h.ts))
                    .then(|| diff(now, h.ts) as u32)
                    .filter(|&rtt| rtt <= RTO_MAX);
            if let Some(rtt) = ack_rtt {
                let acked = self.in_flight_index(h.sn).and_then(|i| self.snd_buf.get(i));
                self.rack.note_delivered(acked, h.sn, h.ts, rtt);
            }
            if h.cmd == Command::Ack && self.recovery == Recovery::Improved {
                spurious |= self.is_spurious_retransmission(h.sn, h.ts);
            }
            self.parse_una(h.una);
            match h.cmd {
                Command::Ack => {
                    if let Some(rtt) = ack_rtt {
                        self.rtt.sample(rtt, self.interval);
                    }
                    self.parse_ack(h.sn);
                    newest_ack = match newest_ack {
                        None => Some((h.sn, h.ts)),
                        Some((sn, ts)) => {
                            let newer = match self.recovery {
                                Recovery::Classic => diff(h.sn, sn) > 0,
                                Recovery::Improved => {
                                    diff(h.ts, ts) > 0 || (h.ts == ts && diff(h.sn, sn) > 0)
                                }
                            };
                            Some(if newer { (h.sn, h.ts) } else { (sn, ts) })
                        }
                    };
                }
                Command::Push => {
                    if diff(h.sn, self.rcv_nxt.wrapping_add(u32::from(self.rcv_wnd))) < 0 {
                        if diff(h.sn, self.rcv_nxt) >= 0 {
                            self.push_ack(h.sn, h.ts);
                            self.parse_data(&h, data);
                        } else {
                            if self.recovery == Recovery::Improved {
                                let since = self.repeat_ack.map_or(now, |(_, _, since)| since);
                                self.repeat_ack = Some((h.sn, h.ts, since));
                            } else {
                                self.push_ack(h.sn, h.ts);
                            }
                            self.stats.repeat_segments += 1;
                        }
                    } else {
                        self.stats.repeat_segments += 1;
                    }
                }
                Command::WindowAsk => self.probe |= ASK_TELL,
                Command::WindowTell => {}
            }
        }
        if let Some((sn, ts)) = newest_ack {
            self.parse_fastack(sn, ts);
            if let Some(rack) = self.rack.test(self.recovery) {
                if recovery::finds_loss(&self.snd_buf, rack, now, self.fastlimit) {
                    self.urgent = true;
                }
            }
        }
        if spurious {
            self.cc.on_spurious_retransmission(self.mss);
        }
        let delivered = (prev_in_flight - self.in_flight) as u32;
        if delivered > 0 {
            self.tail_probe.on_progress(now);
        }
        self.cc.on_ack(
            now,
            self.rtt.srtt(),
            self.recovery,
            delivered,
            diff(self.snd_una, prev_una) > 0,
            self.snd_una,
            u32::from(self.rmt_wnd),
            self.mss,
        );
        if self.cc.in_episode() && delivered > 0 {
            // Loss recovery is clocked by ACKs: what was delivered may go out.
            self.urgent = true;
        }
        if self.ack_nodelay && !self.acklist.is_empty() {
            self.urgent = true;
        }
        if was_idle && self.recovery == Recovery::Improved && self.updated {
            // After a pause the flush tick is long past, and ikcp would
            // ACK this datagram alone at once. Restart the ticks instead:
            // the ACK waits at most one interval, as it would mid-stream,
            // for a reply to carry it. A game server answering each
            // player's input saves a datagram per input (urgent ACKs, of
            // losses or out-of-order data, still go at once).
            self.ts_flush = now.wrapping_add(self.interval);
        }
        Ok(count)
    }

    fn validate(&self, datagram: &[u8]) -> Result<(), InputError> {
        if datagram.len() < HEADER_LEN {
            return Err(InputError::Truncated {
                len: datagram.len(),
            });
        }
        for seg in segments(datagram) {
            let (h, _) = seg?;
            if h.conv != self.conv {
                return Err(InputError::ConvMismatch {
                    expected: self.conv,
                    got: h.conv,
                });
            }
            if h.cmd == Command::Push
                && !self.stream
                && usize::from(h.frg) >= usize::from(self.rcv_wnd)
            {
                return Err(InputError::FragmentsExceedWindow {
                    fragments: usize::from(h.frg) + 1,
                    window: usize::from(self.rcv_wnd),
                });
            }
        }
        Ok(())
    }

    /// Drops everything the peer has received in order.
    fn parse_una(&mut self, una: u32) {
        if diff(una, self.snd_una) <= 0 || diff(una, self.snd_nxt) > 0 {
            return;
        }
        while let Some(seg) = self.snd_buf.front() {
            if diff(seg.sn, una) >= 0 {
                break;
            }
            if let Some(seg) = self.snd_buf.pop_front() {
                // A tombstone's buffer went back to the pool when it was acked.
                if !seg.acked {
                    self.in_flight -= 1;
                    self.recycle(seg.data);
                }
            }
        }
        self.shrink_buf();
    }

    fn parse_ack(&mut self, sn: u32) {
        if diff(sn, self.snd_una) < 0 || diff(sn, self.snd_nxt) >= 0 {
            return;
        }
        let index = sn.wrapping_sub(self.snd_una) as usize;
        if let Some(seg) = self.snd_buf.get_mut(index) {
            if !seg.acked {
                seg.acked = true;
                self.in_flight -= 1;
                let (ts, xmit) = (seg.ts, seg.xmit);
                let data = std::mem::take(&mut seg.data);
                self.recycle(data);
                self.observe_delivery(ts, xmit);
            }
        }
        self.shrink_buf();
    }

    /// The round trip a tail probe waits two of: the smoothed RTT, or the
    /// longer the peer has been seen to take, or half a backed-off RTO.
    fn probe_rtt(&self) -> u32 {
        self.rtt
            .srtt()
            .max(self.rtt.peak())
            .max(self.rto_backoff / 2)
    }

    /// How long a segment (sent at `ts`, `xmit` times) took to be
    /// acknowledged by its own ACK. A peer that holds its ACKs until its
    /// tick and acknowledges only its newest segment per tick (kcp-go)
    /// gives RTT samples that mostly leave its ACK delay out; this time
    /// includes it, and keeps the RTO and the tail probe above it. Only a
    /// segment sent once says when it was sent (Karn); `una` says nothing
    /// of when (it may cover a segment held behind a hole for long).
    fn observe_delivery(&mut self, ts: u32, xmit: u32) {
        let took = diff(self.current, ts);
        if xmit == 1 && took >= 0 {
            self.rtt.observe_delivery(took as u32);
            self.rto_backoff = 0;
        }
    }

    /// Pops acknowledged tombstones off the front and recomputes `snd_una`.
    fn shrink_buf(&mut self) {
        while self.snd_buf.front().is_some_and(|s| s.acked) {
            self.snd_buf.pop_front();
        }
        self.snd_una = self.snd_buf.front().map_or(self.snd_nxt, |s| s.sn);
    }

    /// Counts an ACK of `sn` (sent at `ts`) against every earlier segment still unacknowledged.
    fn parse_fastack(&mut self, sn: u32, ts: u32) {
        if diff(sn, self.snd_una) < 0 || diff(sn, self.snd_nxt) >= 0 {
            return;
        }
        let index = sn.wrapping_sub(self.snd_una) as usize;
        let time_ordered = self.recovery == Recovery::Improved;
        recovery::count_fastack(&mut self.snd_buf, index, ts, time_ordered);
    }

    /// Where `sn` sits in the send buffer, if it is in flight (acked or not).
    fn in_flight_index(&self, sn: u32) -> Option<usize> {
        if diff(sn, self.snd_una) < 0 || diff(sn, self.snd_nxt) >= 0 {
            return None;
        }
        Some(sn.wrapping_sub(self.snd_una) as usize)
    }

    /// Whether an ACK may yield an RTT sample. ikcp samples every ACK; the
    /// improved recovery only samples the first ACK of a segment in flight
    /// that echoes one of its transmissions, so duplicate and forged ACKs
    /// cannot drag the RTO around.
    fn is_fresh_ack(&self, sn: u32, ts: u32) -> bool {
        if self.recovery == Recovery::Classic {
            return true;
        }
        self.in_flight_index(sn)
            .and_then(|i| self.snd_buf.get(i))
            .is_some_and(|seg| !seg.acked && diff(seg.ts, ts) >= 0)
    }

    /// Whether an ACK of `sn` echoing `ts` proves that segment's latest
    /// retransmission unnecessary: it echoes an earlier transmission.
    fn is_spurious_retransmission(&self, sn: u32, ts: u32) -> bool {
        self.in_flight_index(sn)
            .and_then(|i| self.snd_buf.get(i))
            .is_some_and(|seg| !seg.acked && seg.xmit > 1 && diff(ts, seg.ts) < 0)
    }

    fn push_ack(&mut self, sn: u32, ts: u32) {
        // Bounded by the window: beyond that, `una` in later packets carries the news.
        if self.acklist.len() < 2 * usize::from(self.rcv_wnd) {
            self.acklist.push((sn, ts));
        }
    }

    fn parse_data(&mut self, h: &SegmentHeader, data: &[u8]) {
        let index = h.sn.wrapping_sub(self.rcv_nxt) as usize;
        if index >= usize::from(self.rcv_wnd) {
            return;
        }
        if self.rcv_buf.len() <= index {
            self.rcv_buf.resize_with(index + 1, || None);
        }
        if self.rcv_buf[index].is_some() {
            self.stats.repeat_segments += 1;
            self.move_to_rcv_queue();
            return;
        }
        let mut buf = self.take_buffer();
        buf.extend_from_slice(data);
        let mut seg = Segment::new(buf);
        seg.sn = h.sn;
        seg.frg = h.frg;
        seg.ts = h.ts;
        self.rcv_buf[index] = Some(seg);
        // Out-of-order data, or data that fills a hole: acknowledge at once
        // so the sender learns of the loss (or the repair) without waiting
        // for our next tick, as TCP does (RFC 5681, section 4.2).
        if self.recovery == Recovery::Improved && (index > 0 || self.rcv_buf.len() > 1) {
            self.urgent = true;
        }
        if index > 0 {
            // A hole: the peer's packets are being lost on the way here,
            // and the path likely loses ours too; copies start before our
            // own first retransmission.
            self.redundancy.on_loss(self.current);
        }
        self.move_to_rcv_queue();
    }

    // ----- output --------------------------------------------------------

    /// Sends everything due now: ACKs, window probes, new data the windows
    /// allow, and retransmissions. Each datagram is passed to `out` as one
    /// mutable slice whose first `reserved` bytes are free for the layers below.
    pub fn flush<F: FnMut(&mut [u8])>(&mut self, now: u32, out: &mut F) {
        self.current = now;
        self.urgent = false;
        let reserved = self.reserved;
        let wnd = self.wnd_unused();
        let mut header = SegmentHeader {
            conv: self.conv,
            cmd: Command::Ack,
            frg: 0,
            wnd,
            ts: 0,
            sn: 0,
            una: self.rcv_nxt,
            len: 0,
        };
        // Move what the windows allow from the queue into flight.
        let window = u32::from(self.snd_wnd.min(self.rmt_wnd));
        let cwnd = self.cc.window(window, self.nocwnd, self.recovery, self.mss);
        while diff(self.snd_nxt, self.snd_una.wrapping_add(cwnd)) < 0 {
            let Some(mut seg) = self.snd_queue.pop_front() else {
                break;
            };
            seg.sn = self.snd_nxt;
            seg.ts = now;
            seg.resend_ts = now;
            seg.rto = self.rtt.rto();
            seg.fastack = 0;
            seg.xmit = 0;
            self.snd_nxt = self.snd_nxt.wrapping_add(1);
            self.snd_buf.push_back(seg);
            self.in_flight += 1;
        }

        let resend = if self.fastresend > 0 {
            self.fastresend
        } else {
            u32::MAX
        };
        // The improved recovery finds this flush's losses before sending,
        // so its congestion response, and the budget that bounds
        // retransmission bursts, already cover this flush.
        let mut budget = match self.recovery {
            Recovery::Classic => None,
            Recovery::Improved => self.assess_losses(now, resend, window),
        };
        if self.buffer.len() != self.mtu {
            // Released by `trim` while idle.
            self.resize_buffer();
        }
        let mut packer = Packer::new(&mut self.buffer, reserved);

        for &(sn, ts) in &self.acklist {
            header.sn = sn;
            header.ts = ts;
            packer.push(&header, &[], out);
        }
        self.acklist.clear();

        // Probe a closed remote window, backing off from 7 s to 120 s.
        if self.rmt_wnd == 0 {
            if self.probe_wait == 0 {
                self.probe_wait = PROBE_INIT;
                self.ts_probe = now.wrapping_add(self.probe_wait);
            } else if diff(now, self.ts_probe) >= 0 {
                self.probe_wait = (self.probe_wait.max(PROBE_INIT) * 3 / 2).min(PROBE_LIMIT);
                self.ts_probe = now.wrapping_add(self.probe_wait);
                self.probe |= ASK_SEND;
            }
        } else {
            self.ts_probe = 0;
            self.probe_wait = 0;
        }
        // Probes reuse the header as ikcp does, so their sn/ts are those of
        // the last ACK (receivers ignore them; the bytes match ikcp's).
        for (flag, cmd) in [
            (ASK_SEND, Command::WindowAsk),
            (ASK_TELL, Command::WindowTell),
        ] {
            if self.probe & flag != 0 {
                header.cmd = cmd;
                packer.push(&header, &[], out);
            }
        }
        self.probe = 0;

        // ikcp gives a first transmission an eighth of the RTO extra in
        // normal mode. With RACK detecting losses, the RTO is only the
        // backstop, so keep that slack in nodelay mode too: it halves the
        // spurious timeouts that jitter causes.
        let rto_slack = if self.nodelay == 0 || self.recovery == Recovery::Improved {
            self.rtt.rto() >> 3
        } else {
            0
        };
        let rx_rto = match self.recovery {
            Recovery::Classic => self.rtt.rto(),
            Recovery::Improved => {
                // Karn's retained back-off, but at most four times the
                // estimate, so a lossy path does not push new segments'
                // timers towards RTO_MAX.
                let rto = self.rtt.rto_above_peak();
                rto.max(self.rto_backoff.min(rto.saturating_mul(4)))
                    .min(RTO_MAX)
            }
        };
        let mut fast_resent = false;
        let mut timed_out = false;
        let mut transmitted = 0;
        header.cmd = Command::Push;
        header.una = self.rcv_nxt;
        for seg in self.snd_buf.iter_mut() {
            if seg.acked {
                continue;
            }
            let why = if seg.xmit == 0 {
                Transmit::First
            } else if diff(now, seg.resend_ts) >= 0 {
                Transmit::Timeout
            } else if (seg.fastack >= resend || seg.lost)
                // (The improved recovery's assess_losses marked RACK's
                // losses `lost` just before.)
                && recovery::within_fastlimit(seg, self.fastlimit)
            {
                if seg.fastack >= resend {
                    Transmit::Fast
                } else {
                    Transmit::Early
                }
            } else {
                continue;
            };
            // With nc only retransmissions are bounded: new data is held by
            // the windows alone, as ikcp's nc promises.
            if why != Transmit::First || !self.nocwnd {
                if let Some(left) = budget.as_mut() {
                    if *left == 0 {
                        continue;
                    }
                    *left -= 1;
                }
            }
            match why {
                Transmit::First => {
                    seg.rto = rx_rto;
                    seg.resend_ts = now.wrapping_add(seg.rto + rto_slack);
                    self.tail_probe.on_progress(now);
                }
                Transmit::Timeout => {
                    seg.rto += match self.nodelay {
                        0 => seg.rto.max(rx_rto),
                        1 => seg.rto / 2,
                        _ => rx_rto / 2,
                    };
                    seg.rto = seg.rto.min(RTO_MAX);
                    seg.resend_ts = now.wrapping_add(seg.rto);
                    // With congestion control on a timeout costs the whole
                    // window, so a peer slow to ACK (kcp-go at its 100 ms
                    // tick) must not see one per segment: keep the backed-off
                    // timer for new segments (Karn). With nc a timeout costs
                    // only its own retransmission, and the shorter timer
                    // recovers a lost message sooner (game-tick p99 146 ms
                    // against 383 with the retained timer).
                    if self.recovery == Recovery::Improved && !self.nocwnd {
                        self.rto_backoff = self.rto_backoff.max(seg.rto);
                    }
                    self.stats.timeout_retransmits += 1;
                    timed_out = true;
                }
                Transmit::Fast | Transmit::Early => {
                    if why == Transmit::Fast {
                        self.stats.fast_retransmits += 1;
                    } else {
                        self.stats.early_retransmits += 1;
                    }
                    seg.fastack = 0;
                    seg.resend_ts = now.wrapping_add(seg.rto);
                    fast_resent = true;
                }
            }
            seg.lost = false;
            seg.copies = 0;
            if seg.xmit > 0 {
                self.stats.retransmits += 1;
                self.redundancy.on_loss(now);
            }
            seg.xmit += 1;
            seg.ts = now;
            transmitted += 1;
            self.stats.out_segments += 1;
            header.frg = seg.frg;
            header.ts = seg.ts;
            header.sn = seg.sn;
            header.len = seg.data.len() as u32;
            packer.push(&header, &seg.data, out);
            if seg.xmit >= self.dead_link {
                self.dead = true;
            }
        }
        if let Some((sn, ts, since)) = self.repeat_ack {
            if packer.packed > 0 {
                // Whatever left in this flush carried `una`.
                self.repeat_ack = None;
            } else if diff(now, since) >= REPEAT_ACK_DELAY as i32 {
                header.cmd = Command::Ack;
                header.sn = sn;
                header.ts = ts;
                header.len = 0;
                header.frg = 0;
                packer.push(&header, &[], out);
                self.repeat_ack = None;
            }
        }
        if self.recovery == Recovery::Improved && self.redundancy.percent() > 0 {
            self.redundancy.earn(packer.packed, self.mtu);
            if self.redundancy.is_active(now) {
                let rtt = match self.rtt.srtt() {
                    0 => self.rtt.rto(),
                    srtt => srtt,
                };
                self.stats.redundant_segments += pack_copies(
                    now,
                    rtt,
                    &mut self.snd_buf,
                    &mut self.redundancy,
                    &mut packer,
                    &mut header,
                );
            }
        }
        packer.finish(out);
        self.stats.out_datagrams += packer.datagrams;
        self.cc.on_sent(transmitted);

        if self.recovery == Recovery::Classic {
            if fast_resent {
                let inflight = self.snd_nxt.wrapping_sub(self.snd_una);
                self.cc.classic_fast_loss(inflight, resend, self.mss);
            }
            if timed_out {
                // ikcp halves the window this flush used, not the updated cwnd.
                self.cc.classic_timeout(cwnd, self.mss);
            }
        }
        self.cc.at_least_one(self.mss);
    }

    /// The improved recovery's look at the send buffer before a flush: it
    /// marks what RACK or the fast-resend threshold finds lost and what
    /// timed out, tells the congestion state once per loss, and returns how
    /// many segments this flush may transmit (`None`: as the windows allow).
    fn assess_losses(&mut self, now: u32, resend: u32, window: u32) -> Option<u32> {
        if !self.cc.in_episode()
            && self.in_flight > 0
            && self.tail_probe.is_due(now, self.probe_rtt(), self.interval)
        {
            // Marked before the count below, so the probe is not a loss.
            if let Some(seg) = self
                .snd_buf
                .iter_mut()
                .rev()
                .find(|s| !s.acked && s.xmit > 0)
            {
                seg.lost = true;
            }
        }
        let rack = self.rack.test(self.recovery);
        let (mut pipe, mut lost, mut expired) = (0u32, 0u32, 0u32);
        for seg in self.snd_buf.iter_mut() {
            if seg.acked || seg.xmit == 0 {
                continue;
            }
            if diff(now, seg.resend_ts) >= 0 {
                if !seg.lost {
                    seg.lost = true;
                    expired += 1;
                }
                continue;
            }
            if !seg.lost
                && recovery::within_fastlimit(seg, self.fastlimit)
                && (seg.fastack >= resend || rack.is_some_and(|r| r.is_lost(seg, now)))
            {
                seg.lost = true;
                lost += 1;
            }
            if !seg.lost {
                pipe += 1;
            }
        }
        let flight = self.snd_nxt.wrapping_sub(self.snd_una);
        for (count, timeout) in [(lost, false), (expired, true)] {
            self.cc.on_loss(
                now,
                count,
                timeout,
                flight,
                self.snd_nxt,
                window,
                self.nocwnd,
                self.mss,
            );
        }
        self.cc.budget(pipe)
    }

    // ----- clock ---------------------------------------------------------

    /// Advances the clock to `now` and flushes if an interval has passed.
    /// Call it at the time [`check`](Self::check) returns (or every interval).
    pub fn update<F: FnMut(&mut [u8])>(&mut self, now: u32, out: &mut F) {
        self.current = now;
        if !self.updated {
            self.updated = true;
            self.ts_flush = now;
        }
        let mut slap = diff(now, self.ts_flush);
        if !(-10_000..10_000).contains(&slap) {
            self.ts_flush = now;
            slap = 0;
        }
        if slap >= 0 {
            self.ts_flush = self.ts_flush.wrapping_add(self.interval);
            if diff(now, self.ts_flush) >= 0 {
                self.ts_flush = now.wrapping_add(self.interval);
            }
            self.flush(now, out);
        } else if self.urgent {
            self.flush(now, out);
        }
    }

    /// When `update` will next do anything: `now` if something is urgent
    /// (or the engine was never updated), else the next interval tick.
    ///
    /// Unlike [`check`](Self::check) this never names a time at which
    /// `update` would do nothing: ikcp's `check` returns `now` as soon as a
    /// retransmission is due, but `update` only sends it at the next tick,
    /// so an event loop that trusts `check` spins until then.
    pub fn next_update(&self, now: u32) -> u32 {
        if !self.updated || self.urgent || !(-10_000..10_000).contains(&diff(now, self.ts_flush)) {
            return now;
        }
        if diff(now, self.ts_flush) >= 0 {
            now
        } else {
            self.ts_flush
        }
    }

    /// When `update` should next be called: `now` if something is due, else
    /// the earlier of the next flush tick and the next retransmission, and
    /// never later than one interval away (ikcp's contract).
    pub fn check(&self, now: u32) -> u32 {
        if !self.updated || self.urgent {
            return now;
        }
        let mut ts_flush = self.ts_flush;
        if !(-10_000..10_000).contains(&diff(now, ts_flush)) {
            ts_flush = now;
        }
        if diff(now, ts_flush) >= 0 {
            return now;
        }
        let tm_flush = diff(ts_flush, now) as u32;
        let mut tm_packet = u32::MAX;
        // A segment not yet sent (held back by a loss episode's budget)
        // goes at a flush that ACKs or the next tick trigger.
        for seg in self.snd_buf.iter().filter(|s| !s.acked && s.xmit > 0) {
            let d = diff(seg.resend_ts, now);
            if d <= 0 {
                return now;
            }
            tm_packet = tm_packet.min(d as u32);
        }
        now.wrapping_add(tm_packet.min(tm_flush).min(self.interval))
    }
}

/// Why a flush transmits a segment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transmit {
    First,
    Timeout,
    /// The fast-resend threshold was reached.
    Fast,
    /// RACK found it lost (improved recovery).
    Early,
}

fn out_of_range(what: &'static str, min: usize, max: usize, got: usize) -> SettingError {
    SettingError::OutOfRange {
        what,
        min: min as u64,
        max: max as u64,
        got: got as u64,
    }
}

#[cfg(test)]
mod congestion_tests;
#[cfg(test)]
mod redundancy_tests;
#[cfg(test)]
mod tests;

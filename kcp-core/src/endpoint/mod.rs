//! Every session behind one UDP socket, sans-IO: demultiplexing by
//! (remote address, conv), the accept backlog, connect-from-listener,
//! timers, lifecycle and readiness events. The runtime owns the socket and
//! the clock and calls in here; this module never touches either.
//!
//! Time is a `u64` of milliseconds (the runtime's monotonic clock); the
//! connections below see it as the wrapping `u32` of the wire.
//!
//! Rules, and where they come from:
//! - A datagram is opened (decrypted, checksum checked) before anything is
//!   read from it, so a datagram that fails creates nothing and reaches no
//!   session; it is counted in [`EndpointStats`].
//! - Sessions are keyed by (remote address, conv): one address may hold
//!   several, each with its own conv (a P2P node connecting twice, or two
//!   nodes connecting to each other at once).
//! - kcp-go's replacement rule: a new conv from an address that already
//!   holds `sessions_per_addr` accepted sessions replaces the oldest of them
//!   when its first segment has sn 0 (the peer restarted from the same
//!   port); otherwise it is dropped. Sessions we opened with `connect` are
//!   never replaced.
//! - FEC parity packets carry no conv: they go to the session of their
//!   address that last received a data packet (with one session per
//!   address, the usual case, that is exact).
//! - An idle session has no timer at all ([`Conn::next_deadline`]); a
//!   session wakes only for input, application calls, retransmissions, its
//!   idle timeout or a graceful close.
//! - No close message exists in the kcp-go format, so a peer learns of a
//!   close only by silence (dead link or idle timeout), as with kcp-go.

mod route;
mod secure;

#[cfg(fuzzing)]
pub use route::{admissible, route};
#[cfg(not(fuzzing))]
use route::{admissible, route};
use route::{Refusal, Route};

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::SocketAddr;

use crate::arq::RecvError;
use crate::config::{Config, CryptName};
use crate::conn::{cipher_and_key, Conn, ConnError, ConnStats};
use crate::crypt::{CipherKind, CryptError, KcpGoCipher, PacketCrypt, KEY_LEN};
use crate::secure::{Guard, Link, SecureStats};

/// Names one session of an endpoint; never reused while the endpoint lives.
/// Unique across the shards of one listener too (`listen_threads`): the
/// shard's number is part of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SessionId(u64);

/// Bits of a [`SessionId`] that index the endpoint's slots: more than
/// `max_sessions`' ceiling, which bounds the slots.
const INDEX_BITS: u32 = 26;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;
/// The most shards one listener can have (six bits above the index).
pub const MAX_SHARDS: u32 = 64;

impl SessionId {
    fn new(shard: u32, index: u32, generation: u32) -> Self {
        Self(
            u64::from(generation) << 32
                | u64::from(shard) << INDEX_BITS
                | (u64::from(index) & INDEX_MASK),
        )
    }

    fn index(self) -> usize {
        (self.0 & INDEX_MASK) as usize
    }

    fn shard(self) -> u32 {
        ((self.0 & 0xffff_ffff) >> INDEX_BITS) as u32
    }

    fn generation(self) -> u32 {
        (self.0 >> 32) as u32
    }

    /// The id as a number (stable for the session's life).
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

/// Why a session closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The application closed it.
    Local,
    /// A segment went unacknowledged `dead_link` times.
    DeadLink,
    /// Nothing arrived for `idle_timeout` seconds.
    IdleTimeout,
    /// Its listener was closed.
    ListenerClosed,
    /// Its peer started a new session from the same address (kcp-go's rule).
    Replaced,
    /// A panic while handling its endpoint (a bug in kcp-rs): the endpoint's
    /// sessions were closed and its socket let go, while the I/O thread
    /// went on serving the others.
    Panic,
    /// The runtime was shut down (`runtime::shutdown`).
    Shutdown,
    /// Secure profile: the peer closed the session (an authenticated close
    /// message), for its reason (a [`CloseReason::code`]).
    Peer(u8),
    /// Secure profile: the peer refused our handshake: the PSKs differ.
    AuthFailed,
    /// Secure profile: the handshake had no answer in time.
    HandshakeTimeout,
}

impl CloseReason {
    /// A small number for the wire (the secure profile's close message):
    /// 1 local, 2 dead link, 3 idle timeout, 4 listener closed, 5 replaced,
    /// 6 panic, 7 shutdown; 0 for anything else.
    pub fn code(self) -> u8 {
        match self {
            Self::Local => 1,
            Self::DeadLink => 2,
            Self::IdleTimeout => 3,
            Self::ListenerClosed => 4,
            Self::Replaced => 5,
            Self::Panic => 6,
            Self::Shutdown => 7,
            Self::Peer(_) | Self::AuthFailed | Self::HandshakeTimeout => 0,
        }
    }
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Local => "closed by the application",
            Self::DeadLink => "dead link: the peer stopped acknowledging",
            Self::IdleTimeout => "idle timeout: nothing arrived from the peer",
            Self::ListenerClosed => "its listener was closed",
            Self::Replaced => "replaced by a new session from the same address",
            Self::Panic => {
                "internal error: a panic while handling its endpoint closed it (a bug in kcp-rs)"
            }
            Self::Shutdown => "the runtime was shut down",
            Self::Peer(code) => {
                return write!(
                    f,
                    "closed by the peer ({})",
                    match code {
                        1 => "it closed the session",
                        2 => "dead link: we stopped acknowledging",
                        3 => "idle timeout: nothing arrived from us",
                        4 => "its listener was closed",
                        5 => "replaced by a newer session",
                        6 => "an internal error on its side",
                        7 => "its runtime was shut down",
                        _ => "no reason given",
                    }
                )
            }
            Self::AuthFailed => {
                "authentication failed: the peer refused our handshake (the psk differs)"
            }
            Self::HandshakeTimeout => {
                "handshake timed out: no secure listener answered (unreachable, or not crypt=secure)"
            }
        })
    }
}

/// Why an application call on a session failed.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session is closed (or closing, after a local close).
    #[error("the session is closed: {0}")]
    Closed(CloseReason),
    /// Nothing to receive yet, or the send queue is full (a window's worth
    /// of segments waits); try again after a readable/writable event.
    #[error("the operation would block")]
    WouldBlock,
    /// The id names no session of this endpoint (it was released).
    #[error("no such session")]
    Unknown,
    /// Unreliable datagrams need the secure profile.
    #[error("unreliable datagrams need crypt=secure (the kcp-go format has none)")]
    DatagramsUnsupported,
    /// The message is longer than the `max_message` setting.
    #[error("the message is {len} bytes; max_message is {max}")]
    MessageTooLarge {
        /// The message's length.
        len: usize,
        /// The setting.
        max: usize,
    },
    /// The connection refused the call (for example, a message larger than
    /// the peer could reassemble).
    #[error(transparent)]
    Conn(#[from] ConnError),
}

/// Why an endpoint call failed.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// The configuration cannot make sessions.
    #[error(transparent)]
    Config(#[from] ConnError),
    /// The endpoint holds `max_sessions` sessions.
    #[error("the endpoint holds max_sessions = {0} sessions")]
    Limit(usize),
    /// The listener is closed.
    #[error("the listener is closed")]
    Closed,
    /// The OS random number generator failed (conv selection).
    #[error(transparent)]
    Entropy(#[from] CryptError),
}

/// What happened on an endpoint, for event-driven applications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A session was accepted; the id is now the application's (as if
    /// returned by [`Endpoint::accept`]).
    Accepted(SessionId),
    /// A message can be received (level-triggered: raised again after a
    /// `recv` that leaves one waiting).
    Readable(SessionId),
    /// The send queue has room again after a send was refused as full.
    Writable(SessionId),
    /// The session closed; calls on it now fail with the reason.
    Closed(SessionId, CloseReason),
    /// Secure profile: an unreliable datagram can be received
    /// (level-triggered like `Readable`).
    Datagram(SessionId),
}

/// What the endpoint dropped and why, and what it admitted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EndpointStats {
    /// Datagrams handed in.
    pub datagrams_in: u64,
    /// Refused by the packet protection (bad checksum or too short).
    pub crypt_errors: u64,
    /// Opened, but too short to name a conversation, or, for a conversation
    /// no session has, not well-formed KCP: nothing is
    /// created for it.
    pub malformed: u64,
    /// From an address other than a dialed session's remote.
    pub foreign_source: u64,
    /// For no session, and not allowed to open one (wrong conv on a dialed
    /// session; a listener closed or not accepting; a parity packet from an
    /// unknown address; no data a new session would take; a mid-stream
    /// segment from a full address).
    pub unroutable: u64,
    /// A new session refused because the accept backlog was full.
    pub backlog_full: u64,
    /// A new session refused because `max_sessions` were open.
    pub session_limit: u64,
    /// Sessions accepted.
    pub accepted: u64,
    /// Accepted sessions replaced by a new conv from their address.
    pub replaced: u64,
    /// The secure profile's counters (zero otherwise).
    pub secure: SecureStats,
}

/// Field by field: a listener with several sockets sums its shards'.
impl std::ops::Add for EndpointStats {
    type Output = Self;

    fn add(self, o: Self) -> Self {
        Self {
            datagrams_in: self.datagrams_in + o.datagrams_in,
            crypt_errors: self.crypt_errors + o.crypt_errors,
            malformed: self.malformed + o.malformed,
            foreign_source: self.foreign_source + o.foreign_source,
            unroutable: self.unroutable + o.unroutable,
            backlog_full: self.backlog_full + o.backlog_full,
            session_limit: self.session_limit + o.session_limit,
            accepted: self.accepted + o.accepted,
            replaced: self.replaced + o.replaced,
            secure: self.secure + o.secure,
        }
    }
}

/// ACKs owed that make a datagram of their own right after input; fewer
/// wait for the interval tick (kcp-go acks only there) or for a reply.
const ACK_BATCH: usize = 2;

/// How long a session must have been idle before it gives its buffers back.
const TRIM_AFTER_MS: u64 = 1_000;

const READABLE: u8 = 1;
const WRITABLE: u8 = 2;
const CLOSED: u8 = 4;
const DATAGRAM: u8 = 8;

/// Unreliable datagrams a session holds for the application; when full,
/// the oldest is dropped (and counted): game state is replaced, not
/// queued.
pub const DATAGRAM_QUEUE: usize = 64;

/// Who opened a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// The peer, through this listener.
    Accepted,
    /// This endpoint: `connect` on a listener, or a dialer's one session.
    Opened,
}

#[derive(Debug)]
struct Live {
    conn: Conn,
    remote: SocketAddr,
    origin: Origin,
    /// `Some(deadline, reason)` once a graceful close has begun.
    closing: Option<(u64, CloseReason)>,
    last_input: u64,
    /// When the last keepalive went out.
    last_keepalive: u64,
    /// Since when the connection has had nothing to do.
    idle_since: Option<u64>,
    /// Its buffers were given back (see `TRIM_AFTER_MS`).
    trimmed: bool,
    /// The deadline of this session's newest timer entry.
    armed: Option<u64>,
    /// Got input in the current batch: flush (ACKs) at its end.
    dirty: bool,
    in_backlog: bool,
    /// A send was refused as full: announce when room appears.
    write_blocked: bool,
    /// Readable was announced and recv has not drained the session since.
    readable_announced: bool,
    /// Secure profile: the session's handshake and packet keys.
    link: Option<Box<Link>>,
    /// Secure profile: the peer closed (its reason); the session ends once
    /// the application has read what arrived before.
    peer_closed: Option<u8>,
    /// Secure profile: unreliable datagrams waiting for the application.
    datagrams: std::collections::VecDeque<Vec<u8>>,
    /// Their buffers, once read, for the next ones.
    spare: Vec<Vec<u8>>,
    /// A datagram event was announced and not drained since.
    datagram_announced: bool,
}

impl Live {
    /// Runs `step` on the connection with its datagrams going to the peer:
    /// sealed by the secure link if there is one, and held back until its
    /// handshake is done.
    fn drive<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        out: &mut O,
        step: impl FnOnce(&mut Conn, u32, &mut dyn FnMut(&[u8])),
    ) {
        let remote = self.remote;
        match self.link.as_deref_mut() {
            None => step(&mut self.conn, ms32(now), &mut |d: &[u8]| out(remote, d)),
            Some(link) if link.is_established() && self.peer_closed.is_none() => {
                let mut seal = |d: &[u8]| {
                    // Only an exhausted counter (2^62 packets) fails.
                    let _ = link.seal(now, crate::secure::wire::payload::KCP, d, &mut |p| {
                        out(remote, p)
                    });
                };
                step(&mut self.conn, ms32(now), &mut seal)
            }
            Some(_) => {}
        }
    }

    /// Whether the connection's own timers count: not while a secure
    /// handshake holds its output back.
    fn conn_runs(&self) -> bool {
        self.link.as_ref().map_or(true, |l| l.is_established()) && self.peer_closed.is_none()
    }
}

#[derive(Debug)]
enum State {
    Free,
    Live(Box<Live>),
    Closed(CloseReason),
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    state: State,
    /// The application holds this session (accepted, connected or dialed,
    /// and not yet released).
    held: bool,
    /// Events waiting in the queue for this session.
    pending: u8,
    /// The application's tags, set while the session is held.
    tags: Tags,
}

/// Two numbers the application attaches to a session it holds, returned
/// with each of its events: a handle to find it by, and a value of the
/// application's own (the C API keeps its handle's address and the user's
/// pointer here).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tags {
    /// Nonzero once set. On an endpoint that [requires
    /// tokens](Endpoint::require_tokens), a session's events wait for it.
    pub token: usize,
    /// Anything; 0 until set.
    pub user: usize,
}

/// Sessions from one remote address.
#[derive(Debug, Default)]
struct Peer {
    /// Oldest first.
    sessions: Vec<SessionId>,
    /// Where a parity packet from this address goes.
    last_data: Option<SessionId>,
}

/// The sessions behind one socket. See the module documentation.
#[derive(Debug)]
pub struct Endpoint {
    config: Config,
    cipher: CipherKind,
    key: [u8; KEY_LEN],
    /// Opens incoming datagrams (kcp-go shares one cipher per listener).
    opener: PacketCrypt,
    /// A dialer's one remote; `None` for a listener.
    dialed: Option<SocketAddr>,
    accepting: bool,
    /// Events of held sessions wait for their token (`require_tokens`).
    tokens_required: bool,
    slots: Vec<Slot>,
    free: Vec<u32>,
    routes: HashMap<(SocketAddr, u32), SessionId>,
    peers: HashMap<SocketAddr, Peer>,
    live: usize,
    /// This endpoint's number among a listener's shards (0 alone), part of
    /// every [`SessionId`] it hands out.
    shard: u32,
    backlog: VecDeque<SessionId>,
    timers: BinaryHeap<Reverse<(u64, SessionId)>>,
    events: VecDeque<SessionId>,
    dirty: Vec<SessionId>,
    /// Something a blocked caller may be waiting for changed.
    wake: bool,
    stats: EndpointStats,
    /// Secure profile: handshakes, cookies, tickets.
    guard: Option<Box<Guard>>,
    /// Secure profile: sessions by our index in their packets.
    by_index: HashMap<u32, SessionId>,
    /// Secure profile: responder indices whose ticket made a session, until
    /// the ticket expires, so a replayed confirm makes none.
    consumed: HashMap<u32, u64>,
    /// Test-only fault injection: a datagram starting with these bytes
    /// makes `handle_datagram` panic.
    #[cfg(test)]
    pub(crate) panic_on: Option<Vec<u8>>,
}

fn ms32(now: u64) -> u32 {
    now as u32
}

/// A wrapping `u32` deadline from a connection, on the `u64` clock.
fn widen(now: u64, deadline: u32) -> u64 {
    let ahead = deadline.wrapping_sub(ms32(now)) as i32;
    now + ahead.max(0) as u64
}

impl Endpoint {
    /// A listening endpoint: sessions are accepted from any address.
    pub fn listener(config: &Config) -> Result<Self, EndpointError> {
        Self::build(config, None)
    }

    /// Shard `shard` (below [`MAX_SHARDS`]) of a listener spread over
    /// several sockets: its session ids differ from every other shard's.
    pub fn listener_shard(config: &Config, shard: u32) -> Result<Self, EndpointError> {
        let mut endpoint = Self::build(config, None)?;
        endpoint.shard = shard % MAX_SHARDS;
        Ok(endpoint)
    }

    /// A dialing endpoint with its one session to `remote` (conv from the
    /// configuration, or from the OS CSPRNG); datagrams from anywhere else
    /// are dropped and counted.
    pub fn dialer(
        config: &Config,
        remote: SocketAddr,
        now: u64,
    ) -> Result<(Self, SessionId), EndpointError> {
        let mut endpoint = Self::build(config, Some(remote))?;
        endpoint.accepting = false;
        let id = endpoint.open_to(remote, now)?;
        Ok((endpoint, id))
    }

    fn build(config: &Config, dialed: Option<SocketAddr>) -> Result<Self, EndpointError> {
        let mut config = config.clone();
        // The slow key derivations run once per endpoint, not per session.
        let (cipher, key, guard) = if config.crypt == CryptName::Secure {
            let psk = crate::secure::psk_from_setting(&config.psk).map_err(ConnError::Config)?;
            let guard = Guard::new(&psk, config.handshake_rate as u64, 0)?;
            // Sessions see the room a packet has left after the profile's
            // header and tag.
            config.mtu = config
                .mtu
                .checked_sub(crate::secure::wire::TRANSPORT_OVERHEAD)
                .ok_or_else(|| ConnError::Config("mtu is too small for crypt=secure".into()))?;
            (CipherKind::Null, [0; KEY_LEN], Some(Box::new(guard)))
        } else {
            let (cipher, key) = cipher_and_key(&config)?;
            (cipher, key, None)
        };
        let opener = PacketCrypt::new(KcpGoCipher::new(cipher, &key))?;
        // Fail now, not on the first datagram, if sessions cannot be made.
        Conn::with_crypt(
            &config,
            0,
            PacketCrypt::new(KcpGoCipher::new(cipher, &key))?,
        )?;
        Ok(Self {
            config,
            cipher,
            key,
            opener,
            dialed,
            accepting: true,
            tokens_required: false,
            slots: Vec::new(),
            free: Vec::new(),
            routes: HashMap::new(),
            peers: HashMap::new(),
            live: 0,
            shard: 0,
            backlog: VecDeque::new(),
            timers: BinaryHeap::new(),
            events: VecDeque::new(),
            dirty: Vec::new(),
            wake: false,
            stats: EndpointStats::default(),
            guard,
            by_index: HashMap::new(),
            consumed: HashMap::new(),
            #[cfg(test)]
            panic_on: None,
        })
    }

    /// The settings every session of this endpoint uses.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The counters.
    pub fn stats(&self) -> EndpointStats {
        let mut stats = self.stats;
        if let Some(guard) = &self.guard {
            stats.secure = stats.secure + guard.stats;
        }
        stats
    }

    /// Sessions open or closing.
    pub fn live_sessions(&self) -> usize {
        self.live
    }

    /// Whether the endpoint still accepts sessions.
    pub fn is_accepting(&self) -> bool {
        self.accepting
    }

    /// Nothing is left to run: not accepting, and every session closed.
    /// The runtime may close the socket (handles still answer "closed").
    pub fn is_finished(&self) -> bool {
        !self.accepting && self.live == 0
    }

    /// Returns and clears whether a blocked caller should re-check.
    pub fn take_wake(&mut self) -> bool {
        std::mem::take(&mut self.wake)
    }

    // ----- input ---------------------------------------------------------

    /// Handles one datagram from `from`, decrypting it in place. Replies
    /// (ACKs and data) go out at [`flush_input`](Self::flush_input), once
    /// per batch of datagrams.
    pub fn handle_datagram<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        from: SocketAddr,
        datagram: &mut [u8],
        out: &mut O,
    ) {
        self.stats.datagrams_in += 1;
        #[cfg(test)]
        if self
            .panic_on
            .as_ref()
            .is_some_and(|marker| datagram.starts_with(marker))
        {
            panic!("injected fault");
        }
        if self.guard.is_some() {
            // Sessions are found by index, whatever the address (migration).
            self.handle_secure(now, from, datagram, out);
            return;
        }
        if self.dialed.is_some_and(|remote| remote != from) {
            self.stats.foreign_source += 1;
            return;
        }
        let wire_len = datagram.len();
        let Ok(range) = self.opener.open(datagram) else {
            self.stats.crypt_errors += 1;
            return;
        };
        let payload = &datagram[range];
        let Some(route) = route(payload) else {
            self.stats.malformed += 1;
            return;
        };
        let target = match route {
            Route::Parity => self.peers.get(&from).and_then(|p| p.last_data),
            Route::Conv { conv, first_sn } => match self.routes.get(&(from, conv)) {
                Some(&id) => Some(id),
                None if !self.accepting => None,
                None => match admissible(payload, self.receive_window(), self.config.stream) {
                    Ok(()) => self.admit(now, from, conv, first_sn, None, out),
                    Err(Refusal::Malformed) => {
                        self.stats.malformed += 1;
                        return;
                    }
                    Err(Refusal::Inert) => None,
                },
            },
        };
        let Some(id) = target else {
            self.stats.unroutable += 1;
            return;
        };
        if matches!(route, Route::Conv { .. }) {
            if let Some(peer) = self.peers.get_mut(&from) {
                peer.last_data = Some(id);
            }
        }
        let Some(live) = self.live_mut(id) else {
            return;
        };
        // A refused datagram is counted by the connection and changes nothing.
        let _ = live.conn.input_opened(ms32(now), payload, wire_len);
        live.last_input = now;
        if !live.dirty {
            live.dirty = true;
            self.dirty.push(id);
        }
    }

    /// The receive window a new session starts with, in segments.
    fn receive_window(&self) -> u32 {
        match self.config.rcvwnd {
            0 => u32::from(crate::arq::RCV_WND_DEFAULT),
            n => n.min(u32::from(u16::MAX)),
        }
    }

    /// A new session for an unknown (address, conv) of an accepting
    /// endpoint, if the rules allow.
    fn admit<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        from: SocketAddr,
        conv: u32,
        first_sn: u32,
        link: Option<Box<Link>>,
        out: &mut O,
    ) -> Option<SessionId> {
        // The sessions this listener accepted from `from`, oldest first
        // (counted without collecting: floods of new convs come here).
        let mut accepted = self
            .peers
            .get(&from)
            .into_iter()
            .flat_map(|p| &p.sessions)
            .filter(|&&id| {
                self.live_ref(id)
                    .is_some_and(|l| l.origin == Origin::Accepted && l.closing.is_none())
            });
        let oldest = accepted.next().copied();
        let count = usize::from(oldest.is_some()) + accepted.count();
        // At least one: a peer's first session is always admissible.
        let replacing = count >= self.config.sessions_per_addr.max(1);
        if replacing && first_sn != 0 {
            return None;
        }
        // Refuse before replacing: a newcomer that cannot be admitted must
        // not cost the peer its old session.
        if self.backlog.len() >= self.config.backlog {
            self.stats.backlog_full += 1;
            return None;
        }
        if self.live.saturating_sub(usize::from(replacing)) >= self.config.max_sessions {
            self.stats.session_limit += 1;
            return None;
        }
        if let Some(oldest) = oldest.filter(|_| replacing) {
            self.stats.replaced += 1;
            self.finish(now, oldest, CloseReason::Replaced, out);
        }
        let id = self.open(from, conv, Origin::Accepted, now, link).ok()?;
        self.stats.accepted += 1;
        self.backlog.push_back(id);
        if let Some(live) = self.live_mut(id) {
            live.in_backlog = true;
        }
        self.wake = true;
        Some(id)
    }

    /// Sends what the batch's input made due (ACKs once enough are owed,
    /// and data the new ACKs let out), then updates readiness. Call after each batch of
    /// [`handle_datagram`](Self::handle_datagram).
    pub fn flush_input<O: FnMut(SocketAddr, &[u8]) + ?Sized>(&mut self, now: u64, out: &mut O) {
        let dirty = std::mem::take(&mut self.dirty);
        for &id in &dirty {
            if let Some(live) = self.live_mut(id) {
                live.dirty = false;
                if live.conn.arq().wants_flush(ACK_BATCH) {
                    live.drive(now, out, |conn, now, send| conn.flush(now, &mut &mut *send));
                }
                self.settle(now, id, out);
            }
        }
        // Keep the allocation for the next batch.
        self.dirty = dirty;
        self.dirty.clear();
    }

    // ----- timers --------------------------------------------------------

    /// When [`handle_timeout`](Self::handle_timeout) is next due.
    pub fn next_timeout(&mut self) -> Option<u64> {
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if self.live_ref(id).is_some_and(|l| l.armed == Some(at)) {
                return Some(at);
            }
            self.timers.pop();
        }
        None
    }

    /// Runs every session whose timer is due.
    pub fn handle_timeout<O: FnMut(SocketAddr, &[u8]) + ?Sized>(&mut self, now: u64, out: &mut O) {
        let keepalive_ms = u64::from(self.config.keepalive) * 1000;
        while let Some(&Reverse((at, id))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(live) = self.live_mut(id) else {
                continue;
            };
            if live.armed != Some(at) {
                continue;
            }
            live.armed = None;
            if let Some(link) = live.link.as_deref_mut() {
                let remote = live.remote;
                if link.due(now, &mut |p: &[u8]| out(remote, p)).is_err() {
                    self.end(id, CloseReason::HandshakeTimeout);
                    continue;
                }
            }
            if keepalive_ms > 0
                && live.conn_runs()
                && now >= live.last_input.max(live.last_keepalive) + keepalive_ms
            {
                live.last_keepalive = now;
                live.drive(now, out, |conn, now, send| {
                    conn.keepalive(now, &mut &mut *send)
                });
            }
            live.drive(now, out, |conn, now, send| {
                conn.update(now, &mut &mut *send)
            });
            self.settle(now, id, out);
        }
    }

    /// After anything ran on a session: lifecycle, readiness, next timer.
    fn settle<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        out: &mut O,
    ) {
        let idle_ms = u64::from(self.config.idle_timeout) * 1000;
        let keepalive_ms = u64::from(self.config.keepalive) * 1000;
        let Some(live) = self.live_mut(id) else {
            return;
        };
        let ending = if live.conn.arq().is_dead() {
            Some(CloseReason::DeadLink)
        } else if let Some(code) = live
            .peer_closed
            .filter(|_| live.conn.peek_size().is_none() || live.closing.is_some())
        {
            // Everything that arrived before the peer's close has been read.
            Some(CloseReason::Peer(code))
        } else if idle_ms > 0 && now.saturating_sub(live.last_input) >= idle_ms {
            Some(CloseReason::IdleTimeout)
        } else if let Some((until, reason)) = live.closing {
            (live.conn.wait_snd() == 0 || now >= until).then_some(reason)
        } else {
            None
        };
        if let Some(reason) = ending {
            self.finish(now, id, reason, out);
            return;
        }
        let mut raise = 0;
        if live.closing.is_none() && !live.in_backlog {
            if !live.readable_announced && live.conn.peek_size().is_some() {
                live.readable_announced = true;
                raise |= READABLE;
            }
            // Hysteresis: a blocked sender wakes once a quarter of the
            // window has drained, and then sends a burst, instead of waking
            // for every ACK.
            if !live.datagram_announced && !live.datagrams.is_empty() {
                live.datagram_announced = true;
                raise |= DATAGRAM;
            }
            let room = usize::from(live.conn.arq().snd_wnd()) * 3 / 4;
            if live.write_blocked && live.conn.wait_snd() <= room {
                live.write_blocked = false;
                raise |= WRITABLE;
            }
        }
        let mut deadline = if live.conn_runs() {
            live.conn.next_deadline(ms32(now)).map(|d| widen(now, d))
        } else {
            None
        };
        if deadline.is_some() {
            live.idle_since = None;
            live.trimmed = false;
        } else if !live.trimmed {
            // Idle: thousands of sessions may sit like this for hours, so
            // give the buffers back; but only once the quiet has lasted,
            // or a ping-pong would free and reallocate them per message.
            let since = *live.idle_since.get_or_insert(now);
            if now >= since + TRIM_AFTER_MS {
                live.conn.trim();
                if let Some(link) = live.link.as_deref_mut() {
                    link.trim();
                }
                live.spare = Vec::new();
                live.trimmed = true;
            } else {
                deadline = Some(since + TRIM_AFTER_MS);
            }
        }
        let mut wake_at = |at: u64| deadline = Some(deadline.map_or(at, |d: u64| d.min(at)));
        if idle_ms > 0 {
            wake_at(live.last_input + idle_ms);
        }
        if keepalive_ms > 0 && live.conn_runs() {
            wake_at(live.last_input.max(live.last_keepalive) + keepalive_ms);
        }
        if let Some((until, _)) = live.closing {
            wake_at(until);
        }
        if let Some(at) = live.link.as_ref().and_then(|l| l.next_timer()) {
            wake_at(at);
        }
        if let Some(at) = deadline {
            if live.armed.map_or(true, |armed| at < armed) {
                live.armed = Some(at);
                self.timers.push(Reverse((at, id)));
            }
        }
        if raise != 0 {
            self.raise(id, raise);
        }
    }

    // ----- events --------------------------------------------------------

    fn raise(&mut self, id: SessionId, what: u8) {
        self.wake = true;
        let tokens_required = self.tokens_required;
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        if !slot.held {
            return;
        }
        let was_pending = slot.pending != 0;
        slot.pending |= what;
        // Without its token nobody could be told whom the event is about:
        // it waits, recorded, until `set_tags` gives one.
        let deferred = tokens_required && slot.tags.token == 0;
        if !was_pending && !deferred {
            self.events.push_back(id);
        }
    }

    /// Every held session's events wait until it has a token (see
    /// [`set_tags`](Self::set_tags)): a caller that takes a session and
    /// then registers it can never be overtaken by an event about it
    /// reaching another thread first.
    pub fn require_tokens(&mut self) {
        self.tokens_required = true;
    }

    /// Sets a held session's tags; events deferred for want of a token are
    /// queued now.
    pub fn set_tags(&mut self, id: SessionId, tags: Tags) -> Result<(), SessionError> {
        let required = self.tokens_required;
        let slot = self.slot_mut(id).ok_or(SessionError::Unknown)?;
        let was_deferred = required && slot.tags.token == 0;
        slot.tags = tags;
        let now_deferred = required && tags.token == 0;
        if was_deferred && !now_deferred && slot.pending != 0 {
            self.events.push_back(id);
            self.wake = true;
        }
        Ok(())
    }

    /// A session's tags (zero for one unknown or released).
    pub fn tags(&self, id: SessionId) -> Tags {
        self.slot_ref(id).map(|s| s.tags).unwrap_or_default()
    }

    /// The next event, if any: accepted sessions first (each one is handed
    /// over to the caller, as by `accept`), then one per session and kind.
    pub fn poll_event(&mut self) -> Option<Event> {
        if let Some(id) = self.accept() {
            return Some(Event::Accepted(id));
        }
        while let Some(&id) = self.events.front() {
            let Some(slot) = self.slot_mut(id) else {
                self.events.pop_front();
                continue;
            };
            let bit = slot.pending & slot.pending.wrapping_neg();
            slot.pending &= !bit;
            let drained = slot.pending == 0;
            let event = match (bit, &slot.state) {
                (READABLE, State::Live(_)) => Some(Event::Readable(id)),
                (WRITABLE, State::Live(_)) => Some(Event::Writable(id)),
                (DATAGRAM, State::Live(_)) => Some(Event::Datagram(id)),
                (CLOSED, State::Closed(reason)) => Some(Event::Closed(id, *reason)),
                _ => None,
            };
            if drained {
                self.events.pop_front();
            }
            if event.is_some() {
                return event;
            }
        }
        None
    }

    /// Whether [`poll_event`](Self::poll_event) has something.
    pub fn has_events(&self) -> bool {
        !self.backlog.is_empty() || !self.events.is_empty()
    }

    // ----- sessions ------------------------------------------------------

    fn open(
        &mut self,
        remote: SocketAddr,
        conv: u32,
        origin: Origin,
        now: u64,
        link: Option<Box<Link>>,
    ) -> Result<SessionId, EndpointError> {
        if self.live >= self.config.max_sessions {
            return Err(EndpointError::Limit(self.config.max_sessions));
        }
        let crypt = PacketCrypt::new(KcpGoCipher::new(self.cipher, &self.key))?;
        let conn = Conn::with_crypt(&self.config, conv, crypt)?;
        let local_index = link.as_ref().map(|l| l.local);
        let live = Box::new(Live {
            conn,
            remote,
            origin,
            closing: None,
            last_input: now,
            last_keepalive: now,
            idle_since: None,
            trimmed: false,
            armed: None,
            dirty: false,
            in_backlog: false,
            write_blocked: false,
            readable_announced: false,
            link,
            peer_closed: None,
            datagrams: std::collections::VecDeque::new(),
            spare: Vec::new(),
            datagram_announced: false,
        });
        let index = match self.free.pop() {
            Some(index) => index,
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    state: State::Free,
                    held: false,
                    pending: 0,
                    tags: Tags::default(),
                });
                (self.slots.len() - 1) as u32
            }
        };
        let slot = &mut self.slots[index as usize];
        slot.state = State::Live(live);
        slot.held = origin == Origin::Opened;
        slot.pending = 0;
        let id = SessionId::new(self.shard, index, slot.generation);
        self.live += 1;
        self.routes.insert((remote, conv), id);
        self.peers.entry(remote).or_default().sessions.push(id);
        if let Some(local) = local_index {
            self.by_index.insert(local, id);
        }
        Ok(id)
    }

    /// Opens a session to `remote` from this listener's socket, with a conv
    /// from the OS CSPRNG (or the configured one). Nothing is sent until the
    /// first message.
    pub fn connect(&mut self, now: u64, remote: SocketAddr) -> Result<SessionId, EndpointError> {
        if self.dialed.is_some() || !self.accepting {
            return Err(EndpointError::Closed);
        }
        if self.guard.is_some() {
            return self.open_to(remote, now);
        }
        let conv = loop {
            let conv = match self.config.conv {
                Some(conv) => conv,
                None => random_conv()?,
            };
            if !self.routes.contains_key(&(remote, conv)) || self.config.conv.is_some() {
                break conv;
            }
        };
        if let Some(&old) = self.routes.get(&(remote, conv)) {
            // Only reachable with a fixed conv: the new session supersedes.
            self.finish(now, old, CloseReason::Replaced, &mut |_, _| {});
        }
        self.open(remote, conv, Origin::Opened, now, None)
    }

    /// A session we open to `remote`: in the secure profile with a
    /// handshake (conv = our index), else with a conv from the
    /// configuration or the OS CSPRNG.
    fn open_to(&mut self, remote: SocketAddr, now: u64) -> Result<SessionId, EndpointError> {
        if let Some(guard) = &self.guard {
            let local = self.new_index()?;
            let link = Box::new(guard.initiate(local, now)?);
            let id = self.open(remote, local, Origin::Opened, now, Some(link))?;
            // The initiation goes out from the timer, at once.
            self.settle(now, id, &mut |_, _| {});
            return Ok(id);
        }
        let conv = match self.config.conv {
            Some(conv) => conv,
            None => random_conv()?,
        };
        self.open(remote, conv, Origin::Opened, now, None)
    }

    /// Takes the oldest accepted session from the backlog; it is the
    /// caller's from now on (release it with [`release`](Self::release)).
    pub fn accept(&mut self) -> Option<SessionId> {
        while let Some(id) = self.backlog.pop_front() {
            let Some(live) = self.live_mut(id) else {
                continue;
            };
            live.in_backlog = false;
            let readable = live.conn.peek_size().is_some();
            if readable {
                live.readable_announced = true;
            }
            if let Some(slot) = self.slot_mut(id) {
                slot.held = true;
            }
            if readable {
                self.raise(id, READABLE);
            }
            return Some(id);
        }
        None
    }

    /// Queues a message and sends what the windows allow at once (as kcp-go
    /// does on `Write`). Refused with `WouldBlock` while a send window's
    /// worth of segments waits.
    pub fn send<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        data: &[u8],
        out: &mut O,
    ) -> Result<usize, SessionError> {
        let max = self.config.max_message;
        let live = self.usable(id)?;
        if max > 0 && data.len() > max && !live.conn.arq().is_stream() {
            return Err(SessionError::MessageTooLarge {
                len: data.len(),
                max,
            });
        }
        if live.conn.wait_snd() >= usize::from(live.conn.arq().snd_wnd()) {
            live.write_blocked = true;
            return Err(SessionError::WouldBlock);
        }
        // With segments already held back by the windows, this one cannot
        // go out now either: the ACKs that open the window will send the
        // queue in batches (`flush_input`), sparing a system call per send.
        let held_back = live.conn.arq().queued() > 0;
        let n = live
            .conn
            .send(data)
            .map_err(|e| SessionError::Conn(e.into()))?;
        if !held_back {
            live.drive(now, out, |conn, now, send| conn.flush(now, &mut &mut *send));
        }
        self.settle(now, id, out);
        Ok(n)
    }

    /// Takes the next message into `buf`.
    pub fn recv<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        buf: &mut [u8],
        out: &mut O,
    ) -> Result<usize, SessionError> {
        let live = self.usable(id)?;
        let result = live.conn.recv(buf);
        // READABLE is level-triggered: announced again by `settle` below
        // while a message waits (one of several was read, or one was
        // refused for a buffer too small), withdrawn once none does.
        live.readable_announced = false;
        if live.conn.peek_size().is_none() {
            // A readable event still queued would now be stale.
            if let Some(slot) = self.slot_mut(id) {
                slot.pending &= !READABLE;
            }
        }
        // Reading may also reopen a full receive window: the engine then
        // owes the peer a window update, which `settle` schedules.
        self.settle(now, id, out);
        match result {
            Ok(n) => Ok(n),
            // Nothing left to read from a peer that closed: its end.
            Err(RecvError::WouldBlock) => {
                self.status(id)?;
                Err(SessionError::WouldBlock)
            }
            Err(e) => Err(SessionError::Conn(e.into())),
        }
    }

    /// Secure profile: `Ok` once the session's handshake is done both ways,
    /// `WouldBlock` while it runs, else why it failed
    /// ([`CloseReason::AuthFailed`], [`CloseReason::HandshakeTimeout`]).
    /// Other profiles have no handshake: `Ok` at once.
    pub fn handshake(&self, id: SessionId) -> Result<(), SessionError> {
        self.status(id)?;
        match self.live_ref(id).and_then(|l| l.link.as_deref()) {
            Some(link) if !link.is_established() => Err(SessionError::WouldBlock),
            _ => Ok(()),
        }
    }

    /// Secure profile: sends `data` as one unreliable datagram, at once
    /// and authenticated like everything else, beside the reliable stream:
    /// it arrives once or not at all, in any order. At most
    /// [`max_datagram`](Self::max_datagram) bytes.
    pub fn send_datagram<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        data: &[u8],
        out: &mut O,
    ) -> Result<usize, SessionError> {
        let max = self.max_datagram(id)?;
        let live = self.usable(id)?;
        if data.len() > max {
            return Err(SessionError::MessageTooLarge {
                len: data.len(),
                max,
            });
        }
        let remote = live.remote;
        let Some(link) = live.link.as_deref_mut().filter(|l| l.is_established()) else {
            // Before the handshake is done there are no keys: like any
            // datagram sent into a network that is not ready, it is lost.
            return Ok(data.len());
        };
        link.seal(
            now,
            crate::secure::wire::payload::DATAGRAM,
            data,
            &mut |p: &[u8]| out(remote, p),
        )
        .map_err(|_| SessionError::Closed(CloseReason::Local))?;
        Ok(data.len())
    }

    /// Secure profile: takes the oldest unreliable datagram into `buf`.
    /// `WouldBlock` if none waits; one larger than `buf` stays queued (the
    /// error says its size).
    pub fn recv_datagram(&mut self, id: SessionId, buf: &mut [u8]) -> Result<usize, SessionError> {
        self.max_datagram(id)?;
        let live = self.usable(id)?;
        let Some(front) = live.datagrams.front() else {
            live.datagram_announced = false;
            return Err(SessionError::WouldBlock);
        };
        if front.len() > buf.len() {
            return Err(SessionError::Conn(
                RecvError::BufferTooSmall {
                    needed: front.len(),
                    capacity: buf.len(),
                }
                .into(),
            ));
        }
        let n = front.len();
        buf[..n].copy_from_slice(front);
        if let Some(used) = live.datagrams.pop_front() {
            live.spare.push(used);
        }
        // Level-triggered: announced again while more wait.
        live.datagram_announced = false;
        let empty = live.datagrams.is_empty();
        if !empty {
            live.datagram_announced = true;
            self.raise(id, DATAGRAM);
        } else if let Some(slot) = self.slot_mut(id) {
            slot.pending &= !DATAGRAM;
        }
        Ok(n)
    }

    /// Secure profile: the largest unreliable datagram this session sends
    /// (one packet's payload: `mtu` less the profile's 32 bytes).
    /// `DatagramsUnsupported` in the kcp-go profile.
    pub fn max_datagram(&self, id: SessionId) -> Result<usize, SessionError> {
        if self.guard.is_none() {
            return Err(SessionError::DatagramsUnsupported);
        }
        self.status(id)?;
        Ok(self.config.mtu)
    }

    /// Whether a message is waiting.
    pub fn is_readable(&self, id: SessionId) -> bool {
        self.live_ref(id)
            .is_some_and(|l| l.conn.peek_size().is_some())
    }

    /// Whether `send` would take a message now.
    pub fn is_writable(&self, id: SessionId) -> bool {
        self.live_ref(id).is_some_and(|l| {
            l.closing.is_none() && l.conn.wait_snd() < usize::from(l.conn.arq().snd_wnd())
        })
    }

    /// Size of the next message, if one is complete.
    pub fn peek_size(&self, id: SessionId) -> Option<usize> {
        self.live_ref(id).and_then(|l| l.conn.peek_size())
    }

    /// The largest message this session can receive from a peer with the
    /// same settings: `max_message` if set, else what its receive window
    /// reassembles (at most 255 fragments of one segment's payload). A
    /// receive buffer this large never meets a message too big for it.
    /// `None` once the session has ended, or in stream mode (any buffer
    /// size works there).
    pub fn max_message(&self, id: SessionId) -> Option<usize> {
        let live = self.live_ref(id)?;
        let arq = live.conn.arq();
        if arq.is_stream() {
            return None;
        }
        let window = usize::from(arq.rcv_wnd()).clamp(1, crate::arq::MAX_FRAGMENTS);
        let reassembled = arq.mss() * window;
        Some(match self.config.max_message {
            0 => reassembled,
            max => max.min(reassembled),
        })
    }

    /// Ends a session at once (ENet's `enet_peer_reset`): nothing queued is
    /// sent, no lingering; the peer learns of it by silence. Threads blocked
    /// on it return `Closed(Local)`, and a held session gets its CLOSED
    /// event. Also ends one lingering after [`close`](Self::close).
    pub fn abort(&mut self, id: SessionId) -> Result<(), SessionError> {
        match self.slot_ref(id).map(|s| &s.state) {
            Some(State::Live(_)) => {
                self.end(id, CloseReason::Local);
                Ok(())
            }
            Some(State::Closed(reason)) => Err(SessionError::Closed(*reason)),
            _ => Err(SessionError::Unknown),
        }
    }

    /// `Ok` while the session can be used, else why not.
    pub fn status(&self, id: SessionId) -> Result<(), SessionError> {
        match self.slot_ref(id).map(|s| &s.state) {
            Some(State::Live(l)) => match l.closing {
                Some((_, reason)) => Err(SessionError::Closed(reason)),
                None => Ok(()),
            },
            Some(State::Closed(reason)) => Err(SessionError::Closed(*reason)),
            _ => Err(SessionError::Unknown),
        }
    }

    /// Remote address and conv.
    pub fn peer_of(&self, id: SessionId) -> Option<(SocketAddr, u32)> {
        self.live_ref(id).map(|l| (l.remote, l.conn.conv()))
    }

    /// The session's counters (`None` once it has closed).
    pub fn session_stats(&self, id: SessionId) -> Option<ConnStats> {
        self.live_ref(id).map(|l| l.conn.stats())
    }

    /// Begins a graceful close: no more calls from the application; queued
    /// data keeps going out until it is acknowledged or `linger` ms pass.
    pub fn close<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        out: &mut O,
    ) -> Result<(), SessionError> {
        self.begin_close(now, id, CloseReason::Local, out)
    }

    fn begin_close<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        reason: CloseReason,
        out: &mut O,
    ) -> Result<(), SessionError> {
        let linger = u64::from(self.config.linger);
        let live = self.usable(id)?;
        live.closing = Some((now + linger, reason));
        live.drive(now, out, |conn, now, send| conn.flush(now, &mut &mut *send));
        self.settle(now, id, out);
        // Threads blocked on the session return now, not when the
        // lingering data is done.
        self.wake = true;
        Ok(())
    }

    /// The application lets go of a session: closed gracefully if it was
    /// open, and forgotten once closed. The id is invalid afterwards.
    pub fn release<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        out: &mut O,
    ) {
        let _ = self.begin_close(now, id, CloseReason::Local, out);
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        slot.held = false;
        slot.pending = 0;
        slot.tags = Tags::default();
        if matches!(slot.state, State::Closed(_)) {
            self.vacate(id);
        }
    }

    /// Stops accepting and ends every session at once with `reason`,
    /// sending nothing, so every waiter and event poller hears of it: after
    /// a panic while handling this endpoint ([`CloseReason::Panic`]: the
    /// state that panicked may be inconsistent), or when the runtime shuts
    /// down ([`CloseReason::Shutdown`]).
    pub fn abandon_all(&mut self, reason: CloseReason) {
        self.accepting = false;
        let ids: Vec<SessionId> = self.routes.values().copied().collect();
        for id in ids.into_iter().chain(std::mem::take(&mut self.backlog)) {
            self.end(id, reason);
        }
        self.wake = true;
    }

    /// Whether this is a listener that has been closed and whose sessions
    /// have all finished: no event can come any more.
    pub fn is_listener_done(&self) -> bool {
        self.dialed.is_none() && !self.accepting && self.live == 0
    }

    /// Stops accepting and closes every session gracefully.
    pub fn close_listener<O: FnMut(SocketAddr, &[u8]) + ?Sized>(&mut self, now: u64, out: &mut O) {
        self.accepting = false;
        let ids: Vec<SessionId> = self.routes.values().copied().collect();
        for id in ids {
            let _ = self.begin_close(now, id, CloseReason::ListenerClosed, out);
        }
        // Unaccepted sessions have nobody to hand data to.
        while let Some(id) = self.backlog.pop_front() {
            self.finish(now, id, CloseReason::ListenerClosed, out);
        }
        self.wake = true;
    }

    /// Ends a session now: it leaves the routing tables; a held one stays
    /// as a closed slot that answers with `reason` until released.
    fn finish<O: FnMut(SocketAddr, &[u8]) + ?Sized>(
        &mut self,
        now: u64,
        id: SessionId,
        reason: CloseReason,
        out: &mut O,
    ) {
        let Some(live) = self.live_mut(id) else {
            return;
        };
        // Whatever a close has left to say goes out now, and in the secure
        // profile the close itself, so the peer need not wait for silence.
        live.drive(now, out, |conn, now, send| conn.flush(now, &mut &mut *send));
        if let Some(link) = live.link.as_deref_mut() {
            if link.is_established() && live.peer_closed.is_none() {
                let remote = live.remote;
                let _ = link.seal(
                    now,
                    crate::secure::wire::payload::CLOSE,
                    &[reason.code()],
                    &mut |p: &[u8]| out(remote, p),
                );
            }
        }
        self.end(id, reason);
    }

    /// Ends a live session without sending anything.
    fn end(&mut self, id: SessionId, reason: CloseReason) {
        let Some(live) = self.live_mut(id) else {
            return;
        };
        let remote = live.remote;
        let conv = live.conn.conv();
        if let Some(link) = &live.link {
            let local = link.local;
            self.by_index.remove(&local);
        }
        self.routes.remove(&(remote, conv));
        self.forget_peer(remote, id);
        self.live = self.live.saturating_sub(1);
        self.wake = true;
        let Some(slot) = self.slot_mut(id) else {
            return;
        };
        // Dropping the connection frees its buffers now, not at release.
        slot.state = State::Closed(reason);
        if slot.held {
            self.raise(id, CLOSED);
        } else {
            self.vacate(id);
        }
    }

    /// Session `id` no longer belongs to `remote`'s sessions.
    fn forget_peer(&mut self, remote: SocketAddr, id: SessionId) {
        if let Some(peer) = self.peers.get_mut(&remote) {
            peer.sessions.retain(|&s| s != id);
            if peer.last_data == Some(id) {
                peer.last_data = None;
            }
            if peer.sessions.is_empty() {
                self.peers.remove(&remote);
            }
        }
    }

    fn vacate(&mut self, id: SessionId) {
        if let Some(slot) = self.slot_mut(id) {
            slot.state = State::Free;
            slot.generation = slot.generation.wrapping_add(1);
            slot.pending = 0;
            slot.tags = Tags::default();
            self.free.push(id.index() as u32);
        }
    }

    fn usable(&mut self, id: SessionId) -> Result<&mut Live, SessionError> {
        self.status(id)?;
        self.live_mut(id).ok_or(SessionError::Unknown)
    }

    fn slot_ref(&self, id: SessionId) -> Option<&Slot> {
        if id.shard() != self.shard {
            return None;
        }
        self.slots
            .get(id.index())
            .filter(|s| s.generation == id.generation() && !matches!(s.state, State::Free))
    }

    fn slot_mut(&mut self, id: SessionId) -> Option<&mut Slot> {
        if id.shard() != self.shard {
            return None;
        }
        self.slots
            .get_mut(id.index())
            .filter(|s| s.generation == id.generation() && !matches!(s.state, State::Free))
    }

    fn live_ref(&self, id: SessionId) -> Option<&Live> {
        match self.slot_ref(id).map(|s| &s.state) {
            Some(State::Live(live)) => Some(live),
            _ => None,
        }
    }

    fn live_mut(&mut self, id: SessionId) -> Option<&mut Live> {
        match self.slot_mut(id).map(|s| &mut s.state) {
            Some(State::Live(live)) => Some(live),
            _ => None,
        }
    }
}

/// A live session among `slots`: a free function, so that a caller can use
/// other fields of the endpoint meanwhile.
fn live_in(slots: &mut [Slot], shard: u32, id: SessionId) -> Option<&mut Live> {
    if id.shard() != shard {
        return None;
    }
    match slots.get_mut(id.index()) {
        Some(slot) if slot.generation == id.generation() => match &mut slot.state {
            State::Live(live) => Some(live),
            _ => None,
        },
        _ => None,
    }
}

/// A conversation id from the OS CSPRNG, as kcp-go's `DialWithOptions`
/// picks one (never 0, which some peers treat as "unset").
pub fn random_conv() -> Result<u32, CryptError> {
    loop {
        let mut bytes = [0u8; 4];
        crate::crypt::os_random(&mut bytes)?;
        let conv = u32::from_le_bytes(bytes);
        if conv != 0 {
            return Ok(conv);
        }
    }
}

#[cfg(test)]
mod tests;

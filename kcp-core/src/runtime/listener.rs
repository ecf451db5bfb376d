//! A listening socket: accepts sessions, and opens sessions to other
//! listeners from the same port (P2P).

use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::Duration;

use super::group::{Group, Step};
use super::session::Session;
use super::shared::Shared;
use super::{socket, steering, Error, Event};
use crate::config::Config;
use crate::endpoint::{Endpoint, EndpointStats, SessionError, Tags};

/// A UDP socket that accepts KCP sessions. Thread-safe (`Send + Sync`):
/// one thread may accept while others use the sessions. Dropping it is
/// [`close`](Self::close).
///
/// With `listen_threads` = N > 1 it is N sockets on one port, each a shard
/// served by its own I/O thread (see [`Config::listen_threads`]); its calls
/// look the same.
///
/// ```
/// use std::time::Duration;
/// use kcp_core::{Config, Listener, Session};
///
/// let config = Config::default();
/// let listener = Listener::bind("127.0.0.1:0", &config)?;
/// let client = Session::dial(&listener.local_addr().to_string(), &config)?;
/// client.send(b"hello", None)?;
/// let server = listener.accept(Some(Duration::from_secs(5)))?;
/// let mut buf = [0u8; 64];
/// let n = server.recv(&mut buf, Some(Duration::from_secs(5)))?;
/// assert_eq!(&buf[..n], b"hello");
/// # Ok::<(), kcp_core::Error>(())
/// ```
pub struct Listener {
    /// One endpoint per socket; a session lives in one of them.
    pub(super) shards: Vec<Arc<Shared>>,
    /// With more than one shard, where the listener's callers wait.
    group: Option<Arc<Group>>,
}

impl Listener {
    /// Binds `addr` (`host:port`; port 0 picks one) with `config`'s
    /// settings for every session.
    pub fn bind(addr: &str, config: &Config) -> Result<Self, Error> {
        socket::check(config)?;
        let addr = socket::resolve(addr)?;
        let n = config.listen_threads.max(1);
        if n == 1 {
            let ep = Endpoint::listener(config)?;
            let udp = socket::bind(addr, config, config.reuseport)?;
            return Ok(Self {
                shards: vec![super::start(ep, udp)?],
                group: None,
            });
        }
        if config.reuseport {
            return Err(Error::Config(
                "reuseport cannot be combined with listen_threads > 1: the port's \
                 SO_REUSEPORT group belongs to the listener's own threads"
                    .into(),
            ));
        }
        let mut parts = Vec::with_capacity(n);
        let mut bound = addr;
        for i in 0..n {
            // The limits are the listener's, shared out among the shards.
            let mut shard = config.clone();
            shard.max_sessions = share(config.max_sessions, n, i);
            shard.backlog = share(config.backlog, n, i);
            let udp = socket::bind(bound, &shard, true)?;
            // The others join the port the first one got.
            bound = udp.local_addr()?;
            parts.push((Endpoint::listener_shard(&shard, i as u32)?, udp));
        }
        // Bound in shard order, so socket i of the group is shard i.
        steering::attach(parts[0].1.as_raw_fd(), addr.is_ipv6(), n)?;
        let group = Arc::new(Group::default());
        Ok(Self {
            shards: super::start_each(parts, Some(group.clone()))?,
            group: Some(group),
        })
    }

    /// The bound address (with the port the OS picked).
    pub fn local_addr(&self) -> SocketAddr {
        self.shards[0].local
    }

    /// The next accepted session. `timeout`: `None` waits forever, zero
    /// does not wait (`Error::is_would_block`), else `Error::TimedOut`.
    pub fn accept(&self, timeout: Option<Duration>) -> Result<Session, Error> {
        let Some(group) = &self.group else {
            return accept(&self.shards[0], timeout);
        };
        group.wait_any(&self.shards, timeout, |shard| {
            match accept(shard, Some(Duration::ZERO)) {
                Err(e) if e.is_would_block() => Step::Nothing,
                result => Step::Got(result),
            }
        })
    }

    /// Opens a session to `remote` from this listener's socket (a P2P node
    /// is client and server on one port). The conv comes from the OS
    /// CSPRNG; nothing is sent until the first message.
    pub fn connect(&self, remote: &str) -> Result<Session, Error> {
        let remote = socket::resolve(remote)?;
        // The shard whose socket the peer's replies will reach.
        let shard = &self.shards[steering::shard_of(remote, self.shards.len())];
        let id = shard.run(|ep, now, _| ep.connect(now, remote))?;
        Ok(Session::new(shard.clone(), id, false))
    }

    /// The next event of this listener or its sessions (see [`Event`]);
    /// `Ok(None)` when the timeout passes first. Once the listener is
    /// closed, its sessions have finished closing (at most `linger` later;
    /// their CLOSED events come first) and nothing is pending, `Err`
    /// (`Closed`) at once, also for a call already blocked. The listener's
    /// [`event_fd`](Self::event_fd) is readable while events are pending.
    pub fn poll_event(&self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        Ok(self.poll_event_tagged(timeout)?.map(|(event, _)| event))
    }

    /// [`poll_event`](Self::poll_event), with the [`Tags`] the event's
    /// session had when the event was taken (zero for ACCEPTED): a caller
    /// that keeps its own handle for each session finds it without a table
    /// of its own.
    pub fn poll_event_tagged(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<(Event, Tags)>, Error> {
        let Some(group) = &self.group else {
            return poll_event_tagged(&self.shards[0], timeout);
        };
        let event = group.wait_any(&self.shards, timeout, |shard| {
            match poll_event_tagged(shard, Some(Duration::ZERO)) {
                Ok(Some(event)) => Step::Got(Ok(event)),
                Ok(None) => Step::Nothing,
                // This shard's sessions are done and it is closed.
                Err(Error::Session(SessionError::Closed(_))) => Step::Finished,
                Err(e) => Step::Got(Err(e)),
            }
        });
        match event {
            Ok(event) => Ok(Some(event)),
            Err(Error::TimedOut) => Ok(None),
            Err(e) if e.is_would_block() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// From now on, the events of a session this listener hands out wait
    /// until the session has a token ([`Session::set_tags`]). A caller that
    /// accepts on one thread while another polls then loses nothing: no
    /// event about a session can be taken before the accepting thread has
    /// registered it. Call it before the first accept.
    pub fn require_tokens(&self) {
        for shard in &self.shards {
            shard.lock().ep.require_tokens();
        }
    }

    /// A descriptor that is readable while [`poll_event`](Self::poll_event)
    /// has something; for epoll, select or asyncio. Owned by the listener;
    /// created on the first call (which fails only if the process is out
    /// of descriptors).
    pub fn event_fd(&self) -> Result<RawFd, Error> {
        match &self.group {
            Some(group) => group.event_fd(),
            None => self.shards[0].event_fd(),
        }
    }

    /// Stops accepting and closes every session gracefully (their handles
    /// stay valid and report the closure). Idempotent.
    pub fn close(&self) {
        for shard in &self.shards {
            shard.run(|ep, now, out| ep.close_listener(now, out));
        }
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        !self.shards[0].lock().ep.is_accepting()
    }

    /// What the listener dropped and admitted (every shard's, summed).
    pub fn stats(&self) -> EndpointStats {
        self.shards
            .iter()
            .map(|shard| shard.lock().ep.stats())
            .fold(EndpointStats::default(), |sum, s| sum + s)
    }

    /// Sessions open now (accepted or not yet, and connected), lingering
    /// ones included.
    pub fn live_sessions(&self) -> usize {
        self.shards
            .iter()
            .map(|shard| shard.lock().ep.live_sessions())
            .sum()
    }

    /// Datagrams the socket (or sockets) would not take (a full send
    /// buffer).
    pub fn send_drops(&self) -> u64 {
        self.shards
            .iter()
            .map(|shard| shard.lock().send_drops)
            .sum()
    }

    /// The socket's receive and send buffers in bytes, as the kernel
    /// granted them (it reports twice what was asked: its overhead counts);
    /// with several shards, each socket's.
    pub fn socket_buffers(&self) -> (usize, usize) {
        super::socket::buffer_sizes(&self.shards[0].socket)
    }

    /// I/O threads (sockets) this listener's sessions are spread over.
    pub fn threads(&self) -> usize {
        self.shards.len()
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.close();
    }
}

/// `limit` shared out among `n` shards: shard `i`'s part (at least 1).
fn share(limit: usize, n: usize, i: usize) -> usize {
    (limit / n + usize::from(i < limit % n)).max(1)
}

/// The next session accepted by the endpoint behind `shared`.
fn accept(shared: &Arc<Shared>, timeout: Option<Duration>) -> Result<Session, Error> {
    let id = shared.wait_for(timeout, |ep, _, _| {
        if !ep.is_accepting() {
            return Err(SessionError::Closed(
                crate::endpoint::CloseReason::ListenerClosed,
            ));
        }
        ep.accept().ok_or(SessionError::WouldBlock)
    })?;
    Ok(Session::new(shared.clone(), id, false))
}

/// Events of the endpoint behind `shared`.
pub(crate) fn poll_event(
    shared: &Arc<Shared>,
    timeout: Option<Duration>,
) -> Result<Option<Event>, Error> {
    Ok(poll_event_tagged(shared, timeout)?.map(|(event, _)| event))
}

/// Events of the endpoint behind `shared`, each with the tags its session
/// had when the event was taken (zero for ACCEPTED).
pub(crate) fn poll_event_tagged(
    shared: &Arc<Shared>,
    timeout: Option<Duration>,
) -> Result<Option<(Event, Tags)>, Error> {
    let event = shared.wait_for(timeout, |ep, _, _| match ep.poll_event() {
        Some(event) => {
            let tags = match event {
                crate::endpoint::Event::Accepted(_) => Tags::default(),
                crate::endpoint::Event::Readable(id)
                | crate::endpoint::Event::Writable(id)
                | crate::endpoint::Event::Datagram(id)
                | crate::endpoint::Event::Closed(id, _) => ep.tags(id),
            };
            Ok((event, tags))
        }
        // Closed, its sessions finished (their CLOSED events delivered
        // first), nothing pending: a poller blocked forever returns.
        None if ep.is_listener_done() => Err(SessionError::Closed(
            crate::endpoint::CloseReason::ListenerClosed,
        )),
        None => Err(SessionError::WouldBlock),
    });
    let event = match event {
        Ok(event) => event,
        Err(Error::TimedOut) => return Ok(None),
        Err(e) if e.is_would_block() => return Ok(None),
        Err(e) => return Err(e),
    };
    let (event, tags) = event;
    use crate::endpoint::Event as E;
    let event = match event {
        E::Accepted(id) => Event::Accepted(Session::new(shared.clone(), id, false)),
        E::Readable(id) => Event::Readable(id),
        E::Writable(id) => Event::Writable(id),
        E::Datagram(id) => Event::Datagram(id),
        E::Closed(id, reason) => Event::Closed(id, reason),
    };
    Ok(Some((event, tags)))
}

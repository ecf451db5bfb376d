//! A listening socket: accepts sessions, and opens sessions to other
//! listeners from the same port (P2P).

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use super::session::Session;
use super::shared::Shared;
use super::{socket, Error, Event};
use crate::config::Config;
use crate::endpoint::{Endpoint, EndpointStats, SessionError, Tags};

/// A UDP socket that accepts KCP sessions. Thread-safe (`Send + Sync`):
/// one thread may accept while others use the sessions. Dropping it is
/// [`close`](Self::close).
pub struct Listener {
    pub(super) shared: Arc<Shared>,
}

impl Listener {
    /// Binds `addr` (`host:port`; port 0 picks one) with `config`'s
    /// settings for every session.
    pub fn bind(addr: &str, config: &Config) -> Result<Self, Error> {
        socket::check(config)?;
        let addr = socket::resolve(addr)?;
        let ep = Endpoint::listener(config)?;
        let udp = socket::bind(addr, config, config.reuseport)?;
        Ok(Self {
            shared: super::start(ep, udp)?,
        })
    }

    /// The bound address (with the port the OS picked).
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The next accepted session. `timeout`: `None` waits forever, zero
    /// does not wait (`Error::is_would_block`), else `Error::TimedOut`.
    pub fn accept(&self, timeout: Option<Duration>) -> Result<Session, Error> {
        let id = self.shared.wait_for(timeout, |ep, _, _| {
            if !ep.is_accepting() {
                return Err(SessionError::Closed(
                    crate::endpoint::CloseReason::ListenerClosed,
                ));
            }
            ep.accept().ok_or(SessionError::WouldBlock)
        })?;
        Ok(Session::new(self.shared.clone(), id, false))
    }

    /// Opens a session to `remote` from this listener's socket (a P2P node
    /// is client and server on one port). The conv comes from the OS
    /// CSPRNG; nothing is sent until the first message.
    pub fn connect(&self, remote: &str) -> Result<Session, Error> {
        let remote = socket::resolve(remote)?;
        let id = self.shared.run(|ep, now, _| ep.connect(now, remote))?;
        Ok(Session::new(self.shared.clone(), id, false))
    }

    /// The next event of this listener or its sessions (see [`Event`]);
    /// `Ok(None)` when the timeout passes first. Once the listener is
    /// closed, its sessions have finished closing (at most `linger` later;
    /// their CLOSED events come first) and nothing is pending, `Err`
    /// (`Closed`) at once, also for a call already blocked. The listener's
    /// [`event_fd`](Self::event_fd) is readable while events are pending.
    pub fn poll_event(&self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        poll_event(&self.shared, timeout)
    }

    /// [`poll_event`](Self::poll_event), with the [`Tags`] the event's
    /// session had when the event was taken (zero for ACCEPTED): a caller
    /// that keeps its own handle for each session finds it without a table
    /// of its own.
    pub fn poll_event_tagged(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<(Event, Tags)>, Error> {
        poll_event_tagged(&self.shared, timeout)
    }

    /// From now on, the events of a session this listener hands out wait
    /// until the session has a token ([`Session::set_tags`]). A caller that
    /// accepts on one thread while another polls then loses nothing: no
    /// event about a session can be taken before the accepting thread has
    /// registered it. Call it before the first accept.
    pub fn require_tokens(&self) {
        self.shared.lock().ep.require_tokens();
    }

    /// A descriptor that is readable while [`poll_event`](Self::poll_event)
    /// has something; for epoll, select or asyncio. Owned by the listener;
    /// created on the first call (which fails only if the process is out
    /// of descriptors).
    pub fn event_fd(&self) -> Result<RawFd, Error> {
        self.shared.event_fd()
    }

    /// Stops accepting and closes every session gracefully (their handles
    /// stay valid and report the closure). Idempotent.
    pub fn close(&self) {
        self.shared.run(|ep, now, out| ep.close_listener(now, out));
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        !self.shared.lock().ep.is_accepting()
    }

    /// What the listener dropped and admitted.
    pub fn stats(&self) -> EndpointStats {
        self.shared.lock().ep.stats()
    }

    /// Sessions open now (accepted or not yet, and connected), lingering
    /// ones included.
    pub fn live_sessions(&self) -> usize {
        self.shared.lock().ep.live_sessions()
    }

    /// Datagrams the socket would not take (a full send buffer).
    pub fn send_drops(&self) -> u64 {
        self.shared.lock().send_drops
    }

    /// The socket's receive and send buffers in bytes, as the kernel
    /// granted them (it reports twice what was asked: its overhead counts).
    pub fn socket_buffers(&self) -> (usize, usize) {
        super::socket::buffer_sizes(&self.shared.socket)
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.close();
    }
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
        E::Closed(id, reason) => Event::Closed(id, reason),
    };
    Ok(Some((event, tags)))
}

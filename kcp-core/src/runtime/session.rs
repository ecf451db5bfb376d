//! A session handle: send, receive, close; dialed, accepted or connected.

use std::net::SocketAddr;
use std::os::fd::RawFd;
use std::sync::Arc;
use std::time::Duration;

use super::shared::Shared;
use super::{socket, Error, Event};
use crate::config::Config;
use crate::conn::ConnStats;
use crate::endpoint::{Endpoint, EndpointStats, SessionError, SessionId, Tags};

/// One KCP session. Thread-safe (`Send + Sync`): one thread may block in
/// `recv` while another sends. Dropping it releases it, closing it
/// gracefully first if still open.
///
/// ```
/// use std::time::Duration;
/// use kcp_core::{CloseReason, Config, Error, Listener, Session, SessionError};
///
/// let mut config = Config::default();
/// config.set("crypt", "secure")?;
/// config.set("psk", &"5e".repeat(32))?; // 32 bytes shared by both ends
/// let listener = Listener::bind("127.0.0.1:0", &config)?;
/// let client = Session::dial(&listener.local_addr().to_string(), &config)?;
/// let server = listener.accept(Some(Duration::from_secs(5)))?;
/// client.send(b"over the secure profile", None)?;
/// client.close()?; // authenticated: the server sees the end of the stream
/// let mut buf = [0u8; 64];
/// let n = server.recv(&mut buf, Some(Duration::from_secs(5)))?;
/// assert_eq!(&buf[..n], b"over the secure profile");
/// // Then the peer's close: the end of the stream (C and Python read it as 0 / b"").
/// let end = server.recv(&mut buf, Some(Duration::from_secs(5))).unwrap_err();
/// assert!(matches!(end, Error::Session(SessionError::Closed(CloseReason::Peer(_)))));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Session {
    shared: Arc<Shared>,
    id: SessionId,
    /// A dialed session owns its endpoint (its socket and event queue).
    owns_endpoint: bool,
    remote: SocketAddr,
    conv: u32,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .field("remote", &self.remote)
            .field("conv", &self.conv)
            .finish()
    }
}

impl Session {
    pub(crate) fn new(shared: Arc<Shared>, id: SessionId, owns_endpoint: bool) -> Self {
        let (remote, conv) = shared.lock().ep.peer_of(id).unwrap_or((shared.local, 0));
        Self {
            shared,
            id,
            owns_endpoint,
            remote,
            conv,
        }
    }

    /// Opens a session to `remote` (`host:port`) from a new socket, with a
    /// conv from the configuration or the OS CSPRNG. Nothing is sent until
    /// the first message (kcp-go's listener learns of a session from it).
    pub fn dial(remote: &str, config: &Config) -> Result<Self, Error> {
        socket::check(config)?;
        let remote = socket::resolve(remote)?;
        let udp = socket::bind(socket::any_for(remote), config, false)?;
        let (ep, id) = Endpoint::dialer(config, remote, super::clock::now())?;
        let shared = super::start(ep, udp)?;
        let session = Self::new(shared, id, true);
        // The secure profile's handshake: done, refused (another psk) or
        // unanswered, before the caller gets the session. The endpoint
        // gives up first; this bound only guards against a stuck clock.
        let bound = Duration::from_millis(crate::secure::HANDSHAKE_TIMEOUT_MS + 1_000);
        session
            .shared
            .wait_for(Some(bound), |ep, _, _| ep.handshake(id))?;
        Ok(session)
    }

    /// Sends one message (stream mode: bytes). Waits while the send queue
    /// is full: `timeout` `None` forever, zero not at all
    /// (`Error::is_would_block`), else up to `Error::TimedOut`.
    pub fn send(&self, data: &[u8], timeout: Option<Duration>) -> Result<usize, Error> {
        let id = self.id;
        self.shared
            .wait_for(timeout, |ep, now, out| ep.send(now, id, data, out))
    }

    /// Receives one message into `buf` (a message larger than `buf` is an
    /// error and stays queued). Waits like [`send`](Self::send).
    pub fn recv(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<usize, Error> {
        let id = self.id;
        self.shared
            .wait_for(timeout, |ep, now, out| ep.recv(now, id, buf, out))
    }

    /// Secure profile: sends one unreliable datagram (at most
    /// [`max_datagram`](Self::max_datagram) bytes) at once, beside the
    /// reliable stream: authenticated, delivered once or not at all, in any
    /// order. Never blocks.
    pub fn send_datagram(&self, data: &[u8]) -> Result<usize, Error> {
        let id = self.id;
        self.shared.wait_for(Some(Duration::ZERO), |ep, now, out| {
            ep.send_datagram(now, id, data, out)
        })
    }

    /// Secure profile: receives one unreliable datagram into `buf`; waits
    /// like [`recv`](Self::recv). A session keeps the newest 64 not yet
    /// taken.
    pub fn recv_datagram(&self, buf: &mut [u8], timeout: Option<Duration>) -> Result<usize, Error> {
        let id = self.id;
        self.shared
            .wait_for(timeout, |ep, _, _| ep.recv_datagram(id, buf))
    }

    /// Secure profile: the largest unreliable datagram this session sends.
    pub fn max_datagram(&self) -> Result<usize, Error> {
        Ok(self.shared.lock().ep.max_datagram(self.id)?)
    }

    /// Size of the next message, if one has arrived whole.
    pub fn peek_size(&self) -> Option<usize> {
        self.shared.lock().ep.peek_size(self.id)
    }

    /// Whether `send` would take a message now.
    pub fn is_writable(&self) -> bool {
        self.shared.lock().ep.is_writable(self.id)
    }

    /// Closes gracefully: later calls fail with `Closed`, queued data keeps
    /// going out until acknowledged or `linger` passes. The kcp-go format
    /// has no close message: the peer learns of it by silence. Threads
    /// blocked on the session return `Closed` at once.
    pub fn close(&self) -> Result<(), Error> {
        let id = self.id;
        self.shared.run(|ep, now, out| ep.close(now, id, out))?;
        Ok(())
    }

    /// Ends the session at once (ENet's `enet_peer_reset`): nothing queued
    /// is sent and there is no lingering; the peer learns of it by silence.
    /// Threads blocked on the session return `Closed` at once. Also ends a
    /// session still lingering after [`close`](Self::close).
    pub fn abort(&self) -> Result<(), Error> {
        let id = self.id;
        self.shared.run(|ep, _, _| ep.abort(id))?;
        Ok(())
    }

    /// The largest message this session can receive from a peer with the
    /// same settings (`max_message`, or what the receive window
    /// reassembles): a receive buffer this large is always enough. `None`
    /// in stream mode (any buffer works) and once the session has ended.
    pub fn max_message(&self) -> Option<usize> {
        self.shared.lock().ep.max_message(self.id)
    }

    /// Attaches the caller's [`Tags`] to the session; events about it carry
    /// them ([`Listener::poll_event_tagged`](super::Listener::poll_event_tagged)).
    pub fn set_tags(&self, tags: Tags) -> Result<(), Error> {
        Ok(self.shared.lock().ep.set_tags(self.id, tags)?)
    }

    /// The session's [`Tags`] (zero until set).
    pub fn tags(&self) -> Tags {
        self.shared.lock().ep.tags(self.id)
    }

    /// `Ok` while the session is usable, else why not.
    pub fn status(&self) -> Result<(), Error> {
        Ok(self.shared.lock().ep.status(self.id)?)
    }

    /// kcp-go's SNMP counters for this session (`Closed` once it ended).
    pub fn stats(&self) -> Result<ConnStats, Error> {
        let inner = self.shared.lock();
        match inner.ep.session_stats(self.id) {
            Some(stats) => Ok(stats),
            None => Err(inner
                .ep
                .status(self.id)
                .err()
                .unwrap_or(SessionError::Unknown)
                .into()),
        }
    }

    /// A dialed session's socket counters (what it dropped and why).
    pub fn endpoint_stats(&self) -> EndpointStats {
        self.shared.lock().ep.stats()
    }

    /// The buffers of the socket this session uses (its own when dialed,
    /// the listener's when accepted or connected), in bytes as the kernel
    /// granted them (it reports twice what was asked).
    pub fn socket_buffers(&self) -> (usize, usize) {
        super::socket::buffer_sizes(&self.shared.socket)
    }

    /// The peer's address: where the session sends now (in the secure
    /// profile a session follows its peer to a new address), or its last
    /// one once closed.
    pub fn remote_addr(&self) -> SocketAddr {
        self.shared
            .lock()
            .ep
            .peer_of(self.id)
            .map_or(self.remote, |(addr, _)| addr)
    }

    /// The local socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    /// The conversation id.
    pub fn conv(&self) -> u32 {
        self.conv
    }

    /// This session's id, as events name it.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// A dialed session's next event; `Error::NotOwner` for sessions whose
    /// events go to their listener.
    pub fn poll_event(&self, timeout: Option<Duration>) -> Result<Option<Event>, Error> {
        if !self.owns_endpoint {
            return Err(Error::NotOwner);
        }
        super::listener::poll_event(&self.shared, timeout)
    }

    /// [`poll_event`](Self::poll_event) with the session's [`Tags`].
    pub fn poll_event_tagged(
        &self,
        timeout: Option<Duration>,
    ) -> Result<Option<(Event, Tags)>, Error> {
        if !self.owns_endpoint {
            return Err(Error::NotOwner);
        }
        super::listener::poll_event_tagged(&self.shared, timeout)
    }

    /// A dialed session's event descriptor (see `Listener::event_fd`).
    pub fn event_fd(&self) -> Result<RawFd, Error> {
        if !self.owns_endpoint {
            return Err(Error::NotOwner);
        }
        self.shared.event_fd()
    }
}

#[cfg(test)]
impl Session {
    pub(crate) fn shared_for_tests(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let id = self.id;
        self.shared.run(|ep, now, out| ep.release(now, id, out));
    }
}

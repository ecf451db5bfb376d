//! Sessions over real UDP: the part of kcp-core that owns sockets, clocks
//! and threads. Everything protocol-shaped happens in [`crate::endpoint`];
//! this module moves datagrams and wakes threads.
//!
//! - One runtime per process, started on first use, with a small pool of
//!   I/O threads (one by default; [`set_io_threads`] or the environment
//!   variable `KCP_IO_THREADS` before first use). Each runs one epoll over
//!   the sockets of many endpoints (a listener's, or a dialed session's),
//!   so a client that dials 1,000 sessions starts no extra threads.
//! - Datagrams move in batches (`recvmmsg`, `sendmmsg`). The receiving
//!   side acknowledges once per batch, and an application's `send` goes out
//!   at once from the calling thread (as kcp-go's `Write` does).
//! - A timer heap holds each endpoint's next deadline; idle sessions have
//!   none, so they cost no CPU.
//! - Application threads block on a condition variable per endpoint, never
//!   on the socket; an eventfd per endpoint is readable while events are
//!   pending, for epoll/asyncio loops.
//!
//! ```no_run
//! use kcp_core::Config;
//! use kcp_core::{Listener, Session};
//! use std::time::Duration;
//!
//! let config = Config::default();
//! let listener = Listener::bind("127.0.0.1:0", &config)?;
//! let client = Session::dial(&listener.local_addr().to_string(), &config)?;
//! client.send(b"hello", None)?;
//! let server = listener.accept(Some(Duration::from_secs(5)))?;
//! let mut buf = [0u8; 1500];
//! let n = server.recv(&mut buf, Some(Duration::from_secs(5)))?;
//! assert_eq!(&buf[..n], b"hello");
//! # Ok::<(), kcp_core::Error>(())
//! ```

mod driver;
mod error;
mod group;
mod listener;
mod session;
mod shared;
mod socket;
mod steering;
mod sys;

pub use error::Error;
pub use listener::Listener;
pub use session::Session;
pub use sys::MAX_DATAGRAM;

use crate::endpoint::{CloseReason, SessionId};

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;

use driver::DriverHandle;

/// What happened on a listener (or a dialed session), for event loops.
#[derive(Debug)]
pub enum Event {
    /// A new session; it is the caller's (as if from `accept`).
    Accepted(Session),
    /// The session with this id has a message to receive. Level-triggered:
    /// raised again after any `recv` that leaves a message waiting (one of
    /// several read, or one refused for a buffer too small).
    Readable(SessionId),
    /// The session with this id has room to send again.
    Writable(SessionId),
    /// The session with this id closed.
    Closed(SessionId, CloseReason),
    /// Secure profile: the session with this id has an unreliable datagram
    /// to receive ([`Session::recv_datagram`]); level-triggered.
    Datagram(SessionId),
}

/// Milliseconds on the runtime's monotonic clock.
pub(crate) mod clock {
    use std::sync::OnceLock;
    use std::time::Instant;

    static EPOCH: OnceLock<Instant> = OnceLock::new();

    /// Milliseconds since the runtime's first use (never 0).
    pub fn now() -> u64 {
        EPOCH.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
    }
}

struct Runtime {
    /// Grows when a listener asks for more threads than there are.
    drivers: Mutex<Vec<Arc<DriverHandle>>>,
    /// Joined by [`shutdown`].
    threads: Mutex<Vec<JoinHandle<()>>>,
    next_driver: AtomicUsize,
    next_token: AtomicUsize,
}

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

/// Whether [`shutdown`] was called. Held while an endpoint is handed to an
/// I/O thread, so none can slip in after the threads were told to stop.
static SHUT_DOWN: Mutex<bool> = Mutex::new(false);

/// Starts the runtime with `n` I/O threads (1..=64) now. Only before the
/// first listener or session exists (which starts it with the environment
/// variable `KCP_IO_THREADS`, or one thread); afterwards it is an error.
/// A listener whose `listen_threads` exceeds the count starts the threads
/// it lacks (at most 64 in all).
pub fn set_io_threads(n: usize) -> Result<(), Error> {
    if !(1..=64).contains(&n) {
        return Err(Error::Config(format!("io threads: {n} is not in 1..=64")));
    }
    let mut started_here = false;
    let result = RUNTIME.get_or_init(|| {
        started_here = true;
        start_runtime(n)
    });
    if !started_here {
        return Err(Error::Config(
            "io threads: the runtime has already started".into(),
        ));
    }
    result
        .as_ref()
        .map(drop)
        .map_err(|e| Error::Runtime(e.clone()))
}

fn start_runtime(n: usize) -> Result<Runtime, String> {
    let (drivers, threads) = (0..n)
        .map(|i| driver::spawn(format!("kcp-io-{i}")))
        .collect::<Result<(Vec<_>, Vec<_>), _>>()
        .map_err(|e| format!("cannot start the I/O threads: {e}"))?;
    Ok(Runtime {
        drivers: Mutex::new(drivers),
        threads: Mutex::new(threads),
        next_driver: AtomicUsize::new(0),
        next_token: AtomicUsize::new(0),
    })
}

/// Shuts the runtime down for good: every listener and session of the
/// process ends at once ([`CloseReason::Shutdown`]: blocked calls return,
/// CLOSED events are raised, nothing queued is sent), and the I/O threads
/// are joined, so none is left running at `dlclose` or exit. The handles
/// stay valid, to be dropped; every other call on them fails with
/// `Closed`. Listeners and sessions made afterwards fail with
/// [`Error::Runtime`]. Idempotent. Refused on an I/O thread, which cannot
/// join itself (no user code runs there).
pub fn shutdown() -> Result<(), Error> {
    if driver::on_io_thread() {
        return Err(Error::Runtime(
            "shutdown cannot be called from an I/O thread".into(),
        ));
    }
    let mut shut = SHUT_DOWN.lock().unwrap_or_else(|e| e.into_inner());
    *shut = true;
    let Some(Ok(rt)) = RUNTIME.get() else {
        return Ok(());
    };
    for driver in rt.drivers.lock().unwrap_or_else(|e| e.into_inner()).iter() {
        driver.shut_down();
    }
    let threads = std::mem::take(&mut *rt.threads.lock().unwrap_or_else(|e| e.into_inner()));
    for thread in threads {
        // A thread that panicked outside any endpoint has nothing left to
        // clean up.
        let _ = thread.join();
    }
    // Held until joined: a second caller returns once the threads are gone.
    drop(shut);
    Ok(())
}

fn runtime() -> Result<&'static Runtime, Error> {
    let result = RUNTIME.get_or_init(|| {
        let n = std::env::var("KCP_IO_THREADS")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| (1..=64).contains(n))
            .unwrap_or(1);
        start_runtime(n)
    });
    result.as_ref().map_err(|e| Error::Runtime(e.clone()))
}

/// Starts serving an endpoint on one of the I/O threads.
fn start(
    ep: crate::endpoint::Endpoint,
    socket: std::net::UdpSocket,
) -> Result<Arc<shared::Shared>, Error> {
    let mut started = start_each(vec![(ep, socket)], None)?;
    Ok(started.remove(0))
}

/// Starts serving endpoints, each on a different I/O thread (starting
/// threads if there are fewer than endpoints), all of them in `group` if
/// given.
fn start_each(
    parts: Vec<(crate::endpoint::Endpoint, std::net::UdpSocket)>,
    group: Option<Arc<group::Group>>,
) -> Result<Vec<Arc<shared::Shared>>, Error> {
    let shut = SHUT_DOWN.lock().unwrap_or_else(|e| e.into_inner());
    if *shut {
        return Err(Error::Runtime(
            "the runtime has been shut down (kcp_runtime_shutdown)".into(),
        ));
    }
    let rt = runtime()?;
    let mut drivers = rt.drivers.lock().unwrap_or_else(|e| e.into_inner());
    while drivers.len() < parts.len() {
        let (driver, thread) = driver::spawn(format!("kcp-io-{}", drivers.len()))
            .map_err(|e| Error::Runtime(format!("cannot start an I/O thread: {e}")))?;
        drivers.push(driver);
        rt.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(thread);
    }
    let first = rt.next_driver.fetch_add(parts.len(), Ordering::Relaxed);
    let mut started = Vec::with_capacity(parts.len());
    for (i, (ep, socket)) in parts.into_iter().enumerate() {
        let driver = drivers[(first + i) % drivers.len()].clone();
        let token = rt.next_token.fetch_add(1, Ordering::Relaxed);
        started.push(Arc::new(shared::Shared::new(
            ep,
            socket,
            token,
            driver,
            group.clone(),
        )?));
    }
    for shared in &started {
        shared.driver.add(shared.clone());
    }
    drop(drivers);
    drop(shut);
    Ok(started)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_listen_threads;
#[cfg(test)]
mod tests_secure;

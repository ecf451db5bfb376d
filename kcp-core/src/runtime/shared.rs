//! One endpoint as the threads share it: the sans-IO [`Endpoint`] behind a
//! mutex, its socket, the condition variable blocked callers sleep on, and
//! the eventfd that says "events pending" to epoll/asyncio users.

use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::driver::DriverHandle;
use super::sys::{self, SendBatch};
use super::{clock, Error};
use crate::endpoint::{Endpoint, SessionError};

/// How long a sender waits for room in a full socket buffer before it
/// drops a datagram (which KCP will retransmit).
const SEND_PATIENCE_MS: i32 = 50;

thread_local! {
    /// Each application thread gathers what its calls emit here and sends
    /// it with one `sendmmsg`.
    static TX: RefCell<SendBatch> = RefCell::new(SendBatch::new());
}

/// The mutable part, under the lock.
pub(crate) struct Inner {
    pub ep: Endpoint,
    /// Deadline of the driver's timer entry for this endpoint.
    pub armed: Option<u64>,
    /// Whether the eventfd is readable.
    fd_set: bool,
    retired: bool,
    /// Datagrams the socket would not take.
    pub send_drops: u64,
}

pub(crate) struct Shared {
    pub inner: Mutex<Inner>,
    pub cond: Condvar,
    pub socket: UdpSocket,
    pub events_fd: OwnedFd,
    pub token: usize,
    pub driver: Arc<DriverHandle>,
    pub local: SocketAddr,
}

impl Shared {
    pub fn new(
        ep: Endpoint,
        socket: UdpSocket,
        token: usize,
        driver: Arc<DriverHandle>,
    ) -> Result<Self, Error> {
        let local = socket.local_addr()?;
        Ok(Self {
            inner: Mutex::new(Inner {
                ep,
                armed: None,
                fd_set: false,
                retired: false,
                send_drops: 0,
            }),
            cond: Condvar::new(),
            socket,
            events_fd: sys::eventfd()?,
            token,
            driver,
            local,
        })
    }

    /// Locks the endpoint. A panic while it was held (a bug) poisons the
    /// mutex; the state is still consistent enough to close, so go on.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` on the endpoint from an application thread and sends what
    /// it emits.
    pub fn run<R>(
        &self,
        f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])) -> R,
    ) -> R {
        let mut inner = self.lock();
        self.run_locked(&mut inner, f)
    }

    /// Like [`run`](Self::run) with the lock already held.
    pub fn run_locked<R>(
        &self,
        inner: &mut Inner,
        f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])) -> R,
    ) -> R {
        TX.with(|tx| {
            let mut tx = tx.borrow_mut();
            let r = self.run_with(inner, &mut tx, f);
            inner.send_drops += tx.send(self.socket.as_raw_fd(), SEND_PATIENCE_MS) as u64;
            r
        })
    }

    /// Runs `f`, gathering output in `tx` (sent when full; the caller sends
    /// the rest), then re-arms the timer and wakes whoever should know.
    pub fn run_with<R>(
        &self,
        inner: &mut Inner,
        tx: &mut SendBatch,
        f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])) -> R,
    ) -> R {
        let now = clock::now();
        let fd = self.socket.as_raw_fd();
        let mut drops = 0;
        let r = f(&mut inner.ep, now, &mut |to, d| {
            if tx.is_full() {
                drops += tx.send(fd, SEND_PATIENCE_MS);
            }
            tx.push(to, d);
        });
        inner.send_drops += drops as u64;
        self.settle(inner);
        r
    }

    /// After any change: next timer, wake-ups, the eventfd, retirement.
    pub fn settle(&self, inner: &mut Inner) {
        if let Some(at) = inner.ep.next_timeout() {
            if inner.armed.map_or(true, |armed| at < armed) {
                inner.armed = Some(at);
                self.driver.arm(self.token, at);
            }
        }
        if inner.ep.take_wake() {
            self.cond.notify_all();
        }
        let pending = inner.ep.has_events();
        if pending != inner.fd_set {
            inner.fd_set = pending;
            if pending {
                sys::eventfd_set(&self.events_fd);
            } else {
                sys::eventfd_clear(&self.events_fd);
            }
        }
        if inner.ep.is_finished() && !inner.retired {
            inner.retired = true;
            self.driver.retire(self.token);
        }
    }

    /// Runs `attempt` until it stops saying `WouldBlock`, sleeping on the
    /// condition variable in between (so no wake-up is lost), for at most
    /// `timeout` (`None`: forever; zero: try once).
    pub fn wait_for<R>(
        &self,
        timeout: Option<Duration>,
        mut attempt: impl FnMut(
            &mut Endpoint,
            u64,
            &mut dyn FnMut(SocketAddr, &[u8]),
        ) -> Result<R, SessionError>,
    ) -> Result<R, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inner = self.lock();
        loop {
            match self.run_locked(&mut inner, &mut attempt) {
                Err(SessionError::WouldBlock) => {}
                other => return other.map_err(Error::from),
            }
            inner = match deadline {
                None => self.cond.wait(inner).unwrap_or_else(|e| e.into_inner()),
                Some(deadline) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Err(if timeout == Some(Duration::ZERO) {
                            Error::Session(SessionError::WouldBlock)
                        } else {
                            Error::TimedOut
                        });
                    }
                    self.cond
                        .wait_timeout(inner, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
        }
    }
}

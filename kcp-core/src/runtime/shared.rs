//! One endpoint as the threads share it: the sans-IO [`Endpoint`] behind a
//! mutex, its socket, the condition variable blocked callers sleep on, and
//! the eventfd that says "events pending" to epoll/asyncio users.

use std::cell::RefCell;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::driver::DriverHandle;
use super::group::Group;
use super::sys::{self, SendBatch};
use super::{clock, Error};
use crate::endpoint::{Endpoint, SessionError};

/// How long an application thread waits (with no lock held) for room in a
/// full socket buffer before it drops a datagram (which KCP will
/// retransmit).
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
    /// Blocked callers must be woken once the lock is released.
    wake_pending: bool,
    /// Datagrams the socket would not take.
    pub send_drops: u64,
}

pub(crate) struct Shared {
    pub inner: Mutex<Inner>,
    pub cond: Condvar,
    /// Threads inside a condition-variable wait.
    pub(super) waiters: AtomicUsize,
    pub socket: UdpSocket,
    /// Created on first request: most endpoints are never polled from
    /// outside, and a client with 10,000 sessions should not pay 10,000
    /// extra descriptors.
    events_fd: OnceLock<OwnedFd>,
    pub token: usize,
    pub driver: Arc<DriverHandle>,
    pub local: SocketAddr,
    /// The listener this endpoint is one shard of (`listen_threads` > 1):
    /// its wake-ups and pending events are the group's too.
    group: Option<Arc<Group>>,
}

impl Shared {
    pub fn new(
        ep: Endpoint,
        socket: UdpSocket,
        token: usize,
        driver: Arc<DriverHandle>,
        group: Option<Arc<Group>>,
    ) -> Result<Self, Error> {
        let local = socket.local_addr()?;
        Ok(Self {
            inner: Mutex::new(Inner {
                ep,
                armed: None,
                fd_set: false,
                retired: false,
                wake_pending: false,
                send_drops: 0,
            }),
            cond: Condvar::new(),
            waiters: AtomicUsize::new(0),
            socket,
            events_fd: OnceLock::new(),
            token,
            driver,
            local,
            group,
        })
    }

    /// Locks the endpoint. A panic while it was held (a bug) poisons the
    /// mutex; the state is still consistent enough to close, so go on.
    pub fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Unlocks, then wakes blocked callers if something changed for them
    /// (waking after unlocking spares them from blocking on the lock).
    pub fn release(&self, mut inner: MutexGuard<'_, Inner>) {
        let wake = std::mem::take(&mut inner.wake_pending);
        drop(inner);
        if wake {
            // notify_all is a system call even with nobody waiting.
            if self.waiters.load(Ordering::Acquire) > 0 {
                self.cond.notify_all();
            }
            if let Some(group) = &self.group {
                group.notify();
            }
        }
    }

    /// Runs `f` on the endpoint from an application thread and sends what
    /// it emits.
    pub fn run<R>(
        &self,
        f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])) -> R,
    ) -> R {
        TX.with(|tx| {
            let mut tx = tx.borrow_mut();
            let mut inner = self.lock();
            let r = self.run_with(&mut inner, &mut tx, f);
            self.release(inner);
            self.send(&mut tx);
            r
        })
    }

    /// Sends what `tx` holds from an application thread, with the lock
    /// released (it is taken again only to count drops), waiting for room
    /// if the socket is full.
    fn send(&self, tx: &mut SendBatch) {
        let dropped = tx.send(self.socket.as_raw_fd(), SEND_PATIENCE_MS);
        if dropped > 0 {
            self.lock().send_drops += dropped as u64;
        }
    }

    /// Runs `f`, gathering output in `tx`, then re-arms the timer and notes
    /// whom to wake. Each full batch goes out at once if the socket takes
    /// it; the caller sends the rest once the lock is released. Nothing
    /// here waits for the socket: the lock is held.
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
            if tx.pending() >= sys::BATCH {
                drops += tx.send_ready(fd).dropped;
            }
            if !tx.push(to, d) {
                drops += 1;
            }
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
            inner.wake_pending = true;
        }
        self.sync_event_fd(inner);
        if inner.ep.is_finished() && !inner.retired {
            inner.retired = true;
            self.driver.retire(self.token);
        }
    }

    /// Makes the event descriptor (if any) readable exactly while events
    /// are pending.
    fn sync_event_fd(&self, inner: &mut Inner) {
        if let Some(group) = &self.group {
            // The group's descriptor stands for every shard's.
            let pending = inner.ep.has_events();
            if pending != inner.fd_set {
                inner.fd_set = pending;
                group.shard_pending(pending);
            }
            return;
        }
        let Some(fd) = self.events_fd.get() else {
            return;
        };
        let pending = inner.ep.has_events();
        if pending != inner.fd_set {
            inner.fd_set = pending;
            if pending {
                sys::eventfd_set(fd);
            } else {
                sys::eventfd_clear(fd);
            }
        }
    }

    /// The event descriptor, created on first use.
    pub fn event_fd(&self) -> Result<RawFd, Error> {
        let mut inner = self.lock();
        if self.events_fd.get().is_none() {
            let fd = sys::eventfd()?;
            // Only this thread can set it: the lock is held.
            let _ = self.events_fd.set(fd);
            self.sync_event_fd(&mut inner);
        }
        drop(inner);
        Ok(self.events_fd.get().map(|fd| fd.as_raw_fd()).unwrap_or(-1))
    }

    /// Runs `attempt` until it stops saying `WouldBlock`, sleeping on the
    /// condition variable in between, for at most `timeout` (`None`:
    /// forever; zero: try once). The lock is held from each attempt until
    /// the wait begins, so no wake-up is lost.
    pub fn wait_for<R>(
        &self,
        timeout: Option<Duration>,
        mut attempt: impl FnMut(
            &mut Endpoint,
            u64,
            &mut dyn FnMut(SocketAddr, &[u8]),
        ) -> Result<R, SessionError>,
    ) -> Result<R, Error> {
        TX.with(|tx| {
            let mut tx = tx.borrow_mut();
            let deadline = timeout.map(|t| Instant::now() + t);
            let mut inner = self.lock();
            loop {
                let result = self.run_with(&mut inner, &mut tx, &mut attempt);
                if !matches!(result, Err(SessionError::WouldBlock)) {
                    self.release(inner);
                    self.send(&mut tx);
                    return result.map_err(Error::from);
                }
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if left == Some(Duration::ZERO) {
                    self.release(inner);
                    self.send(&mut tx);
                    return Err(if timeout == Some(Duration::ZERO) {
                        Error::Session(SessionError::WouldBlock)
                    } else {
                        Error::TimedOut
                    });
                }
                // Nothing an attempt emitted may wait out the sleep. If the
                // socket is full, wait for room without the lock, then try
                // again: the state may have changed meanwhile.
                if !tx.is_empty() {
                    let flushed = tx.send_ready(self.socket.as_raw_fd());
                    inner.send_drops += flushed.dropped as u64;
                    if flushed.blocked {
                        self.release(inner);
                        self.send(&mut tx);
                        inner = self.lock();
                        continue;
                    }
                }
                // Counted while the lock is held: a notifier that changes
                // state after this point sees the count when it releases.
                self.waiters.fetch_add(1, Ordering::AcqRel);
                inner = match left {
                    None => self.cond.wait(inner).unwrap_or_else(|e| e.into_inner()),
                    Some(left) => {
                        self.cond
                            .wait_timeout(inner, left)
                            .unwrap_or_else(|e| e.into_inner())
                            .0
                    }
                };
                self.waiters.fetch_sub(1, Ordering::AcqRel);
            }
        })
    }
}

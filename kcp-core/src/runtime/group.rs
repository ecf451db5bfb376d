//! The shards of a listener that spreads its sessions over several I/O
//! threads (`listen_threads`), seen as one by the listener's callers: one
//! place to sleep until any shard may have something, and one event
//! descriptor, readable while any shard has events pending.
//!
//! Each shard is a whole endpoint with its own lock; a session lives in one
//! shard and its calls touch only that shard. Only the listener's own calls
//! (accept, the event poll) look at every shard, through [`Group::wait_any`].

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use super::shared::Shared;
use super::{sys, Error};
use crate::endpoint::{CloseReason, SessionError};

/// What one shard answered to an attempt.
pub(crate) enum Step<R> {
    /// The result, good or bad: the wait ends.
    Got(Result<R, Error>),
    /// Nothing here now.
    Nothing,
    /// Nothing here, ever again (the shard's listener part is done).
    Finished,
}

#[derive(Default)]
struct State {
    /// Bumped whenever any shard changed in a way a blocked caller may be
    /// waiting for; a waiter sleeps only if it has not moved since its
    /// last look at the shards.
    seq: u64,
    /// Shards with events pending.
    pending: usize,
}

/// See the module documentation.
#[derive(Default)]
pub(crate) struct Group {
    state: Mutex<State>,
    cond: Condvar,
    /// Threads inside a condition-variable wait.
    waiters: AtomicUsize,
    /// Created on first request, as a single endpoint's is.
    events_fd: OnceLock<OwnedFd>,
    /// Where the next look at the shards starts, so none is favoured.
    next: AtomicUsize,
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A shard changed for its blocked callers: the listener's wake too.
    pub fn notify(&self) {
        self.lock().seq += 1;
        if self.waiters.load(Ordering::Acquire) > 0 {
            self.cond.notify_all();
        }
    }

    /// A shard's "events pending" flipped to `pending`.
    pub fn shard_pending(&self, pending: bool) {
        let mut state = self.lock();
        if pending {
            state.pending += 1;
            if state.pending == 1 {
                if let Some(fd) = self.events_fd.get() {
                    sys::eventfd_set(fd);
                }
            }
        } else {
            state.pending = state.pending.saturating_sub(1);
            if state.pending == 0 {
                if let Some(fd) = self.events_fd.get() {
                    sys::eventfd_clear(fd);
                }
            }
        }
    }

    /// The listener's event descriptor, created on first use.
    pub fn event_fd(&self) -> Result<RawFd, Error> {
        let state = self.lock();
        if self.events_fd.get().is_none() {
            let fd = sys::eventfd()?;
            if state.pending > 0 {
                sys::eventfd_set(&fd);
            }
            // Only this thread can set it: the state lock is held.
            let _ = self.events_fd.set(fd);
        }
        drop(state);
        Ok(self.events_fd.get().map(|fd| fd.as_raw_fd()).unwrap_or(-1))
    }

    /// Asks each shard in turn (`attempt` must not block) until one has an
    /// answer, sleeping in between until a shard changes, for at most
    /// `timeout` (`None`: forever; zero: one round). When every shard is
    /// finished, the listener is: `Closed`.
    pub fn wait_any<R>(
        &self,
        shards: &[Arc<Shared>],
        timeout: Option<Duration>,
        mut attempt: impl FnMut(&Arc<Shared>) -> Step<R>,
    ) -> Result<R, Error> {
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let seen = self.lock().seq;
            let start = self.next.fetch_add(1, Ordering::Relaxed);
            let mut finished = 0;
            for k in 0..shards.len() {
                match attempt(&shards[(start + k) % shards.len()]) {
                    Step::Got(result) => return result,
                    Step::Nothing => {}
                    Step::Finished => finished += 1,
                }
            }
            if finished == shards.len() {
                return Err(Error::Session(SessionError::Closed(
                    CloseReason::ListenerClosed,
                )));
            }
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            if left == Some(Duration::ZERO) {
                return Err(if timeout == Some(Duration::ZERO) {
                    Error::Session(SessionError::WouldBlock)
                } else {
                    Error::TimedOut
                });
            }
            let state = self.lock();
            if state.seq != seen {
                continue;
            }
            // Counted under the lock: a notifier bumps `seq` under it too,
            // then sees the count.
            self.waiters.fetch_add(1, Ordering::AcqRel);
            let state = match left {
                None => self.cond.wait(state).unwrap_or_else(|e| e.into_inner()),
                Some(left) => {
                    self.cond
                        .wait_timeout(state, left)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
            };
            drop(state);
            self.waiters.fetch_sub(1, Ordering::AcqRel);
        }
    }
}

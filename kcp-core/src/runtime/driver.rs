//! An I/O thread: one epoll (mio) over the sockets of many endpoints, and
//! one timer heap keyed by each endpoint's next deadline. It sleeps until a
//! socket is readable, a deadline passes or an application thread asks for
//! an earlier deadline; with nothing due it sleeps without a timeout, so
//! idle sessions cost no CPU.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, RawFd};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::clock;
use super::shared::{Inner, Shared};
use super::sys::{RecvBatch, SendBatch};
use crate::endpoint::{CloseReason, Endpoint};

const WAKER: Token = Token(usize::MAX);

/// How long the I/O thread keeps polling without sleeping after traffic.
/// Measured on the echo benchmark: 64-byte round trips fall from ~80 us to
/// ~20-40 us; the price is at most this much spinning after each burst,
/// and nothing at all while sessions are idle.
const BUSY_POLL: Duration = Duration::from_micros(100);

/// Busy-poll only while at least this many of the last 16 gaps between
/// bursts of traffic were at most [`SHORT_GAP`]. A spin that finds
/// nothing costs the whole [`BUSY_POLL`] of CPU, while one that finds
/// traffic saves a sleep and a wake-up: worth it for a ping-pong or a
/// bulk transfer (nearly every gap is short), not for a game server
/// whose players' datagrams arrive at random tens to hundreds of us apart
/// (server CPU 41% of a core with 300 players at 20 Hz, 25% without).
const SPIN_WORTH: u32 = 12;

/// A gap short enough for spinning through it to cost less CPU than
/// sleeping and waking (measured: 40 us still spun through most of the
/// game load's gaps, 31% of a core; 20 us, 25%).
const SHORT_GAP: Duration = Duration::from_micros(20);

/// Batches read from one socket before the others get a turn.
const FAIRNESS_BATCHES: usize = 16;

enum Command {
    Add(Arc<Shared>),
    Arm(usize, u64),
    Retire(usize),
    /// End every endpoint's sessions and exit the thread.
    Shutdown,
}

/// How other threads talk to an I/O thread.
pub(crate) struct DriverHandle {
    commands: Mutex<Vec<Command>>,
    waker: Waker,
    /// The thread has exited: commands are dropped.
    stopped: AtomicBool,
}

thread_local! {
    /// The handle of the I/O thread running on this thread, if any (its
    /// address): that thread takes its commands before it next sleeps, so
    /// commands it gives itself (re-arming an endpoint's timer after
    /// handling its traffic) need no wake-up.
    static RUNNING_DRIVER: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

impl DriverHandle {
    fn send(&self, command: Command) {
        if self.stopped.load(Ordering::Acquire) {
            return;
        }
        let first = {
            let mut commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
            commands.push(command);
            commands.len() == 1
        };
        // One wake-up per batch of commands is enough: the thread drains them all.
        let own_thread = RUNNING_DRIVER.with(|d| d.get()) == self as *const Self as usize;
        if first && !own_thread {
            let _ = self.waker.wake();
        }
    }

    /// Starts serving an endpoint's socket.
    pub fn add(&self, shared: Arc<Shared>) {
        self.send(Command::Add(shared));
    }

    /// Asks for `handle_timeout` on endpoint `token` at `at`.
    pub fn arm(&self, token: usize, at: u64) {
        self.send(Command::Arm(token, at));
    }

    /// The endpoint has finished: stop serving it.
    pub fn retire(&self, token: usize) {
        self.send(Command::Retire(token));
    }

    /// Ends every session this thread serves ([`CloseReason::Shutdown`])
    /// and makes the thread exit; join it afterwards.
    pub fn shut_down(&self) {
        self.send(Command::Shutdown);
    }
}

/// Whether the calling thread is an I/O thread.
pub(crate) fn on_io_thread() -> bool {
    RUNNING_DRIVER.with(|d| d.get()) != 0
}

/// Starts an I/O thread.
pub(crate) fn spawn(name: String) -> std::io::Result<(Arc<DriverHandle>, JoinHandle<()>)> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let handle = Arc::new(DriverHandle {
        commands: Mutex::new(Vec::new()),
        waker,
        stopped: AtomicBool::new(false),
    });
    let theirs = handle.clone();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || Driver::new(poll, theirs).run())?;
    Ok((handle, thread))
}

struct Driver {
    poll: Poll,
    handle: Arc<DriverHandle>,
    endpoints: HashMap<usize, Arc<Shared>>,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    rx: RecvBatch,
    tx: SendBatch,
    /// What sockets refused, by endpoint, until they are writable again.
    parked: HashMap<usize, SendBatch>,
    /// Emptied batches, for the next socket that refuses.
    spare_batches: Vec<SendBatch>,
    spare_commands: Vec<Command>,
    /// A shutdown was asked for.
    stopping: bool,
}

impl Driver {
    fn new(poll: Poll, handle: Arc<DriverHandle>) -> Self {
        Self {
            poll,
            handle,
            endpoints: HashMap::new(),
            timers: BinaryHeap::new(),
            rx: RecvBatch::new(),
            tx: SendBatch::new(),
            parked: HashMap::new(),
            spare_batches: Vec::new(),
            spare_commands: Vec::new(),
            stopping: false,
        }
    }

    fn run(mut self) {
        RUNNING_DRIVER.with(|d| d.set(Arc::as_ptr(&self.handle) as usize));
        let mut events = Events::with_capacity(256);
        let mut ready = Vec::new();
        let mut writable = Vec::new();
        // When the last datagram arrived: right after traffic, poll without
        // sleeping for a moment, since the next datagram (a reply, the next
        // of a burst) usually follows within microseconds and a sleeping
        // thread costs far more than that to wake.
        let mut busy_until: Option<Instant> = None;
        let mut spin = SpinJudge::default();
        loop {
            // Until none are left: taking an endpoint on reads its socket,
            // which may give this thread commands without waking it.
            while self.take_commands() {}
            if self.stopping {
                self.end_everything();
                return;
            }
            let mut timeout = self
                .timers
                .peek()
                .map(|Reverse((at, _))| Duration::from_millis(at.saturating_sub(clock::now())));
            if busy_until.is_some_and(|until| Instant::now() < until) {
                timeout = Some(Duration::ZERO);
            }
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    // epoll itself failing is not recoverable for this thread;
                    // sleep so a broken poll cannot spin a core.
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
            for event in events.iter().filter(|e| e.token() != WAKER) {
                if event.is_writable() {
                    writable.push(event.token().0);
                }
                if event.is_readable() || !event.is_writable() {
                    ready.push(event.token().0);
                }
            }
            // Room again in sockets that refused: what waited goes first.
            for token in writable.drain(..) {
                self.resume(token);
            }
            let traffic = !ready.is_empty();
            if traffic {
                spin.on_traffic(Instant::now());
            }
            // Read every ready socket in turns until all are drained.
            while !ready.is_empty() {
                ready.retain(|&token| self.receive(token));
            }
            if traffic {
                let now = Instant::now();
                spin.on_drained(now);
                busy_until = spin.worth_it().then(|| now + BUSY_POLL);
            }
            self.run_timers();
        }
    }

    /// Carries out the commands given so far; false if there were none.
    fn take_commands(&mut self) -> bool {
        // Swapped with a spare, so commands cost no allocation.
        let mut commands = std::mem::take(&mut self.spare_commands);
        std::mem::swap(
            &mut *self
                .handle
                .commands
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
            &mut commands,
        );
        if commands.is_empty() {
            self.spare_commands = commands;
            return false;
        }
        for command in commands.drain(..) {
            match command {
                Command::Add(shared) => {
                    let fd = shared.socket.as_raw_fd();
                    let registered = self.poll.registry().register(
                        &mut SourceFd(&fd),
                        Token(shared.token),
                        Interest::READABLE,
                    );
                    if registered.is_ok() {
                        // Datagrams may have arrived before registration;
                        // edge-triggered epoll would not report them.
                        self.endpoints.insert(shared.token, shared.clone());
                        while self.receive(shared.token) {}
                    }
                }
                Command::Arm(token, at) => self.timers.push(Reverse((at, token))),
                Command::Retire(token) => self.stop_serving(token),
                Command::Shutdown => self.stopping = true,
            }
        }
        self.spare_commands = commands;
        true
    }

    /// Reads up to [`FAIRNESS_BATCHES`] batches from one socket; true if
    /// more may be waiting.
    fn receive(&mut self, token: usize) -> bool {
        let Some(shared) = self.endpoints.get(&token).cloned() else {
            return false;
        };
        let fd = shared.socket.as_raw_fd();
        for _ in 0..FAIRNESS_BATCHES {
            let n = match self.rx.recv(fd) {
                Ok(0) | Err(_) => return false,
                Ok(n) => n,
            };
            // A short batch drained the socket; a datagram arriving after
            // it raises a new edge, so there is no need to read until EAGAIN.
            let drained = !self.rx.was_full();
            let mut inner = shared.lock();
            let rx = &mut self.rx;
            let handled = run_caught(&shared, &mut inner, &mut self.tx, |ep, now, out| {
                for i in 0..n {
                    if let Some((from, datagram)) = rx.get(i) {
                        ep.handle_datagram(now, from, datagram, out);
                    }
                }
                ep.flush_input(now, out);
                ep.handle_timeout(now, out);
            });
            if !handled {
                self.contain_panic(&shared, inner);
                return false;
            }
            // Wake the application first: it runs on the other core while
            // this thread sends the ACKs.
            shared.release(inner);
            self.transmit(&shared);
            if drained {
                return false;
            }
        }
        true
    }

    /// After a panic while handling one endpoint: closes its sessions
    /// ([`CloseReason::Panic`], which
    /// wakes its waiters and raises CLOSED events) and stops serving its
    /// socket, so this thread goes on serving every other endpoint.
    /// Nothing the failed pass emitted is sent.
    fn contain_panic(&mut self, shared: &Arc<Shared>, inner: MutexGuard<'_, Inner>) {
        self.tx.clear();
        abandon(shared, inner, CloseReason::Panic);
        self.stop_serving(shared.token);
    }

    /// Shutdown: ends every session of every endpoint served here (waking
    /// their waiters and raising CLOSED events), lets go of the sockets,
    /// and refuses commands from now on.
    fn end_everything(&mut self) {
        self.handle.stopped.store(true, Ordering::Release);
        let tokens: Vec<usize> = self.endpoints.keys().copied().collect();
        for token in tokens {
            if let Some(shared) = self.endpoints.get(&token).cloned() {
                abandon(&shared, shared.lock(), CloseReason::Shutdown);
            }
            self.stop_serving(token);
        }
    }

    /// Forgets an endpoint and deregisters its socket.
    fn stop_serving(&mut self, token: usize) {
        self.parked.remove(&token);
        if let Some(shared) = self.endpoints.remove(&token) {
            let fd = shared.socket.as_raw_fd();
            let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
        }
    }

    fn run_timers(&mut self) {
        let now = clock::now();
        while let Some(&Reverse((at, token))) = self.timers.peek() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(shared) = self.endpoints.get(&token).cloned() else {
                continue;
            };
            let mut inner = shared.lock();
            if inner.armed != Some(at) {
                continue;
            }
            inner.armed = None;
            let handled = run_caught(&shared, &mut inner, &mut self.tx, |ep, now, out| {
                ep.handle_timeout(now, out)
            });
            if !handled {
                self.contain_panic(&shared, inner);
                continue;
            }
            shared.release(inner);
            self.transmit(&shared);
        }
    }

    /// Sends what handling an endpoint emitted (in `self.tx`), behind
    /// whatever its socket refused before, without blocking: what the
    /// socket refuses now is parked until epoll says it is writable. One
    /// full socket thus stalls neither the other endpoints nor this
    /// thread's receiving.
    fn transmit(&mut self, shared: &Shared) {
        let (token, fd) = (shared.token, shared.socket.as_raw_fd());
        let mut dropped = 0;
        if let Some(parked) = self.parked.get_mut(&token) {
            dropped += parked.append(&mut self.tx);
            let flushed = parked.send_ready(fd);
            dropped += flushed.dropped;
            if !flushed.blocked {
                self.unpark(token, fd);
            }
        } else {
            let flushed = self.tx.send_ready(fd);
            dropped += flushed.dropped;
            if flushed.blocked {
                self.park(token, fd);
            }
        }
        if dropped > 0 {
            shared.lock().send_drops += dropped as u64;
        }
    }

    /// Keeps what `self.tx` still holds for endpoint `token` until its
    /// socket is writable.
    fn park(&mut self, token: usize, fd: RawFd) {
        let spare = self.spare_batches.pop().unwrap_or_default();
        self.parked
            .insert(token, std::mem::replace(&mut self.tx, spare));
        let interest = Interest::READABLE | Interest::WRITABLE;
        let _ = self
            .poll
            .registry()
            .reregister(&mut SourceFd(&fd), Token(token), interest);
    }

    /// Endpoint `token`'s socket took everything parked for it.
    fn unpark(&mut self, token: usize, fd: RawFd) {
        if let Some(batch) = self.parked.remove(&token) {
            self.spare_batches.push(batch);
        }
        let _ =
            self.poll
                .registry()
                .reregister(&mut SourceFd(&fd), Token(token), Interest::READABLE);
    }

    /// Endpoint `token`'s socket is writable: sends what was parked.
    fn resume(&mut self, token: usize) {
        if let Some(shared) = self.endpoints.get(&token).cloned() {
            self.transmit(&shared);
        }
    }
}

/// Ends every session of the endpoint at once with `reason` (see
/// [`Endpoint::abandon_all`]), waking its waiters, then unlocks. If even
/// that panics, the sessions stay as they are; the caller lets the socket
/// go all the same.
fn abandon(shared: &Shared, mut inner: MutexGuard<'_, Inner>, reason: CloseReason) {
    let _ = catch_unwind(AssertUnwindSafe(|| {
        inner.ep.abandon_all(reason);
        shared.settle(&mut inner);
    }));
    shared.release(inner);
}

/// [`Shared::run_with`] with a panic caught: false if `f` panicked, and
/// the endpoint must then be contained.
fn run_caught(
    shared: &Shared,
    inner: &mut Inner,
    tx: &mut SendBatch,
    f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])),
) -> bool {
    catch_unwind(AssertUnwindSafe(|| shared.run_with(inner, tx, f))).is_ok()
}

/// Judges whether busy-polling pays, from the gaps between bursts of
/// traffic (from the end of one burst's processing to the next arrival),
/// measured whether or not the thread spun meanwhile.
#[derive(Debug)]
struct SpinJudge {
    /// One bit per recent gap, newest lowest: 1 if it was at most [`SHORT_GAP`].
    short_gaps: u16,
    drained_at: Option<Instant>,
}

impl Default for SpinJudge {
    /// Starts by spinning: the first exchanges of a ping-pong are fast too.
    fn default() -> Self {
        Self {
            short_gaps: u16::MAX,
            drained_at: None,
        }
    }
}

impl SpinJudge {
    /// Traffic arrived at `now`.
    fn on_traffic(&mut self, now: Instant) {
        if let Some(drained) = self.drained_at {
            let short = now.saturating_duration_since(drained) <= SHORT_GAP;
            self.short_gaps = self.short_gaps << 1 | u16::from(short);
        }
    }

    /// The traffic was processed by `now`.
    fn on_drained(&mut self, now: Instant) {
        self.drained_at = Some(now);
    }

    fn worth_it(&self) -> bool {
        self.short_gaps.count_ones() >= SPIN_WORTH
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spinning_stops_when_gaps_are_long_and_resumes_when_short() {
        let t0 = Instant::now();
        let mut judge = SpinJudge::default();
        assert!(judge.worth_it(), "a fresh thread spins");
        let mut at = t0;
        let mut gap = |judge: &mut SpinJudge, us: u64| {
            judge.on_drained(at);
            at += Duration::from_micros(us);
            judge.on_traffic(at);
        };
        for _ in 0..4 {
            gap(&mut judge, 300);
        }
        assert!(judge.worth_it(), "four long gaps of sixteen are tolerated");
        gap(&mut judge, 300);
        assert!(!judge.worth_it(), "five are not");
        for _ in 0..11 {
            gap(&mut judge, 20);
        }
        assert!(!judge.worth_it());
        gap(&mut judge, 20);
        assert!(judge.worth_it(), "twelve short gaps of sixteen");
    }
}

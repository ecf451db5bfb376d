//! An I/O thread: one epoll (mio) over the sockets of many endpoints, and
//! one timer heap keyed by each endpoint's next deadline. It sleeps until a
//! socket is readable, a deadline passes or an application thread asks for
//! an earlier deadline; with nothing due it sleeps without a timeout, so
//! idle sessions cost no CPU.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::os::fd::AsRawFd;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::clock;
use super::shared::Shared;
use super::sys::{RecvBatch, SendBatch};

const WAKER: Token = Token(usize::MAX);

/// How long the I/O thread waits for room in a full socket buffer: short,
/// because every other socket waits meanwhile.
const DRIVER_SEND_PATIENCE_MS: i32 = 5;

/// How long the I/O thread keeps polling without sleeping after traffic.
/// Measured on the echo benchmark: 64-byte round trips fall from ~80 us to
/// ~20-40 us; the price is at most this much spinning after each burst,
/// and nothing at all while sessions are idle.
const BUSY_POLL: Duration = Duration::from_micros(100);

/// Batches read from one socket before the others get a turn.
const FAIRNESS_BATCHES: usize = 16;

enum Command {
    Add(Arc<Shared>),
    Arm(usize, u64),
    Retire(usize),
}

/// How other threads talk to an I/O thread.
pub(crate) struct DriverHandle {
    commands: Mutex<Vec<Command>>,
    waker: Waker,
}

impl DriverHandle {
    fn send(&self, command: Command) {
        let first = {
            let mut commands = self.commands.lock().unwrap_or_else(|e| e.into_inner());
            commands.push(command);
            commands.len() == 1
        };
        // One wake-up per batch of commands is enough: the thread drains them all.
        if first {
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
}

/// Starts an I/O thread.
pub(crate) fn spawn(name: String) -> std::io::Result<Arc<DriverHandle>> {
    let poll = Poll::new()?;
    let waker = Waker::new(poll.registry(), WAKER)?;
    let handle = Arc::new(DriverHandle {
        commands: Mutex::new(Vec::new()),
        waker,
    });
    let theirs = handle.clone();
    std::thread::Builder::new()
        .name(name)
        .spawn(move || Driver::new(poll, theirs).run())?;
    Ok(handle)
}

struct Driver {
    poll: Poll,
    handle: Arc<DriverHandle>,
    endpoints: HashMap<usize, Arc<Shared>>,
    timers: BinaryHeap<Reverse<(u64, usize)>>,
    rx: RecvBatch,
    tx: SendBatch,
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
        }
    }

    fn run(mut self) {
        let mut events = Events::with_capacity(256);
        let mut ready = Vec::new();
        // When the last datagram arrived: right after traffic, poll without
        // sleeping for a moment, since the next datagram (a reply, the next
        // of a burst) usually follows within microseconds and a sleeping
        // thread costs far more than that to wake.
        let mut busy_until: Option<Instant> = None;
        loop {
            self.take_commands();
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
            ready.extend(events.iter().map(|e| e.token().0).filter(|&t| t != WAKER.0));
            if !ready.is_empty() {
                busy_until = Some(Instant::now() + BUSY_POLL);
            }
            // Read every ready socket in turns until all are drained.
            while !ready.is_empty() {
                ready.retain(|&token| self.receive(token));
            }
            self.run_timers();
        }
    }

    fn take_commands(&mut self) {
        let commands = std::mem::take(
            &mut *self
                .handle
                .commands
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for command in commands {
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
                Command::Retire(token) => {
                    if let Some(shared) = self.endpoints.remove(&token) {
                        let fd = shared.socket.as_raw_fd();
                        let _ = self.poll.registry().deregister(&mut SourceFd(&fd));
                    }
                }
            }
        }
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
            let drained = n < super::sys::BATCH;
            let mut inner = shared.lock();
            let rx = &mut self.rx;
            shared.run_with(&mut inner, &mut self.tx, |ep, now, out| {
                for i in 0..n {
                    if let Some((from, datagram)) = rx.get(i) {
                        ep.handle_datagram(now, from, datagram, out);
                    }
                }
                ep.flush_input(now, out);
                ep.handle_timeout(now, out);
            });
            // Wake the application first: it runs on the other core while
            // this thread sends the ACKs.
            shared.release(inner);
            self.tx.send(fd, DRIVER_SEND_PATIENCE_MS);
            if drained {
                return false;
            }
        }
        true
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
            shared.run_with(&mut inner, &mut self.tx, |ep, now, out| {
                ep.handle_timeout(now, out)
            });
            shared.release(inner);
            self.tx
                .send(shared.socket.as_raw_fd(), DRIVER_SEND_PATIENCE_MS);
        }
    }
}

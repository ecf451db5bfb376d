//! A deterministic network simulator with a virtual clock, for tests and
//! benchmarks: per-direction loss, delay, jitter, reordering, duplication and
//! corruption, all drawn from a seeded generator so every run repeats exactly.
//!
//! The generator and the link model are simple enough to re-implement in C
//! (`examples-c/latency.c` does), so the C demo and the Rust benchmark agree
//! to the datagram for the same seed.

use std::collections::VecDeque;
use std::ops::Range;

use crate::arq::Arq;

/// SplitMix64: small, fast, and identical in every language.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u32) -> u32 {
        (self.next_u64() % u64::from(n.max(1))) as u32
    }

    /// True with probability `p` (0.0..=1.0).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && ((self.next_u64() >> 11) as f64) / ((1u64 << 53) as f64) < p
    }
}

/// How one direction of a link misbehaves.
#[derive(Debug, Clone)]
pub struct LinkConfig {
    /// Probability that a datagram is dropped.
    pub loss: f64,
    /// One-way delay in ms, drawn uniformly from this range.
    pub delay: Range<u32>,
    /// First in, first out: a datagram never overtakes an earlier one (it
    /// waits behind it, as on a real queue). Off, jitter reorders datagrams.
    pub fifo: bool,
    /// Probability that a datagram is delivered twice.
    pub duplicate: f64,
    /// Probability that a datagram has one byte damaged in flight.
    pub corrupt: f64,
    /// A bottleneck with a small buffer in front of the delay, such as a
    /// receiver's socket buffer: `None` (the default) serves any rate.
    pub bottleneck: Option<Bottleneck>,
}

/// A queue served at a fixed rate that drops what does not fit (tail drop),
/// the way a full socket buffer or router queue drops a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bottleneck {
    /// Datagrams served per millisecond.
    pub per_ms: u32,
    /// Datagrams that may wait for service; more are dropped.
    pub queue: u32,
}

impl LinkConfig {
    /// A perfect link with a fixed delay.
    pub fn ideal(delay_ms: u32) -> Self {
        Self {
            loss: 0.0,
            delay: delay_ms..delay_ms + 1,
            fifo: true,
            duplicate: 0.0,
            corrupt: 0.0,
            bottleneck: None,
        }
    }
}

/// What a link did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LinkStats {
    /// Datagrams offered.
    pub sent: u64,
    /// Bytes of the datagrams offered.
    pub sent_bytes: u64,
    /// Datagrams dropped (at random, or by a full bottleneck queue).
    pub dropped: u64,
    /// Of those, dropped by a full bottleneck queue.
    pub overflowed: u64,
    /// Extra copies delivered.
    pub duplicated: u64,
    /// Datagrams damaged.
    pub corrupted: u64,
}

/// A datagram in flight.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// Virtual time it was sent.
    pub sent: u32,
    /// Virtual time of arrival.
    pub at: u32,
    /// The bytes.
    pub data: Vec<u8>,
    /// True if the link damaged it. A real stack's checksum (UDP's, or
    /// kcp-go's crc32) would catch it; the receiver decides what to do.
    pub corrupted: bool,
}

/// One direction of a simulated network path.
#[derive(Debug)]
pub struct Link {
    config: LinkConfig,
    rng: Rng,
    /// Sorted by arrival time (stable for equal times).
    queue: VecDeque<Datagram>,
    stats: LinkStats,
    /// Bottleneck work still to do, in microseconds, as of `last_send`.
    backlog_us: u64,
    last_send: u32,
}

impl Link {
    /// A link drawing its randomness from `seed`.
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        Self {
            config,
            rng: Rng::new(seed),
            queue: VecDeque::new(),
            stats: LinkStats::default(),
            backlog_us: 0,
            last_send: 0,
        }
    }

    /// What the link has done so far.
    pub fn stats(&self) -> LinkStats {
        self.stats
    }

    /// Datagrams in flight.
    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }

    /// Offers a datagram at time `now`.
    pub fn send(&mut self, now: u32, data: &[u8]) {
        self.stats.sent += 1;
        self.stats.sent_bytes += data.len() as u64;
        if self.rng.chance(self.config.loss) {
            self.stats.dropped += 1;
            return;
        }
        let queued_ms = match self.config.bottleneck {
            None => 0,
            Some(b) => match self.serve(now, b) {
                Some(wait) => wait,
                None => {
                    self.stats.dropped += 1;
                    self.stats.overflowed += 1;
                    return;
                }
            },
        };
        let copies = if self.rng.chance(self.config.duplicate) {
            2
        } else {
            1
        };
        for _ in 0..copies {
            let span = self
                .config
                .delay
                .end
                .saturating_sub(self.config.delay.start);
            let delay = self.config.delay.start + self.rng.below(span) + queued_ms;
            let mut packet = Datagram {
                sent: now,
                at: now.wrapping_add(delay),
                data: data.to_vec(),
                corrupted: false,
            };
            if self.rng.chance(self.config.corrupt) && !packet.data.is_empty() {
                let i = self.rng.below(packet.data.len() as u32) as usize;
                packet.data[i] ^= 1 << self.rng.below(8);
                packet.corrupted = true;
                self.stats.corrupted += 1;
            }
            self.enqueue(packet);
        }
        if copies == 2 {
            self.stats.duplicated += 1;
        }
    }

    /// Queues a datagram at the bottleneck: how long it waits there, in
    /// whole ms, or `None` if the queue is full.
    fn serve(&mut self, now: u32, b: Bottleneck) -> Option<u32> {
        let service_us = 1000 / u64::from(b.per_ms.max(1));
        let elapsed_ms = u64::from(now.wrapping_sub(self.last_send));
        self.last_send = now;
        self.backlog_us = self.backlog_us.saturating_sub(elapsed_ms * 1000);
        if self.backlog_us >= u64::from(b.queue) * service_us {
            return None;
        }
        self.backlog_us += service_us;
        Some(self.backlog_us.div_ceil(1000) as u32)
    }

    fn enqueue(&mut self, mut packet: Datagram) {
        let before = |a: u32, b: u32| (a.wrapping_sub(b) as i32) < 0;
        if self.config.fifo {
            if let Some(last) = self.queue.back() {
                if before(packet.at, last.at) {
                    packet.at = last.at;
                }
            }
            self.queue.push_back(packet);
            return;
        }
        let mut i = self.queue.len();
        while i > 0 && before(packet.at, self.queue[i - 1].at) {
            i -= 1;
        }
        self.queue.insert(i, packet);
    }

    /// The next datagram due at or before `now`.
    pub fn recv(&mut self, now: u32) -> Option<Datagram> {
        let front = self.queue.front()?;
        if (now.wrapping_sub(front.at) as i32) < 0 {
            return None;
        }
        self.queue.pop_front()
    }
}

/// Two ARQ engines joined by two links, stepped one virtual millisecond at a time.
#[derive(Debug)]
pub struct Pair {
    /// Virtual time in ms.
    pub now: u32,
    /// The first engine.
    pub a: Arq,
    /// The second engine.
    pub b: Arq,
    /// The path from `a` to `b`.
    pub a_to_b: Link,
    /// The path from `b` to `a`.
    pub b_to_a: Link,
    /// Damaged datagrams dropped by the receivers' stand-in checksum.
    pub checksum_drops: u64,
}

impl Pair {
    /// Joins two engines, starting the clock at `now`.
    pub fn new(now: u32, a: Arq, b: Arq, a_to_b: Link, b_to_a: Link) -> Self {
        Self {
            now,
            a,
            b,
            a_to_b,
            b_to_a,
            checksum_drops: 0,
        }
    }

    /// Advances the clock by one millisecond: delivers due datagrams, then
    /// runs each engine's `update`.
    pub fn step(&mut self) {
        self.now = self.now.wrapping_add(1);
        let now = self.now;
        while let Some(d) = self.a_to_b.recv(now) {
            self.checksum_drops += u64::from(deliver(&mut self.b, now, d));
        }
        while let Some(d) = self.b_to_a.recv(now) {
            self.checksum_drops += u64::from(deliver(&mut self.a, now, d));
        }
        let link = &mut self.a_to_b;
        self.a.update(now, &mut |d: &mut [u8]| link.send(now, d));
        let link = &mut self.b_to_a;
        self.b.update(now, &mut |d: &mut [u8]| link.send(now, d));
    }
}

/// Feeds a datagram to an engine unless it was damaged; returns true if dropped.
fn deliver(arq: &mut Arq, now: u32, d: Datagram) -> bool {
    if d.corrupted {
        return true;
    }
    // Undamaged datagrams from a well-behaved peer are always valid.
    let accepted = arq.input(now, &d.data);
    debug_assert!(accepted.is_ok(), "valid datagram refused: {accepted:?}");
    false
}

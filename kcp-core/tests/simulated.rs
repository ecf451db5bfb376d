//! Whole conversations over the deterministic simulator: for random network
//! conditions, engine settings and seeds, every message arrives exactly once,
//! intact and in order (message mode), or as the exact byte stream (stream mode).

use kcp_core::sim::{Link, LinkConfig, Pair};
use kcp_core::{Arq, Recovery};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Net {
    loss: f64,
    delay: u32,
    jitter: u32,
    fifo: bool,
    duplicate: f64,
    corrupt: f64,
}

impl Net {
    fn link(&self, seed: u64) -> Link {
        let config = LinkConfig {
            loss: self.loss,
            delay: self.delay..self.delay + self.jitter + 1,
            fifo: self.fifo,
            duplicate: self.duplicate,
            corrupt: self.corrupt,
            bottleneck: None,
        };
        Link::new(config, seed)
    }
}

#[derive(Debug, Clone)]
struct Engine {
    nodelay: u32,
    interval: u32,
    resend: u32,
    nc: bool,
    recovery: Recovery,
    snd_wnd: u32,
    /// Budgeted redundancy in percent (only the improved recovery copies).
    redundancy: u32,
}

#[derive(Debug, Clone)]
struct Scenario {
    there: Net,
    back: Net,
    a: Engine,
    b: Engine,
    rcv_wnd: u32,
    mtu: usize,
    stream: bool,
    /// Sizes of the messages each side sends, as fractions of the largest allowed.
    a_sends: Vec<f64>,
    b_sends: Vec<f64>,
    /// The receiving application reads only every this many ms.
    read_every: u32,
    seed: u64,
    start_time: u32,
    a_first_sn: u32,
    b_first_sn: u32,
}

fn net() -> impl Strategy<Value = Net> {
    (
        0.0..0.3f64,
        1..80u32,
        0..60u32,
        any::<bool>(),
        0.0..0.1f64,
        0.0..0.1f64,
    )
        .prop_map(|(loss, delay, jitter, fifo, duplicate, corrupt)| Net {
            loss,
            delay,
            jitter,
            fifo,
            duplicate,
            corrupt,
        })
}

fn engine() -> impl Strategy<Value = Engine> {
    (
        0..=2u32,
        10..=100u32,
        0..=3u32,
        any::<bool>(),
        any::<bool>(),
        2..=256u32,
        prop_oneof![Just(0u32), Just(50), Just(100), Just(300)],
    )
        .prop_map(
            |(nodelay, interval, resend, nc, improved, snd_wnd, redundancy)| Engine {
                nodelay,
                interval,
                resend,
                nc,
                recovery: if improved {
                    Recovery::Improved
                } else {
                    Recovery::Classic
                },
                snd_wnd,
                redundancy,
            },
        )
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        (net(), net(), engine(), engine()),
        (4..=256u32, 100..=1500usize, any::<bool>()),
        (
            prop::collection::vec(0.0..1.0f64, 1..40),
            prop::collection::vec(0.0..1.0f64, 0..20),
        ),
        (
            0..300u32,
            any::<u64>(),
            0..200_000u32,
            0..2000u32,
            0..2000u32,
        ),
    )
        .prop_map(
            |(
                (there, back, a, b),
                (rcv_wnd, mtu, stream),
                (a_sends, b_sends),
                (read_every, seed, t, sa, sb),
            )| {
                Scenario {
                    there,
                    back,
                    a,
                    b,
                    rcv_wnd,
                    mtu,
                    stream,
                    a_sends,
                    b_sends,
                    read_every,
                    seed,
                    // Start the clock and both sequence spaces just below 2^32.
                    start_time: u32::MAX - t,
                    a_first_sn: u32::MAX - sa,
                    b_first_sn: u32::MAX - sb,
                }
            },
        )
}

impl Scenario {
    /// The receive window both ends use. ikcp never runs below 128 (its
    /// `ikcp_wndsize` raises smaller values) and assumes 128 for the peer
    /// until it speaks, so classic engines get at least that.
    fn rcv_wnd(&self) -> u32 {
        if self.a.recovery == Recovery::Classic || self.b.recovery == Recovery::Classic {
            self.rcv_wnd.max(128)
        } else {
            self.rcv_wnd
        }
    }
}

fn build(e: &Engine, s: &Scenario) -> Arq {
    let mut arq = Arq::new(0xC0FFEE);
    arq.set_mtu(s.mtu).unwrap();
    arq.set_window(e.snd_wnd, s.rcv_wnd()).unwrap();
    arq.set_nodelay(
        Some(e.nodelay),
        Some(e.interval),
        Some(e.resend),
        Some(e.nc),
    );
    arq.set_recovery(e.recovery);
    arq.set_redundancy(e.redundancy);
    arq.set_stream(s.stream);
    arq
}

/// Message `i` of `len` bytes: recognisable, and different for every index.
fn message(side: u8, i: usize, len: usize) -> Vec<u8> {
    (0..len).map(|j| (i * 131 + j * 7) as u8 ^ side).collect()
}

struct Receiver {
    expected: Vec<Vec<u8>>,
    got_messages: Vec<Vec<u8>>,
    got_bytes: Vec<u8>,
    buf: Vec<u8>,
}

impl Receiver {
    fn new(expected: Vec<Vec<u8>>, cap: usize) -> Self {
        Self {
            expected,
            got_messages: Vec::new(),
            got_bytes: Vec::new(),
            buf: vec![0; cap],
        }
    }

    fn read(&mut self, arq: &mut Arq) {
        while let Ok(n) = arq.recv(&mut self.buf) {
            if arq.is_stream() {
                if n == 0 {
                    break;
                }
                self.got_bytes.extend_from_slice(&self.buf[..n]);
            } else {
                self.got_messages.push(self.buf[..n].to_vec());
            }
        }
    }

    fn done(&self, stream: bool) -> bool {
        if stream {
            self.got_bytes.len() >= self.expected.iter().map(Vec::len).sum()
        } else {
            self.got_messages.len() >= self.expected.len()
        }
    }
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let mut a = build(&s.a, s);
    let mut b = build(&s.b, s);
    a.set_initial_sequence(s.a_first_sn, s.b_first_sn).unwrap();
    b.set_initial_sequence(s.b_first_sn, s.a_first_sn).unwrap();
    let largest = a.mss() * (s.rcv_wnd().min(255) as usize);
    let sizes = |fractions: &[f64]| -> Vec<usize> {
        // Mostly small messages, some up to the largest the window allows;
        // at most 300 segments' worth in all, so that even classic ikcp
        // behaviour at 30% loss with a collapsed window finishes in the horizon.
        let sizes: Vec<f64> = fractions
            .iter()
            .map(|f| f * f * f * largest as f64)
            .collect();
        let budget = 300.0 * a.mss() as f64;
        let scale = (budget / sizes.iter().sum::<f64>().max(1.0)).min(1.0);
        sizes.iter().map(|n| (n * scale) as usize).collect()
    };
    let a_msgs: Vec<Vec<u8>> = sizes(&s.a_sends)
        .iter()
        .enumerate()
        .map(|(i, &n)| message(1, i, n))
        .collect();
    let b_msgs: Vec<Vec<u8>> = sizes(&s.b_sends)
        .iter()
        .enumerate()
        .map(|(i, &n)| message(2, i, n))
        .collect();
    for m in &a_msgs {
        prop_assert_eq!(a.send(m), Ok(m.len()));
    }
    for m in &b_msgs {
        prop_assert_eq!(b.send(m), Ok(m.len()));
    }
    let mut at_b = Receiver::new(a_msgs, largest.max(1));
    let mut at_a = Receiver::new(b_msgs, largest.max(1));
    let mut pair = Pair::new(
        s.start_time,
        a,
        b,
        s.there.link(s.seed.wrapping_mul(2)),
        s.back.link(s.seed.wrapping_mul(2).wrapping_add(1)),
    );
    // Thirty virtual minutes: classic ikcp at 30% loss with congestion
    // control and nodelay 0 crawls (a doubling RTO, a window of one), but
    // it must still finish.
    for ms in 0..1_800_000u32 {
        pair.step();
        if s.read_every == 0 || ms % s.read_every == 0 {
            at_b.read(&mut pair.b);
        }
        at_a.read(&mut pair.a);
        if at_b.done(s.stream) && at_a.done(s.stream) {
            break;
        }
        prop_assert!(
            !pair.a.is_dead() && !pair.b.is_dead(),
            "link declared dead at {ms} ms"
        );
    }
    for r in [&at_b, &at_a] {
        if s.stream {
            prop_assert_eq!(&r.got_bytes, &r.expected.concat());
        } else {
            prop_assert_eq!(r.got_messages.len(), r.expected.len());
            for (got, want) in r.got_messages.iter().zip(&r.expected) {
                prop_assert_eq!(got, want);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_message_arrives_exactly_once_intact_and_in_order(s in scenario()) {
        run(&s)?;
    }

    /// A receiver that reads rarely through a tiny window: the sender sees a
    /// zero window and must probe (WASK/WINS) to go on.
    #[test]
    fn a_closed_window_reopens(seed in any::<u64>(), read_every in 500..3000u32, stream in any::<bool>()) {
        let quiet = Net { loss: 0.05, delay: 20, jitter: 10, fifo: true, duplicate: 0.0, corrupt: 0.0 };
        let e = Engine { nodelay: 1, interval: 20, resend: 2, nc: true, recovery: Recovery::Improved, snd_wnd: 64, redundancy: 50 };
        let s = Scenario {
            there: quiet.clone(),
            back: quiet,
            a: e.clone(),
            b: e,
            rcv_wnd: 4,
            mtu: 200,
            stream,
            a_sends: vec![0.1; 40],
            b_sends: vec![],
            read_every,
            seed,
            start_time: u32::MAX - 1000,
            a_first_sn: u32::MAX - 10,
            b_first_sn: 0,
        };
        run(&s)?;
    }
}

#[test]
fn a_lost_window_update_is_recovered_by_probing() {
    let mut a = Arq::new(1);
    let mut b = Arq::new(1);
    b.set_window(32, 2).unwrap();
    for x in [&mut a, &mut b] {
        x.set_nodelay(Some(1), Some(10), Some(2), Some(true));
    }
    for i in 0..2u8 {
        a.send(&[i; 10]).unwrap();
    }
    let ideal = || Link::new(LinkConfig::ideal(5), 1);
    let mut pair = Pair::new(0, a, b, ideal(), ideal());
    for _ in 0..1000 {
        pair.step();
    }
    assert_eq!(
        pair.a.remote_window(),
        0,
        "b's window is full and nobody reads"
    );
    assert_eq!(pair.a.wait_snd(), 0);
    // Nothing is in flight now: only a probe can learn that the window reopens.
    for i in 2..6u8 {
        pair.a.send(&[i; 10]).unwrap();
    }
    // b reads, but its window update is lost: without probing, a would wait forever.
    pair.b_to_a = Link::new(
        LinkConfig {
            loss: 1.0,
            ..LinkConfig::ideal(5)
        },
        2,
    );
    let mut buf = [0u8; 10];
    let mut got = Vec::new();
    while let Ok(10) = pair.b.recv(&mut buf) {
        got.push(buf[0]);
    }
    for _ in 0..100 {
        pair.step();
    }
    pair.b_to_a = ideal();
    let mut waited = 0;
    while got.len() < 6 && waited < 30_000 {
        pair.step();
        waited += 1;
        while let Ok(10) = pair.b.recv(&mut buf) {
            got.push(buf[0]);
        }
    }
    assert_eq!(got, [0, 1, 2, 3, 4, 5]);
    // The first probe goes out 7 s after the window closed.
    assert!(
        waited > 5_000,
        "recovered after {waited} ms: by probing, not by chance"
    );
}

//! Budgeted redundancy (issue 8, item 3), in the simulator: a game's tick
//! stream through 5% loss each way. Copies must cut the tail latency while
//! adding at most 10% datagrams and 50% bytes, ride only in datagrams that
//! leave anyway, repeat a transmission exactly, and cost nothing on a clean
//! path.

use std::collections::HashMap;

use kcp_core::sim::{Link, LinkConfig};
use kcp_core::wire::{segments, Command};
use kcp_core::{Arq, Recovery};

/// Echoes measured per run.
const ECHOES: usize = 500;

#[derive(Debug, Default)]
struct Outcome {
    avg_rtt: f64,
    /// The 99th-percentile RTT in ms.
    p99_rtt: u32,
    datagrams: u64,
    bytes: u64,
    copies: u64,
    /// Datagrams made only of copies (and the ACKs any flush carries).
    copies_alone: u64,
    /// Copies that differ from the transmission they repeat.
    copies_altered: u64,
}

fn engine(redundancy: u32) -> Arq {
    let mut arq = Arq::new(0x0bad_cafe);
    arq.set_nodelay(Some(1), Some(10), Some(2), Some(true));
    arq.set_window(128, 128).unwrap();
    arq.set_recovery(Recovery::Improved);
    arq.set_redundancy(redundancy);
    arq
}

/// Watches one direction's datagrams: which PUSH segments repeat an
/// earlier transmission with the same `ts` (a copy), whether a copy is
/// byte-identical, and whether a datagram carries nothing but copies.
#[derive(Default)]
struct Watch {
    /// sn -> (ts, data) of its latest transmission that was not a copy.
    sent: HashMap<u32, (u32, Vec<u8>)>,
    copies_alone: u64,
    copies_altered: u64,
}

impl Watch {
    fn see(&mut self, datagram: &[u8]) {
        let (mut copies, mut others) = (0, 0);
        for (h, data) in segments(datagram).flatten() {
            if h.cmd != Command::Push {
                continue;
            }
            match self.sent.get(&h.sn) {
                Some((ts, original)) if *ts == h.ts => {
                    copies += 1;
                    if original != data {
                        self.copies_altered += 1;
                    }
                }
                _ => {
                    others += 1;
                    self.sent.insert(h.sn, (h.ts, data.to_vec()));
                }
            }
        }
        if copies > 0 && others == 0 && !has_ack(datagram) {
            self.copies_alone += 1;
        }
    }
}

fn has_ack(datagram: &[u8]) -> bool {
    segments(datagram)
        .flatten()
        .any(|(h, _)| h.cmd == Command::Ack)
}

/// `a` sends an 8-byte message (index, send time) every 20 ms; `b` echoes
/// it. One-way delay 20..30 ms, `loss` each way.
fn tick_stream(redundancy: u32, loss: f64, seed: u64) -> Outcome {
    let link = LinkConfig {
        loss,
        delay: 20..31,
        fifo: true,
        ..LinkConfig::ideal(20)
    };
    let (mut a, mut b) = (engine(redundancy), engine(redundancy));
    let mut a_to_b = Link::new(link.clone(), seed * 2 + 1);
    let mut b_to_a = Link::new(link, seed * 2 + 2);
    let (mut watch_a, mut watch_b) = (Watch::default(), Watch::default());
    let mut rtts = Vec::with_capacity(ECHOES);
    let mut buf = [0u8; 64];
    let (mut now, mut next_send, mut index) = (1u32, 20u32, 0u32);
    while rtts.len() < ECHOES {
        now += 1;
        a.update(now, &mut |d: &mut [u8]| {
            watch_a.see(d);
            a_to_b.send(now, d);
        });
        b.update(now, &mut |d: &mut [u8]| {
            watch_b.see(d);
            b_to_a.send(now, d);
        });
        if now >= next_send {
            let mut msg = [0u8; 8];
            msg[..4].copy_from_slice(&index.to_le_bytes());
            msg[4..].copy_from_slice(&now.to_le_bytes());
            a.send(&msg).unwrap();
            index += 1;
            next_send += 20;
        }
        while let Some(d) = a_to_b.recv(now) {
            b.input(now, &d.data).unwrap();
        }
        while let Some(d) = b_to_a.recv(now) {
            a.input(now, &d.data).unwrap();
        }
        while let Ok(n) = b.recv(&mut buf) {
            let echo = buf;
            b.send(&echo[..n]).unwrap();
        }
        while let Ok(n) = a.recv(&mut buf) {
            assert_eq!(n, 8);
            let i = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]);
            assert_eq!(i as usize, rtts.len(), "echoes arrive in order, intact");
            let sent = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
            rtts.push(now - sent);
        }
        assert!(now < 1_000_000, "the stream stalled");
    }
    let mut sorted = rtts.clone();
    sorted.sort_unstable();
    Outcome {
        avg_rtt: rtts.iter().map(|&r| f64::from(r)).sum::<f64>() / rtts.len() as f64,
        p99_rtt: sorted[sorted.len() * 99 / 100],
        datagrams: a_to_b.stats().sent + b_to_a.stats().sent,
        bytes: a_to_b.stats().sent_bytes + b_to_a.stats().sent_bytes,
        copies: a.stats().redundant_segments + b.stats().redundant_segments,
        copies_alone: watch_a.copies_alone + watch_b.copies_alone,
        copies_altered: watch_a.copies_altered + watch_b.copies_altered,
    }
}

#[test]
fn copies_cut_the_tail_within_the_budget() {
    let (mut plain, mut redundant) = (Outcome::default(), Outcome::default());
    for seed in 0..8 {
        let p = tick_stream(0, 0.05, seed);
        let r = tick_stream(50, 0.05, seed);
        assert_eq!(p.copies, 0);
        assert!(r.copies > 0, "seed {seed}: no copies under 5% loss");
        assert_eq!((r.copies_alone, r.copies_altered), (0, 0), "seed {seed}");
        plain.avg_rtt += p.avg_rtt / 8.0;
        redundant.avg_rtt += r.avg_rtt / 8.0;
        plain.p99_rtt += p.p99_rtt;
        redundant.p99_rtt += r.p99_rtt;
        plain.datagrams += p.datagrams;
        redundant.datagrams += r.datagrams;
        plain.bytes += p.bytes;
        redundant.bytes += r.bytes;
    }
    let ratio = |a: u64, b: u64| a as f64 / b as f64;
    let (datagrams, bytes) = (
        ratio(redundant.datagrams, plain.datagrams),
        ratio(redundant.bytes, plain.bytes),
    );
    let summary = format!(
        "avg {:.1} -> {:.1} ms, p99 (sum of 8) {} -> {}, datagrams x{datagrams:.3}, bytes x{bytes:.3}",
        plain.avg_rtt, redundant.avg_rtt, plain.p99_rtt, redundant.p99_rtt
    );
    eprintln!("{summary}");
    assert!(
        f64::from(redundant.p99_rtt) < 0.8 * f64::from(plain.p99_rtt),
        "{summary}"
    );
    assert!(redundant.avg_rtt < plain.avg_rtt, "{summary}");
    assert!(datagrams <= 1.1, "{summary}");
    assert!(bytes <= 1.5, "{summary}");
}

#[test]
fn a_clean_path_sends_no_copies_and_the_same_bytes() {
    for seed in 0..3 {
        let p = tick_stream(0, 0.0, seed);
        let r = tick_stream(50, 0.0, seed);
        assert_eq!(r.copies, 0, "no loss seen, so no copies");
        assert_eq!((r.datagrams, r.bytes), (p.datagrams, p.bytes));
    }
}

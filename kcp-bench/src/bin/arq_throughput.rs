//! In-memory ARQ throughput, for spotting regressions. Prints JSON.
//!
//! - `bulk`: two engines joined directly (each output is the other's input),
//!   1300-byte messages, windows 1024, nodelay 1/10/2/1: MB/s delivered.
//! - `input_flush`: one long-lived receiver fed ready-made datagrams (a
//!   window's worth per pass, renumbered each pass), then flushing its ACKs
//!   and reading the data: segments/s for small and full segments.
//!
//! Usage: `arq_throughput [SECONDS_PER_CASE]` (default 2).

use std::time::{Duration, Instant};

use kcp_bench::json::{array, Object};
use kcp_core::wire::{segments, HEADER_LEN};
use kcp_core::Arq;

fn engine() -> Arq {
    let mut arq = Arq::new(0x5eed);
    arq.set_window(1024, 1024).expect("valid window");
    arq.set_nodelay(Some(1), Some(10), Some(2), Some(true));
    arq
}

fn bulk(budget: Duration, message: usize) -> String {
    let (mut a, mut b) = (engine(), engine());
    let msg = vec![0x5au8; message];
    let mut buf = vec![0u8; message];
    let mut now = 0u32;
    let mut delivered = 0u64;
    let started = Instant::now();
    let mut rounds = 0u64;
    while started.elapsed() < budget {
        for _ in 0..64 {
            while a.wait_snd() < 2048 {
                a.send(&msg).expect("fits");
            }
            a.flush(now, &mut |d: &mut [u8]| {
                b.input(now, d).expect("valid");
            });
            while let Ok(n) = b.recv(&mut buf) {
                assert!(n == message && buf[0] == 0x5a, "bulk data arrives intact");
                delivered += n as u64;
            }
            b.flush(now, &mut |d: &mut [u8]| {
                a.input(now, d).expect("valid");
            });
            now = now.wrapping_add(1);
            rounds += 1;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    Object::new()
        .str("case", "bulk")
        .num("message_bytes", message as f64)
        .num("mb_per_s", delivered as f64 / secs / 1e6)
        .num("rounds", rounds as f64)
        .num("retransmits", a.stats().retransmits as f64)
        .finish()
}

fn input_flush(budget: Duration, payload: usize) -> String {
    // Pre-build a window's worth of datagrams from a real sender.
    let mut sender = engine();
    let count = 1024usize;
    for i in 0..count {
        let mut m = vec![0u8; payload];
        m[..4.min(payload)].copy_from_slice(&(i as u32).to_le_bytes()[..4.min(payload)]);
        sender.send(&m).expect("fits");
    }
    let mut datagrams = Vec::new();
    sender.flush(0, &mut |d: &mut [u8]| datagrams.push(d.to_vec()));
    // Where each segment's sn sits, so every pass can carry new sequence numbers.
    let mut sn_fields = Vec::new();
    for (i, d) in datagrams.iter().enumerate() {
        let mut offset = 0;
        for (h, _) in segments(d).flatten() {
            sn_fields.push((i, offset + 12, h.sn));
            offset += HEADER_LEN + h.len as usize;
        }
    }
    let segments_per_pass = sn_fields.len() as u64;

    // One receiver throughout, as in a long-lived session: its buffers are warm.
    let mut rx = engine();
    let mut buf = vec![0u8; payload.max(1)];
    let mut segments_done = 0u64;
    let mut base = 0u32;
    let started = Instant::now();
    while started.elapsed() < budget {
        for &(i, at, sn) in &sn_fields {
            datagrams[i][at..at + 4].copy_from_slice(&base.wrapping_add(sn).to_le_bytes());
        }
        for d in &datagrams {
            rx.input(1, d).expect("valid");
        }
        rx.flush(1, &mut |d: &mut [u8]| {
            std::hint::black_box(d);
        });
        while rx.recv(&mut buf).is_ok() {}
        segments_done += segments_per_pass;
        base = base.wrapping_add(segments_per_pass as u32);
    }
    let secs = started.elapsed().as_secs_f64();
    Object::new()
        .str("case", "input_flush")
        .num("segment_payload_bytes", payload as f64)
        .num(
            "segments_per_datagram",
            segments_per_pass as f64 / datagrams.len() as f64,
        )
        .num("million_segments_per_s", segments_done as f64 / secs / 1e6)
        .finish()
}

fn main() {
    let secs: f64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(secs);
    let rows = vec![
        bulk(budget, 1300),
        input_flush(budget, 8),
        input_flush(budget, 1376),
    ];
    println!(
        "{}",
        Object::new()
            .str("benchmark", "arq_throughput")
            .raw("results", &array(&rows))
            .finish()
    );
}

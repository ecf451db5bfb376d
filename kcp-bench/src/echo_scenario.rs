//! The reference latency scenario (ikcp's `test.cpp`), in virtual time.
//!
//! Two engines; 10% round-trip loss (5% each way); one-way delay uniform in
//! 30..62 ms; FIFO links; every 20 ms the first engine sends an 8-byte message
//! (index, send time) that the second echoes back; 1000 echoes; windows
//! 128/128. The loop is test.cpp's, one virtual millisecond per turn: update
//! both engines, send what is due, deliver datagrams, echo, receive.
//!
//! Besides the RTTs it splits each echo's time into where it went, by
//! watching the PUSH segments on the links (message `i` is segment `i` in
//! both directions):
//! - `flush_wait`: queued in an engine before its first transmission;
//! - `network`: link delay of the copy that got through (FIFO wait included);
//! - `recovery`: from the first transmission to the one that got through;
//! - `head_of_line`: received, but held behind an earlier missing message.

use kcp_core::sim::{Link, LinkConfig};
use kcp_core::wire::{segments, Command};
use kcp_core::{Arq, Recovery};

/// Engine settings for one run, ikcp `nodelay` style.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    /// Name printed in reports.
    pub name: &'static str,
    /// ikcp `nodelay` (0, 1 or 2).
    pub nodelay: u32,
    /// Flush interval in ms.
    pub interval: u32,
    /// Fast-resend threshold (0 = off).
    pub resend: u32,
    /// Congestion control off.
    pub nc: bool,
    /// RTO floor override.
    pub min_rto: Option<u32>,
    /// Budgeted redundancy in percent (0 = off; improved recovery only).
    pub redundancy: u32,
}

/// nodelay 0, interval 10, resend 0, nc 1.
pub const NORMAL: Mode = Mode {
    name: "normal",
    nodelay: 0,
    interval: 10,
    resend: 0,
    nc: true,
    min_rto: None,
    redundancy: 0,
};
/// nodelay 2, interval 10, resend 2, nc 1, minrto 10.
pub const FAST: Mode = Mode {
    name: "fast",
    nodelay: 2,
    interval: 10,
    resend: 2,
    nc: true,
    min_rto: Some(10),
    redundancy: 0,
};

/// Echoes measured per run.
pub const ECHOES: usize = 1000;
/// Virtual start time: just below 2^32, so every run crosses the wrap.
pub const START: u32 = u32::MAX - 5_000;

/// Where the time of the echoes went, summed over all echoes, in ms.
#[derive(Debug, Clone, Copy, Default)]
pub struct Breakdown {
    /// Waiting for the next flush before the first transmission.
    pub flush_wait: f64,
    /// Link delay of the copies that arrived.
    pub network: f64,
    /// Time spent recovering lost transmissions.
    pub recovery: f64,
    /// Held behind an earlier message.
    pub head_of_line: f64,
}

/// The outcome of one run.
#[derive(Debug, Clone)]
pub struct RunResult {
    /// Mean RTT in ms.
    pub avg_rtt: f64,
    /// Largest RTT in ms.
    pub max_rtt: u32,
    /// Datagrams sent by the first engine.
    pub datagrams_a: u64,
    /// Datagrams sent by the second engine.
    pub datagrams_b: u64,
    /// Bytes of the datagrams both engines sent.
    pub bytes: u64,
    /// Retransmissions by both engines.
    pub retransmits: u64,
    /// Both engines' counters.
    pub stats: [kcp_core::ArqStats; 2],
    /// Mean time per echo, split.
    pub breakdown: Breakdown,
}

/// Link settings of the scenario.
pub fn link_config() -> LinkConfig {
    LinkConfig {
        loss: 0.05,
        delay: 30..62,
        fifo: true,
        duplicate: 0.0,
        corrupt: 0.0,
        bottleneck: None,
    }
}

/// Configures an engine for `mode`.
pub fn configure(arq: &mut Arq, mode: &Mode, recovery: Recovery) {
    arq.set_window(128, 128).expect("128 is a valid window");
    arq.set_nodelay(
        Some(mode.nodelay),
        Some(mode.interval),
        Some(mode.resend),
        Some(mode.nc),
    );
    if let Some(ms) = mode.min_rto {
        arq.set_min_rto(ms);
    }
    arq.set_recovery(recovery);
    arq.set_redundancy(mode.redundancy);
}

/// Per-message timestamps, one direction.
#[derive(Clone, Copy, Default)]
struct Leg {
    queued: Option<u32>,
    first_tx: Option<u32>,
    /// (send time of the copy that arrived, arrival time)
    arrived: Option<(u32, u32)>,
    delivered: Option<u32>,
}

fn record_tx(legs: &mut [Leg], now: u32, datagram: &[u8]) {
    for (h, _) in segments(datagram).flatten() {
        if h.cmd == Command::Push {
            if let Some(leg) = legs.get_mut(h.sn as usize) {
                leg.first_tx.get_or_insert(now);
            }
        }
    }
}

fn record_arrival(legs: &mut [Leg], sent: u32, now: u32, datagram: &[u8]) {
    for (h, _) in segments(datagram).flatten() {
        if h.cmd == Command::Push {
            if let Some(leg) = legs.get_mut(h.sn as usize) {
                leg.arrived.get_or_insert((sent, now));
            }
        }
    }
}

fn leg_breakdown(leg: &Leg, total: &mut Breakdown) {
    let (Some(q), Some(tx), Some((sent, at)), Some(d)) =
        (leg.queued, leg.first_tx, leg.arrived, leg.delivered)
    else {
        return;
    };
    total.flush_wait += f64::from(tx.wrapping_sub(q));
    total.recovery += f64::from(sent.wrapping_sub(tx));
    total.network += f64::from(at.wrapping_sub(sent));
    total.head_of_line += f64::from(d.wrapping_sub(at));
}

/// Runs the scenario once. Deterministic for a given seed.
pub fn run(mode: &Mode, recovery: Recovery, seed: u64) -> RunResult {
    let mut a = Arq::new(0x1122_3344);
    let mut b = Arq::new(0x1122_3344);
    configure(&mut a, mode, recovery);
    configure(&mut b, mode, recovery);
    let mut a_to_b = Link::new(link_config(), seed.wrapping_mul(2).wrapping_add(1));
    let mut b_to_a = Link::new(link_config(), seed.wrapping_mul(2).wrapping_add(2));
    let mut forward = vec![Leg::default(); ECHOES + 64];
    let mut back = vec![Leg::default(); ECHOES + 64];

    let mut now = START;
    let mut next_send = now.wrapping_add(20);
    let (mut index, mut next, mut sum, mut max) = (0u32, 0usize, 0u64, 0u32);
    let mut buf = [0u8; 64];
    let mut bytes = 0u64;
    while next < ECHOES {
        now = now.wrapping_add(1);
        a.update(now, &mut |d: &mut [u8]| {
            record_tx(&mut forward, now, d);
            bytes += d.len() as u64;
            a_to_b.send(now, d);
        });
        b.update(now, &mut |d: &mut [u8]| {
            record_tx(&mut back, now, d);
            bytes += d.len() as u64;
            b_to_a.send(now, d);
        });
        while (now.wrapping_sub(next_send) as i32) >= 0 {
            let mut msg = [0u8; 8];
            msg[..4].copy_from_slice(&index.to_le_bytes());
            msg[4..].copy_from_slice(&now.to_le_bytes());
            a.send(&msg).expect("8 bytes always fit");
            if let Some(leg) = forward.get_mut(index as usize) {
                leg.queued = Some(now);
            }
            index += 1;
            next_send = next_send.wrapping_add(20);
        }
        while let Some(d) = a_to_b.recv(now) {
            record_arrival(&mut forward, d.sent, now, &d.data);
            b.input(now, &d.data).expect("valid datagram");
        }
        while let Some(d) = b_to_a.recv(now) {
            record_arrival(&mut back, d.sent, now, &d.data);
            a.input(now, &d.data).expect("valid datagram");
        }
        while let Ok(n) = b.recv(&mut buf) {
            let i = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            if let Some(leg) = forward.get_mut(i) {
                leg.delivered = Some(now);
            }
            if let Some(leg) = back.get_mut(i) {
                leg.queued = Some(now);
            }
            let msg = buf;
            b.send(&msg[..n]).expect("8 bytes always fit");
        }
        while let Ok(_n) = a.recv(&mut buf) {
            let sn = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
            let ts = u32::from_le_bytes([buf[4], buf[5], buf[6], buf[7]]);
            assert_eq!(sn, next, "echoes arrive in order");
            if let Some(leg) = back.get_mut(sn) {
                leg.delivered = Some(now);
            }
            let rtt = now.wrapping_sub(ts);
            next += 1;
            sum += u64::from(rtt);
            max = max.max(rtt);
        }
    }
    let mut breakdown = Breakdown::default();
    for leg in forward.iter().chain(back.iter()) {
        leg_breakdown(leg, &mut breakdown);
    }
    let n = next as f64;
    breakdown.flush_wait /= n;
    breakdown.network /= n;
    breakdown.recovery /= n;
    breakdown.head_of_line /= n;
    RunResult {
        avg_rtt: sum as f64 / n,
        max_rtt: max,
        datagrams_a: a_to_b.stats().sent,
        datagrams_b: b_to_a.stats().sent,
        bytes,
        retransmits: a.stats().retransmits + b.stats().retransmits,
        stats: [a.stats(), b.stats()],
        breakdown,
    }
}

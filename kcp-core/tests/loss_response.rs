//! How the improved recovery answers loss, in the simulator: a window-sized
//! burst into a small buffer (a receiver's socket buffer at the kernel's
//! default) must not turn into a retransmission livelock, with congestion
//! control on or off (`nc`), while random loss with `nc` must not shrink
//! the window.

use kcp_core::sim::{Bottleneck, Link, LinkConfig, Pair};
use kcp_core::{Arq, Recovery};

const MESSAGE: usize = 1300;

struct Outcome {
    /// Virtual ms until every message was received.
    ms: u32,
    /// Segments the sender transmitted, retransmissions included.
    sent: u64,
    retransmits: u64,
}

/// Sends `messages` messages from `a` to `b` over a 1 ms link whose
/// forward direction has `bottleneck` and `loss`; fast3's settings with `nc`
/// as given and windows of 1024.
fn transfer(
    recovery: Recovery,
    nc: bool,
    messages: usize,
    bottleneck: Option<Bottleneck>,
    loss: f64,
) -> Outcome {
    let engine = || {
        let mut arq = Arq::new(9);
        arq.set_nodelay(Some(1), Some(10), Some(2), Some(nc));
        arq.set_window(1024, 1024).unwrap();
        arq.set_recovery(recovery);
        arq
    };
    let forward = LinkConfig {
        loss,
        bottleneck,
        ..LinkConfig::ideal(1)
    };
    let mut pair = Pair::new(
        0,
        engine(),
        engine(),
        Link::new(forward, 7),
        Link::new(LinkConfig::ideal(1), 8),
    );
    let message = vec![0x5a; MESSAGE];
    let mut queued = 0;
    let mut received = 0;
    let mut buf = vec![0u8; MESSAGE];
    while received < messages {
        // Keep the sender's queue topped up, as a bulk writer does.
        while queued < messages && pair.a.wait_snd() < 2048 {
            pair.a.send(&message).unwrap();
            queued += 1;
        }
        pair.step();
        // As the session runtime does: flush right after input when ACKs
        // are owed or queued data may go.
        let now = pair.now;
        if pair.b.wants_flush(2) {
            let link = &mut pair.b_to_a;
            pair.b.flush(now, &mut |d: &mut [u8]| link.send(now, d));
        }
        if pair.a.wants_flush(2) {
            let link = &mut pair.a_to_b;
            pair.a.flush(now, &mut |d: &mut [u8]| link.send(now, d));
        }
        while let Ok(n) = pair.b.recv(&mut buf) {
            assert_eq!(n, MESSAGE);
            received += 1;
        }
        assert!(pair.now < 120_000, "stalled at {received} of {messages}");
    }
    let stats = pair.a.stats();
    Outcome {
        ms: pair.now,
        sent: stats.out_segments,
        retransmits: stats.retransmits,
    }
}

/// 100 datagrams per ms (~130 MB/s of 1300-byte messages) through a
/// 90-datagram queue: what a 208 KiB socket buffer holds on loopback.
const SMALL_BUFFER: Bottleneck = Bottleneck {
    per_ms: 100,
    queue: 90,
};

/// Before the loss response was bounded, `nc` took 13.6 s here with 55,000
/// retransmissions (each retransmitted window overflowed the queue again);
/// now about 1 s with under 2,000, with or without `nc`. The simulator's
/// ACKs come in 1 ms batches, harsher than loopback, so the bound is loose.
#[test]
fn a_window_burst_into_a_small_buffer_does_not_collapse() {
    let messages = 20_000;
    // The bottleneck alone needs 200 ms for these.
    let floor_ms = (messages / SMALL_BUFFER.per_ms as usize) as u32;
    let outcomes = [true, false].map(|nc| {
        let o = transfer(Recovery::Improved, nc, messages, Some(SMALL_BUFFER), 0.0);
        println!(
            "nc {nc}: {} ms (bottleneck alone {floor_ms}), {} sent, {} retransmitted",
            o.ms, o.sent, o.retransmits
        );
        (nc, o)
    });
    for (nc, o) in outcomes {
        assert!(
            o.ms <= 8 * floor_ms,
            "nc {nc}: {} ms is less than an eighth of the bottleneck's rate",
            o.ms
        );
        assert!(
            o.retransmits * 4 <= messages as u64,
            "nc {nc}: {} retransmissions for {messages} messages",
            o.retransmits
        );
    }
}

/// With `nc`, random loss is not congestion: the improved recovery may
/// bound its retransmission bursts, but must move data at least about as
/// fast as ikcp's own `nc` (classic), which never shrinks the window.
#[test]
fn random_loss_with_nc_is_no_slower_than_ikcps_nc() {
    let messages = 20_000;
    for loss in [0.01, 0.05] {
        let classic = transfer(Recovery::Classic, true, messages, None, loss);
        let improved = transfer(Recovery::Improved, true, messages, None, loss);
        println!(
            "{:.0}% loss: classic {} ms ({} retransmitted), improved {} ms ({} retransmitted)",
            loss * 100.0,
            classic.ms,
            classic.retransmits,
            improved.ms,
            improved.retransmits
        );
        assert!(
            improved.ms * 10 <= classic.ms * 11,
            "{loss}: improved {} ms against classic {} ms",
            improved.ms,
            classic.ms
        );
    }
}

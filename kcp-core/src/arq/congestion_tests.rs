//! The congestion response: a loss never raises the window (improved
//! recovery, any settings), nothing overflows at the extremes, and the
//! bug that made one loss inflate the window.

use proptest::prelude::*;

use super::congestion::Congestion;
use super::segment::{segments, Command};
use super::tests::{deliver, flush_all as flush, update_all as update};
use super::*;

/// The defaults (nodelay 0, resend 0 = fast resend off, congestion control
/// on, improved recovery): a loss found by RACK used to take the window
/// from a handful of segments to 65,538, because the fast-resend branch
/// used resend's "off" sentinel (u32::MAX, capped at 65,535) as a number.
#[test]
fn a_loss_found_by_rack_with_fast_resend_off_does_not_inflate_the_window() {
    let (mut a, mut b) = (Arq::new(1), Arq::new(1));
    let mut now = 0;
    // Grow the window a little over a clean path.
    for i in 0..20u32 {
        a.send(&i.to_le_bytes()).unwrap();
    }
    while a.wait_snd() > 0 {
        let out = update(&mut a, now);
        deliver(&out, &mut b, now + 5);
        deliver(&flush(&mut b, now + 5), &mut a, now + 10);
        now += 100;
    }
    let before = a.cwnd();
    assert!(before > 1);
    // Four segments in one flush; the first is lost, the rest arrive.
    for i in 0..4u32 {
        a.send(&i.to_le_bytes()).unwrap();
    }
    let out = flush(&mut a, now);
    let pushes: Vec<Vec<u8>> = out
        .iter()
        .flat_map(|d| segments(d).flatten().map(|(h, data)| (h, data.to_vec())))
        .filter(|(h, _)| h.cmd == Command::Push)
        .skip(1)
        .map(|(h, data)| {
            let mut one = vec![0u8; segment::HEADER_LEN];
            h.encode(&mut one);
            one.extend_from_slice(&data);
            one
        })
        .collect();
    deliver(&pushes, &mut b, now + 5);
    deliver(&flush(&mut b, now + 5), &mut a, now + 10);
    // RACK finds the first segment lost; the next flush resends it.
    flush(&mut a, now + 10);
    assert_eq!(a.stats().early_retransmits, 1);
    assert!(
        a.cwnd() <= before,
        "a loss raised the window from {before} to {}",
        a.cwnd()
    );
}

prop_compose! {
    fn settings()(
        nodelay in 0u32..=2,
        interval in 10u32..=100,
        resend in 0u32..=4,
        nc in any::<bool>(),
        snd in prop_oneof![1u32..=64, 1u32..=2048],
        rcv in prop_oneof![1u32..=64, 1u32..=2048],
        mtu in prop_oneof![Just(50usize), 50usize..=1500, Just(9000usize)],
        classic in any::<bool>(),
    ) -> (u32, u32, u32, bool, u32, u32, usize, Recovery) {
        let recovery = if classic { Recovery::Classic } else { Recovery::Improved };
        (nodelay, interval, resend, nc, snd, rcv, mtu, recovery)
    }
}

proptest! {
    /// Over a path that drops datagrams by a pattern, for any settings:
    /// in the improved recovery no flush (where losses are answered)
    /// raises the window; in either recovery the window stays within the
    /// wire's bounds and nothing overflows (tests run with overflow checks).
    #[test]
    fn a_loss_never_raises_the_window(
        (nodelay, interval, resend, nc, snd, rcv, mtu, recovery) in settings(),
        forward_loss in any::<u64>(),
        backward_loss in any::<u64>(),
        per_round in 1usize..48,
        rounds in 5u32..40,
    ) {
        let engine = || {
            let mut arq = Arq::new(3);
            arq.set_mtu(mtu).unwrap();
            arq.set_window(snd, rcv).unwrap();
            arq.set_nodelay(Some(nodelay), Some(interval), Some(resend), Some(nc));
            arq.set_recovery(recovery);
            arq
        };
        let (mut a, mut b) = (engine(), engine());
        let message = vec![7u8; a.mss().min(200)];
        let (mut sent, mut dropped) = (0u32, 0u32);
        let mut now = 1u32;
        for _ in 0..rounds {
            for _ in 0..per_round {
                a.send(&message).unwrap();
            }
            for _ in 0..interval.div_ceil(5).max(2) {
                now += 5;
                let before = a.cwnd();
                let out = update(&mut a, now);
                let after = a.cwnd();
                if recovery == Recovery::Improved {
                    prop_assert!(after <= before.max(1), "flush raised cwnd {before} -> {after}");
                }
                prop_assert!(after <= 2 * u32::from(u16::MAX));
                for d in out {
                    sent += 1;
                    if forward_loss >> (sent % 64) & 1 == 0 {
                        b.input(now, &d).unwrap();
                    } else {
                        dropped += 1;
                    }
                }
                let mut buf = vec![0u8; 4096];
                while b.recv(&mut buf).is_ok() {}
                for d in update(&mut b, now) {
                    sent += 1;
                    if backward_loss >> (sent % 64) & 1 == 0 {
                        a.input(now, &d).unwrap();
                    }
                }
            }
        }
        prop_assume!(dropped > 0);
    }

    /// The congestion state alone, driven with arbitrary events at the
    /// extremes of windows and segment sizes: losses never raise the
    /// improved window, and no arithmetic overflows.
    #[test]
    fn congestion_arithmetic_never_overflows(
        events in proptest::collection::vec(
            (0u8..5, any::<u32>(), any::<u32>(), any::<bool>()), 1..200),
        mss in prop_oneof![Just(1usize), 1usize..=1400, Just(MTU_MAX - segment::HEADER_LEN)],
        rmt in prop_oneof![Just(u32::from(u16::MAX)), 1u32..=65_535],
    ) {
        let mut cc = Congestion::default();
        let mut now = 0u32;
        for (kind, x, y, flag) in events {
            now = now.wrapping_add(x % 1000);
            let before = cc.cwnd();
            match kind {
                0 => cc.on_ack(now, y % 2000, Recovery::Improved, x % 4096, flag, y, rmt, mss),
                1 => {
                    cc.on_loss(now, x % 4096, flag, y, x, rmt, flag, mss);
                    prop_assert!(cc.cwnd() <= before.max(1));
                }
                2 => {
                    let _ = cc.window(rmt, flag, Recovery::Improved, mss);
                    if let Some(budget) = cc.budget(x % 4096) {
                        cc.on_sent(budget.min(y % 4096));
                    }
                }
                3 => cc.classic_fast_loss(x, y, mss),
                _ => cc.classic_timeout(x, mss),
            }
            cc.at_least_one(mss);
            prop_assert!(cc.cwnd() >= 1);
        }
    }
}

//! Unit tests of budgeted redundancy and of how a receiver answers repeats.
//! The latency and cost over a lossy path are in `tests/redundancy.rs`.

use super::redundancy::Redundancy;
use super::tests::{deliver, flush_all};
use super::*;

fn pushes(datagrams: &[Vec<u8>]) -> Vec<(SegmentHeader, Vec<u8>)> {
    datagrams
        .iter()
        .flat_map(|d| segments(d).map(|s| s.expect("valid")))
        .filter(|(h, _)| h.cmd == Command::Push)
        .map(|(h, data)| (h, data.to_vec()))
        .collect()
}

fn acks(datagrams: &[Vec<u8>]) -> Vec<u32> {
    datagrams
        .iter()
        .flat_map(|d| segments(d).map(|s| s.expect("valid").0))
        .filter(|h| h.cmd == Command::Ack)
        .map(|h| h.sn)
        .collect()
}

fn engine(recovery: Recovery, redundancy: u32) -> Arq {
    let mut arq = Arq::new(5);
    arq.set_nodelay(Some(1), Some(10), Some(2), Some(true));
    arq.set_recovery(recovery);
    arq.set_redundancy(redundancy);
    arq
}

/// `a` sends messages 0 and 1 (one flush each, 20 ms apart) and both are
/// lost; then the peer's data arrives with a hole, the sign of a lossy
/// path. Returns `a`'s flush at 60 ms, which sends message 2, and every
/// datagram `a` sent before.
fn after_a_hole(recovery: Recovery, redundancy: u32) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut a = engine(recovery, redundancy);
    let mut peer = engine(Recovery::Improved, 0);
    let mut earlier = Vec::new();
    a.send(b"message 0").unwrap();
    earlier.extend(flush_all(&mut a, 0));
    a.send(b"message 1").unwrap();
    earlier.extend(flush_all(&mut a, 20));
    peer.send(b"lost").unwrap();
    flush_all(&mut peer, 30);
    peer.send(b"arrives").unwrap();
    let hole = flush_all(&mut peer, 40);
    deliver(&hole, &mut a, 45);
    a.send(b"message 2").unwrap();
    (flush_all(&mut a, 60), earlier)
}

#[test]
fn a_lossy_path_adds_exact_copies_to_a_datagram_that_leaves_anyway() {
    let (datagrams, earlier) = after_a_hole(Recovery::Improved, 300);
    assert_eq!(
        datagrams.len(),
        1,
        "copies never make a datagram of their own"
    );
    let sent = pushes(&earlier);
    let now = pushes(&datagrams);
    assert_eq!(now[0].0.sn, 2, "the new message first");
    let copies = &now[1..];
    assert_eq!(
        copies.iter().map(|(h, _)| h.sn).collect::<Vec<_>>(),
        [0, 1],
        "oldest first"
    );
    for (copy, original) in copies.iter().zip(&sent) {
        assert_eq!(
            (copy.0.ts, copy.0.frg, &copy.1),
            (original.0.ts, 0, &original.1)
        );
    }
}

#[test]
fn copies_stay_within_the_byte_budget() {
    // Packed so far: two 33-byte messages, then an ACK and message 2 (57
    // bytes), 123 in all. Half of that buys one 33-byte copy, not two.
    let (datagrams, _) = after_a_hole(Recovery::Improved, 50);
    assert_eq!(pushes(&datagrams).len() - 1, 1);
    let (datagrams, _) = after_a_hole(Recovery::Improved, 25);
    assert_eq!(pushes(&datagrams).len() - 1, 0, "30 bytes buy no copy");
    let (datagrams, _) = after_a_hole(Recovery::Improved, 100);
    assert_eq!(pushes(&datagrams).len() - 1, 2);
}

#[test]
fn no_copies_without_a_sign_of_loss_or_in_the_classic_recovery() {
    let mut a = engine(Recovery::Improved, 300);
    a.send(b"message 0").unwrap();
    flush_all(&mut a, 0);
    a.send(b"message 1").unwrap();
    assert_eq!(pushes(&flush_all(&mut a, 20)).len(), 1, "a clean path");
    let (datagrams, _) = after_a_hole(Recovery::Classic, 300);
    assert_eq!(pushes(&datagrams).len(), 1, "ikcp's recovery stays ikcp's");
    let (datagrams, _) = after_a_hole(Recovery::Improved, 0);
    assert_eq!(pushes(&datagrams).len(), 1, "budget 0 is off");
}

/// `b` has received and acknowledged message 0; the same datagram (a
/// copy, or a retransmission whose ACK was lost) arrives again.
fn repeat_at(recovery: Recovery) -> (Arq, Vec<Vec<u8>>) {
    let mut a = engine(Recovery::Improved, 0);
    let mut b = engine(recovery, 0);
    a.send(b"message 0").unwrap();
    let original = flush_all(&mut a, 0);
    deliver(&original, &mut b, 10);
    assert_eq!(acks(&flush_all(&mut b, 10)), [0]);
    deliver(&original, &mut b, 20);
    (b, original)
}

#[test]
fn a_repeat_is_answered_by_una_or_after_a_delay() {
    let (mut b, _) = repeat_at(Recovery::Improved);
    assert!(!b.is_idle(), "a repeat still owes an answer");
    assert!(flush_all(&mut b, 20).is_empty(), "nothing else left: wait");
    assert_eq!(acks(&flush_all(&mut b, 20 + REPEAT_ACK_DELAY)), [0]);
    assert!(b.is_idle());

    let (mut b, _) = repeat_at(Recovery::Improved);
    b.send(b"reply").unwrap();
    let reply = flush_all(&mut b, 25);
    assert!(acks(&reply).is_empty(), "the reply's una covers the repeat");
    assert_eq!(pushes(&reply)[0].0.una, 1);
    assert!(flush_all(&mut b, 20 + REPEAT_ACK_DELAY).is_empty());
}

#[test]
fn the_classic_recovery_acknowledges_every_repeat_as_ikcp_does() {
    let (mut b, _) = repeat_at(Recovery::Classic);
    assert_eq!(acks(&flush_all(&mut b, 20)), [0]);
}

#[test]
fn the_credit_banks_at_most_one_mtu() {
    let mut r = Redundancy::default();
    r.set_percent(100);
    r.earn(10_000, 1400);
    assert!(r.spend(1400));
    assert!(!r.spend(1), "the bank was capped at one MTU");
    r.earn(100, 1400);
    assert!(!r.spend(101) && r.spend(100));
    r.set_percent(1000);
    assert_eq!(r.percent(), REDUNDANCY_MAX);
    assert_eq!(r.copies_per_transmission(), 3);
    r.set_percent(50);
    assert_eq!(r.copies_per_transmission(), 1);
    assert!(!r.is_active(0), "no loss seen yet");
    r.on_loss(u32::MAX - 10);
    assert!(r.is_active(100), "across the clock's wrap");
    assert!(!r.is_active(redundancy::LOSS_MEMORY_MS));
}

/// Found live: a flush that sent a repeat's delayed ACK packed its copies
/// with the ACK's command, so the peer read each copy as an ACK of its own
/// segment with that `sn` and dropped an unacknowledged reply from its
/// send buffer (a 30 s stall in the game-tick benchmark).
#[test]
fn copies_after_a_delayed_repeat_ack_are_still_pushes() {
    let mut a = engine(Recovery::Improved, 300);
    let mut peer = engine(Recovery::Improved, 0);
    a.send(b"message 0").unwrap();
    flush_all(&mut a, 0); // lost
    peer.send(b"late").unwrap();
    let first = flush_all(&mut peer, 5);
    peer.send(b"early").unwrap();
    let second = flush_all(&mut peer, 10);
    deliver(&second, &mut a, 15); // a hole: the path is lossy
    flush_all(&mut a, 16);
    deliver(&first, &mut a, 17); // the hole filled: both delivered
    flush_all(&mut a, 18);
    deliver(&second, &mut a, 20); // a repeat, answered after the delay
    let datagrams = flush_all(&mut a, 20 + REPEAT_ACK_DELAY);
    let all: Vec<_> = datagrams
        .iter()
        .flat_map(|d| segments(d).map(|s| s.expect("valid")))
        .collect();
    assert!(
        all.iter().any(|(h, _)| h.cmd == Command::Ack),
        "the delayed ACK"
    );
    assert!(all.iter().any(|(h, _)| h.cmd == Command::Push), "a copy");
    for (h, data) in &all {
        assert_eq!(h.cmd == Command::Push, !data.is_empty(), "{h:?}");
    }
}

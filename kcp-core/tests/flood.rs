//! A flood at a `null` listener (issue 9): 4,096 source ports, each sending
//! one malformed and one well-formed first datagram of a new conversation.
//! Malformed ones create nothing; well-formed ones open sessions within
//! the limits, and sessions that hear nothing more expire with the idle
//! timeout, accepted or not. Prints the figures as one JSON line
//! (`--no-capture` to see it): sessions created, memory before, after the
//! flood and after expiry.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

mod common;

use common::rss_kib;
use kcp_core::Config;
use kcp_core::Listener;

const PORTS: u32 = 4096;
const IDLE_TIMEOUT_S: u64 = 2;

/// A KCP PUSH segment of conversation `conv` whose length field says
/// `claimed` while `body` bytes follow.
fn push(conv: u32, claimed: u32, body: usize) -> Vec<u8> {
    let mut d = vec![0u8; 24 + body];
    d[..4].copy_from_slice(&conv.to_le_bytes());
    d[4] = 81; // PUSH
    d[6..8].copy_from_slice(&128u16.to_le_bytes()); // window
    d[20..24].copy_from_slice(&claimed.to_le_bytes());
    d
}

#[test]
fn a_flood_from_4096_ports_creates_only_what_the_limits_allow_and_it_expires() {
    let mut cfg = Config::default();
    cfg.set("idle_timeout", &IDLE_TIMEOUT_S.to_string())
        .unwrap();
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let target = listener.local_addr();
    let rss_before = rss_kib();

    for i in 0..PORTS {
        // A new socket per datagram pair: a new source port each time.
        let from = UdpSocket::bind("127.0.0.1:0").unwrap();
        // The length field claims 1000 bytes; 10 follow.
        from.send_to(&push(i + 1, 1000, 10), target).unwrap();
        from.send_to(&push(0x8000_0000 | i, 4, 4), target).unwrap();
    }
    // Wait (bounded) until the listener has read all 8,192 datagrams.
    let deadline = Instant::now() + Duration::from_secs(30);
    while listener.stats().datagrams_in < u64::from(2 * PORTS) {
        assert!(
            Instant::now() < deadline,
            "only {:?} of {} datagrams arrived",
            listener.stats(),
            2 * PORTS
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let flooded = listener.stats();
    let rss_flooded = rss_kib();
    assert_eq!(flooded.malformed, u64::from(PORTS), "{flooded:?}");
    // The backlog (128) bounds sessions nobody accepted.
    assert_eq!(flooded.accepted, cfg.backlog as u64, "{flooded:?}");
    assert_eq!(
        flooded.backlog_full,
        u64::from(PORTS) - cfg.backlog as u64,
        "{flooded:?}"
    );

    // Half of them a server takes; silent, they all expire.
    let taken: Vec<_> = (0..cfg.backlog / 2)
        .map(|_| listener.accept(Some(Duration::ZERO)).unwrap())
        .collect();
    let expired_at = Instant::now();
    let deadline = expired_at + Duration::from_secs(IDLE_TIMEOUT_S + 10);
    while listener.live_sessions() > 0 {
        assert!(Instant::now() < deadline, "idle sessions did not expire");
        std::thread::sleep(Duration::from_millis(50));
    }
    let expiry_s = expired_at.elapsed().as_secs_f64();
    assert!(taken.iter().all(|s| s.status().is_err()));
    drop(taken);
    let rss_expired = rss_kib();
    println!(
        "{{\"case\": \"flood\", \"ports\": {PORTS}, \"datagrams\": {}, \"malformed\": {}, \
         \"sessions_created\": {}, \"backlog_full\": {}, \"rss_kib_before\": {rss_before}, \
         \"rss_kib_flooded\": {rss_flooded}, \"rss_kib_expired\": {rss_expired}, \
         \"idle_timeout_s\": {IDLE_TIMEOUT_S}, \"all_expired_after_s\": {expiry_s:.2}}}",
        flooded.datagrams_in, flooded.malformed, flooded.accepted, flooded.backlog_full
    );
}

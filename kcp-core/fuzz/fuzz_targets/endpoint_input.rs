//! Fuzzes a listener's demultiplexing: datagrams from many source
//! addresses, with conv and sn chosen by the fuzzer, against limits small
//! enough to hit (max_sessions 8, backlog 4, sessions_per_addr 2).
//!
//! The first byte picks the cipher (`null` when even: every datagram is
//! opened; `salsa20` when odd, with a key nothing here seals with, so
//! every datagram must be refused). The rest is records: source port
//! (1 byte, 16 addresses), an action byte, u16 LE length, bytes. Action
//! bits: 0 accept one session, 1 release the oldest accepted, 2 advance
//! the clock by a second, 3 close the listener, 4 write a KCP segment
//! header with the fuzzer's conv (low byte of the action) and sn 0 in
//! front of the bytes.
//!
//! Checked: nothing panics; live sessions never exceed max_sessions; under
//! the unknown key no session is ever created and every datagram is
//! counted as a crypt error; counters never go down and account for every
//! datagram.
#![no_main]

use std::net::SocketAddr;

use kcp_core::config::Config;
use kcp_core::endpoint::{Endpoint, SessionId};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, mut rest)) = data.split_first() else {
        return;
    };
    let sealed = first % 2 == 1;
    let mut config = Config::default();
    for (k, v) in [("max_sessions", "8"), ("backlog", "4"), ("sessions_per_addr", "2")] {
        config.set(k, v).unwrap();
    }
    if sealed {
        config.set("crypt", "salsa20").unwrap();
        config.set("key", "a key the input was never sealed with").unwrap();
    }
    let mut ep = Endpoint::listener(&config).unwrap();
    let mut now = 1_000u64;
    let mut accepted: Vec<SessionId> = Vec::new();
    let mut fed = 0u64;
    let mut out = |_: SocketAddr, _: &[u8]| {};
    while rest.len() >= 4 {
        let (port, action, len) = (rest[0], rest[1], u16::from_le_bytes([rest[2], rest[3]]) as usize);
        rest = &rest[4..];
        let take = len.min(rest.len()).min(1500);
        let mut datagram = Vec::with_capacity(take + 24);
        if action & 16 != 0 {
            let mut header = [0u8; 24];
            header[..4].copy_from_slice(&u32::from(action).to_le_bytes());
            header[4] = 81;
            datagram.extend_from_slice(&header);
        }
        datagram.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        if action & 4 != 0 {
            now += 1_000;
        }
        let from = SocketAddr::from(([10, 0, 0, 1], 4000 + u16::from(port % 16)));
        let before = ep.stats();
        ep.handle_datagram(now, from, &mut datagram, &mut out);
        fed += 1;
        ep.flush_input(now, &mut out);
        ep.handle_timeout(now, &mut out);
        if action & 1 != 0 {
            if let Some(id) = ep.accept() {
                accepted.push(id);
            }
        }
        if action & 2 != 0 && !accepted.is_empty() {
            let id = accepted.remove(0);
            ep.release(now, id, &mut out);
        }
        if action & 8 != 0 {
            ep.close_listener(now, &mut out);
        }
        while ep.poll_event().is_some() {}
        let after = ep.stats();
        assert!(after.datagrams_in == before.datagrams_in + 1);
        assert!(after.crypt_errors >= before.crypt_errors && after.accepted >= before.accepted);
        assert!(ep.live_sessions() <= 8, "{} live sessions", ep.live_sessions());
        if sealed {
            assert_eq!(after.accepted, 0);
            assert_eq!(after.crypt_errors, fed);
            assert_eq!(ep.live_sessions(), 0);
        }
    }
});

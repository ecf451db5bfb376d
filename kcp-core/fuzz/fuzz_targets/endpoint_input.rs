//! Fuzzes a listener's demultiplexing: datagrams from many source
//! addresses, with conv and sn chosen by the fuzzer, against limits small
//! enough to hit (max_sessions 8, backlog 4, sessions_per_addr 2).
//!
//! The first byte picks the cipher (`null` when even: every datagram is
//! opened; `salsa20` when odd, with a key nothing here seals with, so
//! every datagram must be refused). The rest is records: source port
//! (1 byte, 16 addresses), an action byte, u16 LE length, bytes. Action
//! bits: 0 accept one session, 1 release the oldest accepted, 2 advance
//! the clock by a second, 3 close the listener, 4 write a KCP PUSH header
//! with the fuzzer's conv (low byte of the action), sn 0 and the bytes'
//! true length in front of them (a well-formed first datagram, which may
//! open a session), 5 abort the newest accepted, 6 tag the newest accepted.
//! When the first byte has bit 1 set, the listener requires tokens.
//!
//! Checked: nothing panics; live sessions never exceed max_sessions; under
//! the unknown key no session is ever created and every datagram is
//! counted as a crypt error; counters never go down and account for every
//! datagram; a datagram that does not parse as KCP never opens a session;
//! with tokens required, no event names a session without a token.
#![no_main]

use std::net::SocketAddr;

use kcp_core::Config;
use kcp_core::endpoint::{Endpoint, Event, SessionId, Tags};
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
    let tokens = first & 2 != 0;
    if tokens {
        ep.require_tokens();
    }
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
            header[20..24].copy_from_slice(&(take as u32).to_le_bytes());
            datagram.extend_from_slice(&header);
        }
        datagram.extend_from_slice(&rest[..take]);
        rest = &rest[take..];
        if action & 4 != 0 {
            now += 1_000;
        }
        let from = SocketAddr::from(([10, 0, 0, 1], 4000 + u16::from(port % 16)));
        let before = ep.stats();
        let opened = kcp_core::endpoint::route(&datagram).is_some()
            && kcp_core::endpoint::admissible(&datagram, 256, false).is_ok();
        let live_before = ep.live_sessions();
        ep.handle_datagram(now, from, &mut datagram, &mut out);
        if !sealed && !opened {
            assert!(ep.live_sessions() <= live_before, "a malformed datagram opened a session");
        }
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
        if action & 32 != 0 {
            if let Some(id) = accepted.pop() {
                let _ = ep.abort(id);
                ep.release(now, id, &mut out);
            }
        }
        if action & 64 != 0 {
            if let Some(&id) = accepted.last() {
                let token = accepted.len();
                let _ = ep.set_tags(id, Tags { token, user: 0 });
            }
        }
        while let Some(event) = ep.poll_event() {
            let named = match event {
                Event::Accepted(id) => {
                    accepted.push(id);
                    None
                }
                Event::Readable(id)
                | Event::Writable(id)
                | Event::Closed(id, _)
                | Event::Datagram(id) => Some(id),
            };
            if let (true, Some(id)) = (tokens, named) {
                assert_ne!(ep.tags(id).token, 0, "an event for a session without a token");
            }
        }
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

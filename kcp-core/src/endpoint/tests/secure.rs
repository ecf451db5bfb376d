//! The secure profile between endpoints in memory (1 ms per hop): the
//! handshake's round trips, refusals, replays, forgeries, migration, close
//! and keepalive.

use super::*;
use crate::secure::wire::{kind, INITIATION_LEN};

const PSK: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

fn secure(pairs: &[(&str, &str)]) -> Config {
    let mut c = config(&[("crypt", "secure"), ("psk", PSK)]);
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
}

/// A secure listener at SERVER and a client dialed from `at`.
fn pair(server_cfg: &Config, client_cfg: &Config, at: u16) -> (Net, SessionId) {
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(server_cfg).unwrap());
    let (client, id) = Endpoint::dialer(client_cfg, addr(SERVER), net.now).unwrap();
    net.add(addr(at), client);
    (net, id)
}

fn accepted(net: &mut Net) -> SessionId {
    let events = net.events(addr(SERVER));
    match events.first() {
        Some(Event::Accepted(s)) => *s,
        _ => panic!("no session accepted: {events:?}"),
    }
}

#[test]
fn the_listener_has_the_session_after_one_and_a_half_round_trips_and_data_flows() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    let (client, server) = (addr(5000), addr(SERVER));
    net.send(client, c, b"queued before the handshake").unwrap();
    net.run(1);
    assert_eq!(net.wire.len(), 1, "the initiation, and nothing else yet");
    assert_eq!(net.wire[0].2[0], kind::INITIATION);
    // +1: initiation arrives, response leaves; +2: response arrives,
    // confirm leaves; +3: confirm arrives. One hop is half a round trip.
    net.run(2);
    assert_eq!(
        net.ep(server).live_sessions(),
        0,
        "nothing before the confirm"
    );
    assert!(matches!(
        net.ep(client).handshake(c),
        Err(SessionError::WouldBlock)
    ));
    net.run(1);
    assert_eq!(net.ep(server).live_sessions(), 1, "1.5 round trips");
    net.run(1);
    assert!(net.ep(client).handshake(c).is_ok(), "the listener's answer");
    net.run(5);
    let s = accepted(&mut net);
    assert_eq!(net.recv(server, s).unwrap(), b"queued before the handshake");
    net.send(server, s, b"back").unwrap();
    net.run(5);
    assert_eq!(net.recv(client, c).unwrap(), b"back");
    let stats = net.ep(server).stats();
    assert_eq!(stats.secure.handshakes, 1);
    assert_eq!(stats.accepted, 1);
    // conv is the initiator's index on both sides.
    assert_eq!(
        net.ep(server).peer_of(s).map(|p| p.1),
        net.ep(client).peer_of(c).map(|p| p.1)
    );
}

#[test]
fn a_different_psk_fails_the_dialer_at_once_and_creates_nothing() {
    let server_cfg = secure(&[]);
    let client_cfg = secure(&[("psk", "another passphrase")]);
    let (mut net, c) = pair(&server_cfg, &client_cfg, 5000);
    net.run(3);
    assert!(matches!(
        net.ep(addr(5000)).handshake(c),
        Err(SessionError::Closed(CloseReason::AuthFailed))
    ));
    let server = net.ep(addr(SERVER));
    assert_eq!(server.live_sessions(), 0);
    assert_eq!(server.stats().secure.handshake_failures, 1);
    assert!(server.poll_event().is_none());
}

#[test]
fn an_unanswered_handshake_times_out_after_retrying() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.blackhole.push(addr(SERVER));
    net.run(crate::secure::HANDSHAKE_TIMEOUT_MS - 10);
    assert!(matches!(
        net.ep(addr(5000)).handshake(c),
        Err(SessionError::WouldBlock)
    ));
    net.run(20);
    assert!(matches!(
        net.ep(addr(5000)).handshake(c),
        Err(SessionError::Closed(CloseReason::HandshakeTimeout))
    ));
}

#[test]
fn the_handshake_survives_the_loss_of_each_of_its_packets() {
    for lost in 0..3 {
        let cfg = secure(&[]);
        let (mut net, c) = pair(&cfg, &cfg, 5000);
        let mut seen = 0;
        // Step hop by hop, dropping the lost-th handshake packet in flight.
        for _ in 0..2000 {
            net.wire.retain(|_| {
                seen += 1;
                seen - 1 != lost
            });
            net.run(1);
        }
        assert!(
            net.ep(addr(5000)).handshake(c).is_ok(),
            "lost packet {lost}"
        );
        assert_eq!(
            net.ep(addr(SERVER)).live_sessions(),
            1,
            "lost packet {lost}"
        );
    }
}

/// Records every datagram the client sends during an exchange.
fn recorded_exchange(net: &mut Net, c: SessionId) -> Vec<Vec<u8>> {
    let client = addr(5000);
    let mut tape = Vec::new();
    for i in 0..50u32 {
        let _ = net.send(client, c, &i.to_le_bytes());
        for _ in 0..3 {
            tape.extend(
                net.wire
                    .iter()
                    .filter(|(from, _, _)| *from == client)
                    .map(|(_, _, d)| d.clone()),
            );
            net.run(1);
        }
    }
    net.run(50);
    tape
}

#[test]
fn replayed_datagrams_create_nothing_and_deliver_nothing_twice() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    let tape = recorded_exchange(&mut net, c);
    assert!(tape.iter().any(|d| d[0] == kind::INITIATION));
    assert!(tape.iter().any(|d| d[0] == kind::CONFIRM));
    let server = addr(SERVER);
    let s = accepted(&mut net);
    for i in 0..50u32 {
        assert_eq!(net.recv(server, s).unwrap(), i.to_le_bytes());
    }
    let before = net.ep(server).stats();
    // The whole tape again, from the client's address and from another.
    for from in [addr(5000), addr(6000)] {
        for d in &tape {
            net.wire.push((from, server, d.clone()));
        }
        net.run(20);
    }
    let after = net.ep(server).stats();
    assert!(matches!(net.recv(server, s), Err(SessionError::WouldBlock)));
    assert_eq!(net.ep(server).live_sessions(), 1);
    assert_eq!(after.accepted, 1);
    let transport = tape.iter().filter(|d| d[0] == kind::TRANSPORT).count() as u64;
    assert!(
        after.secure.replays - before.secure.replays >= 2 * transport,
        "{before:?} -> {after:?}"
    );
    // Replayed initiations were answered (they authenticate), but their
    // handshakes cannot finish without the initiator's ephemeral key.
    assert_eq!(after.secure.migrations, 0);
}

#[test]
fn a_replayed_confirm_does_not_revive_a_closed_session() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    let tape = recorded_exchange(&mut net, c);
    let s = accepted(&mut net);
    let server = addr(SERVER);
    net.with(server, |e, now, out| {
        e.abort(s).map(|_| e.release(now, s, out))
    })
    .unwrap();
    assert_eq!(net.ep(server).live_sessions(), 0);
    for d in tape.iter().filter(|d| d[0] == kind::CONFIRM) {
        net.wire.push((addr(5000), server, d.clone()));
    }
    net.run(5);
    assert_eq!(net.ep(server).live_sessions(), 0);
    assert!(net.ep(server).stats().secure.replays >= 1);
}

#[test]
fn altered_truncated_and_random_datagrams_are_dropped_and_counted() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    let tape = recorded_exchange(&mut net, c);
    let s = accepted(&mut net);
    let server = addr(SERVER);
    while net.recv(server, s).is_ok() {}
    let mut rng = crate::sim::Rng::new(11);
    let mut sent = 0;
    for d in tape.iter().filter(|d| d[0] == kind::TRANSPORT) {
        let mut flipped = d.clone();
        let at = rng.next_u64() as usize % flipped.len();
        flipped[at] ^= 1 << (rng.next_u64() % 8);
        let cut = d[..rng.next_u64() as usize % d.len()].to_vec();
        net.wire.push((addr(5000), server, flipped));
        net.wire.push((addr(5000), server, cut));
        sent += 2;
    }
    for _ in 0..2000 {
        let len = rng.next_u64() as usize % 1500;
        let junk: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        net.wire.push((addr(7000), server, junk));
    }
    net.run(5);
    let st = net.ep(server).stats();
    assert!(matches!(net.recv(server, s), Err(SessionError::WouldBlock)));
    assert_eq!(net.ep(server).live_sessions(), 1);
    assert_eq!(st.accepted, 1);
    let dropped = st.secure.auth_failures + st.secure.replays + st.malformed + st.unroutable;
    assert!(dropped >= sent, "{st:?}");
}

#[test]
fn an_authenticated_packet_from_a_new_address_moves_the_session_and_a_forged_one_does_not() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.send(addr(5000), c, b"before").unwrap();
    net.run(10);
    let s = accepted(&mut net);
    let server = addr(SERVER);
    assert_eq!(net.recv(server, s).unwrap(), b"before");
    // A forged transport packet for the session's index from elsewhere.
    let mut forged = net.ep(server).peer_of(s).map(|_| vec![0u8; 60]).unwrap();
    forged[0] = kind::TRANSPORT;
    forged[1] = crate::secure::wire::VERSION;
    let index = net
        .ep(server)
        .live_ref(s)
        .unwrap()
        .link
        .as_ref()
        .unwrap()
        .local;
    forged[4..8].copy_from_slice(&index.to_le_bytes());
    forged[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    net.wire.push((addr(6666), server, forged));
    net.run(2);
    assert_eq!(net.ep(server).peer_of(s).unwrap().0, addr(5000));
    // NAT rebinding: the client's packets now come from port 5001.
    let client = net.endpoints.remove(&addr(5000)).unwrap();
    net.add(addr(5001), client);
    net.send(addr(5001), c, b"after").unwrap();
    net.run(10);
    assert_eq!(net.recv(server, s).unwrap(), b"after");
    assert_eq!(net.ep(server).peer_of(s).unwrap().0, addr(5001));
    assert_eq!(net.ep(server).stats().secure.migrations, 1);
    net.send(server, s, b"reply").unwrap();
    net.run(10);
    assert_eq!(net.recv(addr(5001), c).unwrap(), b"reply");
}

#[test]
fn close_reaches_the_peer_after_its_data_within_a_round_trip() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.run(10);
    let s = accepted(&mut net);
    let client = addr(5000);
    net.send(client, c, b"last words").unwrap();
    net.with(client, |e, now, out| e.close(now, c, out))
        .unwrap();
    // One hop for the data, one back for its ACK, one for the close.
    net.run(4);
    let server = addr(SERVER);
    assert_eq!(net.recv(server, s).unwrap(), b"last words");
    assert!(matches!(
        net.recv(server, s),
        Err(SessionError::Closed(CloseReason::Peer(1)))
    ));
    assert!(net
        .events(server)
        .contains(&Event::Closed(s, CloseReason::Peer(1))));
}

#[test]
fn a_loaded_listener_asks_for_a_cookie_and_the_handshake_still_completes() {
    let server_cfg = secure(&[("handshake_rate", "2")]);
    let cfg = secure(&[]);
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(&server_cfg).unwrap());
    let mut clients = Vec::new();
    for port in 5000..5003 {
        let (client, id) = Endpoint::dialer(&cfg, addr(SERVER), net.now).unwrap();
        net.add(addr(port), client);
        clients.push((addr(port), id));
    }
    net.run(1500);
    let stats = net.ep(addr(SERVER)).stats();
    assert!(stats.secure.cookies_sent >= 1, "{stats:?}");
    for (at, id) in clients {
        assert!(net.ep(at).handshake(id).is_ok(), "{at}");
    }
    assert_eq!(net.ep(addr(SERVER)).live_sessions(), 3);
}

#[test]
fn no_reply_is_larger_than_its_request() {
    let server_cfg = secure(&[("handshake_rate", "1")]);
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(&server_cfg).unwrap());
    let mut rng = crate::sim::Rng::new(5);
    for i in 0..3000u16 {
        let mut d = vec![0u8; INITIATION_LEN];
        for b in d.iter_mut() {
            *b = rng.next_u64() as u8;
        }
        d[0] = kind::INITIATION;
        d[1] = crate::secure::wire::VERSION;
        let from = addr(10_000 + i);
        let mut replies = Vec::new();
        let now = net.now;
        net.ep(addr(SERVER))
            .handle_datagram(now, from, &mut d, &mut |to, r| replies.push((to, r.len())));
        for (to, len) in replies {
            assert_eq!(to, from);
            assert!(len <= INITIATION_LEN);
        }
    }
    assert_eq!(net.ep(addr(SERVER)).live_sessions(), 0);
}

#[test]
fn keepalive_holds_a_quiet_secure_session_past_the_idle_timeout() {
    let cfg = secure(&[("keepalive", "1"), ("idle_timeout", "3")]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.run(10);
    let s = accepted(&mut net);
    net.run(10_000);
    assert!(net.ep(addr(5000)).status(c).is_ok());
    assert!(net.ep(addr(SERVER)).status(s).is_ok());
    // Without keepalive the same quiet ends both.
    let cfg = secure(&[("keepalive", "0"), ("idle_timeout", "3")]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.run(10);
    net.run(4_000);
    assert!(net.ep(addr(5000)).status(c).is_err());
}

#[test]
fn a_secure_config_without_a_psk_is_refused_with_the_reason() {
    let mut c = config(&[("crypt", "secure")]);
    let e = Endpoint::listener(&c).unwrap_err().to_string();
    assert!(e.contains("needs a psk"), "{e}");
    c.set("psk", "x").unwrap();
    assert!(Endpoint::listener(&c).is_ok());
}

#[test]
fn unreliable_datagrams_flow_beside_the_stream_with_events_and_a_bounded_queue() {
    let cfg = secure(&[]);
    let (mut net, c) = pair(&cfg, &cfg, 5000);
    net.run(10);
    let s = accepted(&mut net);
    let (client, server) = (addr(5000), addr(SERVER));
    let max = net.ep(client).max_datagram(c).unwrap();
    assert_eq!(max, 1400 - crate::secure::wire::TRANSPORT_OVERHEAD);
    let too_big = vec![0u8; max + 1];
    assert!(matches!(
        net.with(client, |e, now, out| e.send_datagram(now, c, &too_big, out)),
        Err(SessionError::MessageTooLarge { .. })
    ));
    net.with(client, |e, now, out| {
        e.send_datagram(now, c, b"state 1", out)
    })
    .unwrap();
    net.send(client, c, b"reliable").unwrap();
    net.run(5);
    let events = net.events(server);
    assert!(events.contains(&Event::Datagram(s)), "{events:?}");
    let mut buf = [0u8; 2048];
    let n = net.ep(server).recv_datagram(s, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"state 1");
    assert!(matches!(
        net.ep(server).recv_datagram(s, &mut buf),
        Err(SessionError::WouldBlock)
    ));
    assert_eq!(net.recv(server, s).unwrap(), b"reliable");
    // 100 unread: the newest 64 are kept, in order, and the rest counted.
    for i in 0..100u32 {
        net.with(client, |e, now, out| {
            e.send_datagram(now, c, &i.to_le_bytes(), out)
        })
        .unwrap();
    }
    net.run(5);
    let mut got = Vec::new();
    while let Ok(n) = net.ep(server).recv_datagram(s, &mut buf) {
        got.push(u32::from_le_bytes(buf[..n].try_into().unwrap()));
    }
    assert_eq!(got, (36..100).collect::<Vec<u32>>());
    assert_eq!(net.ep(server).stats().secure.datagrams_dropped, 36);
    // And the other way.
    net.with(server, |e, now, out| {
        e.send_datagram(now, s, b"to client", out)
    })
    .unwrap();
    net.run(5);
    assert!(net.events(client).contains(&Event::Datagram(c)));
    let n = net.ep(client).recv_datagram(c, &mut buf).unwrap();
    assert_eq!(&buf[..n], b"to client");
    // A buffer too small keeps the datagram.
    net.with(server, |e, now, out| {
        e.send_datagram(now, s, b"0123456789", out)
    })
    .unwrap();
    net.run(5);
    assert!(net.ep(client).recv_datagram(c, &mut buf[..4]).is_err());
    assert_eq!(net.ep(client).recv_datagram(c, &mut buf).unwrap(), 10);
}

#[test]
fn the_kcp_go_profile_has_no_datagrams() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    assert!(matches!(
        net.ep(addr(5000)).max_datagram(c),
        Err(SessionError::DatagramsUnsupported)
    ));
    assert!(matches!(
        net.with(addr(5000), |e, now, out| e.send_datagram(now, c, b"x", out)),
        Err(SessionError::DatagramsUnsupported)
    ));
}

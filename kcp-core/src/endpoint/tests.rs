//! Endpoints joined in memory with a virtual clock: demultiplexing,
//! admission, lifecycle and events, without sockets.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::*;

fn addr(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in [("mode", "fast3"), ("sndwnd", "128"), ("rcvwnd", "128")] {
        c.set(k, v).unwrap();
    }
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
}

/// Endpoints by address and the datagrams between them.
struct Net {
    now: u64,
    endpoints: HashMap<SocketAddr, Endpoint>,
    /// (from, to, bytes)
    wire: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    /// Datagrams to these addresses vanish.
    blackhole: Vec<SocketAddr>,
}

impl Net {
    fn new() -> Self {
        Self {
            now: 1_000,
            endpoints: HashMap::new(),
            wire: Vec::new(),
            blackhole: Vec::new(),
        }
    }

    fn add(&mut self, at: SocketAddr, e: Endpoint) {
        self.endpoints.insert(at, e);
    }

    fn ep(&mut self, at: SocketAddr) -> &mut Endpoint {
        self.endpoints.get_mut(&at).unwrap()
    }

    /// Runs `f` on the endpoint at `at`, capturing what it sends.
    fn with<R>(
        &mut self,
        at: SocketAddr,
        f: impl FnOnce(&mut Endpoint, u64, &mut dyn FnMut(SocketAddr, &[u8])) -> R,
    ) -> R {
        let now = self.now;
        let mut sent = Vec::new();
        let e = self.endpoints.get_mut(&at).unwrap();
        let r = f(e, now, &mut |to, d| sent.push((at, to, d.to_vec())));
        self.wire.extend(sent);
        r
    }

    fn send(&mut self, at: SocketAddr, id: SessionId, data: &[u8]) -> Result<usize, SessionError> {
        self.with(at, |e, now, out| {
            e.send(now, id, data, &mut |a, d| out(a, d))
        })
    }

    fn recv(&mut self, at: SocketAddr, id: SessionId) -> Result<Vec<u8>, SessionError> {
        let mut buf = vec![0u8; 65536];
        let n = self.with(at, |e, now, out| {
            e.recv(now, id, &mut buf, &mut |a, d| out(a, d))
        })?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Delivers everything in flight (1 ms per hop), then runs due timers;
    /// repeats for `ms` milliseconds of virtual time.
    fn run(&mut self, ms: u64) {
        let end = self.now + ms;
        while self.now < end {
            self.now += 1;
            let now = self.now;
            let wire = std::mem::take(&mut self.wire);
            let mut sent = Vec::new();
            for (from, to, mut d) in wire {
                if self.blackhole.contains(&to) {
                    continue;
                }
                if let Some(e) = self.endpoints.get_mut(&to) {
                    e.handle_datagram(now, from, &mut d, &mut |a, x| {
                        sent.push((to, a, x.to_vec()))
                    });
                }
            }
            for (&at, e) in self.endpoints.iter_mut() {
                let mut out = |a: SocketAddr, x: &[u8]| sent.push((at, a, x.to_vec()));
                e.flush_input(now, &mut out);
                e.handle_timeout(now, &mut out);
            }
            self.wire.extend(sent);
        }
    }

    fn events(&mut self, at: SocketAddr) -> Vec<Event> {
        std::iter::from_fn(|| self.ep(at).poll_event()).collect()
    }
}

const SERVER: u16 = 4000;

/// Segment buffers a session's engine keeps for reuse.
fn pooled(e: &Endpoint, id: SessionId) -> usize {
    e.live_ref(id).unwrap().conn.arq().usage().pooled
}

fn server_and_client(server_cfg: &Config, client_cfg: &Config) -> (Net, SessionId) {
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(server_cfg).unwrap());
    let (client, id) = Endpoint::dialer(client_cfg, addr(SERVER), net.now).unwrap();
    net.add(addr(5000), client);
    (net, id)
}

#[test]
fn dial_accept_echo() {
    let cfg = config(&[
        ("crypt", "aes"),
        ("key", "k"),
        ("datashard", "10"),
        ("parityshard", "3"),
    ]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    let (client, server) = (addr(5000), addr(SERVER));
    net.send(client, c, b"hello").unwrap();
    net.run(5);
    let events = net.events(server);
    let Some(Event::Accepted(s)) = events.first().copied() else {
        panic!("no accept: {events:?}");
    };
    assert_eq!(events[1..], [Event::Readable(s)]);
    assert_eq!(net.recv(server, s).unwrap(), b"hello");
    assert!(matches!(net.recv(server, s), Err(SessionError::WouldBlock)));
    net.send(server, s, b"world").unwrap();
    net.run(5);
    assert_eq!(net.events(client), [Event::Readable(c)]);
    assert_eq!(net.recv(client, c).unwrap(), b"world");
    let (remote, conv) = net.ep(server).peer_of(s).unwrap();
    assert_eq!(remote, client);
    assert_eq!(Some(conv), net.ep(client).peer_of(c).map(|p| p.1));
    assert_eq!(net.ep(server).stats().accepted, 1);
}

#[test]
fn idle_sessions_have_no_timer_without_keepalive_or_idle_timeout() {
    let cfg = config(&[("keepalive", "0"), ("idle_timeout", "0")]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"x").unwrap();
    net.run(200);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    net.recv(addr(SERVER), s).unwrap();
    net.run(200);
    // Idle, but the buffers stay for a while: a quick next message must
    // not pay for them again.
    assert!(pooled(net.ep(addr(5000)), c) > 0);
    let trim_at = net.ep(addr(5000)).next_timeout().unwrap();
    assert!(trim_at <= net.now + TRIM_AFTER_MS);
    net.run(TRIM_AFTER_MS);
    // Then they are given back, and nothing wakes the sessions any more.
    assert_eq!(pooled(net.ep(addr(5000)), c), 0);
    assert_eq!(net.ep(addr(SERVER)).next_timeout(), None);
    assert_eq!(net.ep(addr(5000)).next_timeout(), None);
    // And it still works afterwards.
    net.send(addr(5000), c, b"y").unwrap();
    assert!(net.ep(addr(5000)).next_timeout().is_some());
    net.run(50);
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"y");
}

#[test]
fn wrong_key_creates_nothing() {
    let (mut net, c) = server_and_client(
        &config(&[("crypt", "aes"), ("key", "right")]),
        &config(&[("crypt", "aes"), ("key", "wrong")]),
    );
    net.send(addr(5000), c, b"hello").unwrap();
    net.run(300);
    let server = net.ep(addr(SERVER));
    assert_eq!(server.live_sessions(), 0);
    assert!(server.poll_event().is_none());
    let st = server.stats();
    assert!(st.crypt_errors >= 2, "{st:?}");
    assert_eq!(st.accepted, 0);
}

#[test]
fn garbage_is_counted_not_admitted() {
    let mut e = Endpoint::listener(&config(&[("crypt", "salsa20"), ("key", "k")])).unwrap();
    let mut rng = crate::sim::Rng::new(9);
    for len in 0..600 {
        let mut d: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
        e.handle_datagram(1, addr(9), &mut d, &mut |_, _| panic!("replied to garbage"));
    }
    assert_eq!(e.live_sessions(), 0);
    let st = e.stats();
    assert_eq!(st.datagrams_in, 600);
    assert_eq!(st.crypt_errors, 600);
    let mut plain = Endpoint::listener(&config(&[])).unwrap();
    plain.handle_datagram(1, addr(9), &mut [81; 10], &mut |_, _| {});
    assert_eq!(plain.stats().malformed, 1);
}

#[test]
fn dialer_drops_foreign_sources_and_convs() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"x").unwrap();
    let (_, conv) = net.ep(addr(5000)).peer_of(c).unwrap();
    let mut seg = vec![0u8; 24];
    seg[..4].copy_from_slice(&conv.to_le_bytes());
    seg[4] = 81;
    let client = net.ep(addr(5000));
    client.handle_datagram(2_000, addr(6666), &mut seg.clone(), &mut |_, _| {});
    seg[..4].copy_from_slice(&conv.wrapping_add(1).to_le_bytes());
    client.handle_datagram(2_000, addr(SERVER), &mut seg, &mut |_, _| {});
    let st = client.stats();
    assert_eq!((st.foreign_source, st.unroutable), (1, 1));
}

fn fixed_conv_client(net: &mut Net, at: u16, conv: u32) -> SessionId {
    let (e, id) = Endpoint::dialer(
        &config(&[("conv", &conv.to_string())]),
        addr(SERVER),
        net.now,
    )
    .unwrap();
    net.add(addr(at), e);
    id
}

#[test]
fn convs_from_one_address_are_distinct_when_allowed() {
    let mut net = Net::new();
    net.add(
        addr(SERVER),
        Endpoint::listener(&config(&[("sessions_per_addr", "2")])).unwrap(),
    );
    // Two sessions from one port: a listener's connect opens both.
    let mut p2p = Endpoint::listener(&config(&[])).unwrap();
    let a = p2p.connect(net.now, addr(SERVER)).unwrap();
    let b = p2p.connect(net.now, addr(SERVER)).unwrap();
    net.add(addr(5000), p2p);
    net.send(addr(5000), a, b"to a").unwrap();
    net.send(addr(5000), b, b"to b").unwrap();
    net.run(10);
    let server = addr(SERVER);
    let s1 = net.ep(server).accept().unwrap();
    let s2 = net.ep(server).accept().unwrap();
    assert_eq!(net.recv(server, s1).unwrap(), b"to a");
    assert_eq!(net.recv(server, s2).unwrap(), b"to b");
    net.send(server, s2, b"back to b").unwrap();
    net.run(10);
    assert_eq!(net.recv(addr(5000), b).unwrap(), b"back to b");
    assert!(matches!(
        net.recv(addr(5000), a),
        Err(SessionError::WouldBlock)
    ));
}

#[test]
fn new_conv_with_sn_0_replaces_the_accepted_session() {
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(&config(&[])).unwrap());
    let old = fixed_conv_client(&mut net, 5000, 11);
    net.send(addr(5000), old, b"one").unwrap();
    net.run(50);
    let s_old = net.ep(addr(SERVER)).accept().unwrap();
    // The peer "restarts" on the same port with a new conv.
    net.endpoints.remove(&addr(5000));
    let new = fixed_conv_client(&mut net, 5000, 12);
    net.send(addr(5000), new, b"two").unwrap();
    net.run(50);
    let server = net.ep(addr(SERVER));
    assert_eq!(server.stats().replaced, 1);
    let s_new = server.accept().unwrap();
    assert!(matches!(
        server.status(s_old),
        Err(SessionError::Closed(CloseReason::Replaced))
    ));
    assert_eq!(net.recv(addr(SERVER), s_new).unwrap(), b"two");
    assert!(net
        .events(addr(SERVER))
        .contains(&Event::Closed(s_old, CloseReason::Replaced)));
}

#[test]
fn new_conv_mid_stream_from_a_known_address_is_dropped() {
    let mut net = Net::new();
    net.add(addr(SERVER), Endpoint::listener(&config(&[])).unwrap());
    let c = fixed_conv_client(&mut net, 5000, 11);
    net.send(addr(5000), c, b"one").unwrap();
    net.run(50);
    // A segment of conv 12 with sn 5 from the same address.
    let mut seg = vec![0u8; 24];
    seg[..4].copy_from_slice(&12u32.to_le_bytes());
    seg[4] = 81;
    seg[12..16].copy_from_slice(&5u32.to_le_bytes());
    let now = net.now;
    let server = net.ep(addr(SERVER));
    server.handle_datagram(now, addr(5000), &mut seg, &mut |_, _| {});
    assert_eq!(server.stats().unroutable, 1);
    assert_eq!(server.live_sessions(), 1);
}

#[test]
fn graceful_close_delivers_queued_data() {
    let cfg = config(&[("sndwnd", "32"), ("rcvwnd", "32")]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    let msg = vec![7u8; 1000];
    let mut sent = 0;
    while net.send(addr(5000), c, &msg).is_ok() {
        sent += 1;
    }
    assert!(sent >= 32);
    net.with(addr(5000), |e, now, out| {
        e.close(now, c, &mut |a, d| out(a, d))
    })
    .unwrap();
    assert!(matches!(
        net.send(addr(5000), c, b"late"),
        Err(SessionError::Closed(CloseReason::Local))
    ));
    let mut got = 0;
    let mut s = None;
    for _ in 0..200 {
        net.run(5);
        s = s.or_else(|| net.ep(addr(SERVER)).accept());
        if let Some(s) = s {
            while net.recv(addr(SERVER), s).is_ok() {
                got += 1;
            }
        }
    }
    assert_eq!(got, sent);
    // The client finished closing once everything was acknowledged.
    assert!(net.ep(addr(5000)).is_finished());
    assert_eq!(
        net.events(addr(5000)),
        [Event::Closed(c, CloseReason::Local)]
    );
}

#[test]
fn dead_link_and_idle_timeout_close() {
    let (mut net, c) = server_and_client(
        &config(&[("idle_timeout", "2")]),
        &config(&[("idle_timeout", "0")]),
    );
    net.send(addr(5000), c, b"x").unwrap();
    net.run(20);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    // The server goes silent: the client's next message is never acknowledged.
    net.blackhole.push(addr(SERVER));
    net.send(addr(5000), c, b"y").unwrap();
    net.run(300_000);
    let ev = net.events(addr(5000));
    assert!(
        ev.contains(&Event::Closed(c, CloseReason::DeadLink)),
        "{ev:?} {:?}",
        net.ep(addr(5000)).status(c)
    );
    // The server heard nothing for 2 s.
    let ev = net.events(addr(SERVER));
    assert!(
        ev.contains(&Event::Closed(s, CloseReason::IdleTimeout)),
        "{ev:?}"
    );
    assert!(matches!(
        net.recv(addr(SERVER), s),
        Err(SessionError::Closed(CloseReason::IdleTimeout))
    ));
}

#[test]
fn admission_limits() {
    let mut net = Net::new();
    net.add(
        addr(SERVER),
        Endpoint::listener(&config(&[("backlog", "2"), ("max_sessions", "3")])).unwrap(),
    );
    for i in 0..5u16 {
        let id = fixed_conv_client(&mut net, 5000 + i, 100 + u32::from(i));
        net.send(addr(5000 + i), id, b"hi").unwrap();
    }
    net.run(5);
    let st = net.ep(addr(SERVER)).stats();
    assert_eq!(st.accepted, 2);
    assert!(st.backlog_full >= 3);
    assert!(net.ep(addr(SERVER)).accept().is_some());
    assert!(net.ep(addr(SERVER)).accept().is_some());
    // Retransmissions get the third in; the limit keeps out the rest.
    net.run(1_000);
    let server = net.ep(addr(SERVER));
    assert_eq!(server.live_sessions(), 3);
    assert!(server.stats().session_limit > 0);
}

#[test]
fn release_and_listener_close() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"x").unwrap();
    net.run(20);
    let server = addr(SERVER);
    let s = net.ep(server).accept().unwrap();
    net.with(server, |e, now, out| {
        e.close_listener(now, &mut |a, d| out(a, d))
    });
    net.run(20);
    assert!(net.ep(server).is_finished());
    assert!(net
        .events(server)
        .contains(&Event::Closed(s, CloseReason::ListenerClosed)));
    assert!(matches!(
        net.ep(server).connect(0, addr(1)),
        Err(EndpointError::Closed)
    ));
    net.with(server, |e, now, out| {
        e.release(now, s, &mut |a, d| out(a, d))
    });
    assert!(matches!(
        net.ep(server).status(s),
        Err(SessionError::Unknown)
    ));
    // A released slot is reused under a new id.
    assert!(net
        .ep(server)
        .slots
        .iter()
        .all(|s| matches!(s.state, State::Free)));
}

#[test]
fn keepalive_holds_a_quiet_session_open() {
    let (mut net, c) = server_and_client(
        &config(&[("idle_timeout", "2")]),
        &config(&[("keepalive", "1")]),
    );
    net.send(addr(5000), c, b"x").unwrap();
    net.run(20);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"x");
    // Ten seconds with no application data: the client's WASKs (and the
    // server's WINS answers) keep both sides alive.
    net.run(10_000);
    assert!(net.ep(addr(SERVER)).status(s).is_ok());
    assert!(net.ep(addr(5000)).status(c).is_ok());
    // And only a keepalive's worth of traffic went by: ~1 WASK + 1 WINS a second.
    let sent = net.ep(addr(5000)).session_stats(c).unwrap().out_packets;
    assert!((8..=14).contains(&sent), "{sent} datagrams in 10 s");
    net.send(addr(5000), c, b"still here").unwrap();
    net.run(20);
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"still here");
}

#[test]
fn a_drained_session_has_no_stale_readable_event() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"one").unwrap();
    net.run(5);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"one");
    assert_eq!(net.events(addr(SERVER)), []);
}

#[test]
fn a_refused_newcomer_does_not_cost_the_old_session() {
    // The backlog is full: a restarted peer's new conv cannot be admitted,
    // so its old session must stay.
    let mut net = Net::new();
    net.add(
        addr(SERVER),
        Endpoint::listener(&config(&[("backlog", "1")])).unwrap(),
    );
    let old = fixed_conv_client(&mut net, 5000, 11);
    net.send(addr(5000), old, b"one").unwrap();
    net.run(5);
    net.endpoints.remove(&addr(5000));
    let new = fixed_conv_client(&mut net, 5000, 12);
    net.send(addr(5000), new, b"two").unwrap();
    net.run(5);
    let server = net.ep(addr(SERVER));
    let st = server.stats();
    assert_eq!((st.replaced, st.accepted), (0, 1), "{st:?}");
    assert!(st.backlog_full > 0);
    let s = server.accept().unwrap();
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"one");
}

/// Issue 9: READABLE is level-triggered. A recv that leaves a message
/// waiting, whether it read one of several or refused one for a buffer too
/// small, raises READABLE again. Before, a refused message was announced
/// once and never again, and an event-driven application stalled.
#[test]
fn readable_is_raised_again_while_a_message_waits() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    let (client, server) = (addr(5000), addr(SERVER));
    net.send(client, c, &[7u8; 100]).unwrap();
    net.send(client, c, b"second").unwrap();
    net.run(5);
    let s = net.ep(server).accept().unwrap();
    assert_eq!(net.events(server), [Event::Readable(s)]);

    let mut small = [0u8; 10];
    let refused = net.with(server, |e, now, out| e.recv(now, s, &mut small, out));
    assert!(matches!(refused, Err(SessionError::Conn(_))), "{refused:?}");
    assert_eq!(net.events(server), [Event::Readable(s)], "still readable");

    assert_eq!(net.recv(server, s).unwrap(), [7u8; 100]);
    assert_eq!(net.events(server), [Event::Readable(s)], "one more waits");
    assert_eq!(net.recv(server, s).unwrap(), b"second");
    assert_eq!(net.events(server), [], "drained");
}

/// A KCP segment header of `cmd` whose length field says `len`, followed by
/// `body` bytes.
fn raw_segment(conv: u32, cmd: u8, sn: u32, len: u32, body: usize) -> Vec<u8> {
    let mut d = vec![0u8; 24 + body];
    d[..4].copy_from_slice(&conv.to_le_bytes());
    d[4] = cmd;
    d[12..16].copy_from_slice(&sn.to_le_bytes());
    d[20..24].copy_from_slice(&len.to_le_bytes());
    d
}

#[test]
fn a_flood_of_malformed_datagrams_creates_no_session() {
    // The measurement that found it: 1,000 source ports, each sending a
    // PUSH whose length field (1000) exceeds its 10-byte payload, were
    // admitted up to the backlog's size (128).
    let mut e = Endpoint::listener(&config(&[])).unwrap();
    for port in 0..1_000u16 {
        let mut d = raw_segment(u32::from(port) + 1, 81, 0, 1_000, 10);
        e.handle_datagram(1, addr(10_000 + port), &mut d, &mut |_, _| {
            panic!("replied to a malformed datagram")
        });
    }
    assert_eq!(e.live_sessions(), 0);
    assert_eq!(e.stats().malformed, 1_000);
    assert_eq!(e.stats().accepted, 0);
    // Well-formed but inert (an ACK, a window probe, data far past the
    // window) opens nothing either, and is not called malformed.
    for (i, mut d) in [
        raw_segment(7, 82, 0, 0, 0),
        raw_segment(7, 83, 0, 0, 0),
        raw_segment(7, 81, 1 << 20, 4, 4),
    ]
    .into_iter()
    .enumerate()
    {
        e.handle_datagram(1, addr(20_000 + i as u16), &mut d, &mut |_, _| {
            panic!("replied to an inert datagram")
        });
    }
    assert_eq!(e.live_sessions(), 0);
    assert_eq!(e.stats().unroutable, 3);
    assert_eq!(e.stats().malformed, 1_000);
    // The first datagram of a real client still opens one.
    let mut d = raw_segment(7, 81, 0, 4, 4);
    e.handle_datagram(1, addr(20_000), &mut d, &mut |_, _| {});
    assert_eq!(e.live_sessions(), 1);
}

#[test]
fn strangers_sessions_expire_with_the_default_idle_timeout() {
    let mut net = Net::new();
    net.add(
        addr(SERVER),
        Endpoint::listener(&Config::default()).unwrap(),
    );
    // 100 well-formed first datagrams from 100 ports, never followed up.
    for port in 0..100u16 {
        let d = raw_segment(u32::from(port) + 1, 81, 0, 4, 4);
        net.wire.push((addr(30_000 + port), addr(SERVER), d));
    }
    net.run(10);
    assert_eq!(net.ep(addr(SERVER)).live_sessions(), 100);
    let accepted: Vec<_> = std::iter::from_fn(|| net.ep(addr(SERVER)).accept())
        .take(50)
        .collect();
    assert_eq!(accepted.len(), 50);
    net.run(u64::from(crate::config::IDLE_TIMEOUT_DEFAULT) * 1000 + 100);
    let server = net.ep(addr(SERVER));
    assert_eq!(server.live_sessions(), 0, "accepted or not, silent ones go");
    assert!(accepted.iter().all(|&id| matches!(
        server.status(id),
        Err(SessionError::Closed(CloseReason::IdleTimeout))
    )));
}

#[test]
fn default_keepalive_keeps_a_quiet_pair_alive_past_the_idle_timeout() {
    let cfg = Config::default();
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"x").unwrap();
    net.run(50);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"x");
    net.run(3 * u64::from(crate::config::IDLE_TIMEOUT_DEFAULT) * 1000);
    net.send(addr(5000), c, b"still here").unwrap();
    net.run(50);
    assert_eq!(net.recv(addr(SERVER), s).unwrap(), b"still here");
}

#[test]
fn abort_ends_a_session_at_once_and_sends_nothing() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.send(addr(5000), c, b"x").unwrap();
    net.run(20);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    net.recv(addr(SERVER), s).unwrap();
    // Queue data, then abort before it could go: nothing is sent.
    net.blackhole.push(addr(5000));
    net.send(addr(SERVER), s, &[7; 3000]).unwrap();
    net.wire.clear();
    net.with(addr(SERVER), |e, _, out| {
        e.abort(s).unwrap();
        e.flush_input(2_000, out);
    });
    assert!(net.wire.is_empty(), "abort sent {:?}", net.wire.len());
    assert!(matches!(
        net.ep(addr(SERVER)).status(s),
        Err(SessionError::Closed(CloseReason::Local))
    ));
    assert_eq!(
        net.events(addr(SERVER)),
        vec![Event::Closed(s, CloseReason::Local)]
    );
    assert!(matches!(
        net.ep(addr(SERVER)).abort(s),
        Err(SessionError::Closed(CloseReason::Local))
    ));
    assert_eq!(net.ep(addr(SERVER)).live_sessions(), 0);
    // A lingering close is cut short the same way.
    net.send(addr(5000), c, &[1; 3000]).unwrap();
    net.with(addr(5000), |e, now, out| e.close(now, c, out))
        .unwrap();
    assert_eq!(net.ep(addr(5000)).live_sessions(), 1, "lingering");
    net.ep(addr(5000)).abort(c).unwrap();
    assert_eq!(net.ep(addr(5000)).live_sessions(), 0);
}

#[test]
fn max_message_refuses_longer_sends_and_sizes_receive_buffers() {
    let (mut net, c) = server_and_client(&config(&[]), &config(&[("max_message", "1000")]));
    assert!(matches!(
        net.send(addr(5000), c, &[0; 1001]),
        Err(SessionError::MessageTooLarge {
            len: 1001,
            max: 1000
        })
    ));
    assert!(matches!(net.send(addr(5000), c, &[0; 1000]), Ok(1000)));
    assert_eq!(net.ep(addr(5000)).max_message(c), Some(1000));
    // Unset: what the receive window (128 here) can reassemble.
    net.run(20);
    let s = net.ep(addr(SERVER)).accept().unwrap();
    let mss = net.ep(addr(SERVER)).live_ref(s).unwrap().conn.arq().mss();
    assert_eq!(net.ep(addr(SERVER)).max_message(s), Some(mss * 128));
    // Stream mode has no messages: any buffer works.
    let stream = config(&[("stream", "1"), ("max_message", "1000")]);
    let (mut net, c) = server_and_client(&stream, &stream);
    assert!(matches!(net.send(addr(5000), c, &[0; 5000]), Ok(5000)));
    assert_eq!(net.ep(addr(5000)).max_message(c), None);
}

#[test]
fn with_tokens_required_a_sessions_events_wait_for_its_token() {
    let cfg = config(&[]);
    let (mut net, c) = server_and_client(&cfg, &cfg);
    net.ep(addr(SERVER)).require_tokens();
    net.send(addr(5000), c, b"first").unwrap();
    net.run(20);
    let server = net.ep(addr(SERVER));
    let s = server.accept().unwrap();
    assert!(server.is_readable(s));
    // Another thread polling now must not see an event it cannot name.
    assert_eq!(server.poll_event(), None);
    server.set_tags(s, Tags { token: 7, user: 9 }).unwrap();
    assert_eq!(server.poll_event(), Some(Event::Readable(s)));
    assert_eq!(server.tags(s), Tags { token: 7, user: 9 });
    // Released sessions lose their tags.
    net.with(addr(SERVER), |e, now, out| e.release(now, s, out));
    assert_eq!(net.ep(addr(SERVER)).tags(s), Tags::default());
}

mod secure;

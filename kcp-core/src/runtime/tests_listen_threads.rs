//! A listener spread over several I/O threads (`listen_threads`), over
//! real loopback UDP: steering, accept and the event poll across shards,
//! connect from a shard, close.

use std::sync::Arc;
use std::time::Duration;

use super::steering::shard_of;
use super::*;
use crate::config::Config;

const WAIT: Option<Duration> = Some(Duration::from_secs(10));

fn config(threads: usize) -> Config {
    let mut c = Config::default();
    c.set("listen_threads", &threads.to_string()).unwrap();
    c
}

fn recv_vec(s: &Session) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 16];
    let n = s.recv(&mut buf, WAIT).unwrap();
    buf.truncate(n);
    buf
}

/// The index of the shard `s` lives in.
fn shard_index(listener: &Listener, s: &Session) -> usize {
    listener
        .shards
        .iter()
        .position(|shard| Arc::ptr_eq(shard, s.shared_for_tests()))
        .expect("the session belongs to one of the listener's shards")
}

#[test]
fn every_client_reaches_the_shard_its_address_steers_to() {
    let listener = Listener::bind("127.0.0.1:0", &config(2)).unwrap();
    assert_eq!(listener.threads(), 2);
    let addr = listener.local_addr().to_string();
    let clients: Vec<Session> = (0..24)
        .map(|i| {
            let c = Session::dial(&addr, &config(1)).unwrap();
            c.send(&[i as u8; 100], WAIT).unwrap();
            c
        })
        .collect();
    let mut used = [0usize; 2];
    // An event loop keys its sessions by id: ids must not repeat across
    // shards (each shard numbers its slots from 0).
    let mut ids = std::collections::HashSet::new();
    // Kept open to the end: a dropped session closes, and once its reply
    // is acknowledged it no longer counts as live (the count below raced
    // with that and once saw 22).
    let mut servers = Vec::new();
    for _ in 0..clients.len() {
        let server = listener.accept(WAIT).unwrap();
        assert!(
            ids.insert(server.id()),
            "{:?} handed out twice",
            server.id()
        );
        let shard = shard_index(&listener, &server);
        assert_eq!(
            shard,
            shard_of(server.remote_addr(), 2),
            "the kernel steered {} elsewhere",
            server.remote_addr()
        );
        used[shard] += 1;
        let m = recv_vec(&server);
        server.send(&m, WAIT).unwrap();
        servers.push(server);
    }
    // 24 ports over 2 shards: both serve some.
    assert!(used.iter().all(|&n| n > 0), "{used:?}");
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(recv_vec(c), vec![i as u8; 100]);
    }
    assert_eq!(listener.stats().accepted, 24);
    assert_eq!(listener.live_sessions(), 24);
}

/// The replies to a session opened with `connect` must reach the socket
/// it was opened on; the kernel's own hash would send about half of them
/// to the other shard, which would take them for a new peer.
#[test]
fn connect_from_each_shard_gets_its_replies() {
    connect_from_each_shard("127.0.0.1:0");
}

/// The IPv6 steering program reads other offsets.
#[test]
fn connect_from_each_shard_gets_its_replies_over_ipv6() {
    assert!(
        std::net::UdpSocket::bind("[::1]:0").is_ok(),
        "IPv6 loopback is unavailable on this machine"
    );
    connect_from_each_shard("[::1]:0");
}

fn connect_from_each_shard(bind: &str) {
    let node = Listener::bind(bind, &config(2)).unwrap();
    let peers: Vec<Listener> = (0..16)
        .map(|_| Listener::bind(bind, &config(1)).unwrap())
        .collect();
    let mut used = [0usize; 2];
    let sessions: Vec<Session> = peers
        .iter()
        .map(|p| {
            let s = node.connect(&p.local_addr().to_string()).unwrap();
            assert_eq!(s.local_addr(), node.local_addr());
            used[shard_index(&node, &s)] += 1;
            s.send(b"ping", WAIT).unwrap();
            s
        })
        .collect();
    assert!(used.iter().all(|&n| n > 0), "{used:?}");
    for p in &peers {
        let s = p.accept(WAIT).unwrap();
        assert_eq!(s.remote_addr(), node.local_addr());
        assert_eq!(recv_vec(&s), b"ping");
        s.send(b"pong", WAIT).unwrap();
    }
    for s in &sessions {
        assert_eq!(recv_vec(s), b"pong");
    }
    let st = node.stats();
    assert_eq!((st.accepted, st.unroutable), (0, 0), "{st:?}");
}

#[test]
fn the_event_poll_and_its_descriptor_cover_every_shard_and_close_wakes_it() {
    let listener = Listener::bind("127.0.0.1:0", &config(3)).unwrap();
    let fd = listener.event_fd().unwrap();
    assert!(!sys::readable_within(fd, 0));
    let addr = listener.local_addr().to_string();
    let clients: Vec<Session> = (0..12)
        .map(|_| {
            let c = Session::dial(&addr, &config(1)).unwrap();
            c.send(b"hi", WAIT).unwrap();
            c
        })
        .collect();
    let mut sessions = std::collections::HashMap::new();
    let mut echoed = 0;
    let mut shards = [false; 3];
    while echoed < clients.len() {
        assert!(sys::readable_within(fd, 10_000), "no event within 10 s");
        // An accepted session may hold its first message already.
        let id = match listener.poll_event(Some(Duration::ZERO)).unwrap() {
            Some(Event::Accepted(s)) => {
                shards[shard_index(&listener, &s)] = true;
                let id = s.id();
                sessions.insert(id, s);
                id
            }
            Some(Event::Readable(id)) => id,
            _ => continue,
        };
        let s = &sessions[&id];
        let mut buf = [0u8; 64];
        while let Ok(n) = s.recv(&mut buf, Some(Duration::ZERO)) {
            s.send(&buf[..n], WAIT).unwrap();
            echoed += 1;
        }
    }
    for c in &clients {
        assert_eq!(recv_vec(c), b"hi");
    }
    assert!(
        shards.iter().filter(|&&used| used).count() >= 2,
        "{shards:?}"
    );

    // A poller blocked forever returns once the listener is closed and its
    // sessions are done, whichever shard finishes last.
    std::thread::scope(|scope| {
        let poller = scope.spawn(|| loop {
            match listener.poll_event(None) {
                Ok(_) => continue,
                Err(e) => return e,
            }
        });
        drop(clients);
        listener.close();
        let e = poller.join().unwrap();
        assert!(
            matches!(
                e,
                Error::Session(crate::endpoint::SessionError::Closed(
                    CloseReason::ListenerClosed
                ))
            ),
            "{e:?}"
        );
    });
    assert!(listener.is_closed());
}

#[test]
fn a_blocked_accept_is_woken_by_any_shard() {
    let listener = Listener::bind("127.0.0.1:0", &config(2)).unwrap();
    let addr = listener.local_addr().to_string();
    std::thread::scope(|scope| {
        let acceptor = scope.spawn(|| {
            (0..8)
                .map(|_| listener.accept(WAIT).map(|s| s.remote_addr()))
                .collect::<Result<Vec<_>, _>>()
        });
        let clients: Vec<Session> = (0..8)
            .map(|_| {
                let c = Session::dial(&addr, &config(1)).unwrap();
                c.send(b"x", WAIT).unwrap();
                c
            })
            .collect();
        let accepted = acceptor.join().unwrap().unwrap();
        for c in &clients {
            let port = c.local_addr().port();
            assert!(accepted.iter().any(|a| a.port() == port));
        }
    });
    assert!(matches!(
        listener.accept(Some(Duration::from_millis(20))),
        Err(Error::TimedOut)
    ));
}

#[test]
fn limits_are_shared_out_and_reuseport_is_refused() {
    let mut c = config(2);
    c.set("reuseport", "1").unwrap();
    let e = Listener::bind("127.0.0.1:0", &c).err().expect("refused");
    assert!(e.to_string().contains("listen_threads"), "{e}");

    let mut c = config(3);
    c.set("max_sessions", "10").unwrap();
    let listener = Listener::bind("127.0.0.1:0", &c).unwrap();
    let parts: Vec<usize> = listener
        .shards
        .iter()
        .map(|s| s.lock().ep.config().max_sessions)
        .collect();
    assert_eq!(parts, [4, 3, 3]);
}

//! Sessions over real loopback UDP sockets through the runtime's threads.

use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::*;
use crate::config::Config;
use crate::endpoint::{SessionError, Tags};

const WAIT: Option<Duration> = Some(Duration::from_secs(10));

fn config(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in [("mode", "fast3"), ("sndwnd", "256"), ("rcvwnd", "256")] {
        c.set(k, v).unwrap();
    }
    for (k, v) in pairs {
        c.set(k, v).unwrap();
    }
    c
}

pub(super) fn recv_vec(s: &Session) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 16];
    let n = s.recv(&mut buf, WAIT).unwrap();
    buf.truncate(n);
    buf
}

fn echo_through(cfg: &Config, bind: &str) {
    let listener = Listener::bind(bind, cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), cfg).unwrap();
    for i in 0..50u32 {
        let msg: Vec<u8> = (0..(i * 97 % 4000 + 1)).map(|b| (b ^ i) as u8).collect();
        client.send(&msg, WAIT).unwrap();
    }
    let server = listener.accept(WAIT).unwrap();
    assert_eq!(server.remote_addr().port(), client.local_addr().port());
    assert_eq!(server.conv(), client.conv());
    for _ in 0..50 {
        let m = recv_vec(&server);
        server.send(&m, WAIT).unwrap();
    }
    for i in 0..50u32 {
        let want: Vec<u8> = (0..(i * 97 % 4000 + 1)).map(|b| (b ^ i) as u8).collect();
        assert_eq!(recv_vec(&client), want);
    }
    let st = client.stats().unwrap();
    assert!(st.out_packets > 0 && st.in_packets > 0);
}

#[test]
fn echo_plain_ipv4() {
    echo_through(&config(&[]), "127.0.0.1:0");
}

#[test]
fn echo_aes_with_fec() {
    echo_through(
        &config(&[
            ("crypt", "aes"),
            ("key", "secret"),
            ("datashard", "10"),
            ("parityshard", "3"),
        ]),
        "127.0.0.1:0",
    );
}

#[test]
fn echo_ipv6() {
    if UdpSocket::bind("[::1]:0").is_err() {
        // The kernel may have IPv6 off; the test still needs to prove something.
        panic!("IPv6 loopback is unavailable on this machine");
    }
    echo_through(&config(&[("crypt", "salsa20"), ("key", "k")]), "[::1]:0");
}

#[test]
fn connect_from_listeners_both_ways() {
    let cfg = config(&[]);
    let a = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let b = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    // Both connect at once: each listener holds one session it opened and
    // one it accepted, from the same address.
    let a_to_b = a.connect(&b.local_addr().to_string()).unwrap();
    let b_to_a = b.connect(&a.local_addr().to_string()).unwrap();
    a_to_b.send(b"from a", WAIT).unwrap();
    b_to_a.send(b"from b", WAIT).unwrap();
    let at_b = b.accept(WAIT).unwrap();
    let at_a = a.accept(WAIT).unwrap();
    assert_eq!(recv_vec(&at_b), b"from a");
    assert_eq!(recv_vec(&at_a), b"from b");
    assert_eq!(at_b.remote_addr(), a.local_addr());
    assert_eq!(a_to_b.local_addr(), a.local_addr());
    at_b.send(b"reply to a", WAIT).unwrap();
    assert_eq!(recv_vec(&a_to_b), b"reply to a");
    assert_ne!(a_to_b.conv(), b_to_a.conv());
}

#[test]
fn timeouts_and_non_blocking_calls() {
    let cfg = config(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let started = Instant::now();
    assert!(matches!(
        listener.accept(Some(Duration::from_millis(50))),
        Err(Error::TimedOut)
    ));
    assert!(started.elapsed() >= Duration::from_millis(50));
    assert!(listener
        .accept(Some(Duration::ZERO))
        .unwrap_err()
        .is_would_block());
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    let mut buf = [0u8; 16];
    assert!(client
        .recv(&mut buf, Some(Duration::ZERO))
        .unwrap_err()
        .is_would_block());
    assert!(matches!(
        client.recv(&mut buf, Some(Duration::from_millis(20))),
        Err(Error::TimedOut)
    ));
    // A full send queue refuses without blocking.
    let small = config(&[("sndwnd", "4"), ("rcvwnd", "4")]);
    let quiet = UdpSocket::bind("127.0.0.1:0").unwrap();
    let stuck = Session::dial(&quiet.local_addr().unwrap().to_string(), &small).unwrap();
    let mut refused = false;
    for _ in 0..16 {
        if let Err(e) = stuck.send(&[0; 100], Some(Duration::ZERO)) {
            assert!(e.is_would_block());
            refused = true;
            break;
        }
    }
    assert!(refused);
    assert!(!stuck.is_writable());
}

#[test]
fn events_and_the_event_fd() {
    let cfg = config(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let fd = listener.event_fd().unwrap();
    assert!(!sys::readable_within(fd, 0));
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    client.send(b"ping", WAIT).unwrap();
    assert!(sys::readable_within(fd, 10_000));
    let Some(Event::Accepted(server)) = listener.poll_event(WAIT).unwrap() else {
        panic!("expected an accepted session");
    };
    match listener.poll_event(WAIT).unwrap() {
        Some(Event::Readable(id)) => assert_eq!(id, server.id()),
        other => panic!("expected readable, got {other:?}"),
    }
    assert_eq!(recv_vec(&server), b"ping");
    assert!(listener.poll_event(Some(Duration::ZERO)).unwrap().is_none());
    assert!(!sys::readable_within(fd, 0));
    // A dialed session has its own events.
    server.send(b"pong", WAIT).unwrap();
    match client.poll_event(WAIT).unwrap() {
        Some(Event::Readable(id)) => assert_eq!(id, client.id()),
        other => panic!("expected readable, got {other:?}"),
    }
    assert!(matches!(
        server.poll_event(Some(Duration::ZERO)),
        Err(Error::NotOwner)
    ));
    // Closing the listener closes its sessions.
    listener.close();
    match listener.poll_event(WAIT).unwrap() {
        Some(Event::Closed(id, CloseReason::ListenerClosed)) => assert_eq!(id, server.id()),
        other => panic!("expected closed, got {other:?}"),
    }
    assert!(matches!(
        server.send(b"x", WAIT),
        Err(Error::Session(SessionError::Closed(
            CloseReason::ListenerClosed
        )))
    ));
    assert!(listener.connect("127.0.0.1:9").is_err());
    assert!(listener.accept(Some(Duration::ZERO)).is_err());
}

#[test]
fn graceful_close_delivers_everything() {
    let cfg = config(&[("sndwnd", "64"), ("rcvwnd", "64")]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    let total = 300u32;
    let sender = std::thread::spawn(move || {
        for i in 0..total {
            client.send(&i.to_le_bytes().repeat(300), WAIT).unwrap();
        }
        client.close().unwrap();
        // Double close and use after close are errors, not crashes.
        assert!(client.close().is_err());
        assert!(client.send(b"late", WAIT).is_err());
        // Dropping releases the handle; the close goes on in the background.
    });
    let server = listener.accept(WAIT).unwrap();
    for i in 0..total {
        assert_eq!(recv_vec(&server), i.to_le_bytes().repeat(300));
    }
    sender.join().unwrap();
}

#[test]
fn many_sessions_share_one_io_thread() {
    let cfg = config(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let addr = listener.local_addr().to_string();
    let clients: Vec<Session> = (0..200)
        .map(|_| Session::dial(&addr, &cfg).unwrap())
        .collect();
    for (i, c) in clients.iter().enumerate() {
        c.send(format!("hello {i}").as_bytes(), WAIT).unwrap();
    }
    let mut seen = 0;
    while seen < clients.len() {
        let s = listener.accept(WAIT).unwrap();
        let m = recv_vec(&s);
        s.send(&m, WAIT).unwrap();
        seen += 1;
        std::mem::forget(s); // keep the session open (released with the listener)
    }
    for (i, c) in clients.iter().enumerate() {
        assert_eq!(recv_vec(c), format!("hello {i}").as_bytes());
    }
    let threads = std::fs::read_dir("/proc/self/task").unwrap().count();
    assert!(threads < 64, "{threads} threads for 200 sessions");
}

#[test]
fn idle_sessions_have_no_timers_without_keepalive() {
    idle_sessions_sleep_until(&config(&[("keepalive", "0"), ("idle_timeout", "0")]), None);
}

#[test]
fn idle_sessions_wake_only_for_keepalive_by_default() {
    let keepalive_ms = u64::from(crate::config::KEEPALIVE_DEFAULT) * 1000;
    // Idle sessions give their buffers back a second after their last
    // exchange; from then on only the keepalive is due.
    idle_sessions_sleep_until(&config(&[]), Some(keepalive_ms / 2));
}

/// Exchanges a message each way, then waits until neither endpoint has a
/// deadline sooner than `at_least` ms away (`None`: no deadline at all).
fn idle_sessions_sleep_until(cfg: &Config, at_least: Option<u64>) {
    let listener = Listener::bind("127.0.0.1:0", cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), cfg).unwrap();
    client.send(b"x", WAIT).unwrap();
    let server = listener.accept(WAIT).unwrap();
    assert_eq!(recv_vec(&server), b"x");
    server.send(b"y", WAIT).unwrap();
    assert_eq!(recv_vec(&client), b"y");
    // Once every ACK has crossed, no deadline is near.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let quiet = |next: Option<u64>| match (next, at_least) {
            (None, _) => true,
            (Some(at), Some(ms)) => at >= super::clock::now() + ms,
            (Some(_), None) => false,
        };
        let idle = quiet(listener.shards[0].lock().ep.next_timeout())
            && quiet(client.shared_for_tests().lock().ep.next_timeout());
        if idle {
            break;
        }
        assert!(Instant::now() < deadline, "sessions never went idle");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn garbage_and_wrong_keys_create_nothing() {
    let cfg = config(&[("crypt", "aes"), ("key", "right")]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let addr = listener.local_addr();
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rng = crate::sim::Rng::new(5);
    let mut delivered = 0;
    for len in 0..2000u64 {
        let d: Vec<u8> = (0..len % 1600).map(|_| rng.next_u64() as u8).collect();
        attacker.send_to(&d, addr).unwrap();
        // Datagrams over 1500 bytes are cut by the kernel and never reach the endpoint.
        delivered += u64::from(d.len() <= MAX_DATAGRAM);
        if len % 20 == 19 {
            // Pace the flood so the socket buffer never overflows: every
            // datagram must be seen, and counted.
            let until = Instant::now() + Duration::from_secs(10);
            while listener.stats().datagrams_in < delivered {
                assert!(Instant::now() < until, "{:?}", listener.stats());
                std::thread::yield_now();
            }
        }
    }
    let wrong = Session::dial(
        &addr.to_string(),
        &config(&[("crypt", "aes"), ("key", "wrong")]),
    )
    .unwrap();
    wrong.send(b"let me in", WAIT).unwrap();
    // A real client still gets through, after all of the above.
    let good = Session::dial(&addr.to_string(), &cfg).unwrap();
    good.send(b"hello", WAIT).unwrap();
    let s = listener.accept(WAIT).unwrap();
    assert_eq!(s.conv(), good.conv());
    assert_eq!(recv_vec(&s), b"hello");
    assert!(listener.accept(Some(Duration::from_millis(100))).is_err());
    let st = listener.stats();
    assert_eq!(st.accepted, 1);
    // Every garbage datagram was refused by the checksum, none later.
    assert!(st.crypt_errors >= delivered, "{st:?}");
    assert_eq!(st.malformed + st.unroutable, 0, "{st:?}");
}

#[test]
fn bad_addresses_and_settings_are_refused() {
    let cfg = config(&[]);
    assert!(matches!(
        Listener::bind("nonsense", &cfg),
        Err(Error::Address(_))
    ));
    assert!(matches!(
        Session::dial("127.0.0.1", &cfg),
        Err(Error::Address(_))
    ));
    assert!(matches!(
        Listener::bind("127.0.0.1:0", &config(&[("mtu", "9000")])),
        Err(Error::Config(_))
    ));
    let taken = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    assert!(matches!(
        Listener::bind(&taken.local_addr().to_string(), &cfg),
        Err(Error::Io(_))
    ));
    let secure = config(&[("crypt", "secure")]);
    assert!(matches!(
        Listener::bind("127.0.0.1:0", &secure),
        Err(Error::Endpoint(_))
    ));
}

/// Issue 9: a panic while the I/O thread handles one endpoint closes that
/// endpoint's sessions with `CloseReason::Panic` (waking a blocked reader
/// and raising a CLOSED event) and the thread goes on serving the others.
/// Before, the thread died silently and every session on it hung.
#[test]
fn a_panic_on_one_endpoint_closes_its_sessions_and_spares_the_others() {
    let Pair {
        listener: doomed,
        client: _doomed_client,
        server: doomed_server,
    } = Pair::new();
    let healthy = Pair::new();

    // A reader blocked on the doomed endpoint, woken by the containment.
    std::thread::scope(|scope| {
        let blocked = scope.spawn(|| doomed_server.recv(&mut [0u8; 64], WAIT));
        doomed.shards[0].lock().ep.panic_on = Some(b"poison".to_vec());
        let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
        stranger.send_to(b"poison", doomed.local_addr()).unwrap();
        match blocked.join().unwrap() {
            Err(Error::Session(SessionError::Closed(CloseReason::Panic))) => {}
            other => panic!("the blocked reader got {other:?}"),
        }
    });
    match doomed.poll_event(WAIT) {
        Ok(Some(Event::Closed(id, CloseReason::Panic))) => assert_eq!(id, doomed_server.id()),
        other => panic!("expected a CLOSED event with the panic reason, got {other:?}"),
    }
    assert!(matches!(
        doomed_server.send(b"x", WAIT),
        Err(Error::Session(SessionError::Closed(CloseReason::Panic)))
    ));

    // The same I/O thread still serves the other listener.
    healthy.round_trips(20);
}

/// A listener, a client dialed to it, and the server side, which has
/// received the client's first message.
struct Pair {
    listener: Listener,
    client: Session,
    server: Session,
}

impl Pair {
    fn new() -> Self {
        let cfg = config(&[]);
        let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
        let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
        client.send(b"hello", WAIT).unwrap();
        let server = listener.accept(WAIT).unwrap();
        assert_eq!(recv_vec(&server), b"hello");
        Self {
            listener,
            client,
            server,
        }
    }

    /// `n` echo round trips, client first.
    fn round_trips(&self, n: u32) {
        for i in 0..n {
            let msg = i.to_le_bytes();
            self.client.send(&msg, WAIT).unwrap();
            assert_eq!(recv_vec(&self.server), msg);
            self.server.send(&msg, WAIT).unwrap();
            assert_eq!(recv_vec(&self.client), msg);
        }
    }
}

/// `sessions_per_addr` set to 0 through the struct (`Config::set` refuses
/// it) underflowed the admission arithmetic; it now acts as 1.
#[test]
fn sessions_per_addr_zero_admits_like_one() {
    let mut cfg = config(&[]);
    cfg.sessions_per_addr = 0;
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    client.send(b"first", WAIT).unwrap();
    let server = listener.accept(WAIT).unwrap();
    assert_eq!(recv_vec(&server), b"first");
}

/// Waits until a thread is blocked on `shared`'s condition variable.
fn until_blocked(shared: &shared::Shared) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while shared.waiters.load(std::sync::atomic::Ordering::Acquire) == 0 {
        assert!(Instant::now() < deadline, "nobody blocked");
        std::thread::yield_now();
    }
}

/// Issue 9: `Listener::close` wakes a thread blocked in `poll_event`,
/// which returns `Closed` (before, one blocked forever could not be joined).
#[test]
fn closing_a_listener_wakes_a_blocked_poller() {
    let listener = Listener::bind("127.0.0.1:0", &config(&[])).unwrap();
    std::thread::scope(|scope| {
        // (Bounded, so that without the fix the test fails instead of hanging.)
        let poller = scope.spawn(|| listener.poll_event(WAIT));
        until_blocked(&listener.shards[0]);
        let closed_at = Instant::now();
        listener.close();
        match poller.join().unwrap() {
            Err(Error::Session(SessionError::Closed(CloseReason::ListenerClosed))) => {}
            other => panic!("the poller got {other:?}"),
        }
        assert!(closed_at.elapsed() < Duration::from_secs(1));
    });
    assert!(listener.poll_event(Some(Duration::ZERO)).is_err());
}

/// Issue 9: `Session::close` wakes a thread blocked in `recv` at once,
/// even while unacknowledged data lingers (before, it waited out `linger`).
#[test]
fn closing_a_session_wakes_a_blocked_reader_while_data_lingers() {
    let (_, woken_after) = reader_woken_by(Session::close);
    assert!(
        woken_after < Duration::from_secs(1),
        "woken after {woken_after:?} (linger is 5 s)"
    );
}

/// A session to a peer that never answers, with a message lingering
/// unacknowledged and a thread blocked in `recv`, which `end` must wake
/// with `Closed(Local)`. Returns the session and how long the wake took.
fn reader_woken_by(end: impl Fn(&Session) -> Result<(), Error>) -> (Session, Duration) {
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let session = Session::dial(&silent.local_addr().unwrap().to_string(), &config(&[])).unwrap();
    session.send(b"never acknowledged", WAIT).unwrap();
    let woken_after = std::thread::scope(|scope| {
        let reader = scope.spawn(|| session.recv(&mut [0u8; 64], WAIT));
        until_blocked(session.shared_for_tests());
        let ended_at = Instant::now();
        end(&session).unwrap();
        match reader.join().unwrap() {
            Err(Error::Session(SessionError::Closed(CloseReason::Local))) => {}
            other => panic!("the reader got {other:?}"),
        }
        ended_at.elapsed()
    });
    (session, woken_after)
}

/// Lifts the injected "socket full" fault when dropped (also on a failed
/// assertion, so a failing test cannot leave a thread waiting forever).
struct RefusalLifted;

impl Drop for RefusalLifted {
    fn drop(&mut self) {
        sys::REFUSE_SENDS_ON.store(-1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Issue 9 (and issue 8's "stop a send batch when the socket refuses
/// more"): a sender waited for room in a full socket buffer with the
/// endpoint's lock held (up to 50 ms per batch in `run_with` and before a
/// blocking wait), and the I/O thread waited up to 5 ms per send, so one
/// full socket stalled its endpoint and every endpoint on the thread. Now
/// nothing waits under the lock, the I/O thread parks what a socket
/// refuses, and everything resumes once it is writable.
#[test]
fn a_full_socket_stalls_no_other_endpoint_and_resumes_when_writable() {
    let Pair {
        listener: full,
        client: full_client,
        server: full_server,
    } = Pair::new();
    let healthy = Pair::new();

    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let lifted = RefusalLifted;
    sys::REFUSE_SENDS_ON.store(
        full.shards[0].socket.as_raw_fd(),
        std::sync::atomic::Ordering::Relaxed,
    );
    std::thread::scope(|scope| {
        // ~150 datagrams: more than one batch, so the old code waited for
        // room in the middle of the run, under the lock.
        let sender = scope.spawn(|| full_server.send(&big, WAIT));
        let deadline = Instant::now() + Duration::from_secs(10);
        while sys::ROOM_WAITS.load(std::sync::atomic::Ordering::Acquire) == 0 {
            assert!(
                Instant::now() < deadline,
                "the sender never met the full socket"
            );
            std::thread::yield_now();
        }
        assert!(
            full.shards[0].inner.try_lock().is_ok(),
            "the sender waits for room holding the endpoint's lock"
        );
        // The full endpoint still receives (its ACKs are parked) ...
        full_client.send(b"while full", WAIT).unwrap();
        assert_eq!(recv_vec(&full_server), b"while full");
        // ... and the other endpoint on the same I/O thread is served.
        healthy.round_trips(20);
        drop(lifted);
        assert_eq!(sender.join().unwrap().unwrap(), big.len());
    });
    // Once writable, what waited goes out: the message arrives whole, and
    // the parked ACKs let the client's queue drain.
    let mut buf = vec![0u8; big.len() + 1];
    let n = full_client.recv(&mut buf, WAIT).unwrap();
    assert!(buf[..n] == big[..], "the big message arrived changed");
    full_client.send(b"after", WAIT).unwrap();
    assert_eq!(recv_vec(&full_server), b"after");
}

/// Issue 9: `abort` ends a session at once, waking a blocked reader, with
/// no lingering even while data waits unacknowledged.
#[test]
fn aborting_a_session_wakes_a_blocked_reader_and_ends_it_at_once() {
    let (session, _) = reader_woken_by(Session::abort);
    assert!(session.stats().is_err(), "the session still exists");
    match session.poll_event(WAIT) {
        Ok(Some(Event::Closed(_, CloseReason::Local))) => {}
        other => panic!("expected CLOSED, got {other:?}"),
    }
    assert!(matches!(
        session.abort(),
        Err(Error::Session(SessionError::Closed(CloseReason::Local)))
    ));
}

/// Issue 9: with one thread accepting and another polling, every accepted
/// session's first READABLE reaches the poller carrying the token the
/// accepting thread set (before, an event taken between the accept and
/// the registration was dropped by the C API).
#[test]
fn accepting_and_polling_on_two_threads_loses_no_event() {
    const CLIENTS: usize = 64;
    let cfg = config(&[("sessions_per_addr", "100")]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    listener.require_tokens();
    let dialer = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let addr = listener.local_addr().to_string();
    let clients: Vec<Session> = (0..CLIENTS)
        .map(|_| dialer.connect(&addr).unwrap())
        .collect();
    // Sessions go to whichever thread takes them first (accept, or an
    // ACCEPTED event); each adopts its own under the next token.
    let adopted = std::sync::atomic::AtomicUsize::new(0);
    let adopt = |s: Session| {
        let token = adopted.fetch_add(1, std::sync::atomic::Ordering::AcqRel) + 1;
        // Widens the window in which an event could overtake the tagging.
        std::thread::yield_now();
        s.set_tags(Tags { token, user: 0 }).unwrap();
        s
    };
    std::thread::scope(|scope| {
        let acceptor = scope.spawn(|| {
            let mut held = Vec::new();
            while adopted.load(std::sync::atomic::Ordering::Acquire) < CLIENTS {
                match listener.accept(Some(Duration::from_millis(10))) {
                    Ok(s) => held.push(adopt(s)),
                    Err(Error::TimedOut) => {}
                    Err(e) => panic!("accept: {e}"),
                }
            }
            held
        });
        let poller = scope.spawn(|| {
            let mut held = Vec::new();
            let mut readable = std::collections::HashSet::new();
            while readable.len() < CLIENTS {
                match listener.poll_event_tagged(WAIT).unwrap() {
                    Some((Event::Accepted(s), _)) => held.push(adopt(s)),
                    Some((Event::Readable(_), tags)) => {
                        assert_ne!(tags.token, 0, "an event with no token to name");
                        readable.insert(tags.token);
                    }
                    Some(_) => {}
                    None => panic!("events lost: {} of {CLIENTS} seen", readable.len()),
                }
            }
            held
        });
        for c in &clients {
            c.send(b"hello", WAIT).unwrap();
        }
        poller.join().unwrap();
        acceptor.join().unwrap();
    });
}

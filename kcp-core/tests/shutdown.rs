//! `runtime::shutdown` (issue 9): its own test binary, because it ends the
//! process-wide runtime for good.

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use kcp_core::endpoint::SessionError;
use kcp_core::Config;
use kcp_core::{shutdown, CloseReason, Error, Event, Listener, Session};

const WAIT: Option<Duration> = Some(Duration::from_secs(10));

fn io_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("kcp-io"))
        .count()
}

#[test]
fn shutdown_ends_every_session_wakes_blocked_calls_and_joins_the_threads() {
    let cfg = Config::default();
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    client.send(b"hello", WAIT).unwrap();
    let server = listener.accept(WAIT).unwrap();
    let silent = UdpSocket::bind("127.0.0.1:0").unwrap();
    let lonely = Session::dial(&silent.local_addr().unwrap().to_string(), &cfg).unwrap();
    assert!(io_threads() >= 1);

    let started = Instant::now();
    std::thread::scope(|scope| {
        // Blocked calls on each kind of handle, woken by the shutdown.
        let reader = scope.spawn(|| lonely.recv(&mut [0u8; 64], None));
        let acceptor = scope.spawn(|| listener.accept(None));
        // Sessions may be accepted or received from before the shutdown
        // arrives: waiting for a sign that the threads are blocked would
        // race anyway, and the results below hold either way.
        std::thread::sleep(Duration::from_millis(50));
        shutdown().unwrap();
        assert!(matches!(
            reader.join().unwrap(),
            Err(Error::Session(SessionError::Closed(CloseReason::Shutdown)))
        ));
        assert!(matches!(
            acceptor.join().unwrap(),
            Err(Error::Session(SessionError::Closed(
                CloseReason::ListenerClosed
            )))
        ));
    });
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(io_threads(), 0, "the I/O threads were joined");

    // Every call on the old handles now says closed; events say why.
    for s in [&client, &server, &lonely] {
        assert!(matches!(
            s.send(b"x", WAIT),
            Err(Error::Session(SessionError::Closed(CloseReason::Shutdown)))
        ));
    }
    let mut closed = 0;
    loop {
        match listener.poll_event(WAIT) {
            Ok(Some(Event::Closed(_, CloseReason::Shutdown))) => closed += 1,
            Ok(other) => panic!("unexpected {other:?}"),
            Err(_) => break,
        }
    }
    assert_eq!(closed, 1, "the accepted session's CLOSED event");
    // Nothing new can start, and a second shutdown is harmless.
    assert!(matches!(
        Listener::bind("127.0.0.1:0", &cfg),
        Err(Error::Runtime(_))
    ));
    shutdown().unwrap();
    drop((client, server, lonely, listener));
}

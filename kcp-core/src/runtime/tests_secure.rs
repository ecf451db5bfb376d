//! The secure profile over real loopback UDP: echo with and without FEC,
//! connect-from-listener, a wrong PSK, floods of random and replayed
//! datagrams, NAT rebinding through a relay that changes its port, close.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::config::Config;
use crate::endpoint::{CloseReason, SessionError};

const WAIT: Option<Duration> = Some(Duration::from_secs(10));
const PSK: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

fn secure(pairs: &[(&str, &str)]) -> Config {
    let mut c = Config::default();
    for (k, v) in [("crypt", "secure"), ("psk", PSK)].iter().chain(pairs) {
        c.set(k, v).unwrap();
    }
    c
}

use super::tests::recv_vec;

fn echo(cfg: &Config) {
    let listener = Listener::bind("127.0.0.1:0", cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), cfg).unwrap();
    let server = listener.accept(WAIT).unwrap();
    assert_eq!(server.conv(), client.conv());
    for i in 0..200u32 {
        let msg: Vec<u8> = (0..(i * 97 % 3000 + 1)).map(|b| (b ^ i) as u8).collect();
        client.send(&msg, WAIT).unwrap();
        assert_eq!(recv_vec(&server), msg);
        server.send(&msg, WAIT).unwrap();
        assert_eq!(recv_vec(&client), msg);
    }
    assert_eq!(listener.stats().secure.handshakes, 1);
}

#[test]
fn secure_echo() {
    echo(&secure(&[]));
}

#[test]
fn secure_echo_with_fec() {
    echo(&secure(&[("datashard", "10"), ("parityshard", "3")]));
}

#[test]
fn secure_connect_from_listeners_both_ways() {
    let cfg = secure(&[]);
    let a = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let b = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let ab = a.connect(&b.local_addr().to_string()).unwrap();
    ab.send(b"from a", WAIT).unwrap();
    let ba = b.accept(WAIT).unwrap();
    assert_eq!(recv_vec(&ba), b"from a");
    assert_eq!(ba.remote_addr(), a.local_addr());
    ba.send(b"from b", WAIT).unwrap();
    assert_eq!(recv_vec(&ab), b"from b");
}

#[test]
fn a_wrong_psk_fails_the_dial_with_an_auth_error_at_once() {
    let listener = Listener::bind("127.0.0.1:0", &secure(&[])).unwrap();
    let started = Instant::now();
    let e = Session::dial(
        &listener.local_addr().to_string(),
        &secure(&[("psk", "not the psk")]),
    )
    .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Session(SessionError::Closed(CloseReason::AuthFailed))
        ),
        "{e}"
    );
    assert!(e.to_string().contains("authentication failed"), "{e}");
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(listener.live_sessions(), 0);
    assert!(listener.accept(Some(Duration::ZERO)).is_err());
    assert_eq!(listener.stats().secure.handshake_failures, 1);
}

#[test]
fn a_dial_to_no_secure_listener_times_out_with_its_own_error() {
    // A compat listener drops the initiation as malformed KCP.
    let listener = Listener::bind("127.0.0.1:0", &Config::default()).unwrap();
    let e = Session::dial(&listener.local_addr().to_string(), &secure(&[])).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Session(SessionError::Closed(CloseReason::HandshakeTimeout))
        ),
        "{e}"
    );
}

#[test]
fn floods_of_random_and_replayed_datagrams_create_no_session() {
    let cfg = secure(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let target = listener.local_addr();
    // Record a real client's datagrams through a relay, then replay them.
    let relay = Relay::start(target);
    let client = Session::dial(&relay.addr.to_string(), &cfg).unwrap();
    let server = listener.accept(WAIT).unwrap();
    for i in 0..20u32 {
        client.send(&i.to_le_bytes(), WAIT).unwrap();
        assert_eq!(recv_vec(&server), i.to_le_bytes());
    }
    let tape = relay.tape();
    assert!(tape.len() >= 20, "{} datagrams recorded", tape.len());
    let attacker = UdpSocket::bind("127.0.0.1:0").unwrap();
    let mut rng = crate::sim::Rng::new(3);
    let mut sent = 0u64;
    let mut junk = [0u8; 1400];
    for i in 0..200_000usize {
        if i % 2 == 0 {
            let d = &tape[i / 2 % tape.len()];
            let _ = attacker.send_to(d, target);
        } else {
            let len = 1 + rng.next_u64() as usize % junk.len();
            for b in &mut junk[..len] {
                *b = rng.next_u64() as u8;
            }
            let _ = attacker.send_to(&junk[..len], target);
        }
        sent += 1;
        if sent % 512 == 0 {
            // Flow control: keep what is in flight well inside the
            // listener's socket buffer, so the kernel drops (almost)
            // nothing and the listener really sees the flood.
            let deadline = Instant::now() + Duration::from_millis(200);
            while sent.saturating_sub(listener.stats().datagrams_in) > 1024
                && Instant::now() < deadline
            {
                std::thread::yield_now();
            }
        }
    }
    assert_eq!(sent, 200_000);
    let deadline = Instant::now() + Duration::from_secs(10);
    while listener.stats().datagrams_in < 190_000 && Instant::now() < deadline {
        std::thread::yield_now();
    }
    let st = listener.stats();
    assert!(st.datagrams_in >= 190_000, "{st:?}");
    assert_eq!(listener.live_sessions(), 1, "{st:?}");
    assert!(listener.accept(Some(Duration::ZERO)).is_err());
    assert!(st.secure.replays > 0, "{st:?}");
    // The session is unharmed: nothing was delivered twice.
    assert!(server.recv(&mut [0u8; 64], Some(Duration::ZERO)).is_err());
    client.send(b"still fine", WAIT).unwrap();
    assert_eq!(recv_vec(&server), b"still fine");
}

#[test]
fn a_nat_rebinding_moves_the_session_and_keeps_the_stream_intact() {
    let cfg = secure(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let relay = Relay::start(listener.local_addr());
    let client = Session::dial(&relay.addr.to_string(), &cfg).unwrap();
    let server = listener.accept(WAIT).unwrap();
    let first = server.remote_addr();
    let mut sent = Vec::new();
    for i in 0..400u32 {
        if i == 200 {
            relay.rebind();
        }
        let msg: Vec<u8> = (0..(i % 1500 + 1)).map(|b| (b ^ i) as u8).collect();
        client.send(&msg, WAIT).unwrap();
        sent.push(msg);
    }
    for msg in &sent {
        assert_eq!(&recv_vec(&server), msg);
    }
    server.send(b"to the new address", WAIT).unwrap();
    assert_eq!(recv_vec(&client), b"to the new address");
    assert_eq!(listener.stats().secure.migrations, 1);
    assert_ne!(server.remote_addr(), first, "the session moved");
}

#[test]
fn a_close_reaches_the_peer_within_about_a_round_trip() {
    let cfg = secure(&[]);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let client = Session::dial(&listener.local_addr().to_string(), &cfg).unwrap();
    let server = listener.accept(WAIT).unwrap();
    client.send(b"bye", WAIT).unwrap();
    assert_eq!(recv_vec(&server), b"bye");
    let started = Instant::now();
    client.close().unwrap();
    let e = server.recv(&mut [0u8; 16], WAIT).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Session(SessionError::Closed(CloseReason::Peer(1)))
        ),
        "{e}"
    );
    // Loopback's round trip is well under a millisecond; allow the
    // threads' wake-ups.
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "{:?}",
        started.elapsed()
    );
}

/// A user-space relay between a client and `target` that records what the
/// client sends and can move to a new source port (a NAT rebinding).
struct Relay {
    addr: SocketAddr,
    rebind: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    tape: Arc<std::sync::Mutex<Vec<Vec<u8>>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    fn start(target: SocketAddr) -> Self {
        let front = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = front.local_addr().unwrap();
        let rebind = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let tape = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (r, s, t) = (rebind.clone(), stop.clone(), tape.clone());
        let thread = std::thread::spawn(move || {
            let tick = Some(Duration::from_millis(1));
            front.set_read_timeout(tick).unwrap();
            let mut back = UdpSocket::bind("127.0.0.1:0").unwrap();
            back.set_read_timeout(tick).unwrap();
            let mut client: Option<SocketAddr> = None;
            let mut buf = [0u8; 2048];
            while !s.load(Ordering::Relaxed) {
                if r.swap(false, Ordering::Relaxed) {
                    back = UdpSocket::bind("127.0.0.1:0").unwrap();
                    back.set_read_timeout(tick).unwrap();
                }
                while let Ok((n, from)) = front.recv_from(&mut buf) {
                    client = Some(from);
                    t.lock().unwrap().push(buf[..n].to_vec());
                    let _ = back.send_to(&buf[..n], target);
                }
                while let Ok(n) = back.recv(&mut buf) {
                    if let Some(c) = client {
                        let _ = front.send_to(&buf[..n], c);
                    }
                }
            }
        });
        Self {
            addr,
            rebind,
            stop,
            tape,
            thread: Some(thread),
        }
    }

    fn rebind(&self) {
        self.rebind.store(true, Ordering::Relaxed);
    }

    /// What the client has sent so far.
    fn tape(&self) -> Vec<Vec<u8>> {
        self.tape.lock().unwrap().clone()
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

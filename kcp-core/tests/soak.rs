//! A soak (issue 9): sessions connect, exchange a message each way and
//! close, in waves, on one listener for a while; memory and descriptors
//! must come back to where they were. The suite runs a short soak;
//! `SOAK_SECONDS=600 SOAK_SESSIONS=10000` gives the long one (run with
//! `--no-capture` for its JSON line).

use std::time::{Duration, Instant};

mod common;

use common::rss_kib;
use kcp_core::Config;
use kcp_core::{Listener, Session};

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

/// The server's side, on one long-lived thread as a server's would be:
/// accepts sessions and echoes one message on each, until the listener
/// closes.
fn echo_server(server: &Listener) {
    let mut buf = [0u8; 64];
    while let Ok(s) = server.accept(None) {
        let len = s.recv(&mut buf, WAIT).unwrap();
        s.send(&buf[..len], WAIT).unwrap();
        // Dropped: closed gracefully once the echo is acknowledged.
    }
}

/// One wave: `n` sessions dial the server (a socket each), each sends a
/// message and checks the echo, then all close.
fn wave(server: &Listener, n: usize, wave: u64) {
    let addr = server.local_addr().to_string();
    let client_cfg = Config::default();
    let sessions: Vec<Session> = (0..n)
        .map(|_| Session::dial(&addr, &client_cfg).unwrap())
        .collect();
    for (i, s) in sessions.iter().enumerate() {
        s.send(format!("wave {wave} session {i}").as_bytes(), WAIT)
            .unwrap();
    }
    let mut buf = [0u8; 64];
    for (i, s) in sessions.iter().enumerate() {
        let len = s.recv(&mut buf, WAIT).unwrap();
        assert_eq!(&buf[..len], format!("wave {wave} session {i}").as_bytes());
    }
    for s in &sessions {
        s.close().unwrap();
    }
}

/// Waits (bounded) until the server holds no session: every close has
/// finished lingering, and any session a late retransmission reopened
/// after its close (kcp-go's format has no close message) has expired.
fn settled(server: &Listener) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.live_sessions() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} sessions never finished closing: {:?}",
            server.live_sessions(),
            server.stats()
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn waves_of_sessions_leave_memory_and_descriptors_flat() {
    let seconds = setting("SOAK_SECONDS", 15);
    let per_wave = setting("SOAK_SESSIONS", 2000) as usize;
    let mut cfg = Config::default();
    let n = per_wave.to_string();
    for (k, v) in [
        ("max_sessions", n.as_str()),
        ("sessions_per_addr", n.as_str()),
        ("backlog", n.as_str()),
        // Reopened sessions (see `settled`) expire within seconds.
        ("idle_timeout", "5"),
    ] {
        cfg.set(k, v).unwrap();
    }
    let server = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let fds_base = open_fds();
    std::thread::scope(|scope| {
        scope.spawn(|| echo_server(&server));
        // Ends the echo thread however this one leaves (a failed check
        // included), so the scope can join it.
        let _stop = CloseOnDrop(&server);
        // The first waves warm up the allocator and the tables.
        for w in 0..2 {
            wave(&server, per_wave, w);
            settled(&server);
        }
        descriptors_settle(fds_base);
        let (rss_start, fds_start) = (rss_kib(), open_fds());
        let started = Instant::now();
        let mut waves = 2;
        let mut per_wave_rss = Vec::new();
        while started.elapsed() < Duration::from_secs(seconds) {
            wave(&server, per_wave, waves);
            settled(&server);
            per_wave_rss.push(rss_kib());
            waves += 1;
        }
        let rss_peak = per_wave_rss.iter().copied().max().unwrap_or(rss_start);
        descriptors_settle(fds_start);
        let (rss_end, fds_end) = (rss_kib(), open_fds());
        println!(
            "{{\"case\": \"soak\", \"seconds\": {:.0}, \"sessions_per_wave\": {per_wave}, \
             \"waves\": {waves}, \"sessions\": {}, \"rss_kib_start\": {rss_start}, \
             \"rss_kib_peak\": {rss_peak}, \"rss_kib_end\": {rss_end}, \"fds_start\": {fds_start}, \
             \"fds_end\": {fds_end}, \"rss_kib_after_each_wave\": {per_wave_rss:?}}}",
            started.elapsed().as_secs_f64(),
            waves as usize * per_wave
        );
        assert!(
            rss_end * 10 <= rss_start * 11,
            "memory grew from {rss_start} to {rss_end} KiB"
        );
        assert!(
            fds_end * 10 <= fds_start * 11,
            "descriptors grew from {fds_start} to {fds_end}"
        );
    });
}

/// Waits (bounded) until at most `count` descriptors are open: a dialed
/// session's socket closes once the I/O thread has retired its endpoint,
/// just after the session finished closing.
fn descriptors_settle(count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while open_fds() > count && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Closes the listener when dropped.
struct CloseOnDrop<'a>(&'a Listener);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.close();
    }
}

//! Session benchmarks over real loopback UDP, one JSON line per case, in
//! the shape of `kcpgo-peer bench` (tests/kcpgo-peer/README.md) so
//! scripts/bench-sessions.sh can print them side by side.
//!
//! ```text
//! sessions --case bulk|echo|many|idle [--crypt C] [--datashard N --parityshard M]
//!          [--bytes N] [--write-size W] [--messages M] [--size S] [--sessions K] [--seconds T] [--io-threads N]
//!          [--remote ADDR] [--period-ms P] [--pipelined 1] [--profile tuned|defaults] [--set key=value]...
//! ```
//! Settings as the issue names them: nodelay 1, interval 10, resend 2,
//! nc 1 (mode fast3), windows 1024, MTU 1400, socket buffers 4 MiB.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use kcp_bench::json::Object;
use kcp_core::Config;
use kcp_core::ConnStats;
use kcp_core::{set_io_threads, Event, Listener, Session, SessionId};

const WAIT: Option<Duration> = Some(Duration::from_secs(30));

struct Args {
    case: String,
    crypt: String,
    datashard: String,
    parityshard: String,
    bytes: u64,
    /// bulk: bytes per send (default 1300: one segment, as kcp-go's sink
    /// writes; 65536 is how a file transfer writes).
    write_size: usize,
    messages: usize,
    size: usize,
    sessions: usize,
    seconds: f64,
    io_threads: usize,
    remote: String,
    /// `tuned` (the issue's settings) or `defaults` (what a user who sets
    /// nothing gets).
    profile: String,
    /// `key=value` settings applied last, in order (`--set sockbuf=0`).
    overrides: Vec<(String, String)>,
    /// echo: message i goes no earlier than i x this after the first (a
    /// game's tick); 0 = at once.
    period_ms: f64,
    /// echo: send on the tick without waiting for echoes (a game client's
    /// input stream), matching echoes by index.
    pipelined: bool,
}

fn parse_args() -> Args {
    let mut a = Args {
        case: "bulk".into(),
        crypt: "null".into(),
        datashard: "0".into(),
        parityshard: "0".into(),
        bytes: 256 << 20,
        write_size: 1300,
        messages: 20_000,
        size: 64,
        sessions: 1000,
        seconds: 5.0,
        io_threads: 1,
        remote: String::new(),
        profile: "tuned".into(),
        overrides: Vec::new(),
        period_ms: 0.0,
        pipelined: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        let num = |v: &str| -> f64 {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("not a number: {v}")))
        };
        match args[i].as_str() {
            "--case" => a.case = value,
            "--crypt" => a.crypt = value,
            "--datashard" => a.datashard = value,
            "--parityshard" => a.parityshard = value,
            "--bytes" => a.bytes = num(&value) as u64,
            "--write-size" => a.write_size = num(&value) as usize,
            "--messages" => a.messages = num(&value) as usize,
            "--size" => a.size = num(&value) as usize,
            "--sessions" => a.sessions = num(&value) as usize,
            "--seconds" => a.seconds = num(&value),
            "--io-threads" => a.io_threads = num(&value) as usize,
            "--remote" => a.remote = value,
            "--profile" => a.profile = value,
            "--period-ms" => a.period_ms = num(&value),
            "--pipelined" => a.pipelined = num(&value) != 0.0,
            "--set" => {
                let (k, v) = value
                    .split_once('=')
                    .unwrap_or_else(|| fail(&format!("--set wants key=value, got {value}")));
                a.overrides.push((k.to_owned(), v.to_owned()));
            }
            other => fail(&format!("unknown argument {other}")),
        }
        i += 2;
    }
    if !(1..=Pattern::MAX).contains(&a.write_size) {
        fail(&format!("--write-size must be 1..={}", Pattern::MAX));
    }
    a
}

fn fail(msg: &str) -> ! {
    eprintln!("sessions: FAIL: {msg}");
    std::process::exit(1)
}

fn config(a: &Args) -> Config {
    let mut c = Config::default();
    let tuned: &[(&str, &str)] = match a.profile.as_str() {
        "tuned" => &[
            ("mode", "fast3"),
            ("sndwnd", "1024"),
            ("rcvwnd", "1024"),
            ("mtu", "1400"),
            ("sockbuf", "4194304"),
        ],
        "defaults" => &[],
        other => fail(&format!("--profile is tuned or defaults, not {other}")),
    };
    let common = [
        ("crypt", a.crypt.as_str()),
        ("key", "it's a secrect"),
        // Only crypt=secure reads it; 64 hex digits, so no key stretching.
        (
            "psk",
            "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0",
        ),
        ("datashard", a.datashard.as_str()),
        ("parityshard", a.parityshard.as_str()),
        ("max_sessions", "100000"),
        ("backlog", "100000"),
    ];
    let overrides = a.overrides.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    for (k, v) in tuned.iter().copied().chain(common).chain(overrides) {
        c.set(k, v).unwrap_or_else(|e| fail(&e.to_string()));
    }
    c
}

fn settings(a: &Args) -> String {
    let c = config(a);
    let overrides: Vec<String> = a
        .overrides
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    Object::new()
        .str("profile", &a.profile)
        .str("overrides", &overrides.join(" "))
        .num("nodelay", c.nodelay as f64)
        .num("interval", c.interval as f64)
        .num("resend", c.resend as f64)
        .num("nc", u8::from(c.nc) as f64)
        .num("sndwnd", c.sndwnd as f64)
        .num("rcvwnd", c.rcvwnd as f64)
        .num("mtu", c.mtu as f64)
        .num("sockbuf", c.sockbuf as f64)
        .str("crypt", &a.crypt)
        .str("datashard", &a.datashard)
        .str("parityshard", &a.parityshard)
        .num("io_threads", a.io_threads as f64)
        .finish()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The bulk pattern (byte i = i mod 251) from any offset, as a slice of a
/// precomputed cycle, so checking costs a memcmp as on the kcp-go side.
struct Pattern(Vec<u8>);

impl Pattern {
    const MAX: usize = 1 << 16;

    fn new() -> Self {
        Self((0..251 + Self::MAX).map(|i| (i % 251) as u8).collect())
    }

    fn at(&self, offset: u64, len: usize) -> &[u8] {
        let start = (offset % 251) as usize;
        &self.0[start..start + len]
    }
}

fn pair(cfg: &Config) -> (Listener, Session, Session) {
    let listener = Listener::bind("127.0.0.1:0", cfg).unwrap_or_else(|e| fail(&e.to_string()));
    let client = Session::dial(&listener.local_addr().to_string(), cfg)
        .unwrap_or_else(|e| fail(&e.to_string()));
    client
        .send(b"hello", WAIT)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let server = listener
        .accept(WAIT)
        .unwrap_or_else(|e| fail(&e.to_string()));
    let mut buf = [0u8; 16];
    server
        .recv(&mut buf, WAIT)
        .unwrap_or_else(|e| fail(&e.to_string()));
    (listener, client, server)
}

fn bulk(a: &Args) -> Object {
    if !a.remote.is_empty() {
        return bulk_to_sink(a);
    }
    let cfg = config(a);
    let (_listener, client, server) = pair(&cfg);
    let n = a.bytes;
    let started = Instant::now();
    let reader = std::thread::spawn(move || {
        // Verify every byte against the pattern.
        let pattern = Pattern::new();
        let mut buf = vec![0u8; Pattern::MAX];
        let mut got = 0u64;
        while got < n {
            let len = server
                .recv(&mut buf, WAIT)
                .unwrap_or_else(|e| fail(&format!("recv: {e}")));
            if buf[..len] != *pattern.at(got, len) {
                fail(&format!("bulk bytes differ near offset {got}"));
            }
            got += len as u64;
        }
        (started.elapsed(), server.stats().unwrap_or_default())
    });
    send_pattern(&client, n, a.write_size);
    let write_seconds = started.elapsed().as_secs_f64();
    let (elapsed, server_stats) = reader.join().unwrap_or_else(|_| fail("reader panicked"));
    let cs = client.stats().unwrap_or_default();
    bulk_figures(n, elapsed.as_secs_f64(), write_seconds, &cs, a.write_size)
        .num("fec_recovered", server_stats.fec_recovered as f64)
}

/// Sends `n` bytes of the pattern in messages of `write_size` bytes.
fn send_pattern(client: &Session, n: u64, write_size: usize) {
    let pattern = Pattern::new();
    let mut sent = 0u64;
    while sent < n {
        let len = (n - sent).min(write_size as u64) as usize;
        client
            .send(pattern.at(sent, len), WAIT)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        sent += len as u64;
    }
}

/// What both bulk cases report: the sender's view, verified bytes.
fn bulk_figures(
    n: u64,
    secs: f64,
    write_seconds: f64,
    cs: &ConnStats,
    write_size: usize,
) -> Object {
    Object::new()
        .num("bytes", n as f64)
        .num("seconds", secs)
        .num("mb_per_s", n as f64 / secs / 1e6)
        .num("write_seconds", write_seconds)
        .num("message_size", write_size as f64)
        .str("verified", "true")
        .num("retrans_segs", cs.retransmits as f64)
        .num("fast_retrans_segs", cs.fast_retransmits as f64)
        .num("lost_segs", cs.lost_segments as f64)
        .num("datagrams_sent", cs.out_packets as f64)
}

/// `bulk --remote`: the client half of kcpgo-peer's `sink` application
/// (an 8-byte little-endian length, then the pattern, then the server's
/// 8-byte reply), against `--case sink-server` or kcp-go's
/// `kcpgo-peer serve --app sink` in another process.
fn bulk_to_sink(a: &Args) -> Object {
    let cfg = config(a);
    let client = Session::dial(&a.remote, &cfg).unwrap_or_else(|e| fail(&e.to_string()));
    let n = a.bytes;
    let started = Instant::now();
    client
        .send(&n.to_le_bytes(), WAIT)
        .unwrap_or_else(|e| fail(&format!("send: {e}")));
    send_pattern(&client, n, 1300);
    let write_seconds = started.elapsed().as_secs_f64();
    let mut reply = [0u8; 64];
    let got = client
        .recv(&mut reply, WAIT)
        .unwrap_or_else(|e| fail(&format!("recv the reply: {e}")));
    if got != 8 || reply[..8] != n.to_le_bytes() {
        fail("the sink's reply is not the byte count");
    }
    let cs = client.stats().unwrap_or_default();
    bulk_figures(n, started.elapsed().as_secs_f64(), write_seconds, &cs, 1300)
}

/// `sink-server`: the server half of the `sink` application, for one
/// session; prints the listening line, then a done line, and exits.
fn sink_server(a: &Args) {
    let cfg = config(a);
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap_or_else(|e| fail(&e.to_string()));
    println!(
        "{{\"event\":\"listening\",\"addr\":\"{}\"}}",
        listener.local_addr()
    );
    let session = listener
        .accept(WAIT)
        .unwrap_or_else(|e| fail(&format!("accept: {e}")));
    let pattern = Pattern::new();
    let mut buf = vec![0u8; Pattern::MAX];
    // The header may share nothing with the bulk: messages carry no meaning.
    let mut header = Vec::with_capacity(8);
    let mut got = 0u64;
    let mut total = None;
    while total.is_none_or(|n| got < n) {
        let len = session
            .recv(&mut buf, WAIT)
            .unwrap_or_else(|e| fail(&format!("recv: {e}")));
        let mut data = &buf[..len];
        if total.is_none() {
            let take = (8 - header.len()).min(data.len());
            header.extend_from_slice(&data[..take]);
            data = &data[take..];
            if header.len() == 8 {
                let mut n = [0u8; 8];
                n.copy_from_slice(&header);
                total = Some(u64::from_le_bytes(n));
            }
        }
        if data.len() as u64 > total.unwrap_or(0) - got.min(total.unwrap_or(0)) {
            fail("bytes past the announced count");
        }
        if *data != *pattern.at(got, data.len()) {
            fail(&format!("bulk bytes differ near offset {got}"));
        }
        got += data.len() as u64;
    }
    let n = total.unwrap_or(0);
    session
        .send(&n.to_le_bytes(), WAIT)
        .unwrap_or_else(|e| fail(&format!("send the reply: {e}")));
    // Linger so a lost reply is retransmitted before the process exits
    // (kcp-go has no close message to wait for; kcpgo-peer lingers too).
    let _ = session.recv(&mut buf, Some(Duration::from_millis(300)));
    println!("{{\"event\":\"done\",\"app\":\"sink\",\"bytes\":{n}}}");
}

/// `echo`: ping-pong in this process, or, with `--remote`, against an
/// echo server in another process (`--case echo-server`, or kcp-go's).
fn echo(a: &Args) -> Object {
    let cfg = config(a);
    let size = a.size;
    let m = a.messages;
    let (client, echoer) = if a.remote.is_empty() {
        let (listener, client, server) = pair(&cfg);
        let echoer = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65536];
            for _ in 0..m {
                let n = server
                    .recv(&mut buf, WAIT)
                    .unwrap_or_else(|e| fail(&format!("recv: {e}")));
                server
                    .send(&buf[..n], WAIT)
                    .unwrap_or_else(|e| fail(&format!("send: {e}")));
            }
            (listener, server)
        });
        (client, Some(echoer))
    } else {
        let client = Session::dial(&a.remote, &cfg).unwrap_or_else(|e| fail(&e.to_string()));
        (client, None)
    };
    let ticks = Ticks {
        messages: m,
        size,
        period: Duration::from_secs_f64(a.period_ms / 1000.0),
        started: Instant::now(),
    };
    let mut rtts = if a.pipelined {
        pipelined_echo(&client, &ticks)
    } else {
        lockstep_echo(&client, &ticks)
    };
    let secs = ticks.started.elapsed().as_secs_f64();
    if let Some(echoer) = echoer {
        drop(echoer.join());
    }
    let avg = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
    rtts.sort_by(f64::total_cmp);
    // What the client's side of the link carried, both ways (the server's
    // datagrams counted as they arrived): the cost of a recovery scheme.
    let traffic = client.stats().unwrap_or_default();
    Object::new()
        .num("messages", m as f64)
        .num("datagrams_out", traffic.out_packets as f64)
        .num("datagrams_in", traffic.in_packets as f64)
        .num("bytes_out", traffic.out_bytes as f64)
        .num("bytes_in", traffic.in_bytes as f64)
        .num("retransmits", traffic.retransmits as f64)
        .num("redundant_segments", traffic.redundant_segments as f64)
        .num("size", size as f64)
        .num("seconds", secs)
        .num("rtt_us_p50", percentile(&rtts, 50.0))
        .num("rtt_us_p99", percentile(&rtts, 99.0))
        .num("rtt_us_avg", avg)
}

/// Message `i` of a pipelined echo: `i` (little-endian u32), then bytes
/// `i + k` (kcpgo-peer's `tickPattern`).
fn tick_message(i: usize, size: usize) -> Vec<u8> {
    let mut msg: Vec<u8> = (0..size.max(4)).map(|k| (i + k) as u8).collect();
    msg[..4].copy_from_slice(&(i as u32).to_le_bytes());
    msg
}

/// An echo client's schedule: `messages` of `size` bytes, message `i` no
/// earlier than `i x period` after `started`.
struct Ticks {
    messages: usize,
    size: usize,
    period: Duration,
    started: Instant,
}

impl Ticks {
    /// Sleeps until message `i` is due.
    fn wait(&self, i: usize) {
        let due = self.started + self.period * i as u32;
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
    }
}

/// Messages sent on the tick without waiting, while another thread reads
/// and checks the echoes; RTTs in us, in message order.
fn pipelined_echo(client: &Session, ticks: &Ticks) -> Vec<f64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let (m, size, period, started) = (ticks.messages, ticks.size, ticks.period, ticks.started);
    if size < 8 || period.is_zero() {
        fail("--pipelined needs --period-ms > 0 and --size >= 8");
    }
    let sent: Vec<AtomicU64> = (0..m).map(|_| AtomicU64::new(0)).collect();
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            let mut rtts = vec![0.0; m];
            let mut buf = vec![0u8; 65536];
            for _ in 0..m {
                let n = client
                    .recv(&mut buf, WAIT)
                    .unwrap_or_else(|e| fail(&format!("recv: {e}")));
                let at = started.elapsed().as_nanos() as u64;
                let i = u32::from_le_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
                if n != size || i >= m || buf[..n] != tick_message(i, size)[..] {
                    fail("echo differs");
                }
                rtts[i] = at.saturating_sub(sent[i].load(Ordering::Acquire)) as f64 / 1e3;
            }
            rtts
        });
        for (i, sent_at) in sent.iter().enumerate() {
            ticks.wait(i);
            sent_at.store(started.elapsed().as_nanos() as u64, Ordering::Release);
            client
                .send(&tick_message(i, size), WAIT)
                .unwrap_or_else(|e| fail(&format!("send: {e}")));
        }
        reader
            .join()
            .unwrap_or_else(|_| fail("the echo reader panicked"))
    })
}

/// One message at a time, each sent no earlier than its tick and only
/// after the previous echo; RTTs in us.
fn lockstep_echo(client: &Session, ticks: &Ticks) -> Vec<f64> {
    let msg: Vec<u8> = (0..ticks.size).map(|i| i as u8).collect();
    let mut buf = vec![0u8; 65536];
    let mut rtts = Vec::with_capacity(ticks.messages);
    for i in 0..ticks.messages {
        ticks.wait(i);
        let t = Instant::now();
        client
            .send(&msg, WAIT)
            .unwrap_or_else(|e| fail(&format!("send: {e}")));
        let n = client
            .recv(&mut buf, WAIT)
            .unwrap_or_else(|e| fail(&format!("recv: {e}")));
        if buf[..n] != msg[..] {
            fail("echo differs");
        }
        rtts.push(t.elapsed().as_secs_f64() * 1e6);
    }
    rtts
}

/// The server side of `many` and `idle`: one thread, one event loop,
/// echoing whatever arrives (ENet-style), until `stop`.
fn serve_events(listener: Listener, stop: std::sync::Arc<std::sync::atomic::AtomicBool>) -> u64 {
    use std::sync::atomic::Ordering;
    let mut sessions: HashMap<SessionId, Session> = HashMap::new();
    let mut buf = vec![0u8; 65536];
    while !stop.load(Ordering::Relaxed) {
        let event = match listener.poll_event(Some(Duration::from_millis(50))) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(e) => fail(&format!("poll: {e}")),
        };
        let id = match event {
            Event::Accepted(s) => {
                let id = s.id();
                sessions.insert(id, s);
                id
            }
            Event::Readable(id) => id,
            Event::Closed(id, _) => {
                sessions.remove(&id);
                continue;
            }
            Event::Writable(_) | Event::Datagram(_) => continue,
        };
        if let Some(s) = sessions.get(&id) {
            while let Ok(n) = s.recv(&mut buf, Some(Duration::ZERO)) {
                let _ = s.send(&buf[..n], Some(Duration::ZERO));
            }
        }
    }
    listener.stats().datagrams_in
}

/// A listener on 127.0.0.1 served by [`serve_events`] on its own thread:
/// its address, the flag that stops it, and the thread (which returns the
/// datagrams the listener received).
fn spawn_server(
    cfg: &Config,
) -> (
    String,
    std::sync::Arc<std::sync::atomic::AtomicBool>,
    std::thread::JoinHandle<u64>,
) {
    let listener = Listener::bind("127.0.0.1:0", cfg).unwrap_or_else(|e| fail(&e.to_string()));
    let addr = listener.local_addr().to_string();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = stop.clone();
    (
        addr,
        stop,
        std::thread::spawn(move || serve_events(listener, flag)),
    )
}

/// Client sessions driven by one thread through their event descriptors
/// (epoll via mio), ping-ponging until `until`.
struct Clients {
    sessions: Vec<Session>,
    sent_at: Vec<Instant>,
}

fn many(a: &Args) -> Object {
    use std::sync::atomic::Ordering;
    let cfg = config(a);
    let (addr, stop, server) = spawn_server(&cfg);
    let msg: Vec<u8> = (0..a.size).map(|i| i as u8).collect();
    let establish = Instant::now();
    let mut clients = Clients {
        sessions: (0..a.sessions)
            .map(|_| Session::dial(&addr, &cfg).unwrap_or_else(|e| fail(&e.to_string())))
            .collect(),
        sent_at: vec![Instant::now(); a.sessions],
    };
    let mut poll = mio::Poll::new().unwrap_or_else(|e| fail(&e.to_string()));
    for (i, s) in clients.sessions.iter().enumerate() {
        let fd = s.event_fd().unwrap_or_else(|e| fail(&e.to_string()));
        poll.registry()
            .register(
                &mut mio::unix::SourceFd(&fd),
                mio::Token(i),
                mio::Interest::READABLE,
            )
            .unwrap_or_else(|e| fail(&e.to_string()));
    }
    for (i, s) in clients.sessions.iter().enumerate() {
        clients.sent_at[i] = Instant::now();
        s.send(&msg, WAIT).unwrap_or_else(|e| fail(&e.to_string()));
    }
    let mut events = mio::Events::with_capacity(1024);
    let mut buf = vec![0u8; 65536];
    let mut established = vec![false; a.sessions];
    let mut n_established = 0;
    let mut window: Option<(Instant, Instant)> = None;
    let mut rtts = Vec::new();
    let mut messages = 0u64;
    let (win_start, win_end) = loop {
        if let Some((start, end)) = window {
            if Instant::now() >= end {
                break (start, end);
            }
        }
        poll.poll(&mut events, Some(Duration::from_millis(100)))
            .unwrap_or_else(|e| fail(&e.to_string()));
        for ev in events.iter() {
            let i = ev.token().0;
            let s = &clients.sessions[i];
            // Drain the session's events so its descriptor goes quiet.
            while let Ok(Some(_)) = s.poll_event(Some(Duration::ZERO)) {}
            while let Ok(n) = s.recv(&mut buf, Some(Duration::ZERO)) {
                if n != msg.len() {
                    fail("echo of the wrong size");
                }
                let now = Instant::now();
                if !established[i] {
                    established[i] = true;
                    n_established += 1;
                    if n_established == a.sessions {
                        window = Some((now, now + Duration::from_secs_f64(a.seconds)));
                    }
                } else if let Some((start, end)) = window {
                    if clients.sent_at[i] >= start && now <= end {
                        rtts.push(now.duration_since(clients.sent_at[i]).as_secs_f64() * 1e6);
                        messages += 1;
                    }
                }
                clients.sent_at[i] = now;
                s.send(&msg, WAIT).unwrap_or_else(|e| fail(&e.to_string()));
            }
        }
        if window.is_none() && establish.elapsed() > Duration::from_secs(60) {
            fail(&format!(
                "only {n_established} of {} sessions established",
                a.sessions
            ));
        }
    };
    let establish_seconds = win_start.duration_since(establish).as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let retrans: u64 = clients
        .sessions
        .iter()
        .filter_map(|s| s.stats().ok())
        .map(|s| s.retransmits)
        .sum();
    drop(clients);
    let _ = server.join();
    let secs = win_end.duration_since(win_start).as_secs_f64();
    let avg = rtts.iter().sum::<f64>() / rtts.len().max(1) as f64;
    rtts.sort_by(f64::total_cmp);
    Object::new()
        .num("sessions", a.sessions as f64)
        .num("seconds", secs)
        .num("messages", messages as f64)
        .num("messages_per_s", messages as f64 / secs)
        .num("rtt_us_p50", percentile(&rtts, 50.0))
        .num("rtt_us_p99", percentile(&rtts, 99.0))
        .num("rtt_us_avg", avg)
        .num("establish_seconds", establish_seconds)
        .num("retrans_segs", retrans as f64)
}

/// `echo-server`: prints the listening line, echoes (one event-loop
/// thread) until standard input closes.
fn echo_server(a: &Args) {
    use std::io::Read;
    use std::sync::atomic::Ordering;
    let (addr, stop, server) = spawn_server(&config(a));
    println!("{{\"event\":\"listening\",\"addr\":\"{addr}\"}}");
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    stop.store(true, Ordering::Relaxed);
    let _ = server.join();
}

/// RSS (KiB) and CPU seconds of process `pid` ("self" for this one).
fn proc_usage(pid: &str) -> (f64, f64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(f64::NAN);
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) in parentheses;
    // utime and stime are the 12th and 13th of them, in USER_HZ (100 on Linux).
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(f64::NAN)
    };
    (rss, (ticks(11) + ticks(12)) / 100.0)
}

/// `idle`: the server here, the clients in a child process, so each
/// side's memory and CPU are its own.
fn idle(a: &Args) -> Object {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    use std::sync::atomic::Ordering;
    let cfg = config(a);
    let (rss_before, _) = proc_usage("self");
    let (addr, stop, server) = spawn_server(&cfg);
    let exe = std::env::current_exe().unwrap_or_else(|e| fail(&e.to_string()));
    let mut child = Command::new(exe)
        .args([
            "--case",
            "idle-clients",
            "--remote",
            &addr,
            "--sessions",
            &a.sessions.to_string(),
        ])
        .args([
            "--crypt",
            &a.crypt,
            "--datashard",
            &a.datashard,
            "--parityshard",
            &a.parityshard,
            "--profile",
            &a.profile,
        ])
        .args(
            a.overrides
                .iter()
                .flat_map(|(k, v)| ["--set".to_owned(), format!("{k}={v}")]),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| fail(&format!("spawn the clients: {e}")));
    let pid = child.id().to_string();
    let mut lines =
        BufReader::new(child.stdout.take().unwrap_or_else(|| fail("no stdout"))).lines();
    let ready = lines
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| fail("the clients died"));
    let establish_seconds: f64 = ready
        .strip_prefix("ready ")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| fail(&format!("unexpected from the clients: {ready}")));
    let (_, cpu_server0) = proc_usage("self");
    let (_, cpu_client0) = proc_usage(&pid);
    let t0 = Instant::now();
    // The measuring window itself.
    std::thread::sleep(Duration::from_secs_f64(a.seconds));
    let secs = t0.elapsed().as_secs_f64();
    // Memory at the end of the window: idle sessions give their buffers back
    // after a second of quiet.
    let (rss_server, cpu_server1) = proc_usage("self");
    let (rss_client, cpu_client1) = proc_usage(&pid);
    let server_stats = {
        stop.store(true, Ordering::Relaxed);
        server.join().unwrap_or_else(|_| fail("server panicked"))
    };
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"stop\n");
    }
    let _ = child.wait();
    let n = a.sessions as f64;
    let server_kib = (rss_server - rss_before) / n;
    Object::new()
        .num("sessions", n)
        .num("rss_kib_per_session", server_kib)
        .num("cpu_percent", (cpu_server1 - cpu_server0) / secs * 100.0)
        .num("rss_kib_per_client_session", rss_client / n)
        .num(
            "client_cpu_percent",
            (cpu_client1 - cpu_client0) / secs * 100.0,
        )
        .num("rss_kib_per_pair", server_kib + rss_client / n)
        .num("server_datagrams_in", server_stats as f64)
        .num("establish_seconds", establish_seconds)
        .num("seconds", secs)
}

/// The client half of `idle`: dials, echoes once per session, reports
/// "ready", then sits idle until told to stop.
fn idle_clients(a: &Args) {
    use std::io::BufRead;
    let cfg = config(a);
    let started = Instant::now();
    let msg = [7u8; 16];
    let mut buf = [0u8; 64];
    let mut clients = Vec::with_capacity(a.sessions);
    // 64 dials in flight, as the kcp-go side does.
    for chunk in 0..a.sessions.div_ceil(64) {
        let batch: Vec<Session> = (0..64.min(a.sessions - chunk * 64))
            .map(|_| Session::dial(&a.remote, &cfg).unwrap_or_else(|e| fail(&e.to_string())))
            .collect();
        for s in &batch {
            s.send(&msg, WAIT).unwrap_or_else(|e| fail(&e.to_string()));
        }
        for s in &batch {
            let n = s
                .recv(&mut buf, WAIT)
                .unwrap_or_else(|e| fail(&format!("establish: {e}")));
            if buf[..n] != msg {
                fail("echo differs");
            }
        }
        clients.extend(batch);
    }
    println!("ready {}", started.elapsed().as_secs_f64());
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    drop(clients);
}

fn main() {
    let a = parse_args();
    if let Err(e) = set_io_threads(a.io_threads) {
        fail(&e.to_string());
    }
    let figures = match a.case.as_str() {
        "bulk" => bulk(&a),
        "echo" => echo(&a),
        "many" => many(&a),
        "idle" => idle(&a),
        "echo-server" => {
            echo_server(&a);
            return;
        }
        "sink-server" => {
            sink_server(&a);
            return;
        }
        "idle-clients" => {
            idle_clients(&a);
            return;
        }
        other => fail(&format!("unknown case {other}: bulk, echo, many, idle")),
    };
    let line = Object::new().str("impl", "kcp-rs").str("case", &a.case);
    let body = figures.finish();
    let head = line.finish();
    // Splice: {"impl":..,"case":.., <figures>, "settings":{..}}
    println!(
        "{}, {}, \"settings\": {}}}",
        &head[..head.len() - 1],
        &body[1..body.len() - 1],
        settings(&a)
    );
}

//! Sessions over real loopback UDP against the real kcp-go (Debian's
//! golang-github-xtaci-kcp-dev 5.6.1) through `build/kcpgo-peer`
//! (tests/kcpgo-peer, built by scripts/kcpgo.sh), and through the
//! impairment proxy `build/impair`. The application protocol (echo, sink)
//! is the one tests/kcpgo-peer/README.md defines.
//!
//! These tests fail, never skip, when the kcp-go programs are missing.
//! Through the proxy the bulk transfers are 4 MB (16 MB direct), to keep
//! the suite's time down.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

use kcp_core::Config;
use kcp_core::{Listener, Session};

/// The longest any one call may block. Generous: the suite runs these
/// debug builds two at a time on two cores, beside kcp-go and the proxy,
/// and 4 MB through 10% loss can then take well over 20 s.
const WAIT: Option<Duration> = Some(Duration::from_secs(60));

/// kcp-go's own deadline for the runs through the proxy (its default,
/// 30 s, was met under that load).
const PROXY_PEER_TIMEOUT: &str = "120s";
const CIPHERS: [&str; 4] = ["null", "none", "salsa20", "aes"];
const KEY: &str = "interop key";
const BULK: u64 = 16 << 20;

fn tool(name: &str) -> PathBuf {
    let dir = std::env::var_os("KCPGO")
        .map(PathBuf::from)
        .and_then(|p| p.parent().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../build"));
    let path = dir.join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/kcpgo.sh (installs golang-go and golang-github-xtaci-kcp-dev)",
        path.display()
    );
    path
}

/// A child process killed when dropped (a failing test leaves nothing behind).
struct Proc {
    child: Child,
    out: BufReader<ChildStdout>,
}

impl Proc {
    fn spawn(cmd: &mut Command) -> Self {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn");
        let out = BufReader::new(child.stdout.take().unwrap());
        Self { child, out }
    }

    fn line(&mut self) -> String {
        let mut line = String::new();
        self.out.read_line(&mut line).expect("read");
        assert!(!line.is_empty(), "the peer exited early");
        line
    }

    /// Reads the `{"event":"listening","addr":..}` line.
    fn listening_addr(&mut self) -> String {
        let line = self.line();
        field_str(&line, "addr").unwrap_or_else(|| panic!("no address in {line}"))
    }

    /// Waits for exit 0 and returns the last JSON line.
    fn finish(mut self) -> String {
        let mut last = String::new();
        let mut line = String::new();
        while self.out.read_line(&mut line).unwrap_or(0) > 0 {
            last = std::mem::take(&mut line);
        }
        let status = self.child.wait().unwrap();
        assert!(
            status.success(),
            "peer failed ({status}); last line: {last}"
        );
        last
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn field_str(json: &str, key: &str) -> Option<String> {
    let at = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    Some(json[at..].split('"').next()?.to_owned())
}

fn field_num(json: &str, key: &str) -> Option<f64> {
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    json[at..].split([',', '}']).next()?.trim().parse().ok()
}

/// The tests' tuned settings (fast3, windows 1024, 4 MiB) with `crypt`
/// and FEC 10/3 or off.
fn config(crypt: &str, fec: bool) -> Config {
    let mut c = Config::default();
    for (k, v) in [
        ("mode", "fast3"),
        ("sndwnd", "1024"),
        ("rcvwnd", "1024"),
        ("sockbuf", "4194304"),
    ] {
        c.set(k, v).unwrap();
    }
    with_crypt(c, crypt, fec)
}

/// `c` with `crypt` (keyed with KEY) and FEC 10/3 or off.
fn with_crypt(mut c: Config, crypt: &str, fec: bool) -> Config {
    let (ds, ps) = if fec { ("10", "3") } else { ("0", "0") };
    for (k, v) in [
        ("crypt", crypt),
        ("key", KEY),
        ("datashard", ds),
        ("parityshard", ps),
    ] {
        c.set(k, v).unwrap();
    }
    c
}

fn go_flags(crypt: &str, fec: bool) -> Vec<String> {
    let (ds, ps) = if fec { ("10", "3") } else { ("0", "0") };
    [
        "--crypt",
        crypt,
        "--key",
        KEY,
        "--datashard",
        ds,
        "--parityshard",
        ps,
        "--linger",
        "200ms",
        "--timeout",
        "60s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

fn pattern(offset: u64, out: &mut [u8]) {
    for (i, b) in out.iter_mut().enumerate() {
        *b = ((offset + i as u64) % 251) as u8;
    }
}

fn recv_vec(s: &Session) -> Vec<u8> {
    let mut buf = vec![0u8; 1 << 16];
    let n = s.recv(&mut buf, WAIT).unwrap();
    buf.truncate(n);
    buf
}

/// Waits (bounded) until the session has heard from its peer.
fn await_first_datagram(s: &Session) {
    let until = Instant::now() + Duration::from_secs(10);
    while s.stats().unwrap().in_packets == 0 {
        assert!(Instant::now() < until, "the peer never answered");
        std::thread::sleep(Duration::from_millis(1));
    }
}

// ----- our client, kcp-go server --------------------------------------------

fn our_echo_client(s: &Session, messages: usize) {
    for i in 0..messages {
        let msg: Vec<u8> = (0..(i * 37 % 1300 + 1))
            .map(|b| (b * 7 + i) as u8)
            .collect();
        s.send(&msg, WAIT).unwrap();
        assert_eq!(recv_vec(s), msg, "echo {i}");
    }
}

fn our_sink_client(s: &Session, n: u64) {
    s.send(&n.to_le_bytes(), WAIT).unwrap();
    // kcp-go's listener starts with a 32-segment window that it enlarges
    // only after accept (tests/kcpgo-peer/README.md): wait for its first ACK.
    await_first_datagram(s);
    send_pattern(s, n);
    // Through the lossy proxy this wait once failed ~1 run in 90: kcp-go
    // exited before its twice-lost reply got through (fixed in its linger,
    // tests/kcpgo-peer/unacked.go). Should it fail again, say what the
    // session had done when the wait ran out.
    let mut buf = [0u8; 64];
    match s.recv(&mut buf, WAIT) {
        Ok(len) => assert_eq!(&buf[..len], n.to_le_bytes()),
        Err(e) => panic!(
            "no byte count back from the sink ({e}); session {:?}; endpoint {:?}",
            s.stats(),
            s.endpoint_stats()
        ),
    }
}

fn go_server(app: &str, crypt: &str, fec: bool, extra: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(tool("kcpgo-peer"));
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--app", app])
        .args(go_flags(crypt, fec))
        .args(extra);
    let mut p = Proc::spawn(&mut cmd);
    let addr = p.listening_addr();
    (p, addr)
}

#[test]
fn our_dial_to_kcpgo_listener_echo_and_bulk() {
    for crypt in CIPHERS {
        for fec in [false, true] {
            let cfg = config(crypt, fec);
            let (go, addr) = go_server("echo", crypt, fec, &["--messages", "200"]);
            let s = Session::dial(&addr, &cfg).unwrap();
            our_echo_client(&s, 200);
            let done = go.finish();
            assert_eq!(
                field_num(&done, "sessions"),
                Some(1.0),
                "{crypt} fec={fec}: {done}"
            );

            let (go, addr) = go_server("sink", crypt, fec, &[]);
            let s = Session::dial(&addr, &cfg).unwrap();
            our_sink_client(&s, BULK);
            let done = go.finish();
            assert_eq!(
                field_num(&done, "bytes_in"),
                Some((BULK + 8) as f64),
                "{crypt} fec={fec}: {done}"
            );
            assert_eq!(field_num(&done, "InCsumErrors"), Some(0.0), "{done}");
        }
    }
}

// ----- kcp-go client, our server --------------------------------------------

/// Serves one accepted session until the kcp-go client exits.
fn serve_until_exit(listener: &Listener, go: &mut Proc, app: &str) -> Session {
    let s = listener.accept(WAIT).unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut received: u64 = 0;
    let mut expected: Option<u64> = None;
    let mut header = Vec::new();
    loop {
        match s.recv(&mut buf, Some(Duration::from_millis(50))) {
            Ok(n) => {
                let data = &buf[..n];
                if app == "echo" {
                    s.send(data, WAIT).unwrap();
                    continue;
                }
                // sink: an 8-byte header, then the pattern, as a byte stream.
                let mut data = data;
                if expected.is_none() {
                    let take = (8 - header.len()).min(data.len());
                    header.extend_from_slice(&data[..take]);
                    data = &data[take..];
                    if header.len() == 8 {
                        expected = Some(u64::from_le_bytes(header.clone().try_into().unwrap()));
                    }
                }
                let mut want = vec![0u8; data.len()];
                pattern(received, &mut want);
                assert!(
                    data == want.as_slice(),
                    "bulk bytes differ near offset {received}"
                );
                received += data.len() as u64;
                if Some(received) == expected {
                    s.send(&received.to_le_bytes(), WAIT).unwrap();
                }
            }
            Err(kcp_core::Error::TimedOut) => {
                if go.child.try_wait().unwrap().is_some() {
                    break;
                }
            }
            Err(e) => panic!("recv: {e}"),
        }
    }
    if app == "sink" {
        assert_eq!(Some(received), expected);
    }
    s
}

fn go_client(app: &str, addr: &str, crypt: &str, fec: bool, extra: &[&str]) -> Proc {
    let mut cmd = Command::new(tool("kcpgo-peer"));
    cmd.args(["dial", "--remote", addr, "--app", app])
        .args(go_flags(crypt, fec))
        .args(extra);
    Proc::spawn(&mut cmd)
}

#[test]
fn kcpgo_dial_to_our_listener_echo_and_bulk() {
    for crypt in CIPHERS {
        for fec in [false, true] {
            let cfg = config(crypt, fec);
            let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
            let addr = listener.local_addr().to_string();

            let mut go = go_client(
                "echo",
                &addr,
                crypt,
                fec,
                &["--messages", "200", "--size", "1000"],
            );
            serve_until_exit(&listener, &mut go, "echo");
            let done = go.finish();
            assert_eq!(
                field_num(&done, "messages"),
                Some(200.0),
                "{crypt} fec={fec}: {done}"
            );

            let mut go = go_client("sink", &addr, crypt, fec, &["--bytes", &BULK.to_string()]);
            let s = serve_until_exit(&listener, &mut go, "sink");
            let done = go.finish();
            assert_eq!(
                field_num(&done, "bytes"),
                Some(BULK as f64),
                "{crypt} fec={fec}: {done}"
            );
            assert_eq!(s.stats().unwrap().checksum_errors, 0);
        }
    }
}

#[test]
fn our_listener_connects_to_kcpgo_listener() {
    for crypt in ["null", "salsa20"] {
        let cfg = config(crypt, true);
        let ours = Listener::bind("127.0.0.1:0", &cfg).unwrap();
        let (go, addr) = go_server("echo", crypt, true, &["--messages", "100"]);
        let s = ours.connect(&addr).unwrap();
        assert_eq!(s.local_addr(), ours.local_addr());
        our_echo_client(&s, 100);
        let done = go.finish();
        assert_eq!(field_num(&done, "sessions"), Some(1.0), "{done}");
    }
}

// ----- through the impairment proxy -----------------------------------------

fn proxy(upstream: &str, seed: &str) -> (Proc, String) {
    impaired_proxy(upstream, seed, &["--loss", "0.1", "--reorder", "0.05"])
}

/// The impairment proxy in front of `upstream`, with 2 ms +- 1 ms of delay
/// and `impairments`.
fn impaired_proxy(upstream: &str, seed: &str, impairments: &[&str]) -> (Proc, String) {
    let mut cmd = Command::new(tool("impair"));
    cmd.args([
        "--upstream",
        upstream,
        "--delay",
        "2ms",
        "--jitter",
        "1ms",
        "--seed",
        seed,
        "--timeout",
        "90s",
    ])
    .args(impairments);
    let mut p = Proc::spawn(&mut cmd);
    let addr = p.listening_addr();
    (p, addr)
}

/// Echo and a bulk transfer in both directions through 10% loss (and
/// reordering, delay, jitter) each way, for one cipher and FEC setting;
/// returns the FEC recoveries (kcp-go's, ours).
fn through_the_proxy(crypt: &str, fec: bool, n: u64) -> (f64, u64) {
    let cfg = config(crypt, fec);
    let timeout = ["--timeout", PROXY_PEER_TIMEOUT];
    let started = Instant::now();
    let phase = |what: &str| {
        eprintln!(
            "{crypt} fec={fec}: {what} done at {:.1} s",
            started.elapsed().as_secs_f64()
        )
    };

    // Our client -> proxy -> kcp-go server.
    let (go, go_addr) = go_server(
        "echo",
        crypt,
        fec,
        &[&timeout[..], &["--messages", "100"]].concat(),
    );
    let (_proxy, via) = proxy(&go_addr, "1");
    our_echo_client(&Session::dial(&via, &cfg).unwrap(), 100);
    go.finish();
    phase("our echo client");
    let (go, go_addr) = go_server("sink", crypt, fec, &timeout);
    let (_proxy, via) = proxy(&go_addr, "2");
    our_sink_client(&Session::dial(&via, &cfg).unwrap(), n);
    let done = go.finish();
    phase("our sink client");
    assert_eq!(
        field_num(&done, "bytes_in"),
        Some((n + 8) as f64),
        "{crypt} fec={fec}: {done}"
    );
    let go_recovered = field_num(&done, "FECRecovered").unwrap();

    // kcp-go client -> proxy -> our server.
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let (_proxy, via) = proxy(&listener.local_addr().to_string(), "3");
    let mut go = go_client(
        "echo",
        &via,
        crypt,
        fec,
        &[&timeout[..], &["--messages", "100", "--size", "1000"]].concat(),
    );
    serve_until_exit(&listener, &mut go, "echo");
    go.finish();
    phase("kcp-go echo client");
    let (_proxy, via) = proxy(&listener.local_addr().to_string(), "4");
    let bytes = n.to_string();
    let mut go = go_client(
        "sink",
        &via,
        crypt,
        fec,
        &[&timeout[..], &["--bytes", bytes.as_str()]].concat(),
    );
    let ours = serve_until_exit(&listener, &mut go, "sink");
    go.finish();
    phase("kcp-go sink client");
    (go_recovered, ours.stats().unwrap().fec_recovered)
}

#[test]
fn interop_through_ten_percent_loss_and_reordering() {
    let n: u64 = 4 << 20;
    for crypt in ["null", "salsa20", "aes"] {
        let (go, ours) = through_the_proxy(crypt, false, n);
        assert_eq!((go, ours), (0.0, 0), "{crypt}: FEC recoveries without FEC");
        let (go, ours) = through_the_proxy(crypt, true, n);
        // Each side rebuilt shards the proxy dropped from the other's stream.
        assert!(
            go > 0.0 && ours > 0,
            "{crypt}: FEC recovered kcp-go {go}, ours {ours}"
        );
        eprintln!("{crypt} + FEC 10/3 through 10% loss: recovered by kcp-go {go}, by us {ours}");
    }
}

// ----- defaults on both sides -------------------------------------------------

/// What a user who sets nothing meets: our `Config::default()` against a
/// kcp-go whose sessions keep kcp-go's own defaults (nodelay 0, interval
/// 100, windows 32, no setters called), echo and bulk, both ways.
#[test]
fn our_defaults_interoperate_with_kcpgo_defaults_both_ways() {
    for (crypt, fec) in [("null", false), ("salsa20", true)] {
        let cfg = with_crypt(Config::default(), crypt, fec);
        let defaults = ["--mode", "default"];
        // kcp-go at its defaults moves at most 32 segments per 100 ms tick.
        let bulk = 1u64 << 20;

        let (go, addr) = go_server(
            "echo",
            crypt,
            fec,
            &[&defaults[..], &["--messages", "100"]].concat(),
        );
        let s = Session::dial(&addr, &cfg).unwrap();
        our_echo_client(&s, 100);
        go.finish();
        let (go, addr) = go_server("sink", crypt, fec, &defaults);
        let s = Session::dial(&addr, &cfg).unwrap();
        our_sink_client(&s, bulk);
        let done = go.finish();
        assert_eq!(
            field_num(&done, "bytes_in"),
            Some((bulk + 8) as f64),
            "{crypt}: {done}"
        );

        let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
        let addr = listener.local_addr().to_string();
        let mut go = go_client(
            "echo",
            &addr,
            crypt,
            fec,
            &[&defaults[..], &["--messages", "100", "--size", "1000"]].concat(),
        );
        serve_until_exit(&listener, &mut go, "echo");
        let done = go.finish();
        assert_eq!(field_num(&done, "messages"), Some(100.0), "{crypt}: {done}");
        let mut go = go_client(
            "sink",
            &addr,
            crypt,
            fec,
            &[&defaults[..], &["--bytes", &bulk.to_string()]].concat(),
        );
        serve_until_exit(&listener, &mut go, "sink");
        let done = go.finish();
        assert_eq!(
            field_num(&done, "bytes"),
            Some(bulk as f64),
            "{crypt}: {done}"
        );
    }
}

// ----- budgeted redundancy against kcp-go -------------------------------------

/// A game client's input stream: 200 messages of 64 bytes, one every 5 ms,
/// without waiting for echoes, each checked when its echo comes back.
fn our_tick_client(s: &Session) {
    let message = |i: usize| -> Vec<u8> { (0..64).map(|b| (b * 3 + i) as u8).collect() };
    std::thread::scope(|scope| {
        let reader = scope.spawn(|| {
            for i in 0..200 {
                assert_eq!(recv_vec(s), message(i), "echo {i}");
            }
        });
        for i in 0..200 {
            s.send(&message(i), WAIT).unwrap();
            std::thread::sleep(Duration::from_millis(5));
        }
        reader.join().unwrap();
    });
}

/// Copies of unacknowledged segments (the `redundancy` key) are valid KCP
/// to kcp-go in both directions: through 10% loss, with a full budget, a
/// tick stream each way arrives intact, kcp-go counts our copies as
/// repeats, and we count kcp-go's ordinary retransmissions the same way.
#[test]
fn redundancy_interoperates_with_kcpgo_both_ways() {
    let mut cfg = config("salsa20", false);
    cfg.set("redundancy", "100").unwrap();

    // Our client -> proxy -> kcp-go echo server.
    let (go, go_addr) = go_server("echo", "salsa20", false, &["--messages", "200"]);
    let (_proxy, via) = proxy(&go_addr, "5");
    let s = Session::dial(&via, &cfg).unwrap();
    our_tick_client(&s);
    let copies = s.stats().unwrap().redundant_segments;
    drop(s);
    let done = go.finish();
    let repeats = field_num(&done, "RepeatSegs").unwrap();
    assert!(copies > 0, "no copies sent through 10% loss");
    assert!(
        repeats > 0.0,
        "kcp-go saw no repeats of our {copies} copies: {done}"
    );

    // kcp-go client (a tick stream) -> proxy -> our echo server.
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let (_proxy, via) = proxy(&listener.local_addr().to_string(), "6");
    let mut go = go_client(
        "echo",
        &via,
        "salsa20",
        false,
        &[
            "--messages",
            "200",
            "--size",
            "64",
            "--period",
            "5ms",
            "--pipelined",
        ],
    );
    let ours = serve_until_exit(&listener, &mut go, "echo");
    let done = go.finish();
    assert_eq!(field_num(&done, "messages"), Some(200.0), "{done}");
    let copies = ours.stats().unwrap().redundant_segments;
    assert!(copies > 0, "our server sent no copies through 10% loss");
}

// ----- keepalive against kcp-go -----------------------------------------------

/// Our keepalive every second, our idle timeout 3 s, and quiet gaps of 5 s:
/// sessions survive only because kcp-go answers the probe (a WASK, which
/// every KCP peer answers with WINS).
fn quiet_config() -> Config {
    let mut cfg = config("null", false);
    cfg.set("keepalive", "1").unwrap();
    cfg.set("idle_timeout", "3").unwrap();
    cfg
}

const QUIET: Duration = Duration::from_secs(5);

#[test]
fn kcpgo_answers_our_keepalive_in_both_directions() {
    // We dial and fall quiet.
    let (go, addr) = go_server("echo", "null", false, &["--messages", "2"]);
    let s = Session::dial(&addr, &quiet_config()).unwrap();
    our_echo_client(&s, 1);
    // The quiet gap is the scenario itself, not a wait for something.
    std::thread::sleep(QUIET);
    let st = s.stats().unwrap();
    assert!(st.in_packets >= 3, "kcp-go answered no probe: {st:?}");
    our_echo_client(&s, 1);
    go.finish();

    // kcp-go dials and falls quiet between its two messages.
    let listener = Listener::bind("127.0.0.1:0", &quiet_config()).unwrap();
    let addr = listener.local_addr().to_string();
    let period = format!("{}ms", QUIET.as_millis());
    let mut go = go_client(
        "echo",
        &addr,
        "null",
        false,
        &["--messages", "2", "--period", &period],
    );
    let server = serve_until_exit(&listener, &mut go, "echo");
    let done = go.finish();
    assert_eq!(field_num(&done, "messages"), Some(2.0), "{done}");
    assert!(server.stats().unwrap().in_packets >= 5, "no probe answered");
    assert_eq!(
        listener.stats().accepted,
        1,
        "the session was never replaced"
    );
}

// ----- a hostile path, ours at both ends -------------------------------------

/// Echo and bulk in both directions between our own sessions, through 30%
/// loss, 5% duplication, 5% reordering and one byte flipped in 5% of the
/// datagrams each way, with `crypt=none`: its crc32 drops what the flips
/// damaged, and everything arrives intact.
#[test]
fn crc32_keeps_echo_and_bulk_intact_through_loss_duplication_and_corruption() {
    let mut cfg = config("none", false);
    cfg.set("idle_timeout", "0").unwrap();
    let listener = Listener::bind("127.0.0.1:0", &cfg).unwrap();
    let (proxy, via) = impaired_proxy(
        &listener.local_addr().to_string(),
        "30",
        &[
            "--loss",
            "0.3",
            "--dup",
            "0.05",
            "--reorder",
            "0.05",
            "--corrupt",
            "0.05",
        ],
    );
    let client = Session::dial(&via, &cfg).unwrap();
    let bulk: u64 = 1 << 20;
    std::thread::scope(|scope| {
        let server = scope.spawn(|| {
            let s = listener.accept(WAIT).unwrap();
            // Echo 100 messages, then send the bulk back.
            for _ in 0..100 {
                let m = recv_vec(&s);
                s.send(&m, WAIT).unwrap();
            }
            send_pattern(&s, bulk);
            // And take the client's bulk.
            recv_pattern(&s, bulk, "client -> server");
        });
        our_echo_client(&client, 100);
        recv_pattern(&client, bulk, "server -> client");
        send_pattern(&client, bulk);
        server.join().unwrap();
        // The flips were there, and the checksum caught them.
        let caught = listener.stats().crypt_errors;
        assert!(caught > 0, "no corrupted datagram was caught");
        eprintln!("crc32 dropped {caught} corrupted datagrams at the listener");
    });
    drop(proxy);
}

/// Sends `n` bytes of the pattern in 1300-byte messages.
fn send_pattern(s: &Session, n: u64) {
    let mut buf = [0u8; 1300];
    let mut sent = 0;
    while sent < n {
        let len = (n - sent).min(1300) as usize;
        pattern(sent, &mut buf[..len]);
        s.send(&buf[..len], WAIT).unwrap();
        sent += len as u64;
    }
}

/// Receives `n` bytes and checks them against the pattern.
fn recv_pattern(s: &Session, n: u64, direction: &str) {
    let mut got = 0;
    while got < n {
        let m = recv_vec(s);
        let mut want = vec![0u8; m.len()];
        pattern(got, &mut want);
        assert_eq!(m, want, "{direction} bulk differs near offset {got}");
        got += m.len() as u64;
    }
}

//! A user-space loss proxy fast enough for bulk benchmarks on loopback:
//! each direction drops datagrams at random (a seeded SplitMix64, so a
//! seed repeats the same fates) and forwards the rest at once, one thread
//! per direction. `tests/impair` (Go) also delays, jitters and reorders,
//! forwarded 42-55 MB/s here, so a lossy bulk run through it measures the
//! proxy; this one forwards ~90 MB/s (batching its system calls measured
//! no faster: on two cores the extra hop's thread wake-ups are the cost).
//!
//! ```text
//! lossy_proxy --upstream HOST:PORT [--loss P] [--seed N] [--idle-seconds T]
//! ```
//! IPv4 only. Prints `{"event":"listening","addr":"127.0.0.1:PORT"}`, forwards the
//! first client's datagrams to the upstream and back, and exits after T
//! seconds (default 5) without a datagram, printing its counters.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use kcp_bench::json::Object;
use kcp_core::sim::Rng;
use socket2::SockRef;

fn fail(msg: &str) -> ! {
    eprintln!("lossy_proxy: FAIL: {msg}");
    std::process::exit(1)
}

struct Args {
    upstream: SocketAddr,
    loss: f64,
    seed: u64,
    idle: Duration,
}

fn parse_args() -> Args {
    let mut upstream = None;
    let (mut loss, mut seed, mut idle) = (0.0, 1u64, 5.0);
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let value = pair.get(1).map(String::as_str).unwrap_or_default();
        let number = |v: &str| -> f64 {
            v.parse()
                .unwrap_or_else(|_| fail(&format!("not a number: {v}")))
        };
        match pair[0].as_str() {
            "--upstream" => {
                upstream = Some(
                    value
                        .parse()
                        .unwrap_or_else(|_| fail(&format!("not an address: {value}"))),
                )
            }
            "--loss" => loss = number(value),
            "--seed" => seed = number(value) as u64,
            "--idle-seconds" => idle = number(value),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    Args {
        upstream: upstream.unwrap_or_else(|| fail("--upstream HOST:PORT is required")),
        loss,
        seed,
        idle: Duration::from_secs_f64(idle),
    }
}

/// A socket with 4 MiB buffers (as tests/impair has), so the proxy itself
/// does not drop bursts, and a read timeout to notice silence.
fn socket(bind: &str) -> UdpSocket {
    let socket = UdpSocket::bind(bind).unwrap_or_else(|e| fail(&format!("bind: {e}")));
    let sock = SockRef::from(&socket);
    let _ = sock.set_recv_buffer_size(4 << 20);
    let _ = sock.set_send_buffer_size(4 << 20);
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap_or_else(|e| fail(&format!("timeout: {e}")));
    socket
}

/// Counters of one direction.
#[derive(Default)]
struct Counts {
    forwarded: AtomicU64,
    dropped: AtomicU64,
}

fn main() {
    let a = parse_args();
    let client_side = socket("127.0.0.1:0");
    let upstream_side = socket("127.0.0.1:0");
    let local = client_side
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("{{\"event\":\"listening\",\"addr\":\"{local}\"}}");

    let client: Mutex<Option<SocketAddr>> = Mutex::default();
    let client_addr = || *client.lock().unwrap_or_else(|e| e.into_inner());
    let last = Mutex::new(Instant::now());
    let (up, down) = (Counts::default(), Counts::default());
    let upstream = a.upstream;
    std::thread::scope(|scope| {
        let up_direction = Direction {
            rng: Rng::new(a.seed),
            loss: a.loss,
            idle: a.idle,
            last: &last,
            counts: &up,
        };
        let down_direction = Direction {
            rng: Rng::new(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1),
            counts: &down,
            ..up_direction
        };
        // The first client's datagrams go upstream; it is the one answered.
        scope.spawn(|| {
            up_direction.forward(&client_side, &upstream_side, |from| {
                *client.lock().unwrap_or_else(|e| e.into_inner()) = Some(from);
                Some(upstream)
            })
        });
        scope.spawn(|| {
            down_direction.forward(&upstream_side, &client_side, |from| {
                (from == upstream).then(client_addr).flatten()
            })
        });
    });
    let count = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64;
    println!(
        "{}",
        Object::new()
            .str("event", "done")
            .num("up_forwarded", count(&up.forwarded))
            .num("up_dropped", count(&up.dropped))
            .num("down_forwarded", count(&down.forwarded))
            .num("down_dropped", count(&down.dropped))
            .finish()
    );
}

/// One direction of the proxy.
struct Direction<'a> {
    rng: Rng,
    loss: f64,
    idle: Duration,
    /// When a datagram last arrived either way.
    last: &'a Mutex<Instant>,
    counts: &'a Counts,
}

impl Direction<'_> {
    /// Forwards what `from` receives over `to` to `dest(sender)` (nothing
    /// if `None`), dropping each with probability `loss`, until neither
    /// direction has seen a datagram for `idle`.
    fn forward(
        mut self,
        from: &UdpSocket,
        to: &UdpSocket,
        mut dest: impl FnMut(SocketAddr) -> Option<SocketAddr>,
    ) {
        let mut buf = vec![0u8; 65_536];
        loop {
            match from.recv_from(&mut buf) {
                Ok((n, sender)) => {
                    *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                    let Some(dest) = dest(sender) else {
                        continue;
                    };
                    if self.rng.chance(self.loss) {
                        self.counts.dropped.fetch_add(1, Ordering::Relaxed);
                    } else if to.send_to(&buf[..n], dest).is_ok() {
                        self.counts.forwarded.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Err(_) if quiet(self.last, self.idle) => return,
                Err(_) => {}
            }
        }
    }
}

/// No datagram either way for `idle`.
fn quiet(last: &Mutex<Instant>, idle: Duration) -> bool {
    last.lock().unwrap_or_else(|e| e.into_inner()).elapsed() >= idle
}

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
use std::sync::{Arc, Mutex};
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
    let client_side = Arc::new(socket("127.0.0.1:0"));
    let upstream_side = Arc::new(socket("127.0.0.1:0"));
    upstream_side
        .connect(a.upstream)
        .unwrap_or_else(|e| fail(&format!("connect: {e}")));
    let local = client_side
        .local_addr()
        .unwrap_or_else(|e| fail(&e.to_string()));
    println!("{{\"event\":\"listening\",\"addr\":\"{local}\"}}");

    let client: Arc<Mutex<Option<SocketAddr>>> = Arc::default();
    let last = Arc::new(Mutex::new(Instant::now()));
    let (up, down) = (Arc::new(Counts::default()), Arc::new(Counts::default()));

    let upward = {
        let (from, to) = (client_side.clone(), upstream_side.clone());
        let (client, last, counts) = (client.clone(), last.clone(), up.clone());
        let mut rng = Rng::new(a.seed);
        let (loss, idle) = (a.loss, a.idle);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            loop {
                match from.recv_from(&mut buf) {
                    Ok((n, peer)) => {
                        *client.lock().unwrap_or_else(|e| e.into_inner()) = Some(peer);
                        *last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                        if rng.chance(loss) {
                            counts.dropped.fetch_add(1, Ordering::Relaxed);
                        } else if to.send(&buf[..n]).is_ok() {
                            counts.forwarded.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    Err(_) if quiet(&last, idle) => return,
                    Err(_) => {}
                }
            }
        })
    };
    let downward = {
        let (from, to) = (upstream_side.clone(), client_side.clone());
        let (client, last, counts) = (client.clone(), last.clone(), down.clone());
        let mut rng = Rng::new(a.seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ 1);
        let (loss, idle) = (a.loss, a.idle);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_536];
            loop {
                match from.recv(&mut buf) {
                    Ok(n) => {
                        *last.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
                        let peer = *client.lock().unwrap_or_else(|e| e.into_inner());
                        if rng.chance(loss) {
                            counts.dropped.fetch_add(1, Ordering::Relaxed);
                        } else if let Some(peer) = peer {
                            if to.send_to(&buf[..n], peer).is_ok() {
                                counts.forwarded.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                    }
                    Err(_) if quiet(&last, idle) => return,
                    Err(_) => {}
                }
            }
        })
    };
    let _ = upward.join();
    let _ = downward.join();
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

/// No datagram either way for `idle`.
fn quiet(last: &Mutex<Instant>, idle: Duration) -> bool {
    last.lock().unwrap_or_else(|e| e.into_inner()).elapsed() >= idle
}

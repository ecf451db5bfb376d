//! Secure-profile handshakes per second on one core, sans-IO: a listener
//! endpoint answers initiations and creates sessions from confirms, fed by
//! dialer endpoints, all on this thread with no sockets. Prints one JSON
//! line:
//!
//! - `listener_handshakes_per_s`: handshakes the listener completes per
//!   second of its own time (answering the initiation: one X25519 key
//!   generation and one DH; then opening the ticket and the confirm, and
//!   making the session), the figure a server's capacity depends on;
//! - `pair_handshakes_per_s`: both sides' work, per second of this thread.
//!
//! Usage: handshakes [--count N] (default 20,000)

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use kcp_bench::json::Object;
use kcp_core::endpoint::Endpoint;
use kcp_core::Config;

const PSK: &str = "6b63702d72732068616e647368616b652062656e63686d61726b20707369b0b1";

fn main() {
    let mut count = 20_000usize;
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [flag, n] = args.as_slice() {
        if flag == "--count" {
            count = n.parse().unwrap_or(count);
        }
    }
    let mut cfg = Config::default();
    for (k, v) in [
        ("crypt", "secure"),
        ("psk", PSK),
        ("handshake_rate", "10000000"),
        ("max_sessions", "1000000"),
        ("backlog", "1000000"),
    ] {
        if let Err(e) = cfg.set(k, v) {
            eprintln!("handshakes: {e}");
            std::process::exit(1);
        }
    }
    let server: SocketAddr = "127.0.0.1:4000".parse().unwrap_or_else(|_| unreachable!());
    let mut listener = match Endpoint::listener(&cfg) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("handshakes: {e}");
            std::process::exit(1);
        }
    };
    let mut listener_time = Duration::ZERO;
    let started = Instant::now();
    let mut done = 0usize;
    let mut to_server: Vec<Vec<u8>> = Vec::new();
    let mut to_client: Vec<Vec<u8>> = Vec::new();
    for i in 0..count {
        let now = 1_000 + (i / 1000) as u64;
        let client = SocketAddr::from(([10, (i >> 16) as u8, (i >> 8) as u8, i as u8], 5000));
        let Ok((mut dialer, id)) = Endpoint::dialer(&cfg, server, now) else {
            continue;
        };
        dialer.handle_timeout(now, &mut |_, d| to_server.push(d.to_vec()));
        // initiation -> response -> confirm -> ping
        for _ in 0..2 {
            let t = Instant::now();
            for mut d in to_server.drain(..) {
                listener
                    .handle_datagram(now, client, &mut d, &mut |_, r| to_client.push(r.to_vec()));
            }
            listener.flush_input(now, &mut |_, r| to_client.push(r.to_vec()));
            listener_time += t.elapsed();
            for mut d in to_client.drain(..) {
                dialer.handle_datagram(now, server, &mut d, &mut |_, r| to_server.push(r.to_vec()));
            }
            dialer.flush_input(now, &mut |_, r| to_server.push(r.to_vec()));
        }
        if dialer.handshake(id).is_ok() {
            done += 1;
        }
        // Sessions are handed out and released, as a server would.
        let t = Instant::now();
        while let Some(s) = listener.accept() {
            listener.release(now, s, &mut |_, _| {});
        }
        listener_time += t.elapsed();
    }
    let total = started.elapsed();
    if done != count {
        eprintln!("handshakes: FAIL: {done} of {count} completed");
        std::process::exit(1);
    }
    println!(
        "{}",
        Object::new()
            .str("case", "handshakes")
            .num("count", count as f64)
            .num(
                "listener_handshakes_per_s",
                count as f64 / listener_time.as_secs_f64()
            )
            .num("pair_handshakes_per_s", count as f64 / total.as_secs_f64())
            .finish()
    );
}

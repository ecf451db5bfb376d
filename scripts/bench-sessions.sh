#!/usr/bin/env bash
# kcp-rs sessions next to kcp-go's, in one run, over real loopback UDP, same
# settings (nodelay 1, interval 10, resend 2, nc 1, windows 1024, MTU 1400,
# socket buffers 4 MiB):
#
#   ours:   kcp-bench/src/bin/sessions.rs
#   kcp-go: `kcpgo-peer bench` (tests/kcpgo-peer, built by scripts/kcpgo.sh
#           against Debian's kcp-go 5.6.1), which runs the same cases
#
# Cases: bulk MB/s on one session (null, salsa20, salsa20 + FEC 10/3);
# 64-byte echo RTT (client and server in one process, as kcp-go's own
# benchmark does, and in two processes, as on a network); 1,000 sessions ping-ponging 64-byte echoes; 10,000 idle
# sessions on one listener (RSS per session, CPU); raw UDP as the limit.
# Each case runs kcp-go then ours, ROUNDS times (default 3), alternating;
# the table shows the median of each side.
#
# Targets (issue 4): bulk >= 2x kcp-go for each setting; echo p50 <= kcp-go's;
# 10,000 idle sessions <= 8 KiB each and < 2% of a core.
#
# Usage (from anywhere): scripts/bench-sessions.sh
#   ROUNDS=1 for a quick look; BULK_BYTES (default 256 MiB).
# Prints every JSON line to build/bench-sessions.jsonl, the table to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

ROUNDS="${ROUNDS:-3}"
BULK_BYTES="${BULK_BYTES:-268435456}"
OUT=build/bench-sessions.jsonl

build_peers
# 10,000 dialed sessions need 10,000 sockets.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

: >"$OUT"
run() { # label, then the shared arguments
    local label="$1"; shift
    for round in $(seq "$ROUNDS"); do
        say "$label: kcp-go (round $round)"
        "$GO" bench "$@" | sed "s/^{/{\"label\":\"$label\",/" >>"$OUT"
        say "$label: kcp-rs (round $round)"
        "$OURS" "$@" | sed "s/^{/{\"label\":\"$label\",/" >>"$OUT"
    done
}

run "bulk null" --case bulk --bytes "$BULK_BYTES"
run "bulk salsa20" --case bulk --bytes "$BULK_BYTES" --crypt salsa20
run "bulk salsa20+fec" --case bulk --bytes "$BULK_BYTES" --crypt salsa20 --datashard 10 --parityshard 3
run "echo" --case echo --messages 20000 --size 64
# The same across two processes, server and client, as on a real network:
# kcp-go's serve + dial, and ours.
for round in $(seq "$ROUNDS"); do
    say "echo across processes: kcp-go (round $round)"
    "$GO" serve --listen 127.0.0.1:0 --app echo --messages 20000 --linger 100ms >build/echo2p-go.log &
    addr="$(listen_addr build/echo2p-go.log)"
    "$GO" dial --remote "$addr" --app echo --messages 20000 --size 64 --linger 100ms |
        sed 's/^{/{"label":"echo 2 processes","impl":"kcp-go",/' >>"$OUT"
    wait
    say "echo across processes: kcp-rs (round $round)"
    start_echo_server build/echo2p-stdin build/echo2p-rs.log
    server=$!
    addr="$(listen_addr build/echo2p-rs.log)"
    "$OURS" --case echo --remote "$addr" --messages 20000 --size 64 |
        sed 's/^{/{"label":"echo 2 processes",/' >>"$OUT"
    stop_echo_server
    wait "$server"
done
run "many" --case many --sessions 1000 --seconds 5 --size 64
# Past one core: the listener's sessions on two I/O threads (listen_threads),
# the clients' on the same two. kcp-go's goroutines use every core anyway.
for round in $(seq "$ROUNDS"); do
    say "many on 2 I/O threads: kcp-rs (round $round)"
    "$OURS" --case many --sessions 1000 --seconds 5 --size 64 --io-threads 2 --set listen_threads=2 |
        sed 's/^{/{"label":"many 2 threads",/' >>"$OUT"
    # and as a user who sets nothing but the thread counts gets it
    for threads in 1 2; do
        say "many on $threads I/O thread(s), defaults: kcp-rs (round $round)"
        "$OURS" --case many --sessions 1000 --seconds 5 --size 64 --profile defaults \
            --io-threads "$threads" --set listen_threads="$threads" |
            sed "s/^{/{\"label\":\"many defaults $threads threads\",/" >>"$OUT"
    done
done
run "idle" --case idle --sessions 10000 --seconds 10
say "raw UDP (the limit)"
"$GO" bench --case raw | sed 's/^{/{"label":"raw udp",/' >>"$OUT"

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def vals(label, impl, key):
    return sorted(r[key] for r in rows if r["label"] == label and r["impl"] == impl and r.get(key) is not None)
def med(label, impl, key):
    v = vals(label, impl, key)
    return statistics.median(v) if v else float("nan")
def spread(label, impl, key):
    v = vals(label, impl, key)
    return f"{v[0]:.1f}/{statistics.median(v):.1f}/{v[-1]:.1f}" if v else "-"
# (label, key, name, better, kcp-go's label when it differs)
table = [
    ("bulk null", "mb_per_s", "bulk null MB/s", "higher", None),
    ("bulk salsa20", "mb_per_s", "bulk salsa20 MB/s", "higher", None),
    ("bulk salsa20+fec", "mb_per_s", "bulk salsa20 + FEC 10/3 MB/s", "higher", None),
    ("echo", "rtt_us_p50", "echo p50 us, 1 process", "lower", None),
    ("echo", "rtt_us_p99", "echo p99 us, 1 process", "lower", None),
    ("echo 2 processes", "rtt_us_p50", "echo p50 us, 2 processes", "lower", None),
    ("echo 2 processes", "rtt_us_p99", "echo p99 us, 2 processes", "lower", None),
    ("many", "messages_per_s", "1000 sessions msg/s", "higher", None),
    ("many", "rtt_us_p99", "1000 sessions p99 us", "lower", None),
    ("many 2 threads", "messages_per_s", "1000 sessions msg/s, 2 I/O thr", "higher", "many"),
    ("many 2 threads", "rtt_us_p50", "1000 sessions p50 us, 2 I/O thr", "lower", "many"),
    ("many 2 threads", "rtt_us_p99", "1000 sessions p99 us, 2 I/O thr", "lower", "many"),
    ("many defaults 1 threads", "messages_per_s", "1000 sess. msg/s, defaults, 1 thr", "higher", "many"),
    ("many defaults 2 threads", "messages_per_s", "1000 sess. msg/s, defaults, 2 thr", "higher", "many"),
    ("idle", "cpu_percent", "10k idle: CPU % (server)", "lower", None),
    ("idle", "rss_kib_per_session", "10k idle: KiB/session (server)", "lower", None),
]
print(f"{'case (min/median/max)':34} {'kcp-go':>26} {'kcp-rs':>26} {'ratio':>8}")
for label, key, name, better, go_label in table:
    go_label = go_label or label
    go, rs = med(go_label, "kcp-go", key), med(label, "kcp-rs", key)
    ratio = rs / go if better == "higher" else go / rs if rs else float("inf")
    print(f"{name:34} {spread(go_label, 'kcp-go', key):>26} {spread(label, 'kcp-rs', key):>26} {ratio:7.2f}x")
pair = med("idle", "kcp-rs", "rss_kib_per_pair")
print(f"{'10k idle: KiB per client+server pair':34} {med('idle','kcp-go','rss_kib_per_session'):12.1f} {pair:12.1f}")
print(f"{'raw UDP 1400-byte datagrams MB/s':34} {med('raw udp','kcp-go','mb_per_s'):12.1f}")
print("(ratio: how many times better kcp-rs is; kcp-go's idle figures are for client+server in one process)")
EOF

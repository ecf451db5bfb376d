#!/usr/bin/env bash
# Server CPU per player (issue 8, item 8): a one-thread event-loop echo
# server (ours: `sessions --case echo-server`, one I/O thread; kcp-go:
# `kcpgo-peer serve --app echo`, a goroutine per session) with PLAYERS
# kcp-go clients (default 300), each sending a 64-byte input every 50 ms
# (20 Hz) without waiting and reading the echoes. fast3 on every side,
# the kernel's default socket buffers (sockbuf 0) on both servers. The
# clients (`kcpgo-peer bench --case players`) are the same for both
# servers and read the server's CPU time from /proc over a SECONDS window
# (default 10). ROUNDS times (default 3), alternating; prints server CPU
# (% of one core) and the clients' RTT p50 / p99, min / median / max.
#
# Target (issue 8): our server's CPU at most 0.33x kcp-go's in the same
# run, with the clients' p99 no worse.
#
# Usage (from anywhere): scripts/bench-players.sh
#   ROUNDS (3), PLAYERS (300), SECONDS (10). JSON lines: build/bench-players.jsonl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

ROUNDS="${ROUNDS:-3}"
PLAYERS="${PLAYERS:-300}"
SECONDS_="${SECONDS:-10}"
OUT=build/bench-players.jsonl
mkdir -p build

build_peers

: >"$OUT"
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

run() { # label impl
    local label="$1" impl="$2" server addr
    if [ "$impl" = kcp-go ]; then
        "$GO" serve --listen 127.0.0.1:0 --app echo --sessions 1000000 --mode fast3 --sockbuf 0 \
            --timeout 600s >"$tmp/server.log" &
    else
        start_echo_server "$tmp/stdin" "$tmp/server.log" --set sockbuf=0
    fi
    server=$!
    addr="$(listen_addr "$tmp/server.log")"
    "$GO" bench --case players --remote "$addr" --server-pid "$server" --sessions "$PLAYERS" \
        --rate 20 --size 64 --seconds "$SECONDS_" --mode fast3 --sockbuf 0 9>&- \
        | tail -n 1 >"$tmp/result.json"
    if [ "$impl" = kcp-go ]; then
        kill "$server"
    else
        stop_echo_server
    fi
    wait "$server" 2>/dev/null || true
    label_json "$label" "$impl" <"$tmp/result.json" >>"$OUT"
}

for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS"
    run "kcp-go server" kcp-go
    run "kcp-rs server" kcp-rs
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = list(dict.fromkeys(r["label"] for r in rows))
def cell(label, key, scale=1.0):
    v = sorted(r[key] * scale for r in rows if r["label"] == label)
    return v, f"{v[0]:7.1f} {statistics.median(v):7.1f} {v[-1]:7.1f}"
print(f"{'min / median / max over runs':18} {'server CPU %':>24} {'p50 ms':>24} {'p99 ms':>24} {'echoes/s':>10}")
for label in labels:
    _, cpu = cell(label, "server_cpu_percent")
    _, p50 = cell(label, "rtt_us_p50", 1e-3)
    _, p99 = cell(label, "rtt_us_p99", 1e-3)
    eps = statistics.median(r["echoes"] / r["seconds"] for r in rows if r["label"] == label)
    print(f"{label:18} {cpu:>24} {p50:>24} {p99:>24} {eps:10.0f}")
go = statistics.median(r["server_cpu_percent"] for r in rows if r["impl"] == "kcp-go")
ours = statistics.median(r["server_cpu_percent"] for r in rows if r["impl"] == "kcp-rs")
print(f"server CPU, ours / kcp-go's (medians): {ours / go:.2f}x (target <= 0.33x)")
PY

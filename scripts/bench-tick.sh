#!/usr/bin/env bash
# Game-tick latency (issue 8): a 64-byte echo every 20 ms, one outstanding,
# through tests/impair with 5% loss each way and 20-30 ms one-way delay,
# FEC off, two processes. kcp-go with fast3 beside ours with fast3 (both
# with windows 1024 and 4 MiB buffers, the benches' tuned settings) and
# ours with the defaults (nothing set), ROUNDS times each (default 3),
# alternating; reports p50 / p99 / average RTT in ms, min / median / max
# over the rounds.
#
# Targets (issue 8): the defaults no worse than fast3; later (item 3),
# p99 <= 80 ms and <= 0.65x kcp-go's.
#
# Usage (from anywhere): scripts/bench-tick.sh
#   ROUNDS (3), MESSAGES (300 per run). JSON lines: build/bench-tick.jsonl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh
say() { printf '==> %s\n' "$*" >&2; }

ROUNDS="${ROUNDS:-3}"
MESSAGES="${MESSAGES:-300}"
OUT=build/bench-tick.jsonl
mkdir -p build

scripts/kcpgo.sh >/dev/null
GO=build/kcpgo-peer
IMPAIR=build/impair
say "building kcp-bench (release)"
cargo build --release -q -p kcp-bench --bin sessions
OURS=target/release/sessions

: >"$OUT"
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT


run() { # label impl seed [flags]: one run through a fresh proxy
    local label="$1" impl="$2" seed="$3"
    shift 3
    local server proxy addr
    if [ "$impl" = kcp-go ]; then
        "$GO" serve --listen 127.0.0.1:0 --app echo --messages "$MESSAGES" --linger 200ms \
            --timeout 120s "$@" >"$tmp/server.log" &
    else
        mkfifo "$tmp/stdin" 2>/dev/null || true
        "$OURS" --case echo-server "$@" <"$tmp/stdin" >"$tmp/server.log" &
        exec 9>"$tmp/stdin"
    fi
    server=$!
    addr="$(listen_addr "$tmp/server.log")"
    "$IMPAIR" --upstream "$addr" --loss 0.05 --delay 20ms --jitter 10ms --seed "$seed" \
        --timeout 120s >"$tmp/proxy.log" &
    proxy=$!
    addr="$(listen_addr "$tmp/proxy.log")"
    if [ "$impl" = kcp-go ]; then
        "$GO" dial --remote "$addr" --app echo --messages "$MESSAGES" --size 64 --period 20ms \
            --linger 200ms --timeout 120s "$@" | tail -n 1 >"$tmp/result.json"
    else
        "$OURS" --case echo --remote "$addr" --messages "$MESSAGES" --size 64 --period-ms 20 \
            "$@" >"$tmp/result.json"
        exec 9>&- # the echo server stops at the end of its input
    fi
    wait "$server"
    label_json "$label" "$impl" <"$tmp/result.json" >>"$OUT"
    kill "$proxy" 2>/dev/null || true
    wait "$proxy" 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS"
    run "kcp-go fast3" kcp-go "$round" --mode fast3
    run "kcp-rs fast3" kcp-rs "$round"
    run "kcp-rs defaults" kcp-rs "$round" --profile defaults
done

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = list(dict.fromkeys(r["label"] for r in rows))
print(f"{'RTT ms, min / median / max over runs':28} {'p50':>20} {'p99':>20} {'avg':>20}")
for label in labels:
    cells = []
    for key in ("rtt_us_p50", "rtt_us_p99", "rtt_us_avg"):
        v = sorted(r[key] / 1000 for r in rows if r["label"] == label)
        cells.append(f"{v[0]:6.1f} {statistics.median(v):6.1f} {v[-1]:6.1f}")
    print(f"{label:28} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20}")
EOF

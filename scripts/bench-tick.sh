#!/usr/bin/env bash
# Game-tick latency (issue 8): 64-byte messages on a 20 ms tick through
# tests/impair with 5% loss each way and 20-30 ms one-way delay, FEC off,
# two processes, in two shapes:
# - lockstep: one message outstanding (the next goes after the echo, so
#   the pair ping-pongs back to back at one RTT);
# - pipelined: a message every 20 ms whatever the echoes do, as a game
#   client streams its inputs; echoes matched by index.
# kcp-go with fast3 beside ours with fast3 (both with windows 1024 and
# 4 MiB buffers, the benches' tuned settings), ours with fast3 and no
# redundancy, and ours with the defaults (nothing set), ROUNDS times each
# (default 3), alternating. Reports p50 / p99 / average RTT in ms, min /
# median / max over the rounds, and the datagrams and bytes the client
# sent and received per message.
#
# Targets (issue 8): the defaults no worse than fast3; with redundancy,
# p99 <= 80 ms and <= 0.65x kcp-go's, datagrams <= 1.1x and bytes <= 1.5x
# those without redundancy.
#
# Usage (from anywhere): scripts/bench-tick.sh
#   ROUNDS (3), MESSAGES (300 per run), SHAPES ("lockstep pipelined"),
#   BUDGETS (redundancy budgets run beside the default, "0"). JSON lines: build/bench-tick.jsonl.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

ROUNDS="${ROUNDS:-3}"
MESSAGES="${MESSAGES:-300}"
BUDGETS="${BUDGETS:-0}"
SHAPES="${SHAPES:-lockstep pipelined}"
OUT=build/bench-tick.jsonl
mkdir -p build

build_peers

: >"$OUT"
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT


run() { # label impl seed shape [flags]: one run through a fresh proxy
    local label="$1" impl="$2" seed="$3" shape="$4"
    shift 4
    local server proxy addr pipelined=()
    if [ "$shape" = pipelined ]; then
        if [ "$impl" = kcp-go ]; then pipelined=(--pipelined); else pipelined=(--pipelined 1); fi
    fi
    if [ "$impl" = kcp-go ]; then
        "$GO" serve --listen 127.0.0.1:0 --app echo --messages "$MESSAGES" --linger 200ms \
            --timeout 120s "$@" >"$tmp/server.log" &
    else
        start_echo_server "$tmp/stdin" "$tmp/server.log" "$@"
    fi
    server=$!
    addr="$(listen_addr "$tmp/server.log")"
    "$IMPAIR" --upstream "$addr" --loss 0.05 --delay 20ms --jitter 10ms --seed "$seed" \
        --timeout 120s >"$tmp/proxy.log" 9>&- &
    proxy=$!
    addr="$(listen_addr "$tmp/proxy.log")"
    if [ "$impl" = kcp-go ]; then
        "$GO" dial --remote "$addr" --app echo --messages "$MESSAGES" --size 64 --period 20ms \
            --linger 200ms --timeout 120s "${pipelined[@]}" "$@" | tail -n 1 >"$tmp/result.json"
    else
        "$OURS" --case echo --remote "$addr" --messages "$MESSAGES" --size 64 --period-ms 20 \
            "${pipelined[@]}" "$@" >"$tmp/result.json" 9>&-
        stop_echo_server
    fi
    wait "$server"
    label_json "$label" "$impl" <"$tmp/result.json" >>"$OUT"
    kill "$proxy" 2>/dev/null || true
    wait "$proxy" 2>/dev/null || true
}

for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS"
    for shape in $SHAPES; do
        run "$shape kcp-go fast3" kcp-go "$round" $shape --mode fast3
        for budget in $BUDGETS; do
            run "$shape kcp-rs fast3 redundancy $budget" kcp-rs "$round" $shape \
                --set redundancy="$budget"
        done
        run "$shape kcp-rs fast3" kcp-rs "$round" $shape
        run "$shape kcp-rs defaults" kcp-rs "$round" $shape --profile defaults
    done
done

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = list(dict.fromkeys(r["label"] for r in rows))
def traffic(r):
    # Per message, both directions as the client saw them; kcp-go's from
    # its process-wide SNMP counters (the dialer holds one session).
    m = r["messages"]
    if "snmp" in r:
        s = r["snmp"]
        return (s["OutPkts"] + s["InPkts"]) / m, (s["OutBytes"] + s["InBytes"]) / m
    return ((r["datagrams_out"] + r["datagrams_in"]) / m,
            (r["bytes_out"] + r["bytes_in"]) / m)
print(f"{'RTT ms, min / median / max over runs':36} {'p50':>20} {'p99':>20} {'avg':>20}"
      f" {'dgrams/msg':>10} {'bytes/msg':>10}")
for label in labels:
    mine = [r for r in rows if r["label"] == label]
    cells = []
    for key in ("rtt_us_p50", "rtt_us_p99", "rtt_us_avg"):
        v = sorted(r[key] / 1000 for r in mine)
        cells.append(f"{v[0]:6.1f} {statistics.median(v):6.1f} {v[-1]:6.1f}")
    d = statistics.median(traffic(r)[0] for r in mine)
    b = statistics.median(traffic(r)[1] for r in mine)
    print(f"{label:36} {cells[0]:>20} {cells[1]:>20} {cells[2]:>20} {d:10.2f} {b:10.0f}")
EOF

#!/usr/bin/env bash
# The demo, in C through libkcp:
#  1. echo latency on a simulated lossy network (5% loss each way, 30-62 ms
#     one-way delay, 20 seeds): ikcp's classic loss recovery next to ours;
#  2. sessions over real UDP on 127.0.0.1: the C echo server
#     (examples-c/echo_server.c, an event loop) with salsa20 + FEC 10/3,
#     answering our C client and then the real kcp-go (Debian's package,
#     installed by scripts/kcpgo.sh if missing) as a client.
#
# Usage (from anywhere): scripts/demo.sh [SEEDS]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS="${1:-20}"

cargo build -p kcp-ffi --release
mkdir -p build
for prog in latency echo_server echo_client; do
    "${CC:-gcc}" -std=c11 -Wall -Wextra -Werror -O2 -Iinclude "examples-c/$prog.c" \
        target/release/libkcp.a -lpthread -ldl -lm -o "build/$prog"
done

echo
echo "== 1. ikcp classic recovery, simulated lossy network =="
build/latency "$SEEDS" classic
echo
echo "== 1. improved recovery (the default), same network =="
build/latency "$SEEDS" improved

KCPGO_PEER="$(dirname "$(scripts/kcpgo.sh | tail -n 1)")/kcpgo-peer"
SECURITY=(--crypt salsa20 --key "demo key" --fec 10,3)
LOG=build/demo-echo-server.log
build/echo_server 127.0.0.1:0 --sessions 2 --idle 1 "${SECURITY[@]}" >"$LOG" 2>&1 &
SERVER=$!
trap 'kill "$SERVER" 2>/dev/null || true' EXIT
ADDR=""
for _ in $(seq 100); do
    ADDR="$(sed -n 's/^listening on //p' "$LOG")"
    [ -n "$ADDR" ] && break
    sleep 0.1
done
[ -n "$ADDR" ] || { cat "$LOG"; echo "demo: the echo server did not start" >&2; exit 1; }

echo
echo "== 2. sessions over UDP: C echo server on $ADDR (salsa20, FEC 10/3), our C client =="
build/echo_client "$ADDR" --messages 2000 "${SECURITY[@]}"
echo
echo "== 2. the same server, kcp-go 5.6.1 as the client =="
"$KCPGO_PEER" dial --remote "$ADDR" --app echo --messages 2000 --size 64 \
    --crypt salsa20 --key "demo key" --datashard 10 --parityshard 3 |
    python3 -c 'import json, sys
d = json.loads(sys.stdin.readline())
print("kcp-go: %d echoes ok, rtt p50 %s us, p99 %s us" % (d["messages"], d["rtt_us_p50"], d["rtt_us_p99"]))'
wait "$SERVER"
trap - EXIT
echo
echo "== 2. the server's log =="
cat "$LOG"

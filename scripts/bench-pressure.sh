#!/usr/bin/env bash
# Bulk throughput under pressure, kcp-rs beside kcp-go in one run (issue 8):
# the user's path, not only the tuned one. Every case runs ROUNDS times
# (default 5), alternating kcp-go and ours, and reports min / median / max:
# a collapse in one run shows as the minimum.
#
#   kernel buffers, 1 process   fast3, windows 1024, 1300-byte sends, no
#                               sockbuf (the kernel's 208 KiB): listener and
#                               dialer in one process
#   kernel buffers, 2 processes the same, server and client apart (the
#                               kcpgo-peer `sink` application)
#   4 MiB buffers, 1 process    the tuned case (sockbuf 4 MiB)
#   1% loss, 2 processes        through kcp-bench's lossy_proxy (1% each
#                               way, seeded), fast3, windows 1024, 4 MiB
#                               buffers (tests/impair forwards only ~50 MB/s,
#                               which would measure the proxy)
#   defaults, 1 and 2 processes ours with nothing set (kcp_config_new);
#                               kcp-go has no comparable defaults (its own,
#                               32-segment windows at a 100 ms interval, move
#                               ~0.4 MB/s), so the tuned kcp-go is the anchor
#   file_transfer               examples-c/file_transfer, 2 processes, with
#                               the defaults and with fast3 + windows 1024 +
#                               4 MiB (issue 8: defaults >= 60% of tuned)
#
# Targets (issue 8): the worst run of ours >= 2x kcp-go's median with the
# kernel's buffers, in one and in two processes; the median with 1% loss
# >= 2x kcp-go's; file_transfer with the defaults >= 60% of the tuned one.
#
# Usage (from anywhere): scripts/bench-pressure.sh
#   ROUNDS (5), BYTES (64 MiB per bulk run), FILE_MB (100).
# JSON lines go to build/bench-pressure.jsonl, the table to stdout.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

ROUNDS="${ROUNDS:-5}"
BYTES="${BYTES:-67108864}"
FILE_MB="${FILE_MB:-100}"
OUT=build/bench-pressure.jsonl
mkdir -p build

scripts/kcpgo.sh >/dev/null
GO=build/kcpgo-peer
say "building kcp-bench and libkcp (release)"
cargo build --release -q -p kcp-bench --bin sessions --bin lossy_proxy
PROXY=target/release/lossy_proxy
cargo build --release -q -p kcp-ffi
OURS=target/release/sessions
cc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude examples-c/file_transfer.c \
    target/release/libkcp.a -lpthread -ldl -lm -o build/file_transfer-bench

: >"$OUT"
tmp="$(mktemp -d)"
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$tmp"' EXIT

record() { # label impl: reads one JSON object on stdin, appends it labelled
    label_json "$1" "$2" | tail -n 1 >>"$OUT"
}

# Two processes: a sink server and a bulk client, optionally through the
# impairment proxy. $1 = go|rs, $2 = proxy flags ("" for none), rest = flags.
two_processes() {
    local impl="$1" proxy="$2"
    shift 2
    local addr server proxy_pid=""
    if [ "$impl" = go ]; then
        "$GO" serve --listen 127.0.0.1:0 --app sink --linger 200ms --timeout 120s "$@" >"$tmp/server.log" &
    else
        "$OURS" --case sink-server "$@" >"$tmp/server.log" &
    fi
    server=$!
    addr="$(listen_addr "$tmp/server.log")"
    if [ -n "$proxy" ]; then
        # shellcheck disable=SC2086
        "$PROXY" --upstream "$addr" $proxy >"$tmp/proxy.log" &
        proxy_pid=$!
        addr="$(listen_addr "$tmp/proxy.log")"
    fi
    if [ "$impl" = go ]; then
        "$GO" dial --remote "$addr" --app sink --bytes "$BYTES" --linger 200ms --timeout 120s "$@"
    else
        "$OURS" --case bulk --remote "$addr" --bytes "$BYTES" "$@"
    fi
    wait "$server"
    if [ -n "$proxy_pid" ]; then kill "$proxy_pid" 2>/dev/null || true; wait "$proxy_pid" 2>/dev/null || true; fi
}

file_transfer() { # label, then key=value settings
    local label="$1"
    shift
    "build/file_transfer-bench" recv "$tmp/out.bin" 127.0.0.1:0 "$@" >"$tmp/recv.log" &
    local server=$!
    local addr="" _
    for _ in $(seq 200); do
        addr="$(sed -n 's/^listening on //p' "$tmp/recv.log" | head -n 1)"
        [ -n "$addr" ] && break
        sleep 0.05
    done
    "build/file_transfer-bench" send "$tmp/in.bin" "$addr" "$@" >"$tmp/send.log"
    wait "$server"
    cmp -s "$tmp/in.bin" "$tmp/out.bin" || { echo "bench-pressure: file_transfer copy differs" >&2; exit 1; }
    sed -n 's/^done: .* (\([0-9.]*\) MB\/s)$/{"mb_per_s": \1}/p' "$tmp/send.log" | record "$label" kcp-rs
}

head -c "$((FILE_MB * 1000000))" /dev/urandom >"$tmp/in.bin"
TUNED=(mode=fast3 sndwnd=1024 rcvwnd=1024 sockbuf=4194304)
for round in $(seq "$ROUNDS"); do
    say "round $round of $ROUNDS"
    "$GO" bench --case bulk --bytes "$BYTES" --sockbuf 0 | record "kernel buffers, 1 process" kcp-go
    "$OURS" --case bulk --bytes "$BYTES" --set sockbuf=0 | record "kernel buffers, 1 process" kcp-rs
    two_processes go "" --sockbuf 0 | record "kernel buffers, 2 processes" kcp-go
    two_processes rs "" --set sockbuf=0 | record "kernel buffers, 2 processes" kcp-rs
    "$GO" bench --case bulk --bytes "$BYTES" | record "4 MiB buffers, 1 process" kcp-go
    "$OURS" --case bulk --bytes "$BYTES" | record "4 MiB buffers, 1 process" kcp-rs
    two_processes go "--loss 0.01 --seed $round" | record "1% loss, 2 processes" kcp-go
    two_processes rs "--loss 0.01 --seed $round" | record "1% loss, 2 processes" kcp-rs
    "$OURS" --case bulk --bytes "$BYTES" --profile defaults | record "defaults, 1 process" kcp-rs
    two_processes rs "" --profile defaults | record "defaults, 2 processes" kcp-rs
    file_transfer "file_transfer, defaults"
    file_transfer "file_transfer, fast3 + 1024 + 4 MiB" "${TUNED[@]}"
done

python3 - "$OUT" <<'EOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
labels = list(dict.fromkeys(r["label"] for r in rows))
def figures(label, impl):
    return sorted(r["mb_per_s"] for r in rows if r["label"] == label and r["impl"] == impl)
print(f"{'MB/s, min / median / max':40} {'kcp-go':>22} {'kcp-rs':>22} {'rs min / go median':>19}")
fmt = lambda v: f"{v[0]:6.1f} {statistics.median(v):6.1f} {v[-1]:6.1f}" if v else f"{'-':>20}"
for label in labels:
    go, rs = figures(label, "kcp-go"), figures(label, "kcp-rs")
    ratio = f"{rs[0] / statistics.median(go):18.2f}x" if go and rs else f"{'':19}"
    print(f"{label:40} {fmt(go):>22} {fmt(rs):>22} {ratio}")
d = figures("file_transfer, defaults", "kcp-rs")
t = figures("file_transfer, fast3 + 1024 + 4 MiB", "kcp-rs")
if d and t:
    print(f"file_transfer: defaults / tuned (medians) = {statistics.median(d) / statistics.median(t):.2f}")
EOF

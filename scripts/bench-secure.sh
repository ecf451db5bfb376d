#!/usr/bin/env bash
# The secure profile beside the compat profile and kcp-go, in one run, over
# loopback UDP (issue 10's benchmark):
#
#   - bulk MB/s on one session, written in 1300-byte messages (one segment
#     each, as kcp-go's sink writes): ours with crypt=secure, ours with
#     salsa20, kcp-go with salsa20 (tuned: fast3, windows 1024, 4 MiB
#     buffers), and ours with crypt=secure and nothing else set (defaults);
#   - the same three tuned cases written in 64 KiB messages, as a file
#     transfer writes (runs of full datagrams then leave by UDP GSO);
#   - 64-byte echo RTT, client and server in one process: the same three;
#   - handshakes per second on one core (`handshakes`, sans-IO: the
#     listener's own time per handshake, and both sides together).
#
# Each case runs ROUNDS times (default 3), alternating; the table gives
# min / median / max. Targets: secure bulk >= 2x kcp-go salsa20; >= 10,000
# handshakes/s on one core. JSON lines go to build/bench-secure.jsonl.
#
# Usage (from anywhere): scripts/bench-secure.sh   (ROUNDS, BULK_BYTES)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
# shellcheck source=scripts/bench-lib.sh
. scripts/bench-lib.sh

ROUNDS="${ROUNDS:-3}"
BULK_BYTES="${BULK_BYTES:-268435456}"
OUT=build/bench-secure.jsonl

build_peers
cargo build --release -q -p kcp-bench --bin handshakes
: >"$OUT"
tag() { sed "s/^{/{\"label\":\"$1\",/" >>"$OUT"; }
for round in $(seq "$ROUNDS"); do
    say "round $round: bulk"
    "$GO" bench --case bulk --bytes "$BULK_BYTES" --crypt salsa20 | tag "bulk salsa20"
    "$OURS" --case bulk --bytes "$BULK_BYTES" --crypt salsa20 | tag "bulk salsa20"
    "$OURS" --case bulk --bytes "$BULK_BYTES" --crypt secure | tag "bulk secure"
    "$OURS" --case bulk --bytes "$BULK_BYTES" --crypt secure --profile defaults | tag "bulk secure defaults"
    "$GO" bench --case bulk --bytes "$BULK_BYTES" --crypt salsa20 --write-size 65536 | tag "bulk64k salsa20"
    "$OURS" --case bulk --bytes "$BULK_BYTES" --crypt salsa20 --write-size 65536 | tag "bulk64k salsa20"
    "$OURS" --case bulk --bytes "$BULK_BYTES" --crypt secure --write-size 65536 | tag "bulk64k secure"
    say "round $round: echo"
    "$GO" bench --case echo --messages 20000 --size 64 --crypt salsa20 | tag "echo salsa20"
    "$OURS" --case echo --messages 20000 --size 64 --crypt salsa20 | tag "echo salsa20"
    "$OURS" --case echo --messages 20000 --size 64 --crypt secure | tag "echo secure"
    say "round $round: handshakes"
    target/release/handshakes | sed 's/^{/{"impl":"kcp-rs",/' | tag "handshakes"
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def vals(label, impl, key):
    return sorted(r[key] for r in rows if r["label"] == label and r["impl"] == impl and r.get(key) is not None)
def spread(label, impl, key):
    v = vals(label, impl, key)
    return f"{v[0]:.1f} / {statistics.median(v):.1f} / {v[-1]:.1f}" if v else "-"
def med(label, impl, key):
    v = vals(label, impl, key)
    return statistics.median(v) if v else float("nan")
print(f"{'case (min / median / max)':40} {'value':>30}")
for label, impl, key, name in [
    ("bulk salsa20", "kcp-go", "mb_per_s", "bulk MB/s, kcp-go salsa20"),
    ("bulk salsa20", "kcp-rs", "mb_per_s", "bulk MB/s, kcp-rs salsa20"),
    ("bulk secure", "kcp-rs", "mb_per_s", "bulk MB/s, kcp-rs secure"),
    ("bulk secure defaults", "kcp-rs", "mb_per_s", "bulk MB/s, kcp-rs secure, defaults"),
    ("bulk64k salsa20", "kcp-go", "mb_per_s", "bulk 64 KiB writes, kcp-go salsa20"),
    ("bulk64k salsa20", "kcp-rs", "mb_per_s", "bulk 64 KiB writes, kcp-rs salsa20"),
    ("bulk64k secure", "kcp-rs", "mb_per_s", "bulk 64 KiB writes, kcp-rs secure"),
    ("echo salsa20", "kcp-go", "rtt_us_p50", "echo p50 us, kcp-go salsa20"),
    ("echo salsa20", "kcp-rs", "rtt_us_p50", "echo p50 us, kcp-rs salsa20"),
    ("echo secure", "kcp-rs", "rtt_us_p50", "echo p50 us, kcp-rs secure"),
    ("echo secure", "kcp-rs", "rtt_us_p99", "echo p99 us, kcp-rs secure"),
    ("handshakes", "kcp-rs", "listener_handshakes_per_s", "handshakes/s, listener core"),
    ("handshakes", "kcp-rs", "pair_handshakes_per_s", "handshakes/s, both sides, one core"),
]:
    print(f"{name:40} {spread(label, impl, key):>30}")
for label, name in [("bulk", "1300-byte writes"), ("bulk64k", "64 KiB writes")]:
    go = med(f"{label} salsa20", "kcp-go", "mb_per_s")
    worst = vals(f"{label} secure", "kcp-rs", "mb_per_s")
    print(f"secure bulk / kcp-go salsa20, {name}: median {med(label + ' secure','kcp-rs','mb_per_s')/go:.2f}x, worst run {worst[0]/go:.2f}x")
PY

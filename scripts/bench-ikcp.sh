#!/usr/bin/env bash
# kcp-rs next to the reference C implementation (ikcp), in one run, through
# the same C programs:
#   - examples-c/latency.c: the echo-latency scenario (5% loss each way,
#     30-62 ms one-way delay), ours with classic and improved recovery, and
#     ikcp;
#   - bench/arq_bulk.c: in-memory throughput between two engines, 1300-byte
#     ("bulk") and 64-byte ("small") messages, ours and ikcp alternately.
# Both programs are compiled twice: against libkcp.a, and with
# -DKCP_BENCH_IKCP against ikcp.o through bench/ikcp_shim.h.
#
# ikcp is not in this repository. scripts/ikcp-sdist.sh takes it at bench
# time from the PyPI sdist of the `kcp` package (kcp-0.1.6/kcp/ikcp.c and
# ikcp.h), downloaded once into build/ikcp/ (git-ignored) and checked
# against a pinned SHA-256. Set IKCP_SDIST=/path/to/kcp-0.1.6.tar.gz to use
# a local copy instead of downloading it (it is checked the same way).
#
# Usage (from anywhere): scripts/bench-ikcp.sh [SEEDS] [SECONDS_PER_BULK_CASE]
#   SEEDS defaults to 20, SECONDS to 2; BULK_RUNS (default 3) runs per engine,
#   alternating, and the speedup compares the medians.
# Prints one JSON document on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SEEDS="${1:-20}"
SECONDS_PER_CASE="${2:-2}"
BULK_RUNS="${BULK_RUNS:-3}"
CC="${CC:-gcc}"

OUT="$ROOT/build/bench-ikcp"
LIB="$ROOT/target/release/libkcp.a"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -O2 -I"$ROOT/include")
# The anchor is built as a release build: -O3 like Rust's release profile
# (and like the PyPI package's own extension), asserts off.
IKCP_CFLAGS=(-O3 -DNDEBUG -w)

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'bench-ikcp: %s\n' "$*" >&2; exit 1; }

[[ "$SEEDS" =~ ^[1-9][0-9]*$ ]] || fail "SEEDS must be a positive integer (got '$SEEDS')"
[[ "$SECONDS_PER_CASE" =~ ^[0-9]*\.?[0-9]+$ ]] || fail "SECONDS must be a positive number (got '$SECONDS_PER_CASE')"
[[ "$BULK_RUNS" =~ ^[1-9][0-9]*$ ]] || fail "BULK_RUNS must be a positive integer (got '$BULK_RUNS')"
command -v python3 >/dev/null || fail "python3 is needed"
command -v "$CC" >/dev/null || fail "no C compiler ($CC)"

# ---- ikcp, fetched at bench time ------------------------------------------
mkdir -p "$OUT"
IKCP_SRC="$("$ROOT/scripts/ikcp-sdist.sh")" || fail "could not get ikcp (scripts/ikcp-sdist.sh)"
read -r SDIST_NAME SDIST_SHA256 < <("$ROOT/scripts/ikcp-sdist.sh" --pin)

# ---- build ----------------------------------------------------------------
say "cargo build -p kcp-ffi --release"
cargo build -p kcp-ffi --release >&2

say "compiling ikcp.o (${IKCP_CFLAGS[*]}) and the benchmarks, twice (${CFLAGS[*]})"
"$CC" "${IKCP_CFLAGS[@]}" -c "$IKCP_SRC/ikcp.c" -o "$OUT/ikcp.o"
IKCP_BUILD=(-DKCP_BENCH_IKCP -isystem "$IKCP_SRC")
"$CC" "${CFLAGS[@]}" examples-c/latency.c "$LIB" -lpthread -ldl -lm -o "$OUT/latency_kcprs"
"$CC" "${CFLAGS[@]}" "${IKCP_BUILD[@]}" examples-c/latency.c "$OUT/ikcp.o" -lm -o "$OUT/latency_ikcp"
"$CC" "${CFLAGS[@]}" bench/arq_bulk.c "$LIB" -lpthread -ldl -lm -o "$OUT/arq_bulk_kcprs"
"$CC" "${CFLAGS[@]}" "${IKCP_BUILD[@]}" bench/arq_bulk.c "$OUT/ikcp.o" -o "$OUT/arq_bulk_ikcp"

# ---- run ------------------------------------------------------------------
latency="$OUT/latency.jsonl"
bulk="$OUT/bulk.jsonl"
: >"$latency"
: >"$bulk"

say "latency, $SEEDS seeds: kcp-rs classic"
"$OUT/latency_kcprs" "$SEEDS" classic >>"$latency"
say "latency, $SEEDS seeds: kcp-rs improved"
"$OUT/latency_kcprs" "$SEEDS" improved >>"$latency"
say "latency, $SEEDS seeds: ikcp"
"$OUT/latency_ikcp" "$SEEDS" classic >>"$latency"

for run in $(seq 1 "$BULK_RUNS"); do
    for engine in kcprs ikcp; do
        say "arq_bulk run $run/$BULK_RUNS: $engine (${SECONDS_PER_CASE}s per case)"
        "$OUT/arq_bulk_$engine" "$SECONDS_PER_CASE" >>"$bulk"
    done
done

# ---- report ---------------------------------------------------------------
python3 - "$latency" "$bulk" "$SDIST_NAME" "$SDIST_SHA256" "${IKCP_CFLAGS[*]}" "${CFLAGS[*]}" <<'EOF'
import json
import statistics
import sys

latency_path, bulk_path, sdist, sha256, ikcp_cflags, cflags = sys.argv[1:7]
latency = [json.loads(l) for l in open(latency_path) if l.strip()]
for row in latency:
    row["engine"] = "ikcp" if row["recovery"] == "ikcp" else "kcp-rs"

bulk = [json.loads(l) for l in open(bulk_path) if l.strip()]
speedup = {}
medians = {}
for case, metric in (("bulk", "mb_per_s"), ("small", "messages_per_s")):
    m = {}
    for engine in ("kcp-rs", "ikcp"):
        values = [r[metric] for r in bulk if r["engine"] == engine and r["case"] == case]
        if not values:
            sys.exit(f"bench-ikcp: no {case} result for {engine}")
        m[engine] = statistics.median(values)
    medians[case] = {"metric": metric, **m}
    speedup[case] = round(m["kcp-rs"] / m["ikcp"], 3)

# Does our classic recovery behave exactly like ikcp in the scenario?
fields = ("avg_rtt_ms", "mean_max_rtt_ms", "datagrams_first_endpoint")
by = {(r["mode"], r["recovery"]): r for r in latency}
classic_equal = all(
    (m, "classic") in by and (m, "ikcp") in by
    and all(by[(m, "classic")][f] == by[(m, "ikcp")][f] for f in fields)
    for m in ("fast", "normal")
)

doc = {
    "benchmark": "ikcp_side_by_side",
    "ikcp": {"source": f"PyPI sdist {sdist} (kcp/ikcp.c)", "sha256": sha256, "cflags": ikcp_cflags},
    "programs_cflags": cflags,
    "latency": latency,
    "classic_equals_ikcp": classic_equal,
    "bulk": bulk,
    "bulk_medians": medians,
    "bulk_speedup": speedup,
}
print(json.dumps(doc, indent=2))
print(
    f"bench-ikcp: classic == ikcp in the latency scenario: {classic_equal}; "
    f"bulk speedup (kcp-rs / ikcp, medians): 1300 B {speedup['bulk']}x, 64 B {speedup['small']}x",
    file=sys.stderr,
)
EOF

#!/usr/bin/env bash
# kcp-rs's datagram codec next to kcp-go's own, in one run, on the same
# sizes: for each cipher (null none salsa20 aes-128 aes-192 aes) x FEC off /
# 10,3, MB/s through encode+encrypt (`enc`) and decrypt+decode (`dec`, and
# `dec_recover` with one data shard per group lost and rebuilt), 1400-byte
# datagrams; plus the secure profile's ChaCha20-Poly1305 seal/open.
#
#   ours:   kcp-bench/src/bin/pipeline.rs   (PacketCrypt, fec::Encoder/Decoder)
#   kcp-go: `kcpgo bench` (tests/kcpgo/main.go, built by scripts/kcpgo.sh
#           against Debian's kcp-go 5.6.1), which measures the same steps.
#
# Each setting runs ours, then kcp-go's, back to back (ROUNDS times,
# alternating), each taking the median of RUNS runs of MS milliseconds; the
# ratio compares the medians over rounds. Targets: every layer >= 1.5x
# kcp-go; ChaCha20-Poly1305 >= 1000 MB/s (one core). `null` without FEC
# does no work on either side (a function call, or a copy of the datagram)
# and is reported but left out of the target.
#
# Usage (from anywhere): scripts/bench-kcpgo.sh [MS] [RUNS]
#   MS defaults to 300, RUNS to 3; ROUNDS (default 3) alternations per
#   setting; ONLY_CRYPT=aes (one cipher), ONLY_FEC=0,0 or 10,3 (one setting);
#   PIPELINE_FEATURES=kcp-core/fec-simd builds ours with that cargo feature
#   (RUSTFLAGS and CARGO_TARGET_DIR are passed to cargo as usual).
# Prints one JSON document on stdout; progress goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

MS="${1:-300}"
RUNS="${2:-3}"
ROUNDS="${ROUNDS:-3}"
FEATURES="${PIPELINE_FEATURES:-}"

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'bench-kcpgo: %s\n' "$*" >&2; exit 1; }

[[ "$MS" =~ ^[1-9][0-9]*$ ]] || fail "MS must be a positive integer (got '$MS')"
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || fail "RUNS must be a positive integer (got '$RUNS')"
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || fail "ROUNDS must be a positive integer (got '$ROUNDS')"
command -v python3 >/dev/null || fail "python3 is needed"

CIPHERS=(null none salsa20 aes-128 aes-192 aes)
[ -z "${ONLY_CRYPT:-}" ] || CIPHERS=("$ONLY_CRYPT")
FECS=(0,0 10,3)
[ -z "${ONLY_FEC:-}" ] || FECS=("$ONLY_FEC")

# ---- build (one at a time) -------------------------------------------------
KCPGO="$("$ROOT/scripts/kcpgo.sh")" || fail "could not build kcpgo (scripts/kcpgo.sh)"
CARGO_ARGS=(build --release -p kcp-bench --bin pipeline)
[ -z "$FEATURES" ] || CARGO_ARGS+=(--features "$FEATURES")
say "cargo ${CARGO_ARGS[*]}${RUSTFLAGS:+ (RUSTFLAGS=$RUSTFLAGS)}"
cargo "${CARGO_ARGS[@]}" >&2
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
PIPELINE="$TARGET_DIR/release/pipeline"
[ -x "$PIPELINE" ] || fail "no $PIPELINE after the build"

# ---- run ---------------------------------------------------------------------
OUT="$ROOT/build/bench-kcpgo"
mkdir -p "$OUT"
ours="$OUT/ours.jsonl"
theirs="$OUT/kcpgo.jsonl"
aead="$OUT/aead.json"
: >"$ours"
: >"$theirs"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"

# Runs a benchmark program and appends its JSON document, as one line, to $1;
# its stderr (per-row progress) goes to $OUT/stderr.log, shown on failure.
run_json() {
    local dest="$1"
    shift
    local doc
    if ! doc="$("$@" 2>>"$OUT/stderr.log")"; then
        tail -n 20 "$OUT/stderr.log" >&2
        fail "failed: $*"
    fi
    printf '%s\n' "$doc" | tr -d '\n' >>"$dest"
    echo >>"$dest"
}
: >"$OUT/stderr.log"

for crypt in "${CIPHERS[@]}"; do
    for fec in "${FECS[@]}"; do
        ds="${fec%,*}"
        ps="${fec#*,}"
        args=(--crypt "$crypt" --datashard "$ds" --parityshard "$ps" --ms "$MS" --runs "$RUNS")
        for round in $(seq 1 "$ROUNDS"); do
            say "$crypt fec $ds/$ps, round $round/$ROUNDS: kcp-rs, then kcp-go"
            run_json "$ours" "$PIPELINE" --what codec "${args[@]}"
            run_json "$theirs" "$KCPGO" bench "${args[@]}"
        done
    done
done
say "ChaCha20-Poly1305 seal/open (kcp-rs only; kcp-go has no AEAD)"
: >"$aead"
run_json "$aead" "$PIPELINE" --what aead --ms "$MS" --runs "$RUNS"

# ---- report --------------------------------------------------------------------
RUSTC_VERSION="$(rustc --version)"
CPU="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
python3 - "$ours" "$theirs" "$aead" "$MS" "$RUNS" "$ROUNDS" "$FEATURES" "${RUSTFLAGS:-}" \
    "$RUSTC_VERSION" "$CPU" "$(nproc)" "$LOAD_BEFORE" <<'EOF'
import json
import statistics
import sys

(ours_path, theirs_path, aead_path, ms, runs, rounds, features, rustflags,
 rustc, cpu, ncpu, load) = sys.argv[1:13]
TARGET_RATIO = 1.5
TARGET_AEAD = 1000.0
METRICS = ("enc", "dec", "dec_recover")


def rows(path):
    out = []
    for line in open(path):
        if line.strip():
            out.extend(json.loads(line)["results"])
    return out


def key(r):
    return (r["crypt"], r["datashard"], r["parityshard"])


ours, theirs = rows(ours_path), rows(theirs_path)
go_doc = json.loads(open(theirs_path).readline())
settings = []
for r in ours:
    if key(r) not in settings:
        settings.append(key(r))

table, below = [], []
for k in settings:
    crypt, ds, ps = k
    mine = [r for r in ours if key(r) == k]
    go = [r for r in theirs if key(r) == k]
    if not go:
        sys.exit(f"bench-kcpgo: no kcp-go result for {k}")
    no_work = crypt == "null" and ds == 0
    row = {"crypt": crypt, "datashard": ds, "parityshard": ps,
           "kcp_rs_MBps": {}, "kcpgo_MBps": {}, "ratio": {}, "meets_1_5x": {}}
    if no_work:
        row["note"] = "no work on either side (no cipher, no FEC): not a layer, not in the target"
    for m in METRICS:
        field = f"{m}_MBps"
        a = [r[field] for r in mine if r.get(field) is not None]
        b = [r[field] for r in go if r.get(field) is not None]
        if not a or not b:
            continue
        a, b = statistics.median(a), statistics.median(b)
        ratio = round(a / b, 3)
        row["kcp_rs_MBps"][m] = round(a, 1)
        row["kcpgo_MBps"][m] = round(b, 1)
        row["ratio"][m] = ratio
        if not no_work:
            ok = ratio >= TARGET_RATIO
            row["meets_1_5x"][m] = ok
            if not ok:
                below.append(f"{crypt} fec {ds}/{ps} {m}: {ratio}x")
    allocs = {m: max(r.get(f"{m}_allocs_per_pkt", 0) for r in mine) for m in METRICS}
    row["kcp_rs_allocs_per_pkt"] = {m: v for m, v in allocs.items() if f"{m}_MBps" in mine[0]}
    table.append(row)

aead_doc = json.loads(open(aead_path).readline())
aead = []
for r in aead_doc["aead"]:
    aead.append({"case": r["case"], "plaintext_bytes": r["plaintext_bytes"],
                 "MBps": r["MBps"], "ns_per_pkt": r["ns_per_pkt"],
                 "meets_1GBps": r["MBps"] >= TARGET_AEAD})
aead_below = [f"{r['case']}: {r['MBps']} MB/s" for r in aead if not r["meets_1GBps"]]

doc = {
    "benchmark": "kcpgo_side_by_side",
    "what": "MB/s of 1400-byte data datagrams (parity not counted, MB = 10^6 B) through "
            "enc = FEC encode + seal, dec = recvfrom copy + open + CRC + FEC decode, "
            "dec_recover = dec with one data shard per group lost and rebuilt",
    "kcp_go": {"version": go_doc.get("kcp_go"), "go": go_doc.get("go"), "program": "kcpgo bench"},
    "kcp_rs": {"program": "kcp-bench pipeline", "rustc": rustc,
               "features": features or "default", "rustflags": rustflags},
    "machine": {"cpu": cpu, "cpus": int(ncpu), "loadavg_before": load},
    "run_ms": int(ms), "runs": int(runs), "rounds": int(rounds),
    "targets": {"ratio_vs_kcpgo": TARGET_RATIO, "aead_MBps": TARGET_AEAD},
    "results": table,
    "aead": aead,
    "below_target": below + aead_below,
    "all_targets_met": not below and not aead_below,
}
# One line per result row, so the document stays readable.
parts = []
for k, v in doc.items():
    if isinstance(v, list) and v and isinstance(v[0], dict):
        body = ",\n".join("    " + json.dumps(r) for r in v)
        parts.append(f'  "{k}": [\n{body}\n  ]')
    else:
        parts.append(f"  {json.dumps(k)}: {json.dumps(v)}")
print("{\n" + ",\n".join(parts) + "\n}")
print(f"bench-kcpgo: {len(below)} layer figure(s) below {TARGET_RATIO}x kcp-go, "
      f"{len(aead_below)} AEAD figure(s) below {TARGET_AEAD:.0f} MB/s", file=sys.stderr)
for b in below + aead_below:
    print(f"  below target: {b}", file=sys.stderr)
EOF

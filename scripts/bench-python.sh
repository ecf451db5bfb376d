#!/usr/bin/env bash
# The Python package beside the same cases in Rust, in one run (issue 11):
#   - bulk MB/s: 64 MiB over one loopback session in 64 KiB messages,
#     defaults (Python: python/bench/bench.py bulk; Rust: `sessions --case
#     bulk --write-size 65536 --profile defaults`);
#   - 64-byte echo, messages per second, one process, defaults;
#   - the in-memory ARQ: kcp_rs.Arq against PyPI's kcp (ikcp under Cython),
#     1300-byte messages, windows 1024, nodelay 1/10/2/1, same harness.
# ROUNDS rounds (default 5), alternating; min / median / max. Targets: bulk
# >= 70% of Rust, echo >= 50%, ARQ >= 1.5x PyPI kcp.
# JSON lines go to build/bench-python.jsonl. Needs scripts/test-python.sh
# to have built build/py-test (the installed wheel).
#
# Usage (from anywhere): scripts/bench-python.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
ROUNDS="${ROUNDS:-5}"
OUT=build/bench-python.jsonl
PY=build/py-test/bin/python
[ -x "$PY" ] || { echo "bench-python: run scripts/test-python.sh first (it builds $PY)" >&2; exit 1; }
cargo build --release -q -p kcp-bench --bin sessions
: >"$OUT"
bench() { (cd build && "../$PY" ../python/bench/bench.py "$1") >>"$OUT"; }
for round in $(seq "$ROUNDS"); do
    printf '==> round %s\n' "$round"
    bench bulk
    target/release/sessions --case bulk --bytes 67108864 --write-size 65536 --profile defaults \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"case":"bulk","impl":"rust","mb_per_s":d["mb_per_s"]}))' >>"$OUT"
    bench echo
    target/release/sessions --case echo --messages 20000 --size 64 --profile defaults \
        | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({"case":"echo","impl":"rust","messages_per_s":round(d["messages"]/d["seconds"])}))' >>"$OUT"
    bench arq-kcp-rs
    bench arq-pypi-kcp
done

python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
def vals(case, impl, key):
    return sorted(r[key] for r in rows if r["case"] == case and r["impl"] == impl)
def spread(v):
    return f"{v[0]:.1f} / {statistics.median(v):.1f} / {v[-1]:.1f}"
print(f"{'case (min / median / max)':44} {'value':>28}")
for case, impl, key, name in [
    ("bulk", "python", "mb_per_s", "bulk MB/s, Python"),
    ("bulk", "rust", "mb_per_s", "bulk MB/s, Rust"),
    ("echo", "python", "messages_per_s", "64-byte echo messages/s, Python"),
    ("echo", "rust", "messages_per_s", "64-byte echo messages/s, Rust"),
    ("arq", "kcp_rs.Arq", "mb_per_s", "in-memory ARQ MB/s, kcp_rs.Arq"),
    ("arq", "PyPI kcp (ikcp)", "mb_per_s", "in-memory ARQ MB/s, PyPI kcp"),
]:
    print(f"{name:44} {spread(vals(case, impl, key)):>28}")
med = lambda c, i, k: statistics.median(vals(c, i, k))
print(f"Python / Rust bulk: {med('bulk','python','mb_per_s')/med('bulk','rust','mb_per_s'):.2f} (target 0.70)")
print(f"Python / Rust echo: {med('echo','python','messages_per_s')/med('echo','rust','messages_per_s'):.2f} (target 0.50)")
ours, theirs = vals("arq", "kcp_rs.Arq", "mb_per_s"), vals("arq", "PyPI kcp (ikcp)", "mb_per_s")
ratios = sorted(a / b for a, b in zip([r["mb_per_s"] for r in rows if r["impl"] == "kcp_rs.Arq"],
                                       [r["mb_per_s"] for r in rows if r["impl"] == "PyPI kcp (ikcp)"]))
print(f"kcp_rs.Arq / PyPI kcp: median {statistics.median(ours)/statistics.median(theirs):.2f}x, "
      f"per round {ratios[0]:.2f}-{ratios[-1]:.2f}x (target 1.5x)")
PY

#!/usr/bin/env bash
# Tests the C API end to end, from C:
#   1. builds libkcp (release) and the Rust latency benchmark;
#   2. compiles tests/c/test_arq.c and examples-c/latency.c with
#      -std=c11 -Wall -Wextra -Werror against include/kcp.h and libkcp.a;
#   3. runs test_arq plainly, built with ASan+UBSan, and under valgrind;
#   4. runs `latency 3 improved` under valgrind;
#   5. checks that the C demo prints the Rust benchmark's numbers;
#   6. the differential test against the real ikcp: fetches ikcp.c from the
#      PyPI `kcp` sdist (scripts/ikcp-sdist.sh; needs PyPI access, or
#      IKCP_SDIST=/path/to/kcp-0.1.6.tar.gz), builds
#      tests/ikcp-differential/differential.c against it and libkcp.a, and
#      runs it: plainly (500 configurations), comparing kcp_arq_check with
#      ikcp_check at every step (200), and under valgrind (20).
# Any failure stops the script with a non-zero status; so does a failed
# ikcp download (the differential test is never skipped).
#
# Usage (from anywhere): scripts/test-c.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

BUILD="$ROOT/build"
LIB="$ROOT/target/release/libkcp.a"
CC="${CC:-gcc}"
CFLAGS=(-std=c11 -Wall -Wextra -Werror -g -I"$ROOT/include")
LIBS=(-lpthread -ldl -lm)

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# Runs a test program and checks both its status and its summary line.
run_test_arq() {
    local log="$1"; shift
    local status=0
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then cat "$log"; fail "$* exited with status $status"; fi
    grep -q '^[0-9][0-9]* passed, 0 failed$' "$log" || { cat "$log"; fail "$*: no clean summary line"; }
    tail -n 1 "$log"
}

step "cargo build -p kcp-ffi --release"
cargo build -p kcp-ffi --release
step "cargo build -p kcp-bench --release --bin latency"
cargo build -p kcp-bench --release --bin latency

mkdir -p "$BUILD"
step "compile test_arq.c and latency.c (-Wall -Wextra -Werror)"
"$CC" "${CFLAGS[@]}" -O2 tests/c/test_arq.c "$LIB" "${LIBS[@]}" -o "$BUILD/test_arq"
"$CC" "${CFLAGS[@]}" -O2 examples-c/latency.c "$LIB" "${LIBS[@]}" -o "$BUILD/latency"
"$CC" "${CFLAGS[@]}" -O2 tests/c/test_config.c "$LIB" "${LIBS[@]}" -o "$BUILD/test_config"
"$CC" "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
    tests/c/test_config.c "$LIB" "${LIBS[@]}" -o "$BUILD/test_config_asan"
"$CC" "${CFLAGS[@]}" -O2 examples-c/hello_arq.c "$LIB" "${LIBS[@]}" -o "$BUILD/hello_arq"
"$CC" "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
    tests/c/test_arq.c "$LIB" "${LIBS[@]}" -o "$BUILD/test_arq_asan"

step "examples-c/hello_arq (the README example)"
hello_out="$("$BUILD/hello_arq")" || fail "hello_arq exited with an error"
[ "$hello_out" = 'b received "hello, kcp"' ] || fail "hello_arq printed: $hello_out"

step "test_arq"
run_test_arq "$BUILD/test_arq.log" "$BUILD/test_arq"

step "test_config (plain, then ASan + UBSan)"
run_test_arq "$BUILD/test_config.log" "$BUILD/test_config"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_test_arq "$BUILD/test_config_asan.log" "$BUILD/test_config_asan"

step "test_arq with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_test_arq "$BUILD/test_arq_asan.log" "$BUILD/test_arq_asan"

if command -v valgrind >/dev/null; then
    VALGRIND=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite)
    step "test_arq under valgrind"
    run_test_arq "$BUILD/test_arq_valgrind.log" "${VALGRIND[@]}" "$BUILD/test_arq"
    step "test_config under valgrind"
    run_test_arq "$BUILD/test_config_valgrind.log" "${VALGRIND[@]}" "$BUILD/test_config"
    step "hello_arq under valgrind"
    "${VALGRIND[@]}" "$BUILD/hello_arq" >/dev/null || fail "hello_arq under valgrind"
    step "latency 3 improved under valgrind"
    "${VALGRIND[@]}" "$BUILD/latency" 3 improved >"$BUILD/latency_valgrind.log" 2>&1 \
        || { cat "$BUILD/latency_valgrind.log"; fail "latency under valgrind"; }
    cat "$BUILD/latency_valgrind.log"
else
    fail "valgrind is not installed"
fi

step "C demo vs Rust benchmark, 5 seeds"
"$BUILD/latency" 5 classic >"$BUILD/latency_classic.json"
"$BUILD/latency" 5 improved >"$BUILD/latency_improved.json"
"$ROOT/target/release/latency" 5 >"$BUILD/latency_rust.json"
python3 - "$BUILD/latency_classic.json" "$BUILD/latency_improved.json" "$BUILD/latency_rust.json" <<'EOF'
import json
import sys

c_rows = [json.loads(line) for path in sys.argv[1:3] for line in open(path) if line.strip()]
rust = json.load(open(sys.argv[3]))["results"]
fields = ["avg_rtt_ms", "mean_max_rtt_ms", "datagrams_first_endpoint"]
key = lambda r: (r["mode"], r["recovery"])
c_by, rust_by = {key(r): r for r in c_rows}, {key(r): r for r in rust}
if set(c_by) != set(rust_by) or len(c_by) != 4:
    sys.exit(f"FAILED: the runs differ: C {sorted(c_by)}, Rust {sorted(rust_by)}")
bad = 0
print(f"{'mode':<7} {'recovery':<9} {'field':<25} {'C':>10} {'Rust':>10}")
for k in sorted(c_by):
    c, r = c_by[k], rust_by[k]
    if c["seeds"] != r["seeds"]:
        bad += 1
        print(f"{k}: seeds differ: C {c['seeds']}, Rust {r['seeds']}")
    for f in fields:
        # Both sides round to 3 decimals the same way before printing.
        same = round(float(c[f]), 3) == round(float(r[f]), 3)
        bad += not same
        print(f"{k[0]:<7} {k[1]:<9} {f:<25} {c[f]:>10.3f} {r[f]:>10.3f}  {'ok' if same else 'DIFFERENT'}")
if bad:
    sys.exit(f"FAILED: the C demo and the Rust benchmark differ in {bad} value(s)")
print("C demo == Rust benchmark")
EOF

step "differential test against the real ikcp"
IKCP_SRC="$("$ROOT/scripts/ikcp-sdist.sh")" \
    || fail "could not get ikcp (scripts/ikcp-sdist.sh needs PyPI, or IKCP_SDIST=/path/to/kcp-0.1.6.tar.gz)"
DIFF_BUILD="$BUILD/ikcp-differential"
mkdir -p "$DIFF_BUILD"
# ikcp is third-party code: built as is (asserts on), its warnings not ours.
"$CC" -std=c11 -O2 -g -w -c "$IKCP_SRC/ikcp.c" -o "$DIFF_BUILD/ikcp.o"
"$CC" "${CFLAGS[@]}" -O2 -isystem "$IKCP_SRC" tests/ikcp-differential/differential.c \
    "$DIFF_BUILD/ikcp.o" "$LIB" "${LIBS[@]}" -o "$DIFF_BUILD/differential"
run_test_arq "$DIFF_BUILD/differential.log" "$DIFF_BUILD/differential"
grep '^kcp-rs (classic) == ikcp\|^kept in the compared domain' "$DIFF_BUILD/differential.log"
step "differential test, kcp_arq_check == ikcp_check at every step"
run_test_arq "$DIFF_BUILD/differential_check.log" "$DIFF_BUILD/differential" --check 200
step "differential test under valgrind, 20 configurations"
run_test_arq "$DIFF_BUILD/differential_valgrind.log" "${VALGRIND[@]}" "$DIFF_BUILD/differential" 20

step "all C tests passed"

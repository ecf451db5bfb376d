#!/usr/bin/env bash
# Tests the C API end to end, from C:
#   1. builds libkcp (release) and the Rust latency benchmark;
#   2. compiles the C tests (tests/c/test_arq.c, test_config.c,
#      test_conn.c, test_session.c, test_lifecycle.c, test_secure.c,
#      test_deprecated.c) and examples-c with -std=c11 -Wall -Wextra -Werror
#      against include/kcp.h and libkcp.a, and checks that a 0.1 name
#      warns with its replacement's name, in C and in C++;
#   3. runs each C test plainly, built with ASan+UBSan, and under valgrind;
#   4. runs the session examples over UDP on 127.0.0.1, plainly, with
#      ASan+UBSan and under valgrind: echo_server with two echo_clients at
#      once, p2p, and file_transfer (the copy must equal the original); and
#      again with crypt=secure, plainly and with ASan+UBSan;
#   5. the C++ wrapper (bindings/cpp/kcp.hpp): tests/cpp/test_kcp_hpp.cpp
#      (-std=c++17 -pedantic -Werror) plainly and with ASan+UBSan, and
#      examples-cpp/echo_server.cpp (ASan+UBSan) serving two C clients;
#      then `latency 3 improved` under valgrind;
#   6. checks that the C demo prints the Rust benchmark's numbers;
#   7. the differential test against the real ikcp: fetches ikcp.c from the
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
CFLAGS=(-std=c11 -Wall -Wextra -Werror -Wformat=2 -g -I"$ROOT/include" -I"$ROOT/tests/c")
LIBS=(-lpthread -ldl -lm)

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nFAILED: %s\n' "$*" >&2; exit 1; }

# Background processes (example servers) are killed however the script ends.
BG_PIDS=()
cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

# Runs a test program and checks both its status and its summary line.
run_c_test() {
    local log="$1"; shift
    local status=0
    "$@" >"$log" 2>&1 || status=$?
    if [ "$status" -ne 0 ]; then cat "$log"; fail "$* exited with status $status"; fi
    grep -q '^[0-9][0-9]* passed, 0 failed$' "$log" || { cat "$log"; fail "$*: no clean summary line"; }
    # (valgrind may print its notes after the program's last line)
    grep '^[0-9][0-9]* passed, 0 failed$' "$log"
}

step "cargo build -p kcp-ffi --release"
cargo build -p kcp-ffi --release
step "cargo build -p kcp-bench --release --bin latency"
cargo build -p kcp-bench --release --bin latency

mkdir -p "$BUILD"
# The C test programs of the ABI: each runs plain, with ASan+UBSan, and
# under valgrind, and must end with "N passed, 0 failed".
C_TESTS=(test_arq test_config test_conn test_session test_lifecycle test_secure test_deprecated)
command -v valgrind >/dev/null || fail "valgrind is not installed"
VALGRIND=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite)
# The session examples must not leak what they own either.
VALGRIND_EXAMPLES=(valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect)
# The managed-session examples: each is built plain and with ASan+UBSan.
EXAMPLES=(echo_server echo_client p2p file_transfer)

step "compile the C tests and examples (-Wall -Wextra -Werror)"
for t in "${C_TESTS[@]}"; do
    "$CC" "${CFLAGS[@]}" -O2 "tests/c/$t.c" "$LIB" "${LIBS[@]}" -o "$BUILD/$t"
    "$CC" "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
        "tests/c/$t.c" "$LIB" "${LIBS[@]}" -o "$BUILD/${t}_asan"
done
"$CC" "${CFLAGS[@]}" -O2 examples-c/latency.c "$LIB" "${LIBS[@]}" -o "$BUILD/latency"
"$CC" "${CFLAGS[@]}" -O2 examples-c/hello_arq.c "$LIB" "${LIBS[@]}" -o "$BUILD/hello_arq"
for e in "${EXAMPLES[@]}"; do
    "$CC" "${CFLAGS[@]}" -O2 "examples-c/$e.c" "$LIB" "${LIBS[@]}" -o "$BUILD/$e"
    "$CC" "${CFLAGS[@]}" -O1 -fsanitize=address,undefined -fno-omit-frame-pointer \
        "examples-c/$e.c" "$LIB" "${LIBS[@]}" -o "$BUILD/${e}_asan"
done

step "a deprecated name warns with its replacement's name (C11 and C++17, -Werror)"
for lang in c c++; do
    std=c11
    [ "$lang" = c++ ] && std=c++17
    printf '#include "kcp.h"\nint main(void) { return kcp_arq_waitsnd(0); }\n' \
        | "$CC" -x "$lang" -std="$std" -Wall -Werror -I"$ROOT/include" -fsyntax-only - \
            >"$BUILD/deprecated_$lang.log" 2>&1 \
        && fail "kcp_arq_waitsnd compiled without a warning ($lang)"
    grep -q 'use kcp_arq_wait_snd' "$BUILD/deprecated_$lang.log" \
        || { cat "$BUILD/deprecated_$lang.log"; fail "the warning does not name kcp_arq_wait_snd ($lang)"; }
    printf '#define KCP_NO_DEPRECATION_WARNINGS\n#include "kcp.h"\nint main(void) { return kcp_arq_waitsnd(0); }\n' \
        | "$CC" -x "$lang" -std="$std" -Wall -Werror -I"$ROOT/include" -fsyntax-only - \
        || fail "KCP_NO_DEPRECATION_WARNINGS did not silence it ($lang)"
done
echo "kcp_arq_waitsnd: 'use kcp_arq_wait_snd' in C and C++; silenced by KCP_NO_DEPRECATION_WARNINGS"

for t in "${C_TESTS[@]}"; do
    step "$t"
    run_c_test "$BUILD/$t.log" "$BUILD/$t"
    step "$t with ASan + UBSan"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run_c_test "$BUILD/${t}_asan.log" "$BUILD/${t}_asan"
    step "$t under valgrind"
    run_c_test "$BUILD/${t}_valgrind.log" "${VALGRIND[@]}" "$BUILD/$t"
done

# Starts a server in the background (output to the log $1, command after
# it) and waits for its "listening on IP:PORT" line: sets SERVER_PID and
# SERVER_ADDR.
start_server() {
    local log="$1"; shift
    "$@" >"$log" 2>&1 &
    SERVER_PID=$!
    BG_PIDS+=("$SERVER_PID")
    local _
    for _ in $(seq 600); do
        SERVER_ADDR="$(sed -n 's/^listening on //p' "$log")"
        [ -n "$SERVER_ADDR" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log"; fail "$* exited before listening"; }
        sleep 0.1
    done
    cat "$log"
    fail "$*: no 'listening on' line within 60 s"
}

# Waits for background process $1 and checks that it exited with 0.
expect_success() {
    local pid="$1" log="$2" what="$3" status=0
    wait "$pid" || status=$?
    if [ "$status" -ne 0 ]; then cat "$log"; fail "$what exited with status $status"; fi
}

# Runs the session examples over UDP on 127.0.0.1.
# Usage: run_examples LABEL SUFFIX MESSAGES MEGABYTES [WRAPPER...]
#   LABEL names the run (and its log directory), SUFFIX picks the build
#   ("" or _asan), MESSAGES per echo client, MEGABYTES for the file
#   transfer, WRAPPER e.g. valgrind and its options.
run_examples() {
    local label="$1" sfx="$2" messages="$3" megabytes="$4"; shift 4
    local run=(timeout 120 "$@") dir="$BUILD/examples-$label"
    mkdir -p "$dir"
    # EXAMPLE_CRYPT (flags of the echo examples and p2p) and FT_SETTINGS
    # (file_transfer's key=value pairs) pick the packet protection.
    local crypt=("${EXAMPLE_CRYPT[@]}")

    step "echo_server + 2 echo_clients at once ($label, $messages messages each)"
    start_server "$dir/echo_server.log" "${run[@]}" "$BUILD/echo_server$sfx" 127.0.0.1:0 \
        --sessions 2 --idle 1 "${crypt[@]}"
    local server="$SERVER_PID" c1 c2 log
    "${run[@]}" "$BUILD/echo_client$sfx" "$SERVER_ADDR" --messages "$messages" "${crypt[@]}" \
        >"$dir/client1.log" 2>&1 &
    c1=$!
    "${run[@]}" "$BUILD/echo_client$sfx" "$SERVER_ADDR" --messages "$messages" --size 1200 \
        "${crypt[@]}" >"$dir/client2.log" 2>&1 &
    c2=$!
    BG_PIDS+=("$c1" "$c2")
    expect_success "$c1" "$dir/client1.log" "echo_client (64 bytes)"
    expect_success "$c2" "$dir/client2.log" "echo_client (1200 bytes)"
    expect_success "$server" "$dir/echo_server.log" "echo_server"
    for log in "$dir/client1.log" "$dir/client2.log"; do
        grep -q "^$messages echoes ok" "$log" || { cat "$log"; fail "echo_client: $log"; }
        grep '^[0-9]* echoes ok' "$log"
    done
    grep -q '^served 2 sessions' "$dir/echo_server.log" \
        || { cat "$dir/echo_server.log"; fail "echo_server did not serve 2 sessions"; }
    grep '^served 2 sessions' "$dir/echo_server.log"

    step "p2p ($label)"
    "${run[@]}" "$BUILD/p2p$sfx" 20 "${P2P_CRYPT[@]}" >"$dir/p2p.log" 2>&1 || { cat "$dir/p2p.log"; fail "p2p"; }
    grep -q 'listening port: yes' "$dir/p2p.log" && grep -q 'all delivered$' "$dir/p2p.log" \
        || { cat "$dir/p2p.log"; fail "p2p output"; }
    grep 'all delivered$' "$dir/p2p.log"

    step "file_transfer of $megabytes MB ($label)"
    head -c "$((megabytes * 1000000 + 12345))" /dev/urandom >"$dir/input.bin"
    rm -f "$dir/output.bin"
    start_server "$dir/recv.log" "${run[@]}" "$BUILD/file_transfer$sfx" recv "$dir/output.bin" 127.0.0.1:0 \
        "${FT_SETTINGS[@]}"
    server="$SERVER_PID"
    "${run[@]}" "$BUILD/file_transfer$sfx" send "$dir/input.bin" "$SERVER_ADDR" "${FT_SETTINGS[@]}" \
        >"$dir/send.log" 2>&1 \
        || { cat "$dir/send.log"; fail "file_transfer send"; }
    expect_success "$server" "$dir/recv.log" "file_transfer recv"
    cmp "$dir/input.bin" "$dir/output.bin" || fail "file_transfer: the copy differs"
    rm -f "$dir/input.bin" "$dir/output.bin"
    grep -q '^received 100%' "$dir/recv.log" || { cat "$dir/recv.log"; fail "no progress lines"; }
    grep '^done:' "$dir/send.log"
}

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
EXAMPLE_CRYPT=(--crypt aes --key "example key" --fec 10,3)
P2P_CRYPT=()
FT_SETTINGS=()
run_examples plain "" 2000 4
run_examples asan _asan 1000 4
run_examples valgrind "" 200 1 "${VALGRIND_EXAMPLES[@]}"
# The same examples with the secure profile (issue 10).
SECURE_PSK=5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0
EXAMPLE_CRYPT=(--crypt secure --psk "$SECURE_PSK")
P2P_CRYPT=(--crypt secure --psk "$SECURE_PSK")
FT_SETTINGS=(--crypt secure --psk "$SECURE_PSK")
run_examples secure "" 1000 4
run_examples secure-asan _asan 300 2

# The C++ wrapper (bindings/cpp/kcp.hpp): its test plain and under
# ASan+UBSan, and the C++ echo server answering two C echo clients.
CXX="${CXX:-g++}"
CXXFLAGS=(-std=c++17 -Wall -Wextra -pedantic -Werror -I"$ROOT/include")
step "C++ wrapper: compile (-std=c++17 -Wall -Wextra -pedantic -Werror)"
"$CXX" "${CXXFLAGS[@]}" -O2 tests/cpp/test_kcp_hpp.cpp "$LIB" "${LIBS[@]}" -o "$BUILD/test_kcp_hpp"
"$CXX" "${CXXFLAGS[@]}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
    tests/cpp/test_kcp_hpp.cpp "$LIB" "${LIBS[@]}" -o "$BUILD/test_kcp_hpp_asan"
"$CXX" "${CXXFLAGS[@]}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
    examples-cpp/echo_server.cpp "$LIB" "${LIBS[@]}" -o "$BUILD/echo_server_cpp_asan"
step "test_kcp_hpp"
run_c_test "$BUILD/test_kcp_hpp.log" "$BUILD/test_kcp_hpp"
step "test_kcp_hpp with ASan + UBSan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_c_test "$BUILD/test_kcp_hpp_asan.log" "$BUILD/test_kcp_hpp_asan"
step "examples-cpp/echo_server (ASan + UBSan) + 2 C echo_clients"
start_server "$BUILD/echo_server_cpp.log" timeout 60 "$BUILD/echo_server_cpp_asan" 127.0.0.1:0 \
    --sessions 2 --idle 1
cpp_server="$SERVER_PID"
"$BUILD/echo_client" "$SERVER_ADDR" --messages 300 >"$BUILD/echo_cpp_client1.log" 2>&1 \
    || { cat "$BUILD/echo_cpp_client1.log"; fail "echo_client against the C++ server"; }
"$BUILD/echo_client" "$SERVER_ADDR" --messages 300 --size 1200 >"$BUILD/echo_cpp_client2.log" 2>&1 \
    || { cat "$BUILD/echo_cpp_client2.log"; fail "echo_client (1200 bytes) against the C++ server"; }
expect_success "$cpp_server" "$BUILD/echo_server_cpp.log" "echo_server_cpp"
grep -q '^served 2 sessions' "$BUILD/echo_server_cpp.log" \
    || { cat "$BUILD/echo_server_cpp.log"; fail "echo_server_cpp did not serve 2 sessions"; }
grep -h '^300 echoes ok' "$BUILD/echo_cpp_client1.log" "$BUILD/echo_cpp_client2.log"

step "examples-c/hello_arq (the README example), plain and under valgrind"
hello_out="$("$BUILD/hello_arq")" || fail "hello_arq exited with an error"
[ "$hello_out" = 'b received "hello, kcp"' ] || fail "hello_arq printed: $hello_out"
"${VALGRIND[@]}" "$BUILD/hello_arq" >/dev/null || fail "hello_arq under valgrind"

step "latency 3 improved 50 (redundancy) under valgrind"
"${VALGRIND[@]}" "$BUILD/latency" 3 improved 50 >"$BUILD/latency_valgrind.log" 2>&1 \
    || { cat "$BUILD/latency_valgrind.log"; fail "latency under valgrind"; }
cat "$BUILD/latency_valgrind.log"

step "C demo vs Rust benchmark, 5 seeds"
"$BUILD/latency" 5 classic >"$BUILD/latency_classic.json"
"$BUILD/latency" 5 improved >"$BUILD/latency_improved.json"
"$BUILD/latency" 5 improved 50 >"$BUILD/latency_redundancy.json"
"$ROOT/target/release/latency" 5 >"$BUILD/latency_rust.json"
python3 - "$BUILD/latency_classic.json" "$BUILD/latency_improved.json" \
    "$BUILD/latency_redundancy.json" "$BUILD/latency_rust.json" <<'EOF'
import json
import sys

c_rows = [json.loads(line) for path in sys.argv[1:4] for line in open(path) if line.strip()]
rust = json.load(open(sys.argv[4]))["results"]
fields = ["avg_rtt_ms", "mean_max_rtt_ms", "datagrams_first_endpoint"]
key = lambda r: (r["mode"], r["recovery"], r["redundancy_percent"])
c_by = {key(r): r for r in c_rows}
# The Rust benchmark has more redundancy rows than the C runs cover.
rust_by = {key(r): r for r in rust if key(r) in c_by}
if set(c_by) != set(rust_by) or len(c_by) != 6:
    sys.exit(f"FAILED: the runs differ: C {sorted(c_by)}, Rust {sorted(rust_by)}")
bad = 0
print(f"{'mode':<7} {'recovery':<9} {'red%':>4} {'field':<25} {'C':>10} {'Rust':>10}")
for k in sorted(c_by):
    c, r = c_by[k], rust_by[k]
    if c["seeds"] != r["seeds"]:
        bad += 1
        print(f"{k}: seeds differ: C {c['seeds']}, Rust {r['seeds']}")
    for f in fields:
        # Both sides round to 3 decimals the same way before printing.
        same = round(float(c[f]), 3) == round(float(r[f]), 3)
        bad += not same
        print(f"{k[0]:<7} {k[1]:<9} {k[2]:>4} {f:<25} {c[f]:>10.3f} {r[f]:>10.3f}  {'ok' if same else 'DIFFERENT'}")
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
run_c_test "$DIFF_BUILD/differential.log" "$DIFF_BUILD/differential"
grep '^kcp-rs (classic) == ikcp\|^kept in the compared domain' "$DIFF_BUILD/differential.log"
step "differential test, kcp_arq_check == ikcp_check at every step"
run_c_test "$DIFF_BUILD/differential_check.log" "$DIFF_BUILD/differential" --check 200
step "differential test under valgrind, 20 configurations"
run_c_test "$DIFF_BUILD/differential_valgrind.log" "${VALGRIND[@]}" "$DIFF_BUILD/differential" 20

step "all C tests passed"

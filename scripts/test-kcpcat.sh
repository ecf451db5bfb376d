#!/usr/bin/env bash
# Tests examples-c/kcpcat.c, the netcat-like CLI on the C API, over UDP on
# 127.0.0.1. Built with ASan+UBSan (-Wall -Wextra -Werror); each check
# prints one line and the script ends with "N passed, 0 failed":
#   - usage errors: no address, an unknown -c key, a bad -q, a secure
#     config without a psk (exit 2 or 1, with a message naming the problem);
#   - kcpcat to kcpcat: --send of a 5 MB file with the progress bar and
#     --stats, the receiver quitting with -q (kcp-go format: no close
#     message); the secure profile, where the receiver ends at the sender's
#     authenticated close, and a sender whose receiver closes early fails;
#     aes + FEC 10/3 through the impairment proxy at
#     10% loss, where --stats must count retransmissions and FEC recoveries;
#   - kcp-go (build/kcpgo-peer, the Debian kcp-go): kcpcat --kcptun dialing
#     a kcp-go server with kcptun's KCP settings (its sink app checks every
#     byte and answers the count), a kcp-go client dialing kcpcat -l
#     --kcptun, and kcpcat with no options against kcp-go's own defaults
#     (echo), stdin to stdout.
# Needs build/kcpgo-peer and build/impair (scripts/kcpgo.sh); missing, the
# script fails.
#
# Usage (from anywhere): scripts/test-kcpcat.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD="$ROOT/build/kcpcat-test"
mkdir -p "$BUILD"
PEER="$ROOT/build/kcpgo-peer"
IMPAIR="$ROOT/build/impair"
CC="${CC:-gcc}"

passed=0
failed=0
ok() { printf 'ok   - %s\n' "$*"; passed=$((passed + 1)); }
bad() { printf 'FAIL - %s\n' "$*"; failed=$((failed + 1)); }
check() { local what="$1"; shift; if "$@"; then ok "$what"; else bad "$what"; fi; }
step() { printf '\n==> %s\n' "$*"; }

BG_PIDS=()
cleanup() {
    local pid
    for pid in "${BG_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT

[ -x "$PEER" ] && [ -x "$IMPAIR" ] || { echo "FAILED: build/kcpgo-peer or build/impair missing (run scripts/kcpgo.sh)" >&2; exit 1; }

step "build kcpcat (ASan + UBSan, -Wall -Wextra -Werror)"
cargo build -p kcp-ffi --release
"$CC" -std=c11 -Wall -Wextra -Werror -Wformat=2 -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
    -I"$ROOT/include" examples-c/kcpcat.c "$ROOT/target/release/libkcp.a" -lpthread -ldl -lm -o "$BUILD/kcpcat"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
KCPCAT=(timeout 60 "$BUILD/kcpcat")

# Starts `kcpcat -l` in the background with its stderr in $1 and its
# stdin from $2 (a background command's own stdin would be /dev/null), and
# waits for its "listening on" line: sets SERVER_PID and SERVER_ADDR.
start_listener() {
    local log="$1" input="$2"; shift 2
    "$@" <"$input" 2>"$log" &
    SERVER_PID=$!
    BG_PIDS+=("$SERVER_PID")
    local _
    for _ in $(seq 300); do
        SERVER_ADDR="$(sed -n 's/^listening on //p' "$log")"
        [ -n "$SERVER_ADDR" ] && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$log"; echo "FAILED: $* exited before listening" >&2; exit 1; }
        sleep 0.1
    done
    echo "FAILED: no 'listening on' line from $*" >&2
    exit 1
}

# A kcp-go peer's address from its first JSON line ({"event":"listening",...}).
go_addr() {
    local log="$1" _
    for _ in $(seq 300); do
        grep -q '"listening"' "$log" 2>/dev/null && {
            python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["addr"])' "$log"
            return 0
        }
        sleep 0.1
    done
    cat "$log" >&2
    echo "FAILED: the kcp-go peer did not start" >&2
    exit 1
}

exit_status() { local s=0; "$@" || s=$?; echo "$s"; }
# The exit status of background process $1 (a child of this shell: not
# callable inside $(...)), into STATUS.
reap() { STATUS=0; wait "$1" || STATUS=$?; }
# check_all WHAT CMD1 -- CMD2 ...: one check that needs every command to succeed.
check_all() {
    local what="$1" cmd=() all=1; shift
    for arg in "$@" --; do
        if [ "$arg" = -- ]; then
            [ "${#cmd[@]}" -gt 0 ] && { "${cmd[@]}" || all=0; }
            cmd=()
        else
            cmd+=("$arg")
        fi
    done
    if [ "$all" = 1 ]; then ok "$what"; else bad "$what"; fi
}

step "usage errors"
s=$(exit_status "${KCPCAT[@]}" </dev/null 2>"$BUILD/usage.log")
check_all "no address: exit 2 with the usage" [ "$s" = 2 ] -- grep -q '^usage: kcpcat' "$BUILD/usage.log"
s=$(exit_status "${KCPCAT[@]}" -c nosuchkey=1 127.0.0.1:9 </dev/null 2>"$BUILD/key.log")
check_all "an unknown -c key: exit 2, naming it ($(head -c 120 "$BUILD/key.log"))" \
    [ "$s" = 2 ] -- grep -q 'nosuchkey' "$BUILD/key.log"
s=$(exit_status "${KCPCAT[@]}" -c sndwnd=0x 127.0.0.1:9 </dev/null 2>"$BUILD/value.log")
check_all "a bad -c value: exit 2, naming the key ($(head -c 120 "$BUILD/value.log"))" \
    [ "$s" = 2 ] -- grep -q 'sndwnd' "$BUILD/value.log"
s=$(exit_status "${KCPCAT[@]}" -q -1 127.0.0.1:9 </dev/null 2>"$BUILD/q.log")
check_all "-q -1: exit 2" [ "$s" = 2 ] -- grep -q -e '-q takes seconds' "$BUILD/q.log"
s=$(exit_status "${KCPCAT[@]}" -c crypt=secure -l 127.0.0.1:0 </dev/null 2>"$BUILD/psk.log")
check_all "secure without a psk: refused, saying why ($(head -c 120 "$BUILD/psk.log"))" \
    [ "$s" = 1 ] -- grep -q 'psk' "$BUILD/psk.log"

step "kcpcat to kcpcat: --send 5 MB with --stats, the receiver quits with -q 1"
head -c 5000000 /dev/urandom >"$BUILD/in.bin"
rm -f "$BUILD/out.bin"
start_listener "$BUILD/recv.log" /dev/null "${KCPCAT[@]}" -l 127.0.0.1:0 -q 1 -o "$BUILD/out.bin" --stats
"${KCPCAT[@]}" --send "$BUILD/in.bin" --stats "$SERVER_ADDR" >"$BUILD/send.out" 2>"$BUILD/send.log" \
    || { cat "$BUILD/send.log"; bad "kcpcat --send exited with an error"; }
reap "$SERVER_PID"
check "the receiver exited 0" [ "$STATUS" = 0 ]
check "the copy equals the original" cmp -s "$BUILD/in.bin" "$BUILD/out.bin"
check "the progress reached 100%" grep -q '^sent 100% (5000000 bytes' "$BUILD/send.log"
check "the sender reports delivery" grep -q '^delivered 5.0 MB (5000000 bytes)' "$BUILD/send.log"
check "--stats prints RTT, retransmissions and FEC" grep -q 'rtt [0-9]* ms (var [0-9]*, rto [0-9]*).*retrans [0-9]*.*fec recovered [0-9]*' "$BUILD/send.log"
check "the receiver's --stats count 5.0 MB received" grep -q 'received 5.0 MB' "$BUILD/recv.log"
grep -m1 'rtt' "$BUILD/send.log"

step "secure profile: the receiver ends at the sender's authenticated close (no -q)"
PSK=5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0de5ec0
rm -f "$BUILD/out.bin"
start_listener "$BUILD/recv-secure.log" /dev/null "${KCPCAT[@]}" -l 127.0.0.1:0 -c crypt=secure -c "psk=$PSK" \
    -o "$BUILD/out.bin"
"${KCPCAT[@]}" -c crypt=secure -c "psk=$PSK" --send "$BUILD/in.bin" "$SERVER_ADDR" >/dev/null \
    2>"$BUILD/send-secure.log" || { cat "$BUILD/send-secure.log"; bad "secure kcpcat --send exited with an error"; }
reap "$SERVER_PID"
check "the secure receiver exited 0 at the end of the stream" [ "$STATUS" = 0 ]
check "the secure copy equals the original" cmp -s "$BUILD/in.bin" "$BUILD/out.bin"

step "secure profile: a --send whose receiver ends the session early fails"
# -q 0 with no input of its own: the receiver closes as soon as it accepts.
start_listener "$BUILD/recv-early.log" /dev/null "${KCPCAT[@]}" -l 127.0.0.1:0 -c crypt=secure -c "psk=$PSK" \
    -q 0 -o /dev/null
s=0
"${KCPCAT[@]}" -c crypt=secure -c "psk=$PSK" --send "$BUILD/in.bin" "$SERVER_ADDR" >/dev/null \
    2>"$BUILD/send-early.log" || s=$?
reap "$SERVER_PID"
check_all "the sender exits 1 and says the file was not delivered ($(tail -n 1 "$BUILD/send-early.log"))" \
    [ "$s" = 1 ] -- grep -q '^NOT delivered 5.0 MB (5000000 bytes): the peer ended the session' "$BUILD/send-early.log"

step "aes + FEC 10/3 through the impairment proxy at 10% loss: --stats counts the repairs"
rm -f "$BUILD/out.bin"
LOSSY=(-c crypt=aes -c "key=kcpcat test" -c datashard=10 -c parityshard=3)
start_listener "$BUILD/recv-lossy.log" /dev/null "${KCPCAT[@]}" -l 127.0.0.1:0 -q 2 "${LOSSY[@]}" --stats \
    -o "$BUILD/out.bin"
receiver="$SERVER_PID"
"$IMPAIR" --upstream "$SERVER_ADDR" --loss 0.1 --seed 7 --timeout 60s >"$BUILD/impair.log" 2>&1 &
BG_PIDS+=("$!")
proxy=""
for _ in $(seq 100); do
    proxy="$(python3 -c 'import json,sys
for line in open(sys.argv[1]):
    if "listen" in line:
        print(json.loads(line).get("addr", "")); break' "$BUILD/impair.log" 2>/dev/null || true)"
    [ -n "$proxy" ] && break
    sleep 0.1
done
[ -n "$proxy" ] || { cat "$BUILD/impair.log"; echo "FAILED: the impairment proxy did not start" >&2; exit 1; }
head -c 1000000 /dev/urandom >"$BUILD/lossy.bin"
"${KCPCAT[@]}" "${LOSSY[@]}" --send "$BUILD/lossy.bin" --stats "$proxy" >/dev/null 2>"$BUILD/send-lossy.log" \
    || { cat "$BUILD/send-lossy.log"; bad "kcpcat --send through the proxy exited with an error"; }
reap "$receiver"
check "the receiver behind 10% loss exited 0" [ "$STATUS" = 0 ]
check "the copy through 10% loss equals the original" cmp -s "$BUILD/lossy.bin" "$BUILD/out.bin"
last_send="$(grep 'rtt' "$BUILD/send-lossy.log" | tail -n 1 || true)"
last_recv="$(grep 'rtt' "$BUILD/recv-lossy.log" | tail -n 1 || true)"
echo "sender:   $last_send"
echo "receiver: $last_recv"
check "the sender's --stats count retransmissions" \
    python3 -c 'import re,sys; m = re.search(r"retrans (\d+)", sys.argv[1]); sys.exit(not m or int(m.group(1)) == 0)' "$last_send"
check "the receiver's --stats count FEC recoveries" \
    python3 -c 'import re,sys; m = re.search(r"fec recovered (\d+)", sys.argv[1]); sys.exit(not m or int(m.group(1)) == 0)' "$last_recv"

step "kcp-go: kcpcat --kcptun dials a kcp-go server with kcptun's settings"
KCPTUN=(--crypt aes --key "it's a secrect" --datashard 10 --parityshard 3 --mode fast --mtu 1350 --wnd 1024)
N=3000000
python3 -c 'import struct,sys; n=int(sys.argv[1]); sys.stdout.buffer.write(struct.pack("<Q", n) + bytes(i % 251 for i in range(n)))' \
    "$N" >"$BUILD/sink-in.bin"
"$PEER" serve --listen 127.0.0.1:0 --app sink --sessions 1 "${KCPTUN[@]}" --timeout 30s >"$BUILD/go-serve.log" 2>&1 &
go_pid=$!
BG_PIDS+=("$go_pid")
addr="$(go_addr "$BUILD/go-serve.log")"
"${KCPCAT[@]}" --kcptun -q 0.5 "$addr" <"$BUILD/sink-in.bin" >"$BUILD/reply.bin" 2>"$BUILD/cat-dial.log" \
    || { cat "$BUILD/cat-dial.log"; bad "kcpcat --kcptun exited with an error"; }
reap "$go_pid"
s="$STATUS"
check_all "the kcp-go server checked all $N bytes (exit $s)" [ "$s" = 0 ] -- grep -q "\"bytes_in\":$((N + 8))" "$BUILD/go-serve.log"
check "kcpcat printed kcp-go's 8-byte answer" \
    python3 -c 'import struct,sys; sys.exit(struct.unpack("<Q", open(sys.argv[1], "rb").read()) != (int(sys.argv[2]),))' \
    "$BUILD/reply.bin" "$N"

step "kcp-go: a kcp-go client dials kcpcat -l --kcptun"
python3 -c 'import struct,sys; sys.stdout.buffer.write(struct.pack("<Q", int(sys.argv[1])))' "$N" >"$BUILD/reply8.bin"
rm -f "$BUILD/got.bin"
start_listener "$BUILD/recv-go.log" "$BUILD/reply8.bin" "${KCPCAT[@]}" -l 127.0.0.1:0 --kcptun -q 1 -o "$BUILD/got.bin"
listener="$SERVER_PID"
s=0
"$PEER" dial --remote "$SERVER_ADDR" --app sink --bytes "$N" "${KCPTUN[@]}" --timeout 30s \
    >"$BUILD/go-dial.log" 2>&1 || s=$?
check "the kcp-go client sent $N bytes and got kcpcat's answer (exit $s)" [ "$s" = 0 ]
reap "$listener"
check "kcpcat -l exited 0" [ "$STATUS" = 0 ]
check "kcpcat -l wrote the header and every byte of kcp-go's stream" \
    python3 -c 'import struct,sys
d = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", d[:8])[0]
sys.exit(not (n == int(sys.argv[2]) and d[8:] == bytes(i % 251 for i in range(n))))' "$BUILD/got.bin" "$N"

step "kcp-go's own defaults: kcpcat with no options, stdin to stdout through kcp-go's echo"
"$PEER" serve --listen 127.0.0.1:0 --app echo --messages 0 --mode default --crypt null --timeout 8s \
    >"$BUILD/go-echo.log" 2>&1 &
go_pid=$!
BG_PIDS+=("$go_pid")
addr="$(go_addr "$BUILD/go-echo.log")"
seq 1 20000 >"$BUILD/lines.txt"
"${KCPCAT[@]}" -q 1 "$addr" <"$BUILD/lines.txt" >"$BUILD/echoed.txt" 2>"$BUILD/cat-echo.log" \
    || { cat "$BUILD/cat-echo.log"; bad "kcpcat against kcp-go's echo exited with an error"; }
check "kcp-go echoed stdin back to stdout ($(wc -c <"$BUILD/lines.txt") bytes)" cmp -s "$BUILD/lines.txt" "$BUILD/echoed.txt"
kill "$go_pid" 2>/dev/null || true

printf '%d passed, %d failed\n' "$passed" "$failed"
[ "$failed" -eq 0 ]

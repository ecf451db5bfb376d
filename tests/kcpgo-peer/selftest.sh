#!/usr/bin/env bash
# Self-test of tests/kcpgo-peer and tests/impair: kcp-go talking to kcp-go
# over real loopback UDP sockets. `kcpgo-peer dial` -> `kcpgo-peer serve`
# for echo and a 16 MB sink, every cipher x FEC off / 10,3; source; a sink
# through `impair` with 10% loss and reordering both ways (FEC must recover
# data: FECRecovered in the server's kcp-go counters); echo through impair
# with delay, jitter, duplication and corruption (crc32 must catch it); two
# clients sharing one proxy; a wrong key; and every bench case once with
# small sizes. Ends with "N passed, M failed"; exits non-zero on failure.
#
# Usage: tests/kcpgo-peer/selftest.sh   (builds via scripts/kcpgo.sh)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KCPGO="$("$ROOT/scripts/kcpgo.sh")" || { echo "selftest: scripts/kcpgo.sh failed" >&2; exit 1; }
BIN="$(dirname "$KCPGO")"
PEER="$BIN/kcpgo-peer"
IMPAIR="$BIN/impair"
command -v python3 >/dev/null 2>&1 || { echo "selftest: python3 is needed to check the JSON lines" >&2; exit 1; }

T="$(mktemp -d)"
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
    wait 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

pass=0
failn=0
ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() { failn=$((failn + 1)); printf 'FAIL  %s: %s\n' "$1" "$2"; }

# Generous per-process limits: a loaded 2-core machine can be slow, and a
# failure still ends by itself.
TO=(--timeout 60s)

# start_bg NAME CMD...: runs CMD in the background (stdout $T/NAME.out,
# stderr $T/NAME.err) and waits, at most 10 s, for its "listening" line.
# Sets BG_PID and BG_ADDR.
start_bg() {
    local name="$1"; shift
    "$@" > "$T/$name.out" 2> "$T/$name.err" &
    BG_PID=$!
    PIDS+=("$BG_PID")
    BG_ADDR=""
    local deadline=$((SECONDS + 10))
    while ! grep -q '"event":"listening"' "$T/$name.out" 2>/dev/null; do
        kill -0 "$BG_PID" 2>/dev/null || return 1
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.05
    done
    BG_ADDR="$(grep -m 1 -o '"addr":"[^"]*"' "$T/$name.out" | cut -d'"' -f4)"
    [ -n "$BG_ADDR" ]
}

# jget FILE KEY...: a value from the last line of FILE that is a JSON
# object whose "event" is done (or any JSON object, for bench lines).
jget() {
    python3 - "$@" <<'EOF' 2>/dev/null
import json, sys
f, keys = sys.argv[1], sys.argv[2:]
objs = []
for line in open(f):
    line = line.strip()
    if line.startswith("{"):
        objs.append(json.loads(line))
done = [o for o in objs if o.get("event") == "done"] or [o for o in objs if "event" not in o]
v = done[-1]
for k in keys:
    v = v[k]
print(v)
EOF
}
# jcheck FILE PYTHON-EXPR: the last done/bench object of FILE as `o` makes EXPR true.
jcheck() {
    python3 - "$1" "$2" <<'EOF' 2>/dev/null
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1]) if l.strip().startswith("{")]
done = [o for o in objs if o.get("event") == "done"] or [o for o in objs if "event" not in o]
o = done[-1]
sys.exit(0 if eval(sys.argv[2]) else 1)
EOF
}
last_err() { tail -n 1 "$1" 2>/dev/null; }

# session NAME APP "SERVE ARGS" "DIAL ARGS" [PROXY ARGS]: one kcp-go serve
# and one kcp-go dial (through impair when PROXY ARGS are given); both must
# exit 0 with their done lines. Leaves $T/NAME.{srv,cli,imp}.{out,err}.
session() {
    local name="$1" app="$2" sargs="$3" dargs="$4" pargs="${5:-}"
    local srv cli imp="" target
    # shellcheck disable=SC2086
    start_bg "$name.srv" "$PEER" serve --app "$app" "${TO[@]}" $sargs || { SESSION_ERR="serve did not start: $(last_err "$T/$name.srv.err")"; return 1; }
    srv=$BG_PID
    target="$BG_ADDR"
    if [ -n "$pargs" ]; then
        # shellcheck disable=SC2086
        start_bg "$name.imp" "$IMPAIR" --upstream "$target" --timeout 120s $pargs || { SESSION_ERR="impair did not start: $(last_err "$T/$name.imp.err")"; return 1; }
        imp=$BG_PID
        target="$BG_ADDR"
    fi
    # shellcheck disable=SC2086
    if ! "$PEER" dial --remote "$target" --app "$app" "${TO[@]}" $dargs > "$T/$name.cli.out" 2> "$T/$name.cli.err"; then
        SESSION_ERR="dial: $(last_err "$T/$name.cli.err")"; return 1
    fi
    if ! wait "$srv"; then SESSION_ERR="serve: $(last_err "$T/$name.srv.err")"; return 1; fi
    if [ -n "$imp" ]; then
        kill -TERM "$imp"
        wait "$imp" || { SESSION_ERR="impair exited non-zero: $(last_err "$T/$name.imp.err")"; return 1; }
    fi
    return 0
}

# ---- A: every cipher x FEC off / 10,3: echo and a 16 MB sink ----------------
for c in null none salsa20 aes; do
    for fec in "0 0" "10 3"; do
        read -r ds ps <<<"$fec"
        F="--crypt $c --key selftest-$c --datashard $ds --parityshard $ps"
        name="echo crypt=$c fec=$ds/$ps (300 x 1000 B)"
        n="echo-$c-$ds"
        if ! session "$n" echo "$F --messages 300" "$F --messages 300 --size 1000"; then
            bad "$name" "$SESSION_ERR"
        elif ! jcheck "$T/$n.cli.out" 'o["app"]=="echo" and o["messages"]==300 and o["rtt_us_p50"]>0 and o["rtt_us_p99"]>=o["rtt_us_p50"]' \
            || ! jcheck "$T/$n.srv.out" 'o["sessions"]==1 and o["bytes_in"]==300000 and o["bytes_out"]==300000 and o["snmp"]["InCsumErrors"]==0'; then
            bad "$name" "done lines: $(tail -n 1 "$T/$n.cli.out" | cut -c1-200) / $(tail -n 1 "$T/$n.srv.out" | cut -c1-200)"
        else
            ok "$name"
        fi

        name="sink 16 MiB crypt=$c fec=$ds/$ps"
        n="sink-$c-$ds"
        if ! session "$n" sink "$F" "$F --bytes 16MiB"; then
            bad "$name" "$SESSION_ERR"
        elif ! jcheck "$T/$n.cli.out" 'o["app"]=="sink" and o["bytes"]==16777216 and o["mb_per_s"]>0' \
            || ! jcheck "$T/$n.srv.out" 'o["sessions"]==1 and o["bytes_in"]==16777216+8 and o["bytes_out"]==8' \
            || ! grep -q '"event":"session","app":"sink".*"bytes":16777216' "$T/$n.srv.out"; then
            bad "$name" "done lines: $(tail -n 1 "$T/$n.cli.out" | cut -c1-200) / $(tail -n 1 "$T/$n.srv.out" | cut -c1-200)"
        else
            ok "$name ($(jget "$T/$n.cli.out" mb_per_s) MB/s)"
        fi
    done
done

# ---- B: source --------------------------------------------------------------
for F in "--crypt null" "--crypt salsa20 --datashard 10 --parityshard 3"; do
    name="source 16 MiB $F"
    n="source-$(echo "$F" | tr -c 'a-z0-9' _)"
    if ! session "$n" source "$F" "$F --bytes 16MiB"; then
        bad "$name" "$SESSION_ERR"
    elif ! jcheck "$T/$n.cli.out" 'o["app"]=="source" and o["bytes"]==16777216' \
        || ! jcheck "$T/$n.srv.out" 'o["bytes_out"]==16777216 and o["bytes_in"]==8'; then
        bad "$name" "done lines: $(tail -n 1 "$T/$n.cli.out" | cut -c1-200)"
    else
        ok "$name"
    fi
done

# ---- C: through the impairment proxy -----------------------------------------
F="--crypt salsa20 --key lossy --datashard 10 --parityshard 3"
name="sink 16 MiB through impair (10% loss, 5% reorder, both ways), salsa20, FEC 10/3"
n="impair-sink"
if ! session "$n" sink "$F" "$F --bytes 16MiB" "--loss 0.1 --reorder 0.05 --seed 7"; then
    bad "$name" "$SESSION_ERR"
elif ! jcheck "$T/$n.srv.out" 'o["bytes_in"]==16777216+8 and o["snmp"]["FECRecovered"]>0' \
    || ! jcheck "$T/$n.imp.out" 'o["up"]["dropped"]>0 and o["down"]["dropped"]>0 and o["up"]["reordered"]>0 and o["up"]["out"]==o["up"]["in"]-o["up"]["dropped"]+o["up"]["duplicated"]'; then
    bad "$name" "counters: $(tail -n 1 "$T/$n.srv.out" | cut -c1-400) / $(tail -n 1 "$T/$n.imp.out")"
else
    ok "$name (FECRecovered $(jget "$T/$n.srv.out" snmp FECRecovered), $(jget "$T/$n.cli.out" mb_per_s) MB/s)"
fi

F="--crypt salsa20 --key noisy"
name="echo through impair (5% loss, 2 ms + 2 ms jitter, 2% dup, 5% corrupt, 5% reorder), salsa20"
n="impair-echo"
if ! session "$n" echo "$F --messages 400" "$F --messages 400 --size 700" "--loss 0.05 --delay 2ms --jitter 2ms --dup 0.02 --corrupt 0.05 --reorder 0.05 --seed 3"; then
    bad "$name" "$SESSION_ERR"
elif ! python3 - "$T/$n.srv.out" "$T/$n.cli.out" "$T/$n.imp.out" <<'EOF'
import json, sys
last = lambda f: [json.loads(l) for l in open(f) if l.startswith("{")][-1]
s, c, i = (last(f) for f in sys.argv[1:])
assert s["bytes_in"] == 400 * 700 and c["messages"] == 400
assert i["up"]["corrupted"] + i["down"]["corrupted"] > 0 and i["up"]["duplicated"] + i["down"]["duplicated"] > 0
# every corrupted datagram that was not also dropped by kcp-go for another reason fails crc32
assert s["snmp"]["InCsumErrors"] + c["snmp"]["InCsumErrors"] > 0
assert c["rtt_us_p50"] >= 4000  # two one-way delays of at least 2 ms
EOF
then
    bad "$name" "counters: $(tail -n 1 "$T/$n.imp.out") / $(tail -n 1 "$T/$n.cli.out" | cut -c1-300)"
else
    ok "$name"
fi

name="two clients through one impair (one upstream socket each), echo"
n="impair-two"
if start_bg "$n.srv" "$PEER" serve --app echo --sessions 2 --messages 100 "${TO[@]}" \
    && srv=$BG_PID && start_bg "$n.imp" "$IMPAIR" --upstream "$BG_ADDR" --loss 0.02 --timeout 120s; then
    imp=$BG_PID
    "$PEER" dial --remote "$BG_ADDR" --app echo --messages 100 "${TO[@]}" > "$T/$n.c1.out" 2> "$T/$n.c1.err" &
    c1=$!
    "$PEER" dial --remote "$BG_ADDR" --app echo --messages 100 --seed 2 "${TO[@]}" > "$T/$n.c2.out" 2> "$T/$n.c2.err"
    rc2=$?
    wait "$c1"; rc1=$?
    wait "$srv"; rcs=$?
    kill -TERM "$imp"; wait "$imp"
    if [ $rc1 != 0 ] || [ $rc2 != 0 ] || [ $rcs != 0 ]; then
        bad "$name" "exit codes client1=$rc1 client2=$rc2 server=$rcs: $(last_err "$T/$n.c1.err") $(last_err "$T/$n.c2.err") $(last_err "$T/$n.srv.err")"
    elif ! jcheck "$T/$n.imp.out" 'o["clients"]==2' || ! jcheck "$T/$n.srv.out" 'o["sessions"]==2 and o["accepted"]==2'; then
        bad "$name" "$(tail -n 1 "$T/$n.imp.out") / $(tail -n 1 "$T/$n.srv.out" | cut -c1-200)"
    else
        ok "$name"
    fi
else
    bad "$name" "serve or impair did not start"
fi

name="linger waits for an unacknowledged reply, and ends when the peer falls silent"
n="linger-unacked"
# Every datagram from the server is dropped: its 8-byte answer to a 0-byte
# sink stays unacked. The client retransmits its unacknowledged header
# until its own timeout (2 s), so
# the server must wait past its 200 ms quiet period, then end 3 s after the
# client fell silent ("peer silent"), well before its 20 s deadline. A
# linger on quiet alone exits at once and takes the reply with it.
if start_bg "$n.srv" "$PEER" serve --app sink --linger 200ms --timeout 20s \
    && srv=$BG_PID && start_bg "$n.imp" "$IMPAIR" --upstream "$BG_ADDR" --loss-down 1 --timeout 30s; then
    imp=$BG_PID
    started=$SECONDS
    "$PEER" dial --remote "$BG_ADDR" --app sink --bytes 0 --timeout 2s > "$T/$n.cli.out" 2> "$T/$n.cli.err"
    rcc=$?
    wait "$srv"; rcs=$?
    took=$((SECONDS - started))
    kill -TERM "$imp"; wait "$imp"
    if [ $rcc = 0 ] || [ $rcs != 0 ]; then
        bad "$name" "client rc=$rcc (want a timeout), server rc=$rcs: $(last_err "$T/$n.srv.err")"
    elif ! jcheck "$T/$n.srv.out" 'o["linger"]=="peer silent" and o["bytes_in"]==8' || [ "$took" -ge 15 ]; then
        bad "$name" "after ${took}s: $(tail -n 1 "$T/$n.srv.out" | cut -c1-200)"
    else
        ok "$name"
    fi
else
    bad "$name" "serve or impair did not start"
fi

# ---- D: a wrong key is rejected -----------------------------------------------
name="wrong key: nothing accepted, both sides FAIL at their timeout"
n="wrongkey"
if start_bg "$n.srv" "$PEER" serve --app echo --messages 1 --crypt aes --key right --timeout 3s; then
    srv=$BG_PID
    "$PEER" dial --remote "$BG_ADDR" --app echo --messages 1 --crypt aes --key wrong --timeout 2s > "$T/$n.cli.out" 2> "$T/$n.cli.err"
    rcc=$?
    wait "$srv"; rcs=$?
    if [ $rcc = 0 ] || [ $rcs = 0 ] || ! grep -q 'kcpgo-peer dial: FAIL: timed out' "$T/$n.cli.err" \
        || ! grep -q 'kcpgo-peer serve: FAIL: timed out.*(0 accepted)' "$T/$n.srv.err"; then
        bad "$name" "client rc=$rcc: $(last_err "$T/$n.cli.err") / server rc=$rcs: $(last_err "$T/$n.srv.err")"
    else
        ok "$name"
    fi
else
    bad "$name" "serve did not start"
fi

# ---- E: every bench case once, small ------------------------------------------
bench() { # bench NAME EXPR ARGS...: one bench run; its JSON line must satisfy EXPR
    local name="$1" expr="$2"; shift 2
    if ! "$PEER" bench "$@" > "$T/bench.out" 2> "$T/bench.err"; then
        bad "$name" "$(last_err "$T/bench.err")"
    elif [ "$(grep -c '^{' "$T/bench.out")" != 1 ] || ! jcheck "$T/bench.out" "o['impl']=='kcp-go' and 'settings' in o and ($expr)"; then
        bad "$name" "$(cut -c1-300 "$T/bench.out")"
    else
        ok "$name: $(python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); print(", ".join(f"{k}={o[k]}" for k in sys.argv[2:] if k in o))' "$T/bench.out" \
            mb_per_s rtt_us_p50 rtt_us_p99 messages_per_s rss_kib_per_session cpu_percent loss_percent)"
    fi
}
bench "bench bulk 16 MiB" 'o["case"]=="bulk" and o["bytes"]==16777216 and o["mb_per_s"]>0' --case bulk --bytes 16MiB
bench "bench bulk 16 MiB salsa20 FEC 10/3" 'o["case"]=="bulk" and o["mb_per_s"]>0 and o["settings"]["crypt"]=="salsa20"' \
    --case bulk --bytes 16MiB --crypt salsa20 --datashard 10 --parityshard 3
bench "bench echo 2000" 'o["case"]=="echo" and o["messages"]==2000 and 0<o["rtt_us_p50"]<=o["rtt_us_p99"]' --case echo --messages 2000
bench "bench many 100 sessions 2 s" 'o["case"]=="many" and o["sessions"]==100 and o["messages_per_s"]>0' --case many --sessions 100 --seconds 2
bench "bench idle 500 sessions 2 s" 'o["case"]=="idle" and o["sessions"]==500 and o["rss_kib_per_session"]>0 and o["cpu_percent"]>=0' --case idle --sessions 500 --seconds 2
bench "bench raw 64 MiB" 'o["case"]=="raw" and o["mb_per_s"]>0 and 0<=o["loss_percent"]<100' --case raw --bytes 64MiB

echo "$pass passed, $failn failed"
[ "$failn" = 0 ]

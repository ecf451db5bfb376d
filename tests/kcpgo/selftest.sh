#!/usr/bin/env bash
# Self-test of tests/kcpgo: kcp-go talking to kcp-go through kcpgo's
# in-memory PacketConns. `kcpgo emit` (a kcp-go client) is piped into
# `kcpgo absorb` (a kcp-go listener) for every cipher x FEC off / 10,3,
# including with data shards dropped (FEC must recover them: FECRecovered
# from kcp-go's SNMP counters) and corrupted (crc32 must catch it), in peer
# mode (real acks, kcp-go's default nc=0), with partial FEC groups, messages
# larger than the MSS and a small MTU. Ends with "N passed, M failed";
# exits non-zero on any failure.
#
# Usage: tests/kcpgo/selftest.sh   (builds build/kcpgo via scripts/kcpgo.sh
#        unless KCPGO points at a built binary)
set -uo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if [ -z "${KCPGO:-}" ]; then
    KCPGO="$("$ROOT/scripts/kcpgo.sh")" || { echo "selftest: scripts/kcpgo.sh failed" >&2; exit 1; }
fi
K="$KCPGO"
T="$(mktemp -d)"
trap 'rm -rf "$T"' EXIT

CRYPTS=(null none salsa20 aes aes-128 aes-192)
pass=0
failn=0
ok() { pass=$((pass + 1)); printf 'ok    %s\n' "$1"; }
bad() { failn=$((failn + 1)); printf 'FAIL  %s: %s\n' "$1" "$2"; }

# field NAME FILE: a numeric field of the last JSON line of FILE (kcpgo's
# summary/counters; a FAIL message may follow it)
field() { grep '^{' "$2" | tail -n 1 | grep -o "\"$1\":[0-9]*" | head -n 1 | cut -d: -f2; }
# seqids_to_lines FILE.jsonl SEQID...: 1-based line numbers of the datagrams with those FEC seqids
seqid_lines() {
    local f="$1"; shift
    local s
    for s in "$@"; do grep -n "\"fec_seqid\":$s," "$f" | cut -d: -f1; done
}
drop_lines() { # drop_lines IN OUT LINE...
    local in="$1" out="$2"; shift 2
    local expr="" n
    for n in "$@"; do expr="$expr NR==$n {next}"; done
    awk "$expr {print}" "$in" > "$out"
}
flip_byte() { # flip_byte IN OUT LINE BYTE_OFFSET
    awk -v L="$3" -v B="$4" 'NR==L { p=2*B+1; c=substr($0,p,1); n=(c=="0")?"1":"0"; $0=substr($0,1,p-1) n substr($0,p+1) } {print}' "$1" > "$2"
}
same_bytes() { [ "$(tr -d '\n' < "$1")" = "$(tr -d '\n' < "$2")" ]; }

seed=0
# ---- A: every cipher x FEC off / 10,3: 20 messages round-trip exactly -------
for c in "${CRYPTS[@]}"; do
    for fec in "0 0" "10 3"; do
        read -r ds ps <<<"$fec"
        name="roundtrip crypt=$c fec=$ds/$ps"
        seed=$((seed + 1))
        F=(--crypt "$c" --key "selftest $c" --datashard "$ds" --parityshard "$ps")
        "$K" gen --count 20 --seed "$seed" --max 1300 > "$T/m"
        if ! "$K" emit --conv "$((0x1000 + seed))" "${F[@]}" < "$T/m" > "$T/d" 2> "$T/e"; then bad "$name" "emit: $(tail -n 1 "$T/e")"; continue; fi
        if ! "$K" absorb "${F[@]}" --expect 20 < "$T/d" > "$T/g" 2> "$T/a"; then bad "$name" "absorb: $(tail -n 1 "$T/a")"; continue; fi
        if ! cmp -s "$T/g" "$T/m"; then bad "$name" "messages differ"; continue; fi
        want_parity=0; [ "$ds" = 0 ] || want_parity=6
        if [ "$(field InCsumErrors "$T/a")" != 0 ] || [ "$(field FECRecovered "$T/a")" != 0 ] \
           || [ "$(field FECParityShards "$T/a")" != "$want_parity" ] || [ "$(field conv "$T/a")" != "$((0x1000 + seed))" ]; then
            bad "$name" "counters: $(tail -n 1 "$T/a")"; continue
        fi
        ok "$name"
    done
done

# ---- B: FEC 10,3 with 3 data shards lost in each group (group 0 loses its first) --
for c in "${CRYPTS[@]}"; do
    name="fec-drop crypt=$c fec=10/3 lost seqids 0,4,8,14,18,22"
    seed=$((seed + 1))
    F=(--crypt "$c" --key "drop $c" --datashard 10 --parityshard 3)
    "$K" gen --count 20 --seed "$seed" --max 1300 > "$T/m"
    if ! "$K" emit --conv 77 "${F[@]}" < "$T/m" > "$T/d" 2> "$T/e"; then bad "$name" "emit: $(tail -n 1 "$T/e")"; continue; fi
    "$K" decode "${F[@]:0:4}" --no-data < "$T/d" > "$T/j"
    mapfile -t lines < <(seqid_lines "$T/j" 0 4 8 14 18 22)
    if [ "${#lines[@]}" != 6 ] || grep -q '"fec_type":"parity"' < <(for l in "${lines[@]}"; do sed -n "${l}p" "$T/j"; done); then
        bad "$name" "could not find the 6 data shards"; continue
    fi
    drop_lines "$T/d" "$T/dd" "${lines[@]}"
    if ! "$K" absorb "${F[@]}" --expect 20 < "$T/dd" > "$T/g" 2> "$T/a"; then bad "$name" "absorb: $(tail -n 1 "$T/a")"; continue; fi
    if ! cmp -s "$T/g" "$T/m"; then bad "$name" "messages differ"; continue; fi
    if [ "$(field FECRecovered "$T/a")" != 6 ] || [ "$(field FECErrs "$T/a")" != 0 ]; then bad "$name" "counters: $(tail -n 1 "$T/a")"; continue; fi
    ok "$name (FECRecovered=$(field FECRecovered "$T/a"))"
done

# ---- C: a corrupted data shard is caught by crc32 and recovered by FEC ------
for c in none salsa20 aes aes-128 aes-192; do
    name="corrupt crypt=$c fec=10/3 (one bit of seqid 3)"
    seed=$((seed + 1))
    F=(--crypt "$c" --key "corrupt $c" --datashard 10 --parityshard 3)
    "$K" gen --count 20 --seed "$seed" --max 1300 > "$T/m"
    "$K" emit --conv 78 "${F[@]}" < "$T/m" > "$T/d" 2> "$T/e" || { bad "$name" "emit: $(tail -n 1 "$T/e")"; continue; }
    "$K" decode "${F[@]:0:4}" --no-data < "$T/d" > "$T/j"
    l="$(seqid_lines "$T/j" 3)"
    flip_byte "$T/d" "$T/dc" "$l" 40
    cmp -s "$T/d" "$T/dc" && { bad "$name" "flip_byte changed nothing"; continue; }
    if ! "$K" absorb "${F[@]}" --expect 20 < "$T/dc" > "$T/g" 2> "$T/a"; then bad "$name" "absorb: $(tail -n 1 "$T/a")"; continue; fi
    if ! cmp -s "$T/g" "$T/m"; then bad "$name" "messages differ"; continue; fi
    if [ "$(field InCsumErrors "$T/a")" != 1 ] || [ "$(field FECRecovered "$T/a")" != 1 ]; then bad "$name" "counters: $(tail -n 1 "$T/a")"; continue; fi
    ok "$name"
done

# ---- D: peer mode: a kcp-go listener acks, kcp-go defaults (nc=0, wnd 32) ---
peer_case() { # peer_case NAME COUNT EMIT/ABSORB-FLAGS...
    local name="$1" count="$2"; shift 2
    seed=$((seed + 1))
    "$K" gen --count "$count" --seed "$seed" --max 1300 > "$T/m"
    if ! "$K" emit --peer "$@" < "$T/m" > "$T/d" 2> "$T/e"; then bad "$name" "emit: $(tail -n 1 "$T/e")"; return; fi
    if ! "$K" absorb "$@" --expect "$count" < "$T/d" > "$T/g" 2> "$T/a"; then bad "$name" "absorb: $(tail -n 1 "$T/a")"; return; fi
    if ! cmp -s "$T/g" "$T/m"; then bad "$name" "messages differ"; return; fi
    ok "$name ($(field datagrams "$T/e") datagrams)"
}
for c in "${CRYPTS[@]}"; do
    peer_case "peer crypt=$c fec=10/3 nc=0" 40 --crypt "$c" --datashard 10 --parityshard 3
done
peer_case "peer crypt=null fec=off nc=0" 40 --crypt null
peer_case "peer crypt=aes fec=10/3 fast3 wnd=1024, 300 messages" 300 --crypt aes --datashard 10 --parityshard 3 --mode fast3 --wnd 1024

# ---- E: a partial FEC group is completed by ack-only datagrams -------------
name="fec-flush crypt=salsa20 fec=10/3, 15 messages, lost seqid 15"
seed=$((seed + 1))
F=(--crypt salsa20 --datashard 10 --parityshard 3)
"$K" gen --count 15 --seed "$seed" --max 300 > "$T/m"
if "$K" emit --conv 79 "${F[@]}" < "$T/m" > "$T/d" 2> "$T/e"; then
    "$K" decode "${F[@]:0:2}" --no-data < "$T/d" > "$T/j"
    n="$(wc -l < "$T/d")"
    drop_lines "$T/d" "$T/dd" "$(seqid_lines "$T/j" 15)"
    if [ "$((n % 13))" != 0 ] || [ "$(field fec_flush_pokes "$T/e")" != 5 ] || [ "$(field ack_only_datagrams "$T/e")" != 5 ]; then
        bad "$name" "emit summary: $(tail -n 1 "$T/e")"
    elif ! "$K" absorb "${F[@]}" --expect 15 < "$T/dd" > "$T/g" 2> "$T/a"; then
        bad "$name" "absorb: $(tail -n 1 "$T/a")"
    elif ! cmp -s "$T/g" "$T/m" || [ "$(field FECRecovered "$T/a")" != 1 ]; then
        bad "$name" "messages or counters: $(tail -n 1 "$T/a")"
    else
        ok "$name ($n datagrams)"
    fi
else
    bad "$name" "emit: $(tail -n 1 "$T/e")"
fi

# ---- F: kcp-go cuts writes larger than the MSS into separate messages ------
split_case() { # split_case NAME EXPECTED_PIECES FLAGS...
    local name="$1" pieces="$2"; shift 2
    seed=$((seed + 1))
    "$K" gen --count 1 --seed "$seed" --min 5000 --max 5000 > "$T/m"
    if ! "$K" emit --conv 80 "$@" < "$T/m" > "$T/d" 2> "$T/e"; then bad "$name" "emit: $(tail -n 1 "$T/e")"; return; fi
    if ! "$K" absorb "$@" < "$T/d" > "$T/g" 2> "$T/a"; then bad "$name" "absorb: $(tail -n 1 "$T/a")"; return; fi
    if ! same_bytes "$T/g" "$T/m" || [ "$(wc -l < "$T/g")" != "$pieces" ]; then bad "$name" "got $(wc -l < "$T/g") pieces"; return; fi
    ok "$name"
}
split_case "split 5000 bytes crypt=null mtu 1400 (mss 1376)" 4 --crypt null
split_case "split 5000 bytes crypt=aes fec=10/3 mtu 1400 (mss 1348)" 4 --crypt aes --datashard 10 --parityshard 3
split_case "split 5000 bytes crypt=salsa20 fec=10/3 mtu 500 (mss 448)" 12 --crypt salsa20 --datashard 10 --parityshard 3 --mtu 500

# ---- G: failures are loud -------------------------------------------------
"$K" gen --count 20 --seed 1 > "$T/m"
"$K" emit --conv 81 --crypt aes --key right --datashard 10 --parityshard 3 < "$T/m" > "$T/d" 2> /dev/null
if "$K" absorb --crypt aes --key wrong --datashard 10 --parityshard 3 --expect 20 < "$T/d" > /dev/null 2> "$T/a"; then
    bad "wrong key fails" "absorb exited 0"
elif [ "$(field InCsumErrors "$T/a")" != 26 ]; then
    bad "wrong key fails" "$(tail -n 1 "$T/a")"
else
    ok "wrong key fails (InCsumErrors=26)"
fi
if "$K" emit --nc 0 < "$T/m" > /dev/null 2>&1; then bad "emit nc=0 without --peer fails" "exited 0"; else ok "emit nc=0 without --peer fails"; fi
head -n 5 "$T/d" > "$T/d5"
if "$K" absorb --crypt aes --key right --datashard 10 --parityshard 3 --expect 20 < "$T/d5" > /dev/null 2>&1; then
    bad "absorb short of --expect fails" "exited 0"
else
    ok "absorb short of --expect fails"
fi

echo "$pass passed, $failn failed"
[ "$failn" = 0 ]

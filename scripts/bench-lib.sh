# Shell helpers the benchmark scripts share; source it, do not run it.

# listen_addr FILE: waits (up to 10 s) for the
# {"event":"listening","addr":..} line a server writes to FILE and prints
# the address.
listen_addr() {
    local _
    for _ in $(seq 200); do
        sed -n 's/.*"addr":"\([^"]*\)".*/\1/p' "$1" | head -n 1 | grep . && return 0
        sleep 0.05
    done
    echo "$(basename "$0"): no listening line in $1" >&2
    exit 1
}

# label_json LABEL IMPL: reads one JSON object per line on stdin and writes
# it with "label" and "impl" first (replacing an "impl" it had).
label_json() {
    sed 's/"impl": *"kcp-[a-z]*", *//' | sed "s/^{/{\"label\":\"$1\",\"impl\":\"$2\",/"
}

say() { printf '==> %s\n' "$*" >&2; }

# build_peers: builds kcp-go's side (build/kcpgo-peer, build/impair) and
# ours (target/release/sessions), and names them GO, IMPAIR and OURS.
build_peers() {
    scripts/kcpgo.sh >/dev/null
    GO=build/kcpgo-peer
    IMPAIR=build/impair
    say "building kcp-bench (release)"
    cargo build --release -q -p kcp-bench --bin sessions
    OURS=target/release/sessions
}

# start_echo_server FIFO LOG [flags]: starts our echo server
# (`sessions --case echo-server`) in the background, logging to LOG; it
# runs until stop_echo_server closes its standard input, which this shell
# holds open on descriptor 9 (give commands started meanwhile `9>&-`, or
# they hold it open too). `$!` is the server's process id afterwards.
start_echo_server() {
    local fifo="$1" log="$2"
    shift 2
    mkfifo "$fifo" 2>/dev/null || true
    "$OURS" --case echo-server "$@" <"$fifo" >"$log" &
    exec 9>"$fifo"
}

# stop_echo_server: ends the server start_echo_server started.
stop_echo_server() {
    exec 9>&-
}

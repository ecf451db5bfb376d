#!/usr/bin/env bash
# The echo-latency demo, in C through libkcp: ikcp's classic loss recovery
# next to ours, on the same simulated network (5% loss each way, 30-62 ms
# one-way delay), 20 seeds each.
#
# Usage (from anywhere): scripts/demo.sh [SEEDS]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
SEEDS="${1:-20}"

cargo build -p kcp-ffi --release
mkdir -p build
"${CC:-gcc}" -std=c11 -Wall -Wextra -Werror -O2 -Iinclude examples-c/latency.c \
    target/release/libkcp.a -lpthread -ldl -lm -o build/latency

echo
echo "== ikcp classic recovery =="
build/latency "$SEEDS" classic
echo
echo "== improved recovery (the default) =="
build/latency "$SEEDS" improved

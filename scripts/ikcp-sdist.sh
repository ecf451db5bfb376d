#!/usr/bin/env bash
# Fetches the reference C implementation of KCP (ikcp) for the scripts that
# compare against it (scripts/bench-ikcp.sh, the differential test in
# scripts/test-c.sh). ikcp is not in this repository: it is taken from the
# PyPI sdist of the `kcp` package (kcp-0.1.6/kcp/ikcp.c and ikcp.h),
# downloaded once into build/ikcp/ (git-ignored), checked against a pinned
# SHA-256 every time, and extracted there.
#
# Set IKCP_SDIST=/path/to/kcp-0.1.6.tar.gz to use a local copy instead of
# downloading it (it is checked the same way).
#
# Usage (from anywhere):
#   scripts/ikcp-sdist.sh         prints the directory holding ikcp.c and
#                                 ikcp.h (absolute) on stdout
#   scripts/ikcp-sdist.sh --pin   prints "<sdist file name> <sha256>"
# Progress goes to stderr. Exits non-zero if the sdist cannot be had or does
# not match the pin.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

SDIST_NAME="kcp-0.1.6.tar.gz"
SDIST_SHA256="1e3632509119bd6a24599ee043e21ef6842675413a41720c526d14896357afc4"
IKCP_DIR="$ROOT/build/ikcp"
IKCP_SRC="$IKCP_DIR/kcp-0.1.6/kcp"

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'ikcp-sdist: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    "") ;;
    --pin) echo "$SDIST_NAME $SDIST_SHA256"; exit 0 ;;
    *) fail "usage: scripts/ikcp-sdist.sh [--pin]" ;;
esac

mkdir -p "$IKCP_DIR"
sdist="$IKCP_DIR/$SDIST_NAME"
if [ ! -f "$sdist" ]; then
    if [ -n "${IKCP_SDIST:-}" ]; then
        say "copying ikcp sdist from $IKCP_SDIST"
        cp "$IKCP_SDIST" "$sdist.part" || fail "cannot copy $IKCP_SDIST"
    else
        command -v python3 >/dev/null || fail "python3 is needed to download the sdist"
        say "downloading the kcp==0.1.6 sdist from PyPI (ikcp.c, ikcp.h; about a minute)"
        tmp="$(mktemp -d "$IKCP_DIR/download.XXXXXX")"
        python3 -m pip download --quiet --no-deps --no-binary :all: kcp==0.1.6 -d "$tmp" >&2 \
            || { rm -rf "$tmp"; fail "pip download of kcp==0.1.6 failed (no PyPI access? set IKCP_SDIST=/path/to/$SDIST_NAME)"; }
        mv "$tmp/$SDIST_NAME" "$sdist.part" || { rm -rf "$tmp"; fail "pip did not produce $SDIST_NAME"; }
        rm -rf "$tmp"
    fi
    mv "$sdist.part" "$sdist"
fi
echo "$SDIST_SHA256  $sdist" | sha256sum --check --quiet - >&2 \
    || fail "$sdist does not have the pinned SHA-256; delete it to download again"
if [ ! -f "$IKCP_SRC/ikcp.c" ] || [ ! -f "$IKCP_SRC/ikcp.h" ] || [ "$sdist" -nt "$IKCP_SRC/ikcp.c" ]; then
    say "extracting ikcp.c and ikcp.h into build/ikcp/"
    tar -xzf "$sdist" -C "$IKCP_DIR" kcp-0.1.6/kcp/ikcp.c kcp-0.1.6/kcp/ikcp.h kcp-0.1.6/LICENSE
    touch "$IKCP_SRC/ikcp.c" "$IKCP_SRC/ikcp.h"
fi
echo "$IKCP_SRC"

#!/usr/bin/env bash
# Builds tests/kcpgo (the kcp-go side of the interop known-answer tests and
# benchmarks) against Debian's kcp-go into build/kcpgo and prints its path
# on stdout; everything else goes to stderr. It also builds, beside it,
# build/kcpgo-peer (tests/kcpgo-peer: kcp-go over real UDP sockets, the
# session interop tests and benchmarks) and build/impair (tests/impair: the
# UDP impairment proxy); their paths are not printed.
#
# If `go` or the kcp-go source is missing, installs the Debian packages
# golang-go and golang-github-xtaci-kcp-dev (apt-get update first; through
# sudo when not root). Any failure exits non-zero: CI must fail, not skip,
# when Go or kcp-go is unavailable.
#
# Usage: scripts/kcpgo.sh            -> /abs/path/build/kcpgo (kcpgo-peer, impair beside it)
#        KCPGO_NO_INSTALL=1 scripts/kcpgo.sh   (never call apt-get)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GOPATH_DEB=/usr/share/gocode
KCPGO_SRC="$GOPATH_DEB/src/github.com/xtaci/kcp-go"
OUT="$ROOT/build/kcpgo"
PKGS=(golang-go golang-github-xtaci-kcp-dev)

say() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'kcpgo.sh: %s\n' "$*" >&2; exit 1; }

have_go() { command -v go >/dev/null 2>&1 || [ -x /usr/lib/go/bin/go ]; }
have_src() { [ -f "$KCPGO_SRC/sess.go" ] && [ -f "$KCPGO_SRC/fec.go" ]; }

if ! have_go || ! have_src; then
    [ -z "${KCPGO_NO_INSTALL:-}" ] || fail "go or kcp-go source missing and KCPGO_NO_INSTALL is set (need: ${PKGS[*]})"
    command -v apt-get >/dev/null 2>&1 || fail "go or kcp-go source missing and there is no apt-get (need the Debian packages ${PKGS[*]})"
    SUDO=()
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || fail "not root and no sudo: cannot apt-get install ${PKGS[*]}"
        SUDO=(sudo)
    fi
    say "installing ${PKGS[*]} (apt-get)"
    "${SUDO[@]}" apt-get update >&2 || fail "apt-get update failed"
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${PKGS[@]}" >&2 \
        || fail "apt-get install ${PKGS[*]} failed"
fi

GO="$(command -v go 2>/dev/null || echo /usr/lib/go/bin/go)"
[ -x "$GO" ] || fail "no go binary after installation"
have_src || fail "kcp-go source not found at $KCPGO_SRC after installation"

VERSION="unknown"
if command -v dpkg-query >/dev/null 2>&1; then
    VERSION="$(dpkg-query -W -f='${Version}' golang-github-xtaci-kcp-dev 2>/dev/null || echo unknown)"
fi

# A writable build cache even where HOME is not (CI containers).
if [ -z "${GOCACHE:-}" ]; then
    GOCACHE="$("$GO" env GOCACHE 2>/dev/null || true)"
    if [ -z "$GOCACHE" ] || [ "$GOCACHE" = off ] || ! mkdir -p "$GOCACHE" 2>/dev/null || [ ! -w "$GOCACHE" ]; then
        GOCACHE="$ROOT/build/go-cache"
    fi
fi
export GOCACHE

mkdir -p "$ROOT/build"
say "building tests/kcpgo against kcp-go $VERSION ($("$GO" version))"
(
    cd "$ROOT/tests/kcpgo"
    GO111MODULE=off GOPATH="$GOPATH_DEB" GOFLAGS= "$GO" vet . >&2
    GO111MODULE=off GOPATH="$GOPATH_DEB" GOFLAGS= "$GO" build \
        -ldflags "-X 'main.kcpgoVersion=$VERSION'" -o "$OUT.tmp" . >&2
) || fail "go build failed"
mv -f "$OUT.tmp" "$OUT"
"$OUT" help >/dev/null || fail "the built $OUT does not run"

# The sessions-over-real-UDP side, built the same way and left beside
# build/kcpgo: build/kcpgo-peer (a kcp-go endpoint: serve/dial/bench) and
# build/impair (the UDP impairment proxy). Only build/kcpgo's path is
# printed: callers find these two next to it.
build_beside() { # build_beside SRC_DIR NAME
    local src="$1" name="$2" out="$ROOT/build/$2"
    say "building $src -> build/$name"
    (
        cd "$ROOT/$src"
        GO111MODULE=off GOPATH="$GOPATH_DEB" GOFLAGS= "$GO" vet . >&2
        GO111MODULE=off GOPATH="$GOPATH_DEB" GOFLAGS= "$GO" build \
            -ldflags "-X 'main.kcpgoVersion=$VERSION'" -o "$out.tmp" . >&2
    ) || fail "go build of $src failed"
    mv -f "$out.tmp" "$out"
    "$out" -h >/dev/null 2>&1 || fail "the built $out does not run"
}
build_beside tests/kcpgo-peer kcpgo-peer
build_beside tests/impair impair

printf '%s\n' "$OUT"

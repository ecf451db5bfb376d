#!/usr/bin/env bash
# `make install` into a scratch prefix, then a small consumer project built
# against the installed tree both ways (pkg-config; CMake find_package with
# kcp::kcp and kcp::kcp_static) and run; the header as C11 and as C++17
# with -Wall -Wextra -pedantic -Werror; the SONAME; then `make uninstall`
# leaves nothing behind. Installs cmake and pkg-config if missing.
#
# Usage (from anywhere): scripts/test-install.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "test-install: FAIL: $*" >&2; exit 1; }
passed=0
ok() { echo "ok   - $*"; passed=$((passed + 1)); }

missing=()
command -v cmake >/dev/null || missing+=(cmake)
command -v pkg-config >/dev/null || missing+=(pkg-config)
command -v g++ >/dev/null || missing+=(g++)
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

PREFIX="$ROOT/build/install-root"
rm -rf "$PREFIX" build/consumer
step "make install PREFIX=$PREFIX"
make -s install PREFIX="$PREFIX"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)"
for f in "lib/libkcp.so.$version" "lib/libkcp.so.${version%%.*}" lib/libkcp.so lib/libkcp.a \
    include/kcp.h lib/pkgconfig/kcp.pc lib/cmake/kcp/kcpConfig.cmake lib/cmake/kcp/kcpConfigVersion.cmake; do
    [ -e "$PREFIX/$f" ] || fail "$f was not installed"
done
ok "installed the libraries, the header, kcp.pc and the CMake package"
soname="$(objdump -p "$PREFIX/lib/libkcp.so.$version" | awk '/SONAME/ {print $2}')"
[ "$soname" = "libkcp.so.${version%%.*}" ] || fail "SONAME is '$soname'"
ok "SONAME $soname"

step "a consumer built with pkg-config"
export PKG_CONFIG_PATH="$PREFIX/lib/pkgconfig"
[ "$(pkg-config --modversion kcp)" = "$version" ] || fail "pkg-config --modversion"
# shellcheck disable=SC2046
gcc -std=c11 -Wall -Wextra -pedantic -Werror tests/consumer/main.c -o build/consumer-pc \
    $(pkg-config --cflags --libs kcp) -Wl,-rpath,"$PREFIX/lib"
build/consumer-pc | grep -q '^received: hello from an installed libkcp$' || fail "the pkg-config consumer"
ldd build/consumer-pc | grep -q "$PREFIX/lib/libkcp.so" || fail "the consumer did not load the installed libkcp"
ok "pkg-config: C11 -pedantic build, runs against the installed libkcp.so"

step "a consumer built with CMake find_package(kcp)"
cmake -S tests/consumer -B build/consumer -DCMAKE_PREFIX_PATH="$PREFIX" >/dev/null
cmake --build build/consumer >/dev/null
build/consumer/consumer | grep -q '^received: ' || fail "the CMake consumer (kcp::kcp)"
ok "CMake kcp::kcp"
build/consumer/consumer_static | grep -q '^received: ' || fail "the CMake consumer (kcp::kcp_static)"
ldd build/consumer/consumer_static | grep -q libkcp && fail "the static consumer loads libkcp.so"
ok "CMake kcp::kcp_static (no libkcp.so at run time)"
build/consumer/header_check >/dev/null || fail "the C++17 header check"
ok "kcp.h as C++17 with -Wall -Wextra -pedantic -Werror"
rm -rf build/consumer-too-new && mkdir -p build/consumer-too-new
sed 's/find_package(kcp 0.1 REQUIRED)/find_package(kcp 1.0 REQUIRED)/' tests/consumer/CMakeLists.txt \
    >build/consumer-too-new/CMakeLists.txt
cp tests/consumer/main.c tests/consumer/header_check.cpp build/consumer-too-new/
if cmake -S build/consumer-too-new -B build/consumer-too-new/build -DCMAKE_PREFIX_PATH="$PREFIX" \
    >/dev/null 2>&1; then
    fail "find_package(kcp 1.0) accepted $version"
fi
ok "find_package(kcp 1.0) refuses $version (another major version)"

step "make uninstall"
make -s uninstall PREFIX="$PREFIX"
left="$(find "$PREFIX" -type f -o -type l)"
[ -z "$left" ] || fail "left behind: $left"
ok "make uninstall removed every file"
printf '%s passed, 0 failed\n' "$passed"

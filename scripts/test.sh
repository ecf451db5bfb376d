#!/usr/bin/env bash
# Runs every test of the project. Works on a fresh Debian machine with the
# Rust toolchain: it installs what the tests need (gcc, valgrind, python3).
#
#   Rust:  cargo fmt --check, cargo clippy -D warnings, cargo doc -p
#          kcp-core -D warnings, unit + property + header-staleness tests
#          and doctests (cargo nextest, or cargo test without it)
#   kcp-go: scripts/kcpgo.sh installs Debian's kcp-go and builds the
#          harness the interop tests drive (they fail without it)
#   C:     scripts/test-c.sh (C API tests plain, under ASan+UBSan and
#          valgrind; the C demo must print the Rust benchmark's numbers;
#          the differential test against the real ikcp, whose source it
#          downloads from PyPI once into build/ikcp)
#   kcpcat: scripts/test-kcpcat.sh (the CLI under ASan+UBSan: against
#          itself, through 10% loss, and against kcp-go both ways)
#   install: scripts/test-install.sh (make install into a scratch prefix,
#          a consumer via pkg-config and CMake, make uninstall)
#   Python: scripts/test-python.sh (pip wheel ./python, installed into a
#          fresh virtualenv with pytest and PyPI's kcp; pytest on real
#          sockets and against kcp-go; mypy --strict on the examples)
#
# Usage (from anywhere): scripts/test.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p build
step() { printf '\n==> %s\n' "$*"; }

missing=()
for tool in gcc:gcc g++:g++ valgrind:valgrind python3:python3; do
    command -v "${tool%%:*}" >/dev/null || missing+=("${tool##*:}")
done
# Debian splits venv (ensurepip) out of python3.
python3 -c 'import ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ "${#missing[@]}" -gt 0 ]; then
    step "installing ${missing[*]}"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi
rustup component list --installed 2>/dev/null | grep -q '^clippy' || rustup component add clippy rustfmt

step "kcp-go for the interop tests (installs golang-go and golang-github-xtaci-kcp-dev if missing)"
KCPGO="$(scripts/kcpgo.sh | tail -n 1)"
export KCPGO
tests/kcpgo/selftest.sh 2>&1 | tee build/kcpgo-selftest.log
kcpgo_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' build/kcpgo-selftest.log | tail -n 1)
# kcp-go over real UDP and through the impairment proxy, against itself:
# the session interop tests (kcp-core/tests/kcpgo_sessions.rs) rely on both.
tests/kcpgo-peer/selftest.sh 2>&1 | tee build/kcpgo-peer-selftest.log
peer_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' build/kcpgo-peer-selftest.log | tail -n 1)
kcpgo_passed=$((kcpgo_passed + peer_passed))

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "cargo doc -p kcp-core: the Rust API's docs build without a warning"
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps -p kcp-core

step "Rust tests (unit, property, header staleness, FFI)"
# The property tests explore the same cases on every run (set another seed
# to explore more); failures found are kept in *.proptest-regressions.
export PROPTEST_RNG_SEED="${PROPTEST_RNG_SEED:-20261121}"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace 2>&1 | tee build/rust-tests.log
    rust_passed=$(sed -n 's/.* tests run: \([0-9]*\) passed.*/\1/p' build/rust-tests.log | tail -n 1)
    # nextest does not run doctests.
    cargo test --workspace --doc 2>&1 | tee build/doc-tests.log
    doc_passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' build/doc-tests.log | awk '{s+=$1} END {print s+0}')
    rust_passed=$((rust_passed + doc_passed))
else
    cargo test --workspace 2>&1 | tee build/rust-tests.log
    rust_passed=$(sed -n 's/^test result: ok\. \([0-9]*\) passed.*/\1/p' build/rust-tests.log | awk '{s+=$1} END {print s+0}')
fi

step "C tests"
scripts/test-c.sh 2>&1 | tee build/c-tests.log
c_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' build/c-tests.log | awk '{s+=$1} END {print s+0}')

step "kcpcat: the CLI against itself, through loss, and against kcp-go"
scripts/test-kcpcat.sh 2>&1 | tee build/kcpcat-tests.log
kcpcat_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' build/kcpcat-tests.log | tail -n 1)

step "install: make install, a consumer via pkg-config and CMake, make uninstall"
scripts/test-install.sh 2>&1 | tee build/install-tests.log
install_passed=$(sed -n 's/^\([0-9]*\) passed, 0 failed$/\1/p' build/install-tests.log | tail -n 1)

step "Python tests"
scripts/test-python.sh 2>&1 | tee build/python-tests-all.log
py_passed=$(sed -n 's/^\([0-9]*\) passed in .*/\1/p' build/python-tests.log | tail -n 1)

printf '\nrust: %s passed; C: %s checks passed (plain, ASan+UBSan, valgrind); kcp-go harness self-test: %s; kcpcat: %s; install: %s; Python: %s\n' \
    "$rust_passed" "$c_passed" "$kcpgo_passed" "$kcpcat_passed" "$install_passed" "$py_passed"
printf '%s passed, 0 failed\n' "$((rust_passed + c_passed + kcpgo_passed + kcpcat_passed + install_passed + py_passed))"

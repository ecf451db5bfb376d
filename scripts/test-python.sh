#!/usr/bin/env bash
# The Python package's tests, as a user installs it:
#   1. a tools virtualenv (build/py-tools) with maturin, pytest and mypy;
#   2. `pip wheel ./python` builds the abi3 wheel into build/wheels;
#   3. a fresh virtualenv (build/py-test, made anew each run) gets the
#      wheel, pytest, and PyPI's unrelated `kcp` beside it;
#   4. `pip install ./python` (build isolation, maturin from PyPI) into
#      another fresh virtualenv imports;
#   5. pytest runs python/tests in the first (real sockets, kcp-go interop
#      through build/kcpgo-peer, which scripts/kcpgo.sh builds: missing,
#      it fails);
#   6. mypy --strict checks the package, its tests and the examples.
# A missing tool fails the run; nothing is skipped.
#
# Usage (from anywhere): scripts/test-python.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p build
step() { printf '\n==> %s\n' "$*"; }

step "cargo fmt and clippy on bindings/python (its own workspace)"
cargo fmt --manifest-path bindings/python/Cargo.toml -- --check
cargo clippy -q --manifest-path bindings/python/Cargo.toml --all-targets -- -D warnings

TOOLS=build/py-tools
if [ ! -x "$TOOLS/bin/maturin" ] || [ ! -x "$TOOLS/bin/mypy" ]; then
    step "tools virtualenv: maturin, pytest, mypy"
    rm -rf "$TOOLS"
    python3 -m venv "$TOOLS"
    "$TOOLS/bin/pip" install -q --upgrade pip
    "$TOOLS/bin/pip" install -q "maturin>=1.5,<2" "pytest>=7" "mypy>=1.8"
fi

step "pip wheel ./python"
rm -rf build/wheels
PATH="$ROOT/$TOOLS/bin:$PATH" "$TOOLS/bin/pip" wheel -q --no-build-isolation --no-deps \
    -w build/wheels ./python
wheel="$(ls build/wheels/kcp_rs-*.whl)"
echo "$wheel"
case "$wheel" in
    *abi3*) ;;
    *) echo "test-python: FAIL: $wheel is not an abi3 wheel" >&2; exit 1 ;;
esac

step "a fresh virtualenv with the wheel, pytest and PyPI's kcp beside it"
rm -rf build/py-test
python3 -m venv build/py-test
build/py-test/bin/pip install -q "$wheel" "pytest>=7" kcp
build/py-test/bin/python -c 'import kcp, kcp_rs; print("kcp_rs", kcp_rs.__version__, "beside kcp", kcp.__version__)'

step "pip install ./python into another fresh virtualenv (as the README says)"
rm -rf build/py-install
python3 -m venv build/py-install
build/py-install/bin/pip install -q ./python
(cd build && py-install/bin/python -c 'import kcp_rs; kcp_rs.Config(mode="fast3"); print("kcp_rs", kcp_rs.__version__, "installed from source")')
rm -rf build/py-install

step "pytest python/tests"
# The pytest script, not `python -m pytest`: the latter puts the working
# directory (with the source tree's kcp_rs) ahead of the installed wheel.
(cd python && ../build/py-test/bin/pytest -q -p no:cacheprovider tests) 2>&1 \
    | tee build/python-tests.log
grep -Eq '^[0-9]+ passed' build/python-tests.log

step "mypy --strict (the package, its tests and the examples, against the installed stubs)"
MYPYPATH= "$TOOLS/bin/mypy" --strict --python-executable build/py-test/bin/python \
    --cache-dir build/mypy-cache python/kcp_rs python/tests python/examples

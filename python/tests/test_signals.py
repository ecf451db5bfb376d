"""Ctrl-C reaches a blocked call within 100 ms (a real SIGINT to a
subprocess blocked in recv and in accept)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHILD = r"""
import sys, time
import kcp_rs as kcp
server = kcp.listen("127.0.0.1:0")
host, port = server.local_addr
client = kcp.dial(f"{host}:{port}")
print("blocked", flush=True)
try:
    if sys.argv[1] == "recv":
        client.recv()
    else:
        server.accept()
except KeyboardInterrupt:
    print(f"interrupted {time.monotonic()}", flush=True)
"""


@pytest.mark.parametrize("call", ["recv", "accept"])
def test_sigint_interrupts_a_blocked_call(call: str, tmp_path: Path) -> None:
    # In tmp_path, so `-c` (which puts the working directory first on
    # sys.path) imports the installed package, not the source tree.
    p = subprocess.Popen([sys.executable, "-c", CHILD, call], stdout=subprocess.PIPE, text=True,
                         cwd=tmp_path)
    assert p.stdout is not None
    assert p.stdout.readline().strip() == "blocked"
    time.sleep(0.3)  # let it get into the blocking call; the measure starts at the signal
    sent = time.monotonic()
    p.send_signal(signal.SIGINT)
    line = p.stdout.readline().split()
    assert p.wait(timeout=10) == 0
    assert line[0] == "interrupted", line
    assert float(line[1]) - sent < 0.1, f"took {float(line[1]) - sent:.3f} s"

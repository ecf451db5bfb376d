"""Interop with the real kcp-go (Debian's golang-github-xtaci-kcp-dev, built
into build/kcpgo-peer by scripts/kcpgo.sh): salsa20 with FEC 10/3 both
ways, and connect-from-listener to a kcp-go listener. A missing peer fails
the test: it never skips."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

import kcp_rs as kcp

ROOT = Path(__file__).resolve().parents[2]
PEER = Path(os.environ.get("KCPGO_PEER", ROOT / "build" / "kcpgo-peer"))
KEY = "interop key"


def go_flags() -> List[str]:
    return ["--crypt", "salsa20", "--key", KEY, "--datashard", "10", "--parityshard", "3",
            "--linger", "200ms", "--timeout", "60s"]


def config() -> kcp.Config:
    return kcp.Config(mode="fast3", sndwnd=1024, rcvwnd=1024, crypt="salsa20", key=KEY,
                      datashard=10, parityshard=3)


def spawn(*args: str) -> subprocess.Popen[str]:
    assert PEER.is_file(), f"{PEER} is missing: run scripts/kcpgo.sh"
    return subprocess.Popen([str(PEER), *args, *go_flags()], stdout=subprocess.PIPE, text=True)


def listening(p: subprocess.Popen[str]) -> str:
    assert p.stdout is not None
    line = json.loads(p.stdout.readline())
    assert line["event"] == "listening", line
    return str(line["addr"])


def finish(p: subprocess.Popen[str]) -> Dict[str, object]:
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0, out
    last: Dict[str, object] = json.loads(out.strip().splitlines()[-1])
    return last


def echo_client(s: kcp.Session, messages: int) -> None:
    for i in range(messages):
        message = bytes((b * 7 + i) % 256 for b in range(i * 37 % 1300 + 1))
        s.send(message, timeout=10)
        assert s.recv(timeout=10) == message, f"echo {i}"


def test_python_dials_a_kcpgo_listener() -> None:
    go = spawn("serve", "--listen", "127.0.0.1:0", "--app", "echo", "--messages", "200")
    with kcp.dial(listening(go), config()) as s:
        echo_client(s, 200)
        assert finish(go)["sessions"] == 1
        assert s.stats()["checksum_errors"] == 0


def test_kcpgo_dials_a_python_listener() -> None:
    with kcp.listen("127.0.0.1:0", config()) as server:
        host, port = server.local_addr
        go = spawn("dial", "--remote", f"{host}:{port}", "--app", "echo",
                   "--messages", "200", "--size", "1000")
        s = server.accept(timeout=10)
        echoed = 0
        while go.poll() is None:
            try:
                message = s.recv(timeout=0.05)
            except kcp.Timeout:
                continue
            if message:
                s.send(message, timeout=10)
                echoed += 1
        assert finish(go)["messages"] == 200
        assert echoed == 200


def test_connect_from_a_python_listener_to_a_kcpgo_listener() -> None:
    go = spawn("serve", "--listen", "127.0.0.1:0", "--app", "echo", "--messages", "100")
    with kcp.listen("127.0.0.1:0", config()) as ours:
        s = ours.connect(listening(go))
        assert s.local_addr == ours.local_addr
        echo_client(s, 100)
        assert finish(go)["sessions"] == 1

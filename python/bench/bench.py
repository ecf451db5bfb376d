"""Python benchmarks, one JSON line per case (run by scripts/bench-python.sh
beside the same cases in Rust):

- bulk: 64 MiB over one loopback session in 64 KiB messages, sender and
  reader threads in this process, defaults (what a user gets);
- echo: 64-byte messages ping-ponged between two sessions in this process
  (a server thread echoes), messages per second;
- arq: two in-memory engines wired by their output callbacks, 1300-byte
  messages, windows 1024, nodelay 1/10/2/1, kcp_rs.Arq against PyPI's kcp
  (ikcp under Cython) with the same settings, MB/s.

    python bench.py bulk|echo|arq-kcp-rs|arq-pypi-kcp
"""

from __future__ import annotations

import json
import sys
import threading
import time
from typing import Callable, List

import kcp_rs as kcp


def emit(case: str, impl: str, **figures: float) -> None:
    print(json.dumps({"case": case, "impl": impl, **figures}), flush=True)


def pair(cfg: kcp.Config) -> tuple[kcp.Listener, kcp.Session, kcp.Session]:
    server = kcp.listen("127.0.0.1:0", cfg)
    host, port = server.local_addr
    client = kcp.dial(f"{host}:{port}", cfg)
    client.send(b"hi")
    peer = server.accept(timeout=5)
    assert peer.recv(timeout=5) == b"hi"
    return server, client, peer


def bulk(total: int = 64 << 20, size: int = 65536) -> None:
    server, client, peer = pair(kcp.Config())
    chunk = bytes(range(256)) * (size // 256)
    got = 0

    def reader() -> None:
        nonlocal got
        while got < total:
            got += len(peer.recv(timeout=30))

    t = threading.Thread(target=reader)
    started = time.perf_counter()
    t.start()
    for _ in range(total // size):
        client.send(chunk, timeout=30)
    t.join()
    seconds = time.perf_counter() - started
    emit("bulk", "python", mb_per_s=round(total / seconds / 1e6, 1), message_size=size)
    server.close()


def echo(messages: int = 20000) -> None:
    server, client, peer = pair(kcp.Config())

    def serve() -> None:
        for _ in range(messages):
            peer.send(peer.recv(timeout=10))

    t = threading.Thread(target=serve)
    t.start()
    message = b"x" * 64
    started = time.perf_counter()
    for _ in range(messages):
        client.send(message)
        client.recv(timeout=10)
    seconds = time.perf_counter() - started
    t.join()
    emit("echo", "python", messages_per_s=round(messages / seconds), rtt_us_p50=round(seconds / messages * 1e6, 1))
    server.close()


def arq_run(impl: str, make: Callable[[int, Callable[[bytes], None]], object], send: Callable[[object, bytes], None],
            receive: Callable[[object, bytes, int], None], update: Callable[[object, int], None],
            take: Callable[[object], object], total: int = 256 << 20) -> None:
    a_out: List[bytes] = []
    b_out: List[bytes] = []
    a = make(1, a_out.append)
    b = make(1, b_out.append)
    message = b"m" * 1300
    now, sent, got = 0, 0, 0
    started = time.perf_counter()
    while got < total:
        while sent < total and sent - got < 1024 * 1300:
            send(a, message)
            sent += len(message)
        update(a, now)
        for d in a_out:
            receive(b, d, now)
        a_out.clear()
        while True:
            m = take(b)
            if not m:
                break
            got += len(m)  # type: ignore[arg-type]
        update(b, now)
        for d in b_out:
            receive(a, d, now)
        b_out.clear()
        now += 10
    seconds = time.perf_counter() - started
    emit("arq", impl, mb_per_s=round(total / seconds / 1e6, 1))


def arq_kcp_rs() -> None:
    def make(conv: int, out: Callable[[bytes], None]) -> object:
        e = kcp.Arq(conv, out)
        e.set_nodelay(1, 10, 2, True)
        e.set_window(1024, 1024)
        e.set_mtu(1400)
        return e

    arq_run("kcp_rs.Arq", make, lambda e, m: e.send(m),  # type: ignore[attr-defined]
            lambda e, d, now: e.input(now, d),  # type: ignore[attr-defined]
            lambda e, now: e.update(now),  # type: ignore[attr-defined]
            lambda e: e.recv())  # type: ignore[attr-defined]


def arq_pypi_kcp() -> None:
    import kcp as pypi  # type: ignore[import-untyped]

    def make(conv: int, out: Callable[[bytes], None]) -> object:
        e = pypi.KCP(conv, max_transmission=1400, no_delay=True, update_interval=10, resend_count=2,
                     no_congestion_control=True, send_window_size=1024, receive_window_size=1024)
        e.include_outbound_handler(lambda _conn, data: out(bytes(data)))
        return e

    def take(e: object) -> object:
        try:
            return e.get_received()  # type: ignore[attr-defined]
        except Exception:  # PyPI kcp raises when nothing is complete
            return None

    arq_run("PyPI kcp (ikcp)", make, lambda e, m: e.enqueue(m),  # type: ignore[attr-defined]
            lambda e, d, now: e.receive(d),  # type: ignore[attr-defined]
            lambda e, now: e.update(now),  # type: ignore[attr-defined]
            take)


if __name__ == "__main__":
    {"bulk": bulk, "echo": echo, "arq-kcp-rs": arq_kcp_rs, "arq-pypi-kcp": arq_pypi_kcp}[sys.argv[1]]()

"""Sends one file over a session, with a progress bar.

    python file_transfer.py recv OUTFILE HOST:PORT [key=value ...]
    python file_transfer.py send FILE HOST:PORT [key=value ...]

The sender sends the size (8 bytes, little-endian), then the file in 64 KiB
messages; the receiver answers with the size it wrote.
"""

from __future__ import annotations

import os
import sys
import time

import kcp_rs as kcp

CHUNK = 65536


def config(args: list[str]) -> kcp.Config:
    cfg = kcp.Config()
    for arg in args:
        key, _, value = arg.partition("=")
        cfg.set(key, value)
    return cfg


def progress(label: str, done: int, total: int, started: float) -> None:
    width = 30
    filled = width * done // max(total, 1)
    rate = done / max(time.monotonic() - started, 1e-9) / 1e6
    bar = "#" * filled + "." * (width - filled)
    print(f"\r{label} [{bar}] {100 * done // max(total, 1):3d}% {rate:7.1f} MB/s", end="", flush=True)


def receive(path: str, addr: str, cfg: kcp.Config) -> None:
    with kcp.listen(addr, cfg) as server:
        host, port = server.local_addr
        print(f"listening on {host}:{port}", flush=True)
        with server.accept() as session, open(path, "wb") as out:
            header = session.recv(timeout=30)
            total = int.from_bytes(header[:8], "little")
            got, started = 0, time.monotonic()
            rest = header[8:]
            while True:
                if rest:
                    out.write(rest)
                    got += len(rest)
                    progress("received", got, total, started)
                if got >= total:
                    break
                rest = session.recv(timeout=30)
                if not rest:
                    raise SystemExit("\nthe sender ended the stream early")
            out.flush()
            session.send(got.to_bytes(8, "little"))
            print()


def send(path: str, addr: str, cfg: kcp.Config) -> None:
    total = os.path.getsize(path)
    with kcp.dial(addr, cfg) as session, open(path, "rb") as f:
        session.send(total.to_bytes(8, "little"))
        sent, started = 0, time.monotonic()
        while chunk := f.read(CHUNK):
            session.send(chunk, timeout=30)
            sent += len(chunk)
            progress("sent", sent, total, started)
        confirmed = int.from_bytes(session.recv(timeout=60), "little")
        seconds = time.monotonic() - started
        print(f"\ndone: {confirmed} bytes confirmed in {seconds:.2f} s ({confirmed / seconds / 1e6:.1f} MB/s)")


def main() -> None:
    if len(sys.argv) < 4 or sys.argv[1] not in ("recv", "send"):
        raise SystemExit(__doc__)
    cfg = config(sys.argv[4:])
    (receive if sys.argv[1] == "recv" else send)(sys.argv[2], sys.argv[3], cfg)


if __name__ == "__main__":
    main()

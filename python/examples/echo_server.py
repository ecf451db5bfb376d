"""Echo server: every message a session sends comes back.

    python echo_server.py [HOST:PORT] [key=value ...]

One thread per session, blocking calls (they release the GIL).
"""

from __future__ import annotations

import sys
import threading

import kcp_rs as kcp


def config(args: list[str]) -> kcp.Config:
    cfg = kcp.Config()
    for arg in args:
        key, _, value = arg.partition("=")
        cfg.set(key, value)
    return cfg


def serve(session: kcp.Session) -> None:
    with session:
        for message in session:
            session.send(message)


def main() -> None:
    addr = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:4000"
    with kcp.listen(addr, config(sys.argv[2:])) as server:
        host, port = server.local_addr
        print(f"listening on {host}:{port}", flush=True)
        while True:
            session = server.accept()
            threading.Thread(target=serve, args=(session,), daemon=True).start()


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass

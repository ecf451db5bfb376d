"""Echo client: sends N messages, checks each echo, prints the round trip.

    python echo_client.py HOST:PORT [N] [key=value ...]
"""

from __future__ import annotations

import statistics
import sys
import time

import kcp_rs as kcp


def main() -> None:
    addr = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    cfg = kcp.Config()
    for arg in sys.argv[3:]:
        key, _, value = arg.partition("=")
        cfg.set(key, value)
    rtts = []
    with kcp.dial(addr, cfg) as session:
        for i in range(count):
            message = f"echo {i}".encode()
            started = time.perf_counter()
            session.send(message)
            if session.recv(timeout=5) != message:
                raise SystemExit(f"echo {i} came back altered")
            rtts.append(time.perf_counter() - started)
    p50 = statistics.median(rtts) * 1e6
    print(f"{count} echoes, p50 {p50:.0f} us, max {max(rtts) * 1e6:.0f} us")


if __name__ == "__main__":
    main()

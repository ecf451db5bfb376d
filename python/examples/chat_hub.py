"""asyncio chat hub: every message a session sends goes to every session.

    python chat_hub.py [HOST:PORT]
"""

from __future__ import annotations

import asyncio
import sys

import kcp_rs as kcp
from kcp_rs import aio


class Hub:
    def __init__(self) -> None:
        self.sessions: set[aio.Session] = set()

    async def serve(self, session: aio.Session) -> None:
        self.sessions.add(session)
        try:
            async for message in session:
                for other in list(self.sessions):
                    try:
                        await other.send(message, timeout=1)
                    except kcp.KcpError:
                        self.sessions.discard(other)
        finally:
            self.sessions.discard(session)
            await session.close()


async def main(addr: str) -> None:
    hub = Hub()
    async with await aio.listen(addr) as listener:
        host, port = listener.local_addr
        print(f"chat hub on {host}:{port}", flush=True)
        tasks = set()
        while True:
            session = await listener.accept()
            task = asyncio.ensure_future(hub.serve(session))
            tasks.add(task)
            task.add_done_callback(tasks.discard)


if __name__ == "__main__":
    try:
        asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:4001"))
    except KeyboardInterrupt:
        pass

"""The asyncio API on real sockets: an echo server with 100 concurrent
clients, timeouts, end of stream."""

from __future__ import annotations

import asyncio

import pytest

import kcp_rs as kcp
from kcp_rs import aio


async def echo_server(listener: aio.Listener, sessions: int, messages: int) -> None:
    async def serve(s: aio.Session) -> None:
        for _ in range(messages):
            await s.send(await s.recv(timeout=10))
        await s.close()

    tasks = []
    for _ in range(sessions):
        tasks.append(asyncio.ensure_future(serve(await listener.accept(timeout=10))))
    await asyncio.gather(*tasks)


def test_a_hundred_concurrent_clients() -> None:
    async def main() -> None:
        cfg = kcp.Config(mode="fast3")
        async with await aio.listen("127.0.0.1:0", cfg) as listener:
            host, port = listener.local_addr
            server = asyncio.ensure_future(echo_server(listener, 100, 20))

            async def client(i: int) -> None:
                async with await aio.dial(f"{host}:{port}", cfg) as s:
                    for j in range(20):
                        message = f"client {i} message {j}".encode()
                        await s.send(message)
                        assert await s.recv(timeout=10) == message

            await asyncio.wait_for(asyncio.gather(*(client(i) for i in range(100))), 60)
            await asyncio.wait_for(server, 30)

    asyncio.run(main())


def test_timeouts_and_end_of_stream() -> None:
    async def main() -> None:
        # The secure profile: its close reaches the peer at once (kcp-go's
        # wire has no close message; a compat peer sees the end of the
        # stream at its idle timeout).
        cfg = kcp.Config(crypt="secure", psk="cd" * 32)
        async with await aio.listen("127.0.0.1:0", cfg) as listener:
            host, port = listener.local_addr
            with pytest.raises(kcp.Timeout):
                await listener.accept(timeout=0.1)
            s = await aio.dial(f"{host}:{port}", cfg)
            await s.send(b"one")
            peer = await listener.accept(timeout=5)
            assert await peer.recv(timeout=5) == b"one"
            with pytest.raises(TimeoutError):
                await peer.recv(timeout=0.1)
            await s.close()
            assert [m async for m in peer] == []

    asyncio.run(main())


def test_secure_dial() -> None:
    async def main() -> None:
        cfg = kcp.Config(crypt="secure", psk="ab" * 32)
        async with await aio.listen("127.0.0.1:0", cfg) as listener:
            host, port = listener.local_addr
            async with await aio.dial(f"{host}:{port}", cfg) as s:
                await s.send(b"secure hello")
                peer = await listener.accept(timeout=5)
                assert await peer.recv(timeout=5) == b"secure hello"

    asyncio.run(main())


def test_timed_out_waits_leave_no_waiters_behind() -> None:
    async def main() -> None:
        async with await aio.listen("127.0.0.1:0") as listener:
            host, port = listener.local_addr
            s = await aio.dial(f"{host}:{port}")
            for _ in range(200):
                with pytest.raises(kcp.Timeout):
                    await s.recv(timeout=0)
                with pytest.raises(kcp.Timeout):
                    await listener.accept(timeout=0)
            assert s._events._waiters == {}
            assert listener._events._accept_waiters == []
            await s.close()

    asyncio.run(main())

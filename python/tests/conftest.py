"""Shared helpers: real sockets on loopback, nothing mocked."""

from __future__ import annotations

from typing import Iterator, Tuple

import pytest

import kcp_rs as kcp


def addr_of(listener: kcp.Listener) -> str:
    host, port = listener.local_addr
    return f"{host}:{port}"


@pytest.fixture
def pair() -> Iterator[Tuple[kcp.Listener, kcp.Session, kcp.Session]]:
    """A listener, a dialed client and the server's side of it."""
    cfg = kcp.Config(mode="fast3")
    with kcp.listen("127.0.0.1:0", cfg) as server:
        client = kcp.dial(addr_of(server), cfg)
        client.send(b"hello")
        peer = server.accept(timeout=5)
        assert peer.recv(timeout=5) == b"hello"
        yield server, client, peer
        client.close()
        peer.close()

"""Sessions over real UDP sockets: echo, bulk, connect from the listener,
many sessions, end of stream, addresses and stats."""

from __future__ import annotations

import hashlib
import os
import threading
from typing import List, Tuple, Union

import kcp_rs as kcp
from conftest import addr_of


def test_echo(pair: Tuple[kcp.Listener, kcp.Session, kcp.Session]) -> None:
    _, client, peer = pair
    for i in range(200):
        message = f"message {i}".encode()
        client.send(message)
        got = peer.recv(timeout=5)
        assert got == message
        peer.send(got[::-1])
        assert client.recv(timeout=5) == message[::-1]
    assert client.conv == peer.conv
    # The dialed socket is bound to the wildcard address: compare ports.
    assert peer.remote_addr == ("127.0.0.1", client.local_addr[1])
    assert client.remote_addr == peer.local_addr


def test_bulk_bytes_like_and_large_messages(
    pair: Tuple[kcp.Listener, kcp.Session, kcp.Session]
) -> None:
    _, client, peer = pair
    blob = os.urandom(4 << 20)
    chunks = [blob[i : i + 60000] for i in range(0, len(blob), 60000)]
    received: List[bytes] = []

    def reader() -> None:
        while sum(map(len, received)) < len(blob):
            received.append(peer.recv(timeout=10))

    t = threading.Thread(target=reader)
    t.start()
    for i, chunk in enumerate(chunks):
        # bytes, bytearray and memoryview are all accepted
        forms: List[Union[bytes, bytearray, memoryview]] = [chunk, bytearray(chunk), memoryview(chunk)]
        data = forms[i % 3]
        assert client.send(data, timeout=10) == len(chunk)
    t.join(30)
    assert not t.is_alive()
    assert hashlib.sha256(b"".join(received)).digest() == hashlib.sha256(blob).digest()
    assert client.stats()["bytes_sent"] == len(blob) + len(b"hello")
    assert client.stats()["rto_ms"] > 0, "the gauges come with the counters"
    assert peer.stats()["bytes_received"] >= len(blob)


def test_end_of_stream_and_iteration() -> None:
    # The secure profile's close reaches the peer at once; kcp-go's wire
    # has no close message, so a compat peer sees the end at its idle
    # timeout instead.
    cfg = kcp.Config(crypt="secure", psk="ef" * 32)
    server = kcp.listen("127.0.0.1:0", cfg)
    client = kcp.dial(addr_of(server), cfg)
    client.send(b"first")
    peer = server.accept(timeout=5)
    assert peer.recv(timeout=5) == b"first"
    for i in range(5):
        client.send(bytes([i]) * 10)
    client.close()
    assert list(peer) == [bytes([i]) * 10 for i in range(5)]
    assert peer.recv(timeout=5) == b""
    server.close()


def test_connect_from_the_listening_socket() -> None:
    cfg = kcp.Config()
    with kcp.listen("127.0.0.1:0", cfg) as a, kcp.listen("127.0.0.1:0", cfg) as b:
        s = a.connect(addr_of(b))
        s.send(b"from a's port")
        t = b.accept(timeout=5)
        assert t.recv(timeout=5) == b"from a's port"
        assert t.remote_addr == a.local_addr
        t.send(b"back")
        assert s.recv(timeout=5) == b"back"


def test_a_thousand_sessions() -> None:
    cfg = kcp.Config()
    with kcp.listen("127.0.0.1:0", cfg) as server:
        clients = [kcp.dial(addr_of(server), cfg) for _ in range(1000)]
        for i, c in enumerate(clients):
            c.send(i.to_bytes(4, "little"))
        peers = {}
        for _ in clients:
            s = server.accept(timeout=10)
            peers[int.from_bytes(s.recv(timeout=10), "little")] = s
        assert sorted(peers) == list(range(1000))
        for i, s in peers.items():
            s.send(b"ok" + i.to_bytes(4, "little"))
        for i, c in enumerate(clients):
            assert c.recv(timeout=10) == b"ok" + i.to_bytes(4, "little")
        assert server.stats()["accepted"] == 1000
        for c in clients:
            c.close()


def test_secure_profile_and_datagrams() -> None:
    psk = os.urandom(32).hex()
    cfg = kcp.Config(crypt="secure", psk=psk)
    with kcp.listen("127.0.0.1:0", cfg) as server:
        with kcp.dial(addr_of(server), cfg) as client:
            client.send(b"secret")
            peer = server.accept(timeout=5)
            assert peer.recv(timeout=5) == b"secret"
            assert client.max_datagram == 1368
            client.send_datagram(b"state 1")
            assert peer.recv_datagram(timeout=5) == b"state 1"
            assert server.stats()["handshakes"] == 1

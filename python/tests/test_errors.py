"""Bad input raises the documented exception with a message that names the
problem; nothing crashes the interpreter."""

from __future__ import annotations

import os
import time
from typing import List, Tuple

import pytest

import kcp_rs as kcp
from conftest import addr_of


def test_bad_config_names_the_key_and_range() -> None:
    with pytest.raises(ValueError, match="sndwnd.*1..=65535"):
        kcp.Config(sndwnd=0)
    with pytest.raises(ValueError, match="unknown configuration key \"bogus\""):
        kcp.Config(bogus=1)
    with pytest.raises(ValueError, match="mode.*fast3"):
        kcp.Config(mode="warp")
    with pytest.raises(TypeError, match="float"):
        kcp.Config(interval=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="psk"):
        kcp.listen("127.0.0.1:0", kcp.Config(crypt="secure"))
    cfg = kcp.Config(nodelay=True, stream=False, sndwnd="512")
    cfg.set("rcvwnd", 512)


def test_bad_addresses_and_types() -> None:
    with pytest.raises(ValueError, match="invalid address"):
        kcp.dial("no port here")
    with pytest.raises(TypeError):
        kcp.dial(1234)  # type: ignore[arg-type]
    with kcp.listen("127.0.0.1:0") as server:
        with pytest.raises(OSError):
            kcp.listen(addr_of(server))
        c = kcp.dial(addr_of(server))
        with pytest.raises(TypeError, match="bytes-like"):
            c.send("text is not bytes")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="empty"):
            c.send(b"")
        with pytest.raises(ValueError, match="timeout"):
            c.recv(timeout=-1)


def test_timeouts(pair: Tuple[kcp.Listener, kcp.Session, kcp.Session]) -> None:
    server, client, _ = pair
    started = time.monotonic()
    with pytest.raises(kcp.Timeout):
        client.recv(timeout=0.2)
    assert 0.15 < time.monotonic() - started < 2
    with pytest.raises(TimeoutError):
        server.accept(timeout=0)


def test_closed_handles(pair: Tuple[kcp.Listener, kcp.Session, kcp.Session]) -> None:
    server, client, peer = pair
    client.close()
    client.close()  # twice is harmless
    with pytest.raises(kcp.Closed):
        client.send(b"after close")
    with pytest.raises(kcp.Closed):
        client.recv(timeout=1)
    server.close()
    with pytest.raises(kcp.Closed):
        server.accept(timeout=1)


def test_oversized_messages() -> None:
    cfg = kcp.Config(max_message=1000)
    with kcp.listen("127.0.0.1:0", cfg) as server:
        c = kcp.dial(addr_of(server), cfg)
        with pytest.raises(kcp.MessageTooLarge, match="1000"):
            c.send(b"x" * 1001)
        assert c.send(b"x" * 1000) == 1000


def test_wrong_psk_is_an_auth_error() -> None:
    with kcp.listen("127.0.0.1:0", kcp.Config(crypt="secure", psk=os.urandom(32).hex())) as s:
        started = time.monotonic()
        with pytest.raises(kcp.AuthError, match="auth"):
            kcp.dial(addr_of(s), kcp.Config(crypt="secure", psk=os.urandom(32).hex()))
        assert time.monotonic() - started < 2
        assert s.stats()["accepted"] == 0


def test_arq_refuses_malformed_input() -> None:
    sent: List[bytes] = []
    a = kcp.Arq(7, sent.append)
    header = bytearray(24)
    header[0] = 8  # conv 8, not 7
    header[4] = 81  # a PUSH
    with pytest.raises(ValueError, match="conv"):
        a.input(0, bytes(header))
    assert sent == []
    with pytest.raises(TypeError):
        kcp.Arq(7, sent.append).send(12)  # type: ignore[arg-type]

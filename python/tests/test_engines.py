"""The engines on a transport of the test's own: two Arqs, and two Conns
(salsa20 with FEC 10/3) wired in memory, with loss."""

from __future__ import annotations

import random
from typing import List, Union

import pytest

import kcp_rs as kcp

Engine = Union[kcp.Arq, kcp.Conn]


def run(a: Engine, b: Engine, a_out: List[bytes], b_out: List[bytes], messages: List[bytes],
        loss: float) -> List[bytes]:
    """Sends `messages` from a to b, dropping `loss` of the datagrams each
    way, until b has them all and a has them acknowledged; returns what b
    received."""
    rng = random.Random(7)
    for m in messages:
        a.send(m)
    got: List[bytes] = []
    now = 0
    while (len(got) < len(messages) or a.wait_snd() > 0) and now < 60_000:
        a.update(now)
        b.update(now)
        for d in a_out:
            if rng.random() >= loss:
                b.input(now, d)
        for d in b_out:
            if rng.random() >= loss:
                a.input(now, d)
        a_out.clear()
        b_out.clear()
        while (message := b.recv()) is not None:
            got.append(message)
        now += 10
    return got


def messages() -> List[bytes]:
    return [bytes([i % 256]) * (1 + i * 97 % 4000) for i in range(300)]


def test_two_arqs_through_loss() -> None:
    a_out: List[bytes] = []
    b_out: List[bytes] = []
    a, b = kcp.Arq(42, a_out.append), kcp.Arq(42, b_out.append)
    for e in (a, b):
        e.set_nodelay(1, 10, 2, True)
        e.set_window(256, 256)
    assert run(a, b, a_out, b_out, messages(), loss=0.1) == messages()
    assert a.conv == 42 and a.wait_snd() == 0


def test_two_conns_with_salsa20_and_fec_through_loss() -> None:
    cfg = kcp.Config(mode="fast3", crypt="salsa20", key="k", datashard=10, parityshard=3)
    a_out: List[bytes] = []
    b_out: List[bytes] = []
    a, b = kcp.Conn(cfg, 9, a_out.append), kcp.Conn(cfg, 9, b_out.append)
    assert run(a, b, a_out, b_out, messages(), loss=0.1) == messages()
    assert b.stats()["fec_recovered"] > 0


def test_a_conn_refuses_another_key_and_keeps_going() -> None:
    sent: List[bytes] = []
    a = kcp.Conn(kcp.Config(crypt="aes", key="one"), 1, sent.append)
    b = kcp.Conn(kcp.Config(crypt="aes", key="two"), 1, lambda d: None)
    a.send(b"secret")
    a.flush(0)
    with pytest.raises(kcp.AuthError):
        b.input(0, sent[0])
    assert b.stats()["checksum_errors"] == 1
    assert b.recv() is None


def test_output_may_call_back_into_its_engine() -> None:
    seen: List[int] = []
    holder: List[kcp.Arq] = []

    def output(d: bytes) -> None:
        seen.append(holder[0].wait_snd())

    a = kcp.Arq(1, output)
    holder.append(a)
    a.send(b"x")
    a.flush(0)
    assert seen == [1]


def test_a_callback_error_propagates() -> None:
    def output(d: bytes) -> None:
        raise RuntimeError("transport down")

    a = kcp.Arq(1, output)
    a.send(b"x")
    with pytest.raises(RuntimeError, match="transport down"):
        a.flush(0)



"""kcp_rs: reliable UDP on a Rust engine.

KCP's fast ARQ with kcp-go's FEC and packet ciphers (byte for byte) and an
authenticated secure profile, as sessions over UDP: ``listen``, ``dial``,
``Listener.connect`` (from the listening socket, for P2P). Blocking calls
release the GIL and react to Ctrl-C; ``kcp_rs.aio`` has the asyncio API.
``Arq`` is the bare engine for your own transport, ``Conn`` one kcp-go
peer's whole pipeline (ARQ, FEC, cipher) on it.
"""

from __future__ import annotations

from ._native import Arq, Config, Conn, Listener, Session, __version__, dial, listen
from .errors import AuthError, Closed, KcpError, MessageTooLarge, Timeout

__all__ = [
    "Arq",
    "AuthError",
    "Closed",
    "Config",
    "Conn",
    "KcpError",
    "Listener",
    "MessageTooLarge",
    "Session",
    "Timeout",
    "__version__",
    "dial",
    "listen",
]

"""kcp_rs: reliable UDP on a Rust engine.

KCP's fast ARQ with kcp-go's FEC and packet ciphers (byte for byte) and an
authenticated secure profile, as sessions over UDP: ``listen``, ``dial``,
``Listener.connect`` (from the listening socket, for P2P). Blocking calls
release the GIL and react to Ctrl-C; ``kcp_rs.aio`` has the asyncio API.
``Arq`` is the bare engine for your own transport.
"""

from __future__ import annotations

from ._native import Arq, Config, Listener, Session, __version__, dial, listen
from .errors import AuthError, Closed, KcpError, MessageTooLarge, Timeout

__all__ = [
    "Arq",
    "AuthError",
    "Closed",
    "Config",
    "KcpError",
    "Listener",
    "MessageTooLarge",
    "Session",
    "Timeout",
    "__version__",
    "dial",
    "listen",
]

"""The exceptions kcp_rs raises. Bad arguments raise ValueError or
TypeError; socket failures OSError (with the system's errno)."""

from __future__ import annotations

__all__ = ["KcpError", "Timeout", "Closed", "AuthError", "MessageTooLarge"]


class KcpError(Exception):
    """Base class of kcp_rs's own errors."""


class Timeout(KcpError, TimeoutError):
    """A blocking call's timeout passed first (also a TimeoutError); with a
    timeout of 0, nothing could be done at once."""


class Closed(KcpError):
    """The session or listener is closed (locally, or ended by the peer
    or a timeout); recv returns b"" instead when the peer ended the
    stream."""


class AuthError(KcpError):
    """The secure profile's handshake failed: the peer has another psk."""


class MessageTooLarge(KcpError, ValueError):
    """The message exceeds what the session can send (max_message, or what
    its windows allow)."""

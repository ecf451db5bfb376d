"""asyncio API: the same listeners and sessions, with awaitables.

Built on the event descriptors: each listener (and each dialed session)
has one, which the event loop watches with ``loop.add_reader``; its events
wake the coroutines waiting on that session. No thread per call, except
``dial`` with ``crypt="secure"``, whose handshake runs in the loop's
default executor.
"""

from __future__ import annotations

import asyncio
import collections
import time
from types import TracebackType
from typing import AsyncIterator, Deque, Dict, List, Optional, Tuple, TypeVar, Union

from . import _native
from .errors import Closed, Timeout

__all__ = ["Listener", "Session", "dial", "listen"]

_Bytes = Union[bytes, bytearray, memoryview]


class _Events:
    """Watches one event descriptor and wakes the waiters it concerns."""

    def __init__(self, source: Union[_native.Listener, _native.Session]) -> None:
        self._source = source
        self._loop = asyncio.get_running_loop()
        self._fd = source.fileno()
        self._waiters: Dict[int, List["asyncio.Future[None]"]] = {}
        self._accepted: Deque[_native.Session] = collections.deque()
        self._accept_waiters: List["asyncio.Future[None]"] = []
        self._closed = False
        self._loop.add_reader(self._fd, self._on_events)

    def _on_events(self) -> None:
        try:
            events = self._source._poll_events()
        except Closed:
            self.close()
            return
        for kind, sid, detail in events:
            if kind == "accepted":
                assert isinstance(detail, _native.Session)
                self._accepted.append(detail)
                self._wake(self._accept_waiters)
            else:
                self._wake(self._waiters.pop(sid, []))

    @staticmethod
    def _wake(waiters: List["asyncio.Future[None]"]) -> None:
        for f in waiters:
            if not f.done():
                f.set_result(None)
        waiters.clear()

    async def wait(self, sid: Optional[int], deadline: Optional[float]) -> None:
        """Until an event for session `sid` (None: an accepted session),
        or Timeout at `deadline` (time.monotonic())."""
        if self._closed:
            raise Closed("closed")
        f: "asyncio.Future[None]" = self._loop.create_future()
        waiters = self._accept_waiters if sid is None else self._waiters.setdefault(sid, [])
        waiters.append(f)
        try:
            if deadline is None:
                await f
            else:
                await asyncio.wait_for(f, max(deadline - time.monotonic(), 0.0))
        except asyncio.TimeoutError:
            raise Timeout("timed out") from None
        finally:
            # A waiter that timed out or was cancelled leaves no trace
            # (an idle session polled with timeouts must not grow a list).
            if f in waiters:
                waiters.remove(f)
            if sid is not None and not waiters and self._waiters.get(sid) is waiters:
                del self._waiters[sid]

    def take_accepted(self) -> Optional[_native.Session]:
        return self._accepted.popleft() if self._accepted else None

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._loop.remove_reader(self._fd)
            for waiters in self._waiters.values():
                self._wake(waiters)
            self._waiters.clear()
            self._wake(self._accept_waiters)


def _deadline(timeout: Optional[float]) -> Optional[float]:
    if timeout is None:
        return None
    if not timeout >= 0:
        raise ValueError(f"timeout must be None or a number of seconds >= 0, got {timeout}")
    return time.monotonic() + timeout


_Closing = TypeVar("_Closing", bound="_AsyncClosing")


class _AsyncClosing:
    """`async with`: closes on the way out."""

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self: _Closing) -> _Closing:
        return self

    async def __aexit__(
        self,
        kind: Optional[type],
        value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        await self.close()


class Session(_AsyncClosing):
    """A session whose calls are awaitables."""

    def __init__(self, inner: _native.Session, events: _Events, owns_events: bool) -> None:
        self._inner = inner
        self._events = events
        self._owns_events = owns_events

    @property
    def inner(self) -> _native.Session:
        """The blocking session underneath (stats, addresses, conv)."""
        return self._inner

    @property
    def conv(self) -> int:
        return self._inner.conv

    @property
    def remote_addr(self) -> Tuple[str, int]:
        return self._inner.remote_addr

    @property
    def local_addr(self) -> Tuple[str, int]:
        return self._inner.local_addr

    def stats(self) -> Dict[str, int]:
        return self._inner.stats()

    async def send(self, data: _Bytes, timeout: Optional[float] = None) -> int:
        """Sends one message, waiting while the send window is full."""
        deadline = _deadline(timeout)
        while True:
            sent = self._inner._try_send(data)
            if sent is not None:
                return sent
            await self._events.wait(self._inner._id, deadline)

    async def recv(self, timeout: Optional[float] = None) -> bytes:
        """The next message; b"" once the peer has ended the stream."""
        deadline = _deadline(timeout)
        while True:
            message = self._inner._try_recv()
            if message is not None:
                return message
            await self._events.wait(self._inner._id, deadline)

    async def close(self) -> None:
        """Closes gracefully (delivery goes on in the background)."""
        self._inner.close()
        if self._owns_events:
            self._events.close()

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._messages()

    async def _messages(self) -> AsyncIterator[bytes]:
        while True:
            message = await self.recv()
            if not message:
                return
            yield message



class Listener(_AsyncClosing):
    """A listener whose accept is an awaitable."""

    def __init__(self, inner: _native.Listener) -> None:
        self._inner = inner
        self._events = _Events(inner)

    @property
    def inner(self) -> _native.Listener:
        return self._inner

    @property
    def local_addr(self) -> Tuple[str, int]:
        return self._inner.local_addr

    def stats(self) -> Dict[str, int]:
        return self._inner.stats()

    async def accept(self, timeout: Optional[float] = None) -> Session:
        """The next session a peer opened."""
        deadline = _deadline(timeout)
        while True:
            session = self._events.take_accepted()
            if session is not None:
                return Session(session, self._events, owns_events=False)
            if self._inner.closed:
                raise Closed("the listener is closed")
            await self._events.wait(None, deadline)

    async def connect(self, addr: str) -> Session:
        """Opens a session to `addr` from this listener's socket."""
        return Session(self._inner.connect(addr), self._events, owns_events=False)

    async def close(self) -> None:
        self._inner.close()
        self._events.close()



async def listen(addr: str, config: Optional[_native.Config] = None) -> Listener:
    """Listens on `addr` ("host:port")."""
    return Listener(_native.listen(addr, config))


async def dial(addr: str, config: Optional[_native.Config] = None) -> Session:
    """Dials `addr`; with crypt="secure", returns once the handshake is done."""
    if config is not None and config._is_secure:
        loop = asyncio.get_running_loop()
        inner = await loop.run_in_executor(None, _native.dial, addr, config)
    else:
        inner = _native.dial(addr, config)
    return Session(inner, _Events(inner), owns_events=True)

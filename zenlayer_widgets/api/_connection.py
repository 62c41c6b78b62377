"""One keep-alive HTTP/1.1 connection of the async client's transport: its bytes as they arrive, and one exchange at a time.

:class:`Protocol` is the asyncio side (incoming bytes buffered until read, back-pressure past
:data:`READ_HIGH_WATER`, whether the peer closed); :class:`Connection` writes a request in one go
and reads the answer with h11, a ``Content-Length`` body straight off the connection. Every wait
is clamped to the time left of :data:`._deadline.DEADLINE`, and failures are httpx's exceptions.
"""

from __future__ import annotations

import asyncio
import collections
import ssl
import time
from collections.abc import AsyncIterator
from typing import Any

import h11
import httpx

from . import _deadline

#: Bytes buffered from a connection before it stops reading until they are consumed.
READ_HIGH_WATER = 1024 * 1024
#: An answer's status line and headers may not be longer than this.
MAX_HEAD_BYTES = 64 * 1024

Origin = tuple[str, str, int]


def clamped(timeout: float | None, error: type[httpx.TimeoutException], request: httpx.Request) -> float | None:
    """``timeout`` cut to the time left of the exchange's deadline; ``error`` when none is left."""
    deadline = _deadline.DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left < _deadline.MIN_LEFT_SECONDS:
        raise error("the deadline for the whole exchange has passed", request=request)
    return left if timeout is None else min(timeout, left)


def expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class Protocol(asyncio.Protocol):
    """One connection's incoming bytes, buffered until read, and whether the peer has closed it."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.transport: asyncio.Transport | None = None
        self._chunks: collections.deque[bytes] = collections.deque()
        self._buffered = 0
        self._reading_paused = False
        self._waiter: asyncio.Future[None] | None = None
        self._writable: asyncio.Future[None] | None = None
        self.closed = False
        self.error: Exception | None = None

    # -- asyncio's callbacks
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > READ_HIGH_WATER and not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()
        self._wake()

    def eof_received(self) -> bool:
        self.closed = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.error = exc
        self._wake()
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)

    def pause_writing(self) -> None:
        self._writable = self._loop.create_future()

    def resume_writing(self) -> None:
        if self._writable is not None and not self._writable.done():
            self._writable.set_result(None)
        self._writable = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- what the exchange awaits
    async def _wait(self, waiter: asyncio.Future[None], timeout: float | None) -> None:
        timer = self._loop.call_later(timeout, expire, waiter) if timeout is not None else None
        try:
            await waiter
        finally:
            if timer is not None:
                timer.cancel()

    async def receive(self, timeout: float | None) -> bytes:
        """The bytes that arrived since the last call (waiting up to ``timeout`` for some); ``b""`` once closed.

        ``TimeoutError`` when nothing came in time; the connection's ``OSError`` if it was reset.
        """
        if not self._chunks and not self.closed:
            self._waiter = self._loop.create_future()
            try:
                await self._wait(self._waiter, timeout)
            finally:
                self._waiter = None
        if self._chunks:
            data = self._chunks.popleft() if len(self._chunks) == 1 else b"".join(self._chunks)
            self._chunks.clear()
            self._buffered = 0
            if self._reading_paused and self.transport is not None:
                self._reading_paused = False
                self.transport.resume_reading()
            return data
        if isinstance(self.error, OSError):
            raise self.error
        return b""

    async def drained(self, timeout: float | None) -> None:
        """Once asyncio's write buffer is below its high-water mark (``TimeoutError`` after ``timeout``)."""
        if self._writable is not None and not self._writable.done():
            await self._wait(self._writable, timeout)


class Connection:
    """A keep-alive HTTP/1.1 connection: its protocol and h11's state of the exchange on it."""

    def __init__(self, origin: Origin, protocol: Protocol) -> None:
        self.origin = origin
        self.protocol = protocol
        self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
        self.idle_since = time.monotonic()
        #: After a body read past h11 (:meth:`fixed_body`): whether it was read whole, and whether both sides keep the connection.
        self.body_done = False
        self.keep_alive = False

    def usable(self, now: float, expiry: float | None) -> bool:
        """Whether an idle connection may carry the next request (open, not idle for longer than ``expiry``)."""
        return not self.protocol.closed and (expiry is None or now - self.idle_since < expiry)

    def close(self) -> None:
        if self.protocol.transport is not None:
            self.protocol.transport.close()
        self.protocol.closed = True

    async def send(self, request: httpx.Request, timeouts: dict[str, Any]) -> None:
        """The whole request in one write (what httpcore sends as headers, then body)."""
        try:
            parts = [self.h11.send(h11.Request(method=request.method, target=request.url.raw_path, headers=request.headers.raw))]
            async for chunk in request.stream:  # type: ignore[union-attr]  # an async client's request streams asynchronously
                if chunk:
                    parts.append(self.h11.send(h11.Data(data=chunk)))
            parts.append(self.h11.send(h11.EndOfMessage()))
        except h11.LocalProtocolError as error:
            raise httpx.LocalProtocolError(str(error), request=request) from None
        transport = self.protocol.transport
        if self.protocol.closed or transport is None:
            raise httpx.WriteError("the connection was closed before the request could be sent", request=request)
        transport.write(b"".join(part for part in parts if part))
        try:
            await self.protocol.drained(clamped(timeouts.get("write"), httpx.WriteTimeout, request))
        except TimeoutError:
            raise httpx.WriteTimeout("timed out while sending the request", request=request) from None

    async def next_event(self, request: httpx.Request, timeouts: dict[str, Any]) -> Any:
        """h11's next event of the answer, reading from the connection as needed."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as error:
                raise httpx.RemoteProtocolError(str(error), request=request) from None
            if event is not h11.NEED_DATA:
                return event
            data = await self._receive(request, timeouts)
            if not data and self.h11.their_state is h11.SEND_RESPONSE:
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            self.h11.receive_data(data)

    async def _receive(self, request: httpx.Request, timeouts: dict[str, Any]) -> bytes:
        timeout = clamped(timeouts.get("read"), httpx.ReadTimeout, request)
        try:
            return await self.protocol.receive(timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out while reading the answer", request=request) from None
        except OSError as error:
            raise httpx.ReadError(f"{type(error).__name__}: {error}", request=request) from None

    async def fixed_body(self, length: int, request: httpx.Request, head: h11.Response, timeouts: dict[str, Any]) -> AsyncIterator[bytes]:
        """A ``Content-Length`` body read straight off the connection, as it arrives.

        h11 would copy every chunk into its buffer and out again (a 900 KB page took 1.2 ms of CPU
        to receive through it, 0.9-1.0 ms so); past the status line and headers it has parsed, the
        bytes it holds go out first. The
        connection is kept for the next exchange when both sides meant to keep it and nothing
        beyond the body came: then a new h11 state starts the next cycle.
        """
        pending, closed = self.h11.trailing_data
        self.keep_alive = not closed and _keeps_alive(head.http_version, head.headers) and _keeps_alive(b"1.1", request.headers.raw)
        chunks = [pending] if pending else []
        while True:
            for data in chunks:
                if len(data) > length:  # bytes beyond the answer: this connection cannot be trusted again
                    self.keep_alive, data = False, data[:length]
                length -= len(data)
                if data:
                    yield data
            if length <= 0:
                self.body_done = True
                return
            data = await self._receive(request, timeouts)
            if not data:
                raise httpx.RemoteProtocolError("the server closed the connection in the middle of the answer", request=request)
            chunks = [data]

    def reusable(self) -> bool:
        """After a complete exchange: ready for the next one, unless either side ends it."""
        if self.protocol.closed:
            return False
        if self.body_done:  # read past h11: a new state for the next exchange
            if not self.keep_alive:
                return False
            self.h11 = h11.Connection(h11.CLIENT, max_incomplete_event_size=MAX_HEAD_BYTES)
            self.body_done = False
        elif self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE:
            self.h11.start_next_cycle()
        else:
            return False
        self.idle_since = time.monotonic()
        return True


def _keeps_alive(version: bytes, headers: Any) -> bool:
    """HTTP/1.1 without ``Connection: close`` (h11's rule)."""
    if version < b"1.1":
        return False
    return not any(name.lower() == b"connection" and b"close" in value.lower() for name, value in headers)


def fixed_length(request: httpx.Request, head: h11.Response) -> int | None:
    """The length of a body that can be read straight off the connection (a single ``Content-Length``), else None."""
    if request.method == "HEAD" or head.status_code in (204, 304):
        return None
    lengths = set()
    for name, value in head.headers:
        if name == b"transfer-encoding":
            return None
        if name == b"content-length":
            lengths.add(value)
    return int(lengths.pop()) if len(lengths) == 1 else None


async def connect(origin: Origin, tls: ssl.SSLContext | None, request: httpx.Request, timeouts: dict[str, Any]) -> Connection:
    """A new connection to ``origin`` (TLS with ``tls``); ``ConnectError``/``ConnectTimeout``: nothing was sent."""
    _, host, port = origin
    loop = asyncio.get_running_loop()
    timeout = clamped(timeouts.get("connect"), httpx.ConnectTimeout, request)
    opening = loop.create_connection(lambda: Protocol(loop), host, port, ssl=tls, server_hostname=host if tls else None)
    try:
        _, protocol = await asyncio.wait_for(opening, timeout)
    except asyncio.TimeoutError:
        raise httpx.ConnectTimeout(f"could not connect to {host}:{port} in time", request=request) from None
    except OSError as error:  # ssl.SSLError included
        raise httpx.ConnectError(f"{type(error).__name__}: {error}", request=request) from None
    return Connection(origin, protocol)

"""The async client's transport: HTTP/1.1 keep-alive over asyncio and h11, each exchange held to its deadline.

httpx's own async transport runs every request through httpcore's pool and anyio's streams,
cancel scopes, locks and library detection: about 1 ms of CPU per request, so the 16 requests of
an inventory refresh took ~17 ms of CPU before the last one was even sent and again while the
answers were read. This transport does the same job with one asyncio protocol per connection and
h11 for the wire format (the parser httpcore uses): a request goes out in one write, an answer's
bytes are handed on as they arrive, and an idle connection the server closed is known at once
(``connection_lost``), not found by polling its socket.

It keeps httpx's contract: ``httpx.ConnectError``/``ConnectTimeout``/``PoolTimeout`` only when
nothing was sent, ``WriteError``/``ReadError``/``RemoteProtocolError``/``ReadTimeout`` once a byte
may have left, ``LocalProtocolError`` for a request h11 refuses to write. Every connect, write
and read is clamped to the time left of :data:`._deadline.DEADLINE`. Proxies are httpx's business
(its proxy mounts), not this transport's.
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
_DEFAULT_PORTS = {"http": 80, "https": 443}

Origin = tuple[str, str, int]


def _clamped(timeout: float | None, error: type[httpx.TimeoutException], request: httpx.Request) -> float | None:
    """``timeout`` cut to the time left of the exchange's deadline; ``error`` when none is left."""
    deadline = _deadline.DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left < _deadline.MIN_LEFT_SECONDS:
        raise error("the deadline for the whole exchange has passed", request=request)
    return left if timeout is None else min(timeout, left)


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Protocol(asyncio.Protocol):
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
        timer = self._loop.call_later(timeout, _expire, waiter) if timeout is not None else None
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


class _Connection:
    """A keep-alive HTTP/1.1 connection: its protocol and h11's state of the exchange on it."""

    def __init__(self, origin: Origin, protocol: _Protocol) -> None:
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
            await self.protocol.drained(_clamped(timeouts.get("write"), httpx.WriteTimeout, request))
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
        timeout = _clamped(timeouts.get("read"), httpx.ReadTimeout, request)
        try:
            return await self.protocol.receive(timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out while reading the answer", request=request) from None
        except OSError as error:
            raise httpx.ReadError(f"{type(error).__name__}: {error}", request=request) from None

    async def fixed_body(self, length: int, request: httpx.Request, head: h11.Response, timeouts: dict[str, Any]) -> AsyncIterator[bytes]:
        """A ``Content-Length`` body read straight off the connection, as it arrives.

        h11 would copy every chunk into its buffer and out again (a 900 KB page: ~0.7 ms of CPU);
        past the status line and headers it has parsed, the bytes it holds go out first. The
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


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; the connection goes back to the pool once it has been read to the end."""

    def __init__(self, pool: HTTP11Transport, connection: _Connection, request: httpx.Request, head: h11.Response,
                 timeouts: dict[str, Any]) -> None:
        self._pool = pool
        self._connection: _Connection | None = connection
        self._request = request
        self._head = head
        self._timeouts = timeouts

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        complete = False
        try:
            length = fixed_length(self._request, self._head)
            if length is not None:
                async for chunk in connection.fixed_body(length, self._request, self._head, self._timeouts):
                    yield chunk
                complete = True
                return
            while True:
                event = await connection.next_event(self._request, self._timeouts)
                if isinstance(event, h11.Data):
                    yield bytes(event.data)
                elif isinstance(event, h11.EndOfMessage):
                    complete = True
                    break
                else:  # ConnectionClosed in the middle of the body
                    raise httpx.RemoteProtocolError("the server closed the connection in the middle of the answer", request=self._request)
        finally:
            if self._connection is connection:  # not already given back by aclose()
                self._connection = None
                self._pool.release(connection, reuse=complete and connection.reusable())

    async def aclose(self) -> None:
        if self._connection is not None:  # not read to the end: the connection cannot carry another exchange
            connection, self._connection = self._connection, None
            self._pool.release(connection, reuse=False)


class HTTP11Transport(httpx.AsyncBaseTransport):
    """httpx's async transport contract over a pool of keep-alive HTTP/1.1 connections (``limits`` as httpx's)."""

    def __init__(self, ssl_context: ssl.SSLContext, limits: httpx.Limits) -> None:
        self.ssl_context = ssl_context
        unlimited = 2**31  # httpx's None: no limit
        self._max_connections = unlimited if limits.max_connections is None else limits.max_connections
        self._max_idle = unlimited if limits.max_keepalive_connections is None else limits.max_keepalive_connections
        self._expiry = limits.keepalive_expiry
        self._idle: dict[Origin, list[_Connection]] = {}
        self._open = 0  # connections open or being opened
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def connections(self) -> int:
        """Connections open now (busy and idle)."""
        return self._open

    @property
    def idle_connections(self) -> int:
        return sum(len(each) for each in self._idle.values())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the transport is closed")
        url = request.url
        scheme = url.scheme
        if scheme not in _DEFAULT_PORTS:
            raise httpx.UnsupportedProtocol(f"Request URL has an unsupported protocol '{scheme}://'.", request=request)
        origin = (scheme, url.host, url.port or _DEFAULT_PORTS[scheme])
        timeouts: dict[str, Any] = request.extensions.get("timeout", {})
        connection = await self._acquire(origin, request, timeouts)
        try:
            await connection.send(request, timeouts)
            while True:
                head = await connection.next_event(request, timeouts)
                if isinstance(head, h11.Response):
                    break
                if not isinstance(head, h11.InformationalResponse):
                    raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        except BaseException:
            self.release(connection, reuse=False)
            raise
        return httpx.Response(
            head.status_code,
            headers=head.headers.raw_items(),
            stream=_Body(self, connection, request, head, timeouts),
            extensions={"http_version": b"HTTP/" + head.http_version, "reason_phrase": head.reason},
        )

    # -- the pool
    async def _acquire(self, origin: Origin, request: httpx.Request, timeouts: dict[str, Any]) -> _Connection:
        """An idle connection to ``origin`` (the most recently used), else a new one once there is room."""
        while True:
            idle = self._idle.get(origin)
            now = time.monotonic()
            while idle:
                connection = idle.pop()
                if connection.usable(now, self._expiry):
                    return connection
                self._discard(connection)
            if self._open < self._max_connections:
                break
            if self._close_one_idle():
                continue
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            timer = None
            timeout = timeouts.get("pool")
            if timeout is not None:
                timer = asyncio.get_running_loop().call_later(timeout, _expire, waiter)
            try:
                await waiter
            except TimeoutError:
                raise httpx.PoolTimeout("no connection became free in time", request=request) from None
            finally:
                if timer is not None:
                    timer.cancel()
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
        self._open += 1
        try:
            return await self._connect(origin, request, timeouts)
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise

    async def _connect(self, origin: Origin, request: httpx.Request, timeouts: dict[str, Any]) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        tls = self.ssl_context if scheme == "https" else None
        timeout = _clamped(timeouts.get("connect"), httpx.ConnectTimeout, request)
        opening = loop.create_connection(lambda: _Protocol(loop), host, port, ssl=tls, server_hostname=host if tls else None)
        try:
            _, protocol = await asyncio.wait_for(opening, timeout)
        except asyncio.TimeoutError:
            raise httpx.ConnectTimeout(f"could not connect to {host}:{port} in time", request=request) from None
        except OSError as error:  # ssl.SSLError included: nothing was sent
            raise httpx.ConnectError(f"{type(error).__name__}: {error}", request=request) from None
        return _Connection(origin, protocol)

    def release(self, connection: _Connection, *, reuse: bool) -> None:
        """Back to the idle connections (``reuse``), else closed; a request waiting for room is woken."""
        if reuse and not self._closed and self.idle_connections < self._max_idle:
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            self._discard(connection)
        self._wake_one()

    def _discard(self, connection: _Connection) -> None:
        connection.close()
        self._open -= 1

    def _close_one_idle(self) -> bool:
        """Make room by closing the longest-idle connection (to any origin); False when none is idle."""
        oldest = min((each for idle in self._idle.values() for each in idle), key=lambda c: c.idle_since, default=None)
        if oldest is None:
            return False
        self._idle[oldest.origin].remove(oldest)
        self._discard(oldest)
        return True

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def aclose(self) -> None:
        self._closed = True
        for idle in self._idle.values():
            for connection in idle:
                self._discard(connection)
        self._idle.clear()

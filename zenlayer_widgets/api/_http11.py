"""The async client's transport: HTTP/1.1 keep-alive over asyncio and h11, each exchange held to its deadline.

httpx's own async transport runs every request through httpcore's pool and anyio's streams,
cancel scopes, locks and library detection: about 1 ms of CPU per request (16 concurrent small
requests: 18 ms of CPU, 7 ms through this transport). Here each connection is one asyncio protocol
and h11 speaks the wire format (:mod:`._connection`): a request goes out in one write, h11 parses
the answer's status line and headers, a ``Content-Length`` body is read straight off the
connection as it arrives, and an idle connection the server closed is known at once
(``connection_lost``), not found by polling its socket. This module is the pool around them.

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

from ._connection import READ_HIGH_WATER, Connection, Origin, connect, expire, fixed_length

__all__ = ["READ_HIGH_WATER", "HTTP11Transport"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives; the connection goes back to the pool once it has been read to the end."""

    def __init__(self, pool: HTTP11Transport, connection: Connection, request: httpx.Request, head: h11.Response,
                 timeouts: dict[str, Any]) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
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
        self._idle: dict[Origin, list[Connection]] = {}
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
    async def _acquire(self, origin: Origin, request: httpx.Request, timeouts: dict[str, Any]) -> Connection:
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
                timer = asyncio.get_running_loop().call_later(timeout, expire, waiter)
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
            return await connect(origin, self.ssl_context if origin[0] == "https" else None, request, timeouts)
        except BaseException:
            self._open -= 1
            self._wake_one()
            raise

    def release(self, connection: Connection, *, reuse: bool) -> None:
        """Back to the idle connections (``reuse``), else closed; a request waiting for room is woken."""
        if reuse and not self._closed and self.idle_connections < self._max_idle:
            self._idle.setdefault(connection.origin, []).append(connection)
        else:
            self._discard(connection)
        self._wake_one()

    def _discard(self, connection: Connection) -> None:
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

"""httpcore's async locks, events and semaphores on asyncio's own, for the async client's direct pool.

Under asyncio, httpcore 1.0 builds each ``AsyncLock``, ``AsyncEvent`` and ``AsyncSemaphore`` on anyio
and closes every answer inside an anyio cancel scope: the first request of a process imports
anyio's asyncio backend (20-30 ms of a cold load, most of it CPU), and every request goes through
anyio's checks. The async client runs on asyncio only, over asyncio's own streams
(:mod:`._streams`), so its direct pool (:class:`._pool.NativePool`) gives httpcore's objects
asyncio's primitives instead: the same httpcore objects and decisions, their ``_backend`` set up
beforehand, as httpcore does lazily. Answers are closed without a cancel scope: on asyncio's
streams, closing a connection or putting it back does not wait for anything, so no cancellation
can land in the middle, and the pool's own bookkeeping runs in ``finally`` whatever happens.
Error paths (a request that fails mid-way) keep httpcore's cancel scopes and load anyio then.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpcore
from httpcore._async.connection import AsyncHTTPConnection
from httpcore._async.connection_pool import AsyncPoolRequest, PoolByteStream
from httpcore._async.http2 import AsyncHTTP2Connection  # httpcore loads it (and h2) with itself
from httpcore._async.http11 import AsyncHTTP11Connection
from httpcore._synchronization import AsyncEvent, AsyncLock, AsyncSemaphore

#: The ``_backend`` httpcore's primitives take under asyncio (their attributes are then ``_anyio_*``).
_ASYNCIO = "asyncio"


def native_lock(lock: AsyncLock) -> None:
    """``lock`` (not yet used) made an ``asyncio.Lock``: ``acquire()`` awaited, ``release()`` plain, as anyio's."""
    if not lock._backend:
        lock._anyio_lock = asyncio.Lock()  # type: ignore[assignment]
        lock._backend = _ASYNCIO


def native_semaphore(semaphore: AsyncSemaphore) -> None:
    """``semaphore`` (not yet used) made an ``asyncio.BoundedSemaphore`` of the same bound."""
    if not semaphore._backend:
        semaphore._anyio_semaphore = asyncio.BoundedSemaphore(semaphore._bound)  # type: ignore[assignment]
        semaphore._backend = _ASYNCIO


class NativeEvent:
    """What a queued pool request waits on for its connection (httpcore's ``AsyncEvent``, on ``asyncio.Event``)."""

    __slots__ = ("_event",)

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    async def wait(self, timeout: float | None = None) -> None:
        try:
            async with asyncio.timeout(timeout):
                await self._event.wait()
        except TimeoutError:
            raise httpcore.PoolTimeout("no connection of the pool became free in time") from None


def native_request(pool_request: AsyncPoolRequest) -> None:
    """A queued request's event made a :class:`NativeEvent` (before anything waits on it or sets it)."""
    if type(pool_request._connection_acquired) is AsyncEvent:
        pool_request._connection_acquired = NativeEvent()  # type: ignore[assignment]


def _native_protocol(connection: Any) -> None:
    """The locks of the HTTP/1.1 or HTTP/2 connection a pooled connection has just opened."""
    if type(connection) is AsyncHTTP11Connection:
        native_lock(connection._state_lock)
    elif type(connection) is AsyncHTTP2Connection:
        for lock in (connection._init_lock, connection._state_lock, connection._read_lock, connection._write_lock):
            native_lock(lock)
        connection.__class__ = NativeHTTP2Connection


class NativeConnection(AsyncHTTPConnection):
    """httpcore's ``AsyncHTTPConnection``; the HTTP/1.1 or HTTP/2 connection it opens gets asyncio's locks."""

    @property  # an attribute of httpcore's, here set through a property: once the connection is open
    def _connection(self) -> Any:
        return self.__dict__.get("_connection")

    @_connection.setter
    def _connection(self, connection: Any) -> None:
        if connection is not None:
            _native_protocol(connection)
        self.__dict__["_connection"] = connection


def native_connection(connection: Any) -> Any:
    """``connection`` (a direct pool's new one, not yet used) a :class:`NativeConnection`."""
    if type(connection) is AsyncHTTPConnection:
        native_lock(connection._request_lock)
        connection.__class__ = NativeConnection
    return connection


class NativeHTTP2Connection(AsyncHTTP2Connection):
    """httpcore's HTTP/2 connection whose stream-count semaphore, made on its first request, is asyncio's."""

    @property
    def _max_streams_semaphore(self) -> Any:
        return self.__dict__["_max_streams_semaphore"]

    @_max_streams_semaphore.setter
    def _max_streams_semaphore(self, semaphore: AsyncSemaphore) -> None:
        native_semaphore(semaphore)
        self.__dict__["_max_streams_semaphore"] = semaphore


class NativePoolStream(PoolByteStream):
    """An answer's body from the pool: closed, then its connection handed on, without an anyio cancel scope."""

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            if hasattr(self._stream, "aclose"):
                await self._stream.aclose()
        finally:
            pool = self._pool
            with pool._optional_thread_lock:
                pool._requests.remove(self._pool_request)
                closing = pool._assign_requests_to_connections()
            await pool._close_connections(closing)


def native_response(response: httpcore.Response) -> httpcore.Response:
    """``response`` (the pool's) with its body a :class:`NativePoolStream`."""
    if type(response.stream) is PoolByteStream:
        response.stream.__class__ = NativePoolStream
    return response

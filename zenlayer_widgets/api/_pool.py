"""The async client's connection pool: httpx's (httpcore's), with bookkeeping that does not rescan itself quadratically.

httpcore 1.0's ``AsyncConnectionPool`` re-examines its connections whenever a request starts or
ends, with an inner list per connection (``len([... for connection in self._connections])``) and two
more lists per queued request: with the 15 connections of an inventory load that is about 15,000
``is_idle`` calls per load, and every idle socket polled each time (encode/httpcore#1035, open as
of 1.0.9). :class:`LinearPool` makes the same decisions in one pass. It relies on the pool's private state, so
it is used only with the httpcore versions it was written against (1.0.x), and only for a direct
pool (a proxy's pool keeps its own ``create_connection``, so it stays stock); others keep the stock pool.
On asyncio's streams (:mod:`._streams`), :class:`NativePool` also gives httpcore's connections, requests
and answers asyncio's locks and events instead of anyio's (:mod:`._native`).
"""

from __future__ import annotations

import time

import httpcore
import httpx

from . import _native

#: The httpcore versions whose pool internals :class:`LinearPool` knows.
COMPATIBLE = httpcore.__version__.startswith("1.0.")
#: How often, at most, every idle connection is checked for expiry (the one about to be reused always is).
SWEEP_SECONDS = 1.0


class LinearPool(httpcore.AsyncConnectionPool):
    """``AsyncConnectionPool`` whose bookkeeping is linear in its connections.

    The same decisions as httpcore 1.0.9's, but for when an idle connection's expiry is checked
    (``has_expired`` polls its socket, through anyio's attribute table): the connection about to
    be reused is always checked first, and the whole pool at most once per :data:`SWEEP_SECONDS`
    instead of every time any request starts or ends.
    """

    _next_sweep = 0.0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        closing: list[httpcore.AsyncConnectionInterface] = []
        now = time.monotonic()
        sweep = now >= self._next_sweep
        if sweep:
            self._next_sweep = now + SWEEP_SECONDS
        kept: list[httpcore.AsyncConnectionInterface] = []
        remaining = len(self._connections)
        # Closed connections go; expired ones, and idle ones beyond the keep-alive allowance, are closed.
        for connection in self._connections:
            if connection.is_closed():
                remaining -= 1
            elif (sweep and connection.has_expired()) or (connection.is_idle() and remaining > self._max_keepalive_connections):
                remaining -= 1
                closing.append(connection)
            else:
                kept.append(connection)
        self._connections[:] = kept
        # Queued requests: an available connection for the origin, else a new one, else replace an idle one.
        for pool_request in self._requests:
            if pool_request.is_queued():
                found = self._available(pool_request.request.url.origin, closing)
                if found is None:
                    if len(self._connections) >= self._max_connections:
                        idle = next((c for c in self._connections if c.is_idle()), None)
                        if idle is None:
                            continue  # stays queued until a connection frees up
                        self._connections.remove(idle)
                        closing.append(idle)
                    found = self.create_connection(pool_request.request.url.origin)
                    self._connections.append(found)
                pool_request.assign_to_connection(found)
        return closing

    def _available(
        self, origin: httpcore.Origin, closing: list[httpcore.AsyncConnectionInterface]
    ) -> httpcore.AsyncConnectionInterface | None:
        """The first connection that can take a request for ``origin`` now; expired ones found on the way are closed."""
        for connection in self._connections:
            if connection.can_handle_request(origin) and connection.is_available():
                if connection.is_idle() and connection.has_expired():
                    self._connections.remove(connection)
                    closing.append(connection)
                    return self._available(origin, closing)
                return connection
        return None


class NativePool(LinearPool):
    """:class:`LinearPool` whose connections, queued requests and answers use asyncio's primitives (:mod:`._native`)."""

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        for pool_request in self._requests:  # before anything waits on them (httpcore waits right after this)
            if pool_request.is_queued():
                _native.native_request(pool_request)
        return super()._assign_requests_to_connections()

    def create_connection(self, origin: httpcore.Origin) -> httpcore.AsyncConnectionInterface:
        return _native.native_connection(super().create_connection(origin))  # type: ignore[no-any-return]

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        return _native.native_response(await super().handle_async_request(request))

    async def _close_connections(self, closing: list[httpcore.AsyncConnectionInterface]) -> None:
        # httpcore shields this with an anyio cancel scope; closing on asyncio's streams waits for nothing
        for connection in closing:
            await connection.aclose()


def install(transport: httpx.AsyncHTTPTransport, *, native: bool = False) -> httpx.AsyncHTTPTransport:
    """``transport`` with its direct pool made a :class:`LinearPool` (same state), where that applies; a
    :class:`NativePool` when ``native`` (its network is asyncio's streams)."""
    pool = getattr(transport, "_pool", None)
    if COMPATIBLE and type(pool) is httpcore.AsyncConnectionPool:
        pool.__class__ = NativePool if native else LinearPool
    return transport

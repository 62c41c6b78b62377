"""One deadline for a whole HTTP exchange (connect, send, every byte of the answer), not per read.

httpx's ``timeout`` bounds each socket operation, so a server that trickles one byte a second
holds a request for as long as it likes. The clients set :data:`DEADLINE` (a ``time.monotonic``
instant) around each exchange; the network streams of httpx's transports (sync and async, direct
or through a proxy, HTTP/1.1 or HTTP/2) clamp every connect, TLS handshake, read and write to the
time left, and time out once it is gone. A ``ContextVar`` keeps concurrent asyncio tasks (and
threads) apart.
"""

from __future__ import annotations

import socket
import time
import typing
from collections.abc import Iterable
from contextvars import ContextVar

import httpcore
import httpx

from . import _trust
from ._pool import install
from ._streams import AVAILABLE, AsyncioBackend, AsyncioStream, socket_readable

#: The ``time.monotonic()`` instant by which the current exchange must be over (None: no deadline).
DEADLINE: ContextVar[float | None] = ContextVar("zenlayer_widgets_deadline", default=None)

#: Less time than this left counts as none (a zero socket timeout would mean "non-blocking").
MIN_LEFT_SECONDS = 0.001
_EARLY = 0.05

_Socket = Iterable[typing.Any]


def passed() -> bool:
    """Whether the current exchange's deadline has passed (a socket timeout clamped to it may fire a little early)."""
    deadline = DEADLINE.get()
    return deadline is not None and deadline - time.monotonic() < _EARLY


def _clamp(timeout: float | None, error: type[Exception]) -> float | None:
    deadline = DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left < MIN_LEFT_SECONDS:
        raise error("the deadline for the whole exchange has passed")
    return left if timeout is None else min(timeout, left)


def _extra(stream: typing.Any, sock: socket.socket | None, info: str) -> typing.Any:
    """``get_extra_info``, with ``is_readable`` from the socket kept at connect: httpcore's pool asks it of every
    idle connection for every request, and anyio builds all its socket attributes (``getpeername``...) for each."""
    if info == "is_readable":
        return socket_readable(sock)
    if info == "socket" and sock is not None:
        return sock
    return stream.get_extra_info(info)


class _Stream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream
        self._socket = stream.get_extra_info("socket")

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None, timeout: float | None = None) -> _Stream:
        _trust.wait(ssl_context, _clamp(timeout, httpcore.ConnectTimeout))
        return _Stream(self._stream.start_tls(ssl_context, server_hostname, _clamp(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> typing.Any:
        return _extra(self._stream, self._socket, info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, backend: httpcore.NetworkBackend) -> None:
        self._backend = backend

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: _Socket | None = None) -> _Stream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _Stream(self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None, socket_options: _Socket | None = None) -> _Stream:
        return _Stream(self._backend.connect_unix_socket(path, _clamp(timeout, httpcore.ConnectTimeout), socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        #: asyncio's streams answer for themselves (they read eagerly: the socket alone cannot say)
        self._native = isinstance(stream, AsyncioStream)
        self._socket = None if self._native else stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._stream.read(max_bytes, _clamp(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._stream.write(buffer, _clamp(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._stream.aclose()

    async def start_tls(self, ssl_context: typing.Any, server_hostname: str | None = None,
                        timeout: float | None = None) -> _AsyncStream:
        await _trust.await_loaded(ssl_context, _clamp(timeout, httpcore.ConnectTimeout))
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> typing.Any:
        return self._stream.get_extra_info(info) if self._native else _extra(self._stream, self._socket, info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, backend: httpcore.AsyncNetworkBackend) -> None:
        self._backend = backend

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: _Socket | None = None) -> _AsyncStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: _Socket | None = None) -> _AsyncStream:
        timeout = _clamp(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._backend.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._backend.sleep(seconds)


T = typing.TypeVar("T")


def _install(transport: T, wrapper: type, inner: typing.Any = None) -> T:
    # httpx has no public hook for the network backend; its pool (direct or proxy) keeps it in
    # ``_network_backend``. Without that attribute (another httpx), the clients time out per read only.
    pool = getattr(transport, "_pool", None)
    backend = getattr(pool, "_network_backend", None)
    if pool is not None and backend is not None and not isinstance(backend, wrapper):
        pool._network_backend = wrapper(inner or backend)
    return transport


def transport(**options: typing.Any) -> httpx.HTTPTransport:
    """httpx's transport (``options`` as for ``httpx.HTTPTransport``), its connections held to :data:`DEADLINE`."""
    return _install(httpx.HTTPTransport(**options), _Backend)


def async_transport(**options: typing.Any) -> httpx.AsyncHTTPTransport:
    """httpx's async transport (``options`` as for ``httpx.AsyncHTTPTransport``), held to :data:`DEADLINE`,
    on asyncio's streams (:mod:`._streams`) and locks (:mod:`._native`), its pool's bookkeeping linear (:mod:`._pool`)."""
    inner = AsyncioBackend() if AVAILABLE else None
    return install(_install(httpx.AsyncHTTPTransport(**options), _AsyncBackend, inner), native=AVAILABLE)

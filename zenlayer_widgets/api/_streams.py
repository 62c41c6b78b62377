"""httpcore's network backend on asyncio's own streams, for the async client (which runs on asyncio).

httpcore reaches the network through anyio by default: a cancel scope, a task-group lookup and a
socket-attribute table around every read and write. The connections, the pool, HTTP/1.1 and
HTTP/2 stay httpcore's; only the bytes go through ``asyncio.open_connection`` and its
``StreamWriter.start_tls`` (Python 3.11+; before that, :data:`AVAILABLE` is False and anyio stays).
Failures are httpcore's exceptions, as anyio's backend raises them (httpx maps them: connect errors
mean nothing was sent).
"""

from __future__ import annotations

import asyncio
import select
import socket
import ssl
import sys
import typing

import httpcore

#: ``asyncio.timeout`` and ``StreamWriter.start_tls`` (3.11).
AVAILABLE = sys.version_info >= (3, 11)

_Socket = typing.Iterable[typing.Any]


def socket_readable(sock: socket.socket | None) -> bool:
    """Whether a socket has something to read now (or cannot say): what httpcore asks of an idle connection."""
    fd = sock.fileno() if sock is not None else -1
    if fd < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class AsyncioStream(httpcore.AsyncNetworkStream):
    """One connection as asyncio's reader and writer."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        try:
            async with asyncio.timeout(timeout):
                return await self._reader.read(max_bytes)
        except TimeoutError:
            raise httpcore.ReadTimeout("timed out while reading") from None
        except OSError as error:
            raise httpcore.ReadError(f"{type(error).__name__}: {error}") from error

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        try:
            async with asyncio.timeout(timeout):
                self._writer.write(buffer)
                await self._writer.drain()
        except TimeoutError:
            raise httpcore.WriteTimeout("timed out while writing") from None
        except (OSError, RuntimeError) as error:  # RuntimeError: written after the transport closed
            raise httpcore.WriteError(f"{type(error).__name__}: {error}") from error

    async def aclose(self) -> None:
        self._writer.close()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> AsyncioStream:
        try:
            async with asyncio.timeout(timeout):
                await self._writer.start_tls(ssl_context, server_hostname=server_hostname)
        except TimeoutError:
            self._writer.close()
            raise httpcore.ConnectTimeout("timed out during the TLS handshake") from None
        except (OSError, ssl.SSLError) as error:  # ssl.SSLCertVerificationError included: kept as the cause
            self._writer.close()
            raise httpcore.ConnectError(f"{type(error).__name__}: {error}") from error
        return self

    def get_extra_info(self, info: str) -> typing.Any:
        if info == "is_readable":  # asyncio reads eagerly: what arrived, or the end, is in the reader already
            reader = self._reader
            return reader.at_eof() or reader.exception() is not None or socket_readable(self._writer.get_extra_info("socket"))
        name = {"client_addr": "sockname", "server_addr": "peername"}.get(info, info)
        return self._writer.get_extra_info(name)


class AsyncioBackend(httpcore.AsyncNetworkBackend):
    """Connections opened with ``asyncio.open_connection``."""

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                          socket_options: _Socket | None = None) -> AsyncioStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_connection(
                    host, port, local_addr=(local_address, 0) if local_address else None)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"could not connect to {host}:{port} in time") from None
        except OSError as error:
            raise httpcore.ConnectError(f"{type(error).__name__}: {error}") from error
        sock = writer.get_extra_info("socket")
        for option in socket_options or ():
            sock.setsockopt(*option)
        return AsyncioStream(reader, writer)

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: _Socket | None = None) -> AsyncioStream:
        try:
            async with asyncio.timeout(timeout):
                reader, writer = await asyncio.open_unix_connection(path)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"could not connect to {path} in time") from None
        except OSError as error:
            raise httpcore.ConnectError(f"{type(error).__name__}: {error}") from error
        return AsyncioStream(reader, writer)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

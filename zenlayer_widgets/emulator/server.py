"""Run the emulator on a real loopback port: in a background thread (tests, sandbox mode) or as the CLI."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Iterable

import re

import tornado.httpserver
import tornado.httputil
import tornado.netutil

from .app import HARD_BODY_LIMIT, RECEIVED_HOST_HEADER, EmulatorContext, make_app
from .auth import DEFAULT_WINDOW_SECONDS, AuthConfig
from .backend import EmulatorBackend
from .faults import FaultRule

#: Documented demo credentials: obviously not real, accepted by the emulator by default.
DEMO_ACCESS_KEY_ID = "DEMO-EMULATOR-ACCESS-KEY-ID"
DEMO_ACCESS_KEY_PASSWORD = "demo-emulator-password-not-a-secret"
DEMO_TOKEN = "demo-emulator-token-not-a-secret"


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


_PLAIN_HOST = re.compile(r"[A-Za-z0-9._~\-]*(:[0-9]*)?|\[[0-9A-Fa-f:.]+\](:[0-9]*)?")


class _HostPreservingDelegate(tornado.httputil.HTTPMessageDelegate):
    """Keep the Host header exactly as received (the signature covers it).

    The official SDK sends ``Host: http://127.0.0.1:8800`` when its domain has a scheme; tornado
    refuses such a Host, so the received value travels in a header only this server sets
    (a client-sent one is dropped) and tornado sees a harmless placeholder.
    """

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate) -> None:
        self._inner = inner

    def headers_received(self, start_line, headers):  # noqa: ANN001, ANN201
        if RECEIVED_HOST_HEADER in headers:
            del headers[RECEIVED_HOST_HEADER]
        hosts = headers.get_list("Host")
        if len(hosts) == 1:
            headers[RECEIVED_HOST_HEADER] = hosts[0]
            if not _PLAIN_HOST.fullmatch(hosts[0]):
                headers["Host"] = "unparsed-host.invalid"
        return self._inner.headers_received(start_line, headers)

    def data_received(self, chunk):  # noqa: ANN001, ANN201
        return self._inner.data_received(chunk)

    def finish(self) -> None:
        self._inner.finish()

    def on_connection_close(self) -> None:
        self._inner.on_connection_close()


class _HTTPServer(tornado.httpserver.HTTPServer):
    def start_request(self, server_conn, request_conn):  # noqa: ANN001, ANN201
        return _HostPreservingDelegate(super().start_request(server_conn, request_conn))


class _Server:
    """A tornado HTTP server bound to one port, started and stopped inside a running event loop."""

    def __init__(self, context: EmulatorContext, host: str, port: int) -> None:
        self.sockets = tornado.netutil.bind_sockets(port, host, family=socket.AF_UNSPEC)
        self.port = self.sockets[0].getsockname()[1]
        self.http = _HTTPServer(make_app(context), idle_connection_timeout=60, max_body_size=HARD_BODY_LIMIT)
        self.http.add_sockets(self.sockets)

    async def close(self) -> None:
        self.http.stop()
        await self.http.close_all_connections()


class RunningEmulator:
    """An emulator serving on a loopback port in a daemon thread; ``stop()`` or use ``with``.

    ``url`` is the base URL (clients POST to ``url + "/api/v2/vm"``); ``host_port`` is what the
    official SDK wants as its ``domain``; ``backend`` gives tests direct, thread-safe access.
    """

    def __init__(self, backend: EmulatorBackend, auth: AuthConfig, host: str, port: int,
                 loop: asyncio.AbstractEventLoop, stop_event: asyncio.Event, thread: threading.Thread) -> None:
        self.backend = backend
        self._auth = auth
        self.host = host
        self.port = port
        self._loop = loop
        self._stop_event = stop_event
        self._thread = thread

    @property
    def url(self) -> str:
        return f"http://{_url_host(self.host)}:{self.port}"

    @property
    def host_port(self) -> str:
        return f"{_url_host(self.host)}:{self.port}"

    @property
    def access_key_id(self) -> str:
        return self._auth.access_key_id

    @property
    def access_key_password(self) -> str:
        return self._auth.access_key_password

    @property
    def token(self) -> str | None:
        return self._auth.token

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and close every connection (idempotent)."""
        if self._thread.is_alive():
            try:
                self._loop.call_soon_threadsafe(self._stop_event.set)
            except RuntimeError:  # loop already closed
                pass
            self._thread.join(timeout)

    def __enter__(self) -> "RunningEmulator":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<RunningEmulator {self.url} {state} access_key_id={self.access_key_id!r}>"


def start_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: str = "demo",
    instances: int | None = None,
    transition_seconds: float = 3.0,
    latency_ms: float = 0,
    faults: Iterable[str | FaultRule] | None = None,
    access_key_id: str = DEMO_ACCESS_KEY_ID,
    access_key_password: str = DEMO_ACCESS_KEY_PASSWORD,
    token: str | None = DEMO_TOKEN,
    timestamp_window_seconds: float = DEFAULT_WINDOW_SECONDS,
    allow_duplicate_names: bool = False,
    late_seconds: float = 2.0,
) -> RunningEmulator:
    """Start an emulator in a daemon thread with its own event loop; returns once it accepts connections.
    ``allow_duplicate_names``: custom images of a zone may share a name; ``late_seconds``: the ``late`` fault's delay."""
    backend = EmulatorBackend(seed=seed, instances=instances, transition_seconds=transition_seconds,
                              latency_ms=latency_ms, faults=list(faults or ()), allow_duplicate_names=allow_duplicate_names,
                              late_seconds=late_seconds)
    auth = AuthConfig(access_key_id, access_key_password, token, timestamp_window_seconds)
    context = EmulatorContext(backend, auth)
    ready = threading.Event()
    started: dict[str, object] = {}

    async def main() -> None:
        try:
            server = _Server(context, host, port)
        except BaseException as exc:  # report bind errors to the caller
            started["error"] = exc
            ready.set()
            return
        stop_event = asyncio.Event()
        started.update(port=server.port, loop=asyncio.get_running_loop(), stop_event=stop_event)
        ready.set()
        await stop_event.wait()
        await server.close()

    thread = threading.Thread(target=asyncio.run, args=(main(),), name=f"zenlayer-emulator-{host}:{port}", daemon=True)
    thread.start()
    ready.wait()
    if "error" in started:
        thread.join()
        raise started["error"]  # type: ignore[misc]
    return RunningEmulator(backend, auth, host, started["port"], started["loop"], started["stop_event"], thread)  # type: ignore[arg-type]


async def serve(context: EmulatorContext, host: str, port: int, on_ready=None) -> None:  # noqa: ANN001
    """Serve until cancelled (the CLI); ``on_ready(url)`` is called once connections are accepted."""
    server = _Server(context, host, port)
    try:
        if on_ready is not None:
            on_ready(f"http://{_url_host(host)}:{server.port}")
        await asyncio.Event().wait()
    finally:
        await server.close()

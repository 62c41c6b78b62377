"""Run the emulator on a real loopback port: in a background thread (tests, sandbox mode) or as the CLI."""

from __future__ import annotations

import asyncio
import errno
import logging
import re
import socket
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import tornado.httpserver
import tornado.httputil
import tornado.ioloop
import tornado.netutil

from .app import HARD_BODY_LIMIT, RECEIVED_HOST_HEADER, EmulatorContext, make_app
from .auth import DEFAULT_WINDOW_SECONDS, AuthConfig
from .backend import EmulatorBackend
from .conditions import Conditions
from .faults import FaultRule

log = logging.getLogger("zenlayer_widgets.emulator")

#: ``accept()`` errors meaning "no descriptor (or buffer) for one more connection".
OUT_OF_DESCRIPTORS = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
#: Idle keep-alive connections closed at a time when descriptors run out (oldest first).
IDLE_CLOSED_PER_SHORTAGE = 32
#: At most one "out of file descriptors" line per this many seconds.
SHORTAGE_LOG_SECONDS = 60.0
#: A connection without a request for this long is closed (tornado's idle_connection_timeout).
IDLE_CONNECTION_SECONDS = 60

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

    def __init__(self, inner: tornado.httputil.HTTPMessageDelegate, on_busy: Callable[[], None] = lambda: None) -> None:
        self._inner = inner
        self._on_busy = on_busy

    def headers_received(self, start_line, headers):  # noqa: ANN001, ANN201
        self._on_busy()
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
    """Tornado's server, plus: the Host as received, idle connections tracked, and an accept loop
    that survives running out of file descriptors (:class:`_GuardedAccept`)."""

    def start_request(self, server_conn, request_conn):  # noqa: ANN001, ANN201
        idle = self.__dict__.setdefault("_idle_since", {})
        idle[server_conn] = time.monotonic()  # waiting for its next request
        return _HostPreservingDelegate(super().start_request(server_conn, request_conn),
                                       on_busy=lambda: idle.pop(server_conn, None))

    def on_close(self, server_conn) -> None:  # noqa: ANN001
        self.__dict__.get("_idle_since", {}).pop(server_conn, None)
        super().on_close(server_conn)

    def close_idle_connections(self, at_most: int = IDLE_CLOSED_PER_SHORTAGE) -> int:
        """Close up to ``at_most`` connections waiting for a request, longest idle first; how many."""
        idle = self.__dict__.get("_idle_since", {})
        oldest = sorted(idle, key=idle.__getitem__)[:at_most]
        for server_conn in oldest:
            idle.pop(server_conn, None)
            server_conn.stream.close()  # frees the descriptor now
        return len(oldest)

    def add_sockets(self, sockets: Iterable[socket.socket]) -> None:
        for sock in sockets:
            self._sockets[sock.fileno()] = sock
            self._handlers[sock.fileno()] = _GuardedAccept(sock, self._handle_connection, self.close_idle_connections).remove


class _GuardedAccept:
    """Accept connections on ``sock`` as tornado does, but when descriptors run out (EMFILE...):
    close idle connections to make room, stop watching the socket for a growing pause (no busy
    loop: the pending connection keeps it readable), and log one line (at most one a minute), no traceback."""

    def __init__(self, sock: socket.socket, on_connection: Callable[[socket.socket, Any], None],
                 make_room: Callable[[], int], *, first_pause: float = 0.05, longest_pause: float = 2.0) -> None:
        self._sock = sock
        self._on_connection = on_connection
        self._make_room = make_room
        self._first_pause, self._longest_pause = first_pause, longest_pause
        self._pause = first_pause
        self._short_since: float | None = None
        self._logged_at = -SHORTAGE_LOG_SECONDS
        self._watching = True
        self._removed = False
        self._loop = tornado.ioloop.IOLoop.current()
        self._loop.add_handler(sock, self._ready, tornado.ioloop.IOLoop.READ)

    def _ready(self, fd: Any, events: int) -> None:
        for _ in range(128):  # as tornado: at most a backlog's worth per wake-up
            if self._removed:
                return
            try:
                connection, address = self._sock.accept()
            except BlockingIOError:
                return
            except ConnectionAbortedError:
                continue
            except OSError as error:
                if error.errno not in OUT_OF_DESCRIPTORS:
                    raise
                self._short_of_descriptors(error)
                return
            if self._short_since is not None:
                log.debug("emulator: accepting connections again after %.1f s", time.monotonic() - self._short_since)
                self._short_since, self._pause = None, self._first_pause
            self._on_connection(connection, address)

    def _short_of_descriptors(self, error: OSError) -> None:
        closed = self._make_room()
        now = time.monotonic()
        if self._short_since is None:
            self._short_since = now
        if now - self._logged_at >= SHORTAGE_LOG_SECONDS:
            self._logged_at = now
            log.warning("emulator: out of file descriptors (%s): closing idle connections and pausing accept "
                        "until there is room (raise `ulimit -n` for more clients)", error.strerror or error)
        self._loop.remove_handler(self._sock)
        self._watching = False
        self._loop.call_later(0 if closed else self._pause, self._resume)
        if not closed:
            self._pause = min(self._pause * 2, self._longest_pause)

    def _resume(self) -> None:
        if not self._removed and not self._watching:
            self._watching = True
            self._loop.add_handler(self._sock, self._ready, tornado.ioloop.IOLoop.READ)

    def remove(self) -> None:
        """Stop accepting (tornado's ``remove_handler``)."""
        self._removed = True
        if self._watching:
            self._loop.remove_handler(self._sock)
            self._watching = False


class _Server:
    """A tornado HTTP server bound to one port, started and stopped inside a running event loop."""

    def __init__(self, context: EmulatorContext, host: str, port: int) -> None:
        self.sockets = tornado.netutil.bind_sockets(port, host, family=socket.AF_UNSPEC)
        self.port = self.sockets[0].getsockname()[1]
        self.http = _HTTPServer(make_app(context), idle_connection_timeout=IDLE_CONNECTION_SECONDS, max_body_size=HARD_BODY_LIMIT)
        self.http.add_sockets(self.sockets)

    async def close(self) -> None:
        self.http.stop()
        await self.http.close_all_connections()


class RunningEmulator:
    """An emulator serving on a loopback port in a daemon thread; ``stop()`` or use ``with``.

    ``url`` is the base URL (clients POST to ``url + "/api/v2/vm"``); ``host_port`` is what the
    official SDK wants as its ``domain``; ``backend`` gives tests direct, thread-safe access to the
    state, ``conditions`` (or :meth:`set_faults`) to the injected faults and latency.
    """

    def __init__(self, context: EmulatorContext, host: str, port: int,
                 loop: asyncio.AbstractEventLoop, stop_event: asyncio.Event, thread: threading.Thread) -> None:
        self.backend = context.backend
        self.conditions = context.conditions
        self.pipeline = context.pipeline
        self._auth = context.auth
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

    def reset(self) -> None:
        """Back to the seeded fleet and the faults given at start (as ``POST /_emulator/reset``)."""
        self.pipeline.reset()

    def set_faults(self, faults: Iterable[str | FaultRule]) -> None:
        """Replace the fault rules (``["CreateImage:lost_response:1"]``); ValueError when malformed."""
        self.conditions.set_faults(faults)

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

    def __enter__(self) -> RunningEmulator:
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
    rate_limit: float | None = None,
) -> RunningEmulator:
    """Start an emulator in a daemon thread with its own event loop; returns once it accepts connections.
    ``allow_duplicate_names``: custom images of a zone may share a name; ``late_seconds``: the ``late`` fault's delay;
    ``rate_limit``: requests per second for the account (429 ``REQUEST_LIMIT_EXCEEDED`` beyond; None: no limit)."""
    backend = EmulatorBackend(seed=seed, instances=instances, transition_seconds=transition_seconds,
                              allow_duplicate_names=allow_duplicate_names, late_seconds=late_seconds)
    conditions = Conditions(list(faults or ()), latency_ms=latency_ms, seed=seed, rate_limit=rate_limit)
    auth = AuthConfig(access_key_id, access_key_password, token, timestamp_window_seconds)
    context = EmulatorContext(backend, auth, conditions)
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
    return RunningEmulator(context, host, started["port"], started["loop"], started["stop_event"], thread)  # type: ignore[arg-type]


async def serve(context: EmulatorContext, host: str, port: int, on_ready=None) -> None:  # noqa: ANN001
    """Serve until cancelled (the CLI); ``on_ready(url)`` is called once connections are accepted."""
    server = _Server(context, host, port)
    try:
        if on_ready is not None:
            on_ready(f"http://{_url_host(host)}:{server.port}")
        await asyncio.Event().wait()
    finally:
        await server.close()

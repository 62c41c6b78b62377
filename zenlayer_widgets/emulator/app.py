"""The tornado adapter over the request pipeline: a socket request in, the pipeline's reply out.

Everything the emulator decides lives in :mod:`.pipeline` (``POST /api/v2/vm``, the control API
under ``/_emulator/``, JSON 404s); this layer only reads the raw body (bodies over 1 MiB are read
and discarded up to 64 MiB so the client gets a clean 413; beyond that tornado closes the
connection with a bare 400), passes the Host exactly as received, waits the reply's latency and
sends it, or closes the socket without a byte for a ``lost_response`` fault.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import tornado.web

from ..api import errors
from .auth import AuthConfig
from .backend import EmulatorBackend
from .conditions import Conditions
from .exceptions import EmulatorError, InternalError, MethodNotAllowed
from .pipeline import API_PATH, MAX_BODY_BYTES, Pipeline, Reply, Request, failure_reply

__all__ = ["API_PATH", "MAX_BODY_BYTES", "EmulatorContext", "make_app"]

#: Set by the server (never by a client) to the Host header exactly as received.
RECEIVED_HOST_HEADER = "X-Emulator-Received-Host"
#: Bodies up to this size are read (and discarded) so the client gets a clean 413.
HARD_BODY_LIMIT = 64 * 1024 * 1024


@dataclass
class EmulatorContext:
    """The backend, the accepted credentials, the network conditions, and the pipeline over them."""

    backend: EmulatorBackend
    auth: AuthConfig
    conditions: Conditions = field(default_factory=Conditions)
    #: The shared sandbox's secret: its control endpoints answer only requests that carry it (None: any loopback client).
    control_token: str | None = field(default=None, repr=False)
    pipeline: Pipeline = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.pipeline = Pipeline(self.backend, self.auth, self.conditions, control_token=self.control_token)


@tornado.web.stream_request_body
class PipelineHandler(tornado.web.RequestHandler):
    """Every path and method: the pipeline answers (no Server header, no access log noise)."""

    def initialize(self, context: EmulatorContext) -> None:
        self.context = context

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("Content-Type", "application/json; charset=utf-8")

    def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= MAX_BODY_BYTES:
            self._chunks.append(chunk)
        else:
            self._chunks = []

    async def _answer(self, *_: Any) -> None:
        headers = {name.lower(): value for name, value in self.request.headers.get_all()}
        received_host = headers.pop(RECEIVED_HOST_HEADER.lower(), None)
        headers.pop("host", None)
        if received_host is not None:  # no Host at all (HTTP/1.0) stays missing: refused by the pipeline
            headers["host"] = received_host
        request = Request(self.request.method or "", self.request.path, headers, b"".join(self._chunks),
                          self.request.remote_ip or "", self._size)
        reply = self.context.pipeline.handle(request)
        if reply.delay_seconds:
            await asyncio.sleep(reply.delay_seconds)
        if reply.drop:
            self._drop_connection()  # applied (or refused) all the same; the answer never leaves
        else:
            self._send(reply)

    post = get = put = patch = delete = options = _answer

    def _send(self, reply: Reply) -> None:
        self.set_status(reply.status)
        for name, value in reply.headers.items():
            self.set_header(name, value)
        self.finish(reply.body)

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's own refusals (a HEAD, a malformed request) as the same JSON error bodies."""
        error: EmulatorError
        if status_code == 405:
            error = MethodNotAllowed(f"Method {self.request.method} is not allowed; use POST.")
        elif status_code < 500:  # tornado's status, kept
            error = EmulatorError(status_code, errors.INVALID_REQUEST_BODY, self._reason or "Bad request.")
        else:
            error = InternalError("The emulator failed unexpectedly.")
        self._send(failure_reply(error))

    def _drop_connection(self) -> None:
        """Close the socket without sending a single byte."""
        self._auto_finish = False
        self.request.connection.detach().close()  # type: ignore[union-attr]  # tornado's HTTP1Connection has detach()


def make_app(context: EmulatorContext) -> tornado.web.Application:
    """The tornado application: every request goes to ``context.pipeline``."""
    return tornado.web.Application(
        [(r".*", PipelineHandler, {"context": context})],
        log_function=lambda handler: None,
        compress_response=False,
    )

"""The thin HTTP layer (tornado): read the raw body, authenticate, inject faults, dispatch, render.

``POST /api/v2/vm`` is the API. Bodies over 1 MiB get 413 (read and discarded up to 64 MiB;
beyond that tornado closes the connection with a bare 400). Loopback clients also get a
moto-style control API: ``POST /_emulator/reset``, ``/_emulator/faults``, ``/_emulator/advance``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import math
import time
import uuid
from dataclasses import dataclass
from typing import Any

import tornado.web

from ..api import errors
from . import faults as fault_kinds
from .auth import AuthConfig, verify
from .backend import EmulatorBackend
from .exceptions import ApiFailure
from .responses import render_failure, render_success, resolve

API_PATH = "/api/v2/vm"
MAX_BODY_BYTES = 1024 * 1024
#: Set by the server (never by a client) to the Host header exactly as received.
RECEIVED_HOST_HEADER = "X-Emulator-Received-Host"
#: Bodies up to this size are read (and discarded) so the client gets a clean 413.
HARD_BODY_LIMIT = 64 * 1024 * 1024


@dataclass
class EmulatorContext:
    """What every handler needs: the backend and the accepted credentials."""

    backend: EmulatorBackend
    auth: AuthConfig


def new_request_id() -> str:
    """``T`` + an upper-case UUID, as in every reference example."""
    return "T" + str(uuid.uuid4()).upper()


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body`` (empty = ``{}``); 400 INVALID_REQUEST_BODY for anything else."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiFailure(400, errors.INVALID_REQUEST_BODY, "The request body is not valid UTF-8.") from None
    try:
        document = json.loads(text)
    except RecursionError:  # a nesting bomb: refused, the server goes on
        raise ApiFailure(400, errors.INVALID_REQUEST_BODY, "The request body nests too deeply.") from None
    except ValueError:
        raise ApiFailure(400, errors.INVALID_REQUEST_BODY, "The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise ApiFailure(400, errors.INVALID_REQUEST_BODY, "The request body must be a JSON object.")
    return document


class _JsonHandler(tornado.web.RequestHandler):
    """Shared: JSON error bodies for every failure, no Server header, no access log noise."""

    def initialize(self, context: EmulatorContext) -> None:
        self.context = context
        self.request_id = new_request_id()

    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self.set_header("Content-Type", "application/json; charset=utf-8")

    def send_body(self, status: int, body: bytes) -> None:
        self.set_status(status)
        self.finish(body)

    def send_failure(self, failure: ApiFailure) -> None:
        self.send_body(failure.status, render_failure(self.request_id, failure))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        if status_code == 405:
            failure = ApiFailure(405, errors.INVALID_ACTION, f"Method {self.request.method} is not allowed; use POST.")
        elif status_code < 500:
            failure = ApiFailure(status_code, errors.INVALID_REQUEST_BODY, self._reason or "Bad request.")
        else:
            failure = ApiFailure(500, errors.INTERNAL_SERVER_ERROR, "The emulator failed unexpectedly.")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(render_failure(self.request_id, failure))


@tornado.web.stream_request_body
class ApiHandler(_JsonHandler):
    """``POST /api/v2/vm``."""

    def prepare(self) -> None:
        self._chunks: list[bytes] = []
        self._size = 0

    def data_received(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._size <= MAX_BODY_BYTES:
            self._chunks.append(chunk)
        else:
            self._chunks = []

    async def post(self) -> None:
        backend = self.context.backend
        if backend.latency_ms:
            await asyncio.sleep(backend.latency_ms / 1000)
        fault = None
        try:
            if self._size > MAX_BODY_BYTES:
                raise ApiFailure(413, errors.REQUEST_TOO_LARGE, f"The request body is over {MAX_BODY_BYTES} bytes.")
            body = b"".join(self._chunks)
            headers = {name.lower(): value for name, value in self.request.headers.get_all()}
            received_host = headers.pop(RECEIVED_HOST_HEADER.lower(), None)
            headers.pop("host", None)
            if received_host is not None:  # no Host at all (HTTP/1.0) stays missing: refused by verify()
                headers["host"] = received_host
            verify(headers, body, self.context.auth, time.time())
            handler, version = resolve(headers.get("x-zc-action"), headers.get("x-zc-version"))
            fault = backend.draw_fault(headers["x-zc-action"])
            if fault == fault_kinds.THROTTLE:
                raise ApiFailure(429, errors.REQUEST_LIMIT_EXCEEDED, "Request limit exceeded (injected fault).")
            if fault == fault_kinds.ERROR:
                raise ApiFailure(500, errors.INTERNAL_SERVER_ERROR, "Internal server error (injected fault); nothing was changed.")
            if fault == fault_kinds.LATE:  # dropped now, applied late_seconds later
                parsed = parse_body(body)
                backend.apply_later(lambda: handler(backend, parsed, version))
                status, answer = 200, b""
            else:
                status, answer = 200, render_success(self.request_id, handler(backend, parse_body(body), version))
        except ApiFailure as failure:
            status, answer = failure.status, render_failure(self.request_id, failure)
        if fault in (fault_kinds.LOST_RESPONSE, fault_kinds.LATE):
            self._drop_connection()  # applied (or refused) all the same; the answer never leaves
        else:
            self.send_body(status, answer)

    def _drop_connection(self) -> None:
        """Close the socket without sending a single byte (the action has been applied)."""
        self._auto_finish = False
        self.request.connection.detach().close()


def _finite_non_negative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise ApiFailure(400, errors.INVALID_PARAMETER, f"`{name}` must be a finite number >= 0.")
    return float(value)


class ControlHandler(_JsonHandler):
    """Loopback-only test controls: ``reset``, ``faults`` (``{"faults": [...], "latencyMs": n}``), ``advance`` (``{"seconds": n}``)."""

    def post(self, command: str) -> None:
        try:
            if not ipaddress.ip_address(self.request.remote_ip or "0.0.0.0").is_loopback:
                raise ApiFailure(403, errors.INVALID_ACTION, "The control API answers loopback clients only.")
            body = parse_body(self.request.body)
            backend = self.context.backend
            if command == "reset":
                backend.reset()
            elif command == "faults":
                self._set_faults(backend, body)
            elif command == "advance":
                backend.advance(_finite_non_negative(body.get("seconds"), "seconds"))
            else:
                raise ApiFailure(404, errors.INVALID_ACTION, "Unknown control command; use reset, faults or advance.")
        except ApiFailure as failure:
            self.send_failure(failure)
            return
        faults = [f"{r.action}:{r.kind}:{r.probability:g}" for r in backend.faults]
        self.send_body(200, render_success(self.request_id, {"faults": faults, "latencyMs": backend.latency_ms}))

    @staticmethod
    def _set_faults(backend: EmulatorBackend, body: dict) -> None:
        rules = body.get("faults", [])
        latency = body.get("latencyMs")
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise ApiFailure(400, errors.INVALID_PARAMETER, "`faults` must be an array of ACTION:KIND:PROBABILITY strings.")
        if latency is not None:
            latency = _finite_non_negative(latency, "latencyMs")
        try:
            backend.set_faults(rules)
        except ValueError as exc:
            raise ApiFailure(400, errors.INVALID_PARAMETER, str(exc)) from None
        if latency is not None:
            backend.latency_ms = latency


class FallbackHandler(_JsonHandler):
    """Any other path: 404 with a JSON body."""

    def prepare(self) -> None:
        self.send_failure(ApiFailure(404, errors.INVALID_ACTION, f"No such endpoint; the vm API is POST {API_PATH}."))


def make_app(context: EmulatorContext) -> tornado.web.Application:
    """The tornado application serving the API and the control endpoints."""
    args = {"context": context}
    return tornado.web.Application(
        [
            (API_PATH, ApiHandler, args),
            (r"/_emulator/([a-z]+)", ControlHandler, args),
        ],
        default_handler_class=FallbackHandler,
        default_handler_args=args,
        log_function=lambda handler: None,
        compress_response=False,
    )

"""The emulator as a pure function: ``Pipeline.handle(Request) -> Reply``, no sockets, no sleeping.

One API request goes through separate steps, each raising a named
:class:`~.exceptions.EmulatorError` that becomes the reply::

    size -> authenticate -> resolve (action, version) -> inject fault -> parse body -> dispatch -> render

Latency and a ``lost_response`` fault are data on the :class:`Reply` (``delay_seconds``,
``drop``): the tornado server (:mod:`.app`) and the in-process httpx transport
(:mod:`.transport`) carry them out, so both behave alike. ``/_emulator/<command>`` is the
moto-style control API (reset, faults, advance), refused to anything that may be another site.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import math
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..api.vocabulary import SERVICE_PATH
from . import faults as fault_kinds
from .auth import AuthConfig, verify
from .backend import EmulatorBackend
from .conditions import Conditions
from .exceptions import (
    ControlForbidden,
    EmulatorError,
    InternalError,
    InvalidParameter,
    InvalidRequestBody,
    MethodNotAllowed,
    NotFound,
    RequestTooLarge,
    Throttled,
    UnsupportedMediaType,
)
from .ratelimit import check_rate
from .responses import Handler, render_failure, render_success, resolve

API_PATH = SERVICE_PATH
CONTROL_PREFIX = "/_emulator/"
MAX_BODY_BYTES = 1024 * 1024
JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


@dataclass(frozen=True)
class Request:
    """One HTTP request as the pipeline sees it: header names lower case, ``host`` as received.

    ``size`` is the body's length as sent (a server may have discarded an oversized body and pass
    ``body=b""``); ``remote_ip`` is the peer's address (the in-process transport is loopback).
    """

    method: str
    path: str
    headers: Mapping[str, str]
    body: bytes = b""
    remote_ip: str = "127.0.0.1"
    size: int | None = None

    @property
    def body_size(self) -> int:
        return len(self.body) if self.size is None else self.size


@dataclass(frozen=True)
class Reply:
    """The answer: status and JSON body; wait ``delay_seconds`` first; ``drop``: send nothing, close."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=lambda: dict(JSON_HEADERS))
    delay_seconds: float = 0.0
    drop: bool = False


def new_request_id() -> str:
    """``T`` + an upper-case UUID, as in every reference example."""
    return "T" + str(uuid.uuid4()).upper()


def parse_body(body: bytes) -> dict[str, Any]:
    """The JSON object in ``body`` (empty = ``{}``); :class:`InvalidRequestBody` for anything else."""
    if not body.strip():
        return {}
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidRequestBody("The request body is not valid UTF-8.") from None
    try:
        document = json.loads(text)
    except RecursionError:  # a nesting bomb: refused, the server goes on
        raise InvalidRequestBody("The request body nests too deeply.") from None
    except ValueError:
        raise InvalidRequestBody("The request body is not valid JSON.") from None
    if not isinstance(document, dict):
        raise InvalidRequestBody("The request body must be a JSON object.")
    return document


def failure_reply(error: EmulatorError, request_id: str | None = None) -> Reply:
    """The flat JSON error body for ``error``, with its status."""
    return Reply(error.status, render_failure(request_id or new_request_id(), error))


# ------------------------------------------------------------------ loopback and cross-site
def is_loopback_ip(address: str | None) -> bool:
    try:
        return ipaddress.ip_address((address or "").split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def is_loopback_host(host: str | None) -> bool:
    """A Host header naming this machine: ``localhost`` (or ``*.localhost``) or a loopback IP, any port."""
    host = (host or "").strip().lower()
    if host.startswith("["):  # [::1]:8800
        name = host[1:].split("]", 1)[0]
    else:
        name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.rstrip(".")
    return name == "localhost" or name.endswith(".localhost") or is_loopback_ip(name)


def _media_type(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


#: The header a control request of a server with a control token (the shared sandbox) carries it in.
CONTROL_TOKEN_HEADER = "x-emulator-control-token"


def check_control_request(request: Request, token: str | None = None) -> None:
    """Refuse what a web page could send: a non-loopback peer or Host (DNS rebinding) or a body
    that is not declared JSON (a form or ``text/plain`` POST needs no CORS preflight); with a
    ``token`` (the shared sandbox), anything without it: another local user reaches loopback too."""
    if token is not None and not hmac.compare_digest(request.headers.get(CONTROL_TOKEN_HEADER, "").encode(), token.encode()):
        raise ControlForbidden("The control API of this sandbox answers its own user only: send the token of its "
                               "control.token file (zw.reset_sandbox() and `python -m zenlayer_widgets.emulator reset` do).")
    if not is_loopback_ip(request.remote_ip):
        raise ControlForbidden("The control API answers loopback clients only.")
    if not is_loopback_host(request.headers.get("host")):
        raise ControlForbidden("The control API answers requests for a loopback Host only (localhost, 127.0.0.1, [::1]).")
    if _media_type(request.headers) != "application/json":
        raise UnsupportedMediaType("The control API accepts Content-Type: application/json only.")


def _finite_non_negative(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise InvalidParameter(f"`{name}` must be a finite number >= 0.")
    return float(value)


class Pipeline:
    """The emulator's request handling, transport-free: give it a :class:`Request`, get a :class:`Reply`."""

    def __init__(
        self,
        backend: EmulatorBackend,
        auth: AuthConfig,
        conditions: Conditions | None = None,
        *,
        wall_clock: Callable[[], float] = time.time,
        control_token: str | None = None,
    ) -> None:
        self.backend = backend
        #: None: the control endpoints answer any loopback client; else only requests carrying this secret.
        self.control_token = control_token
        self.auth = auth
        self.conditions = conditions if conditions is not None else Conditions()
        self._wall_clock = wall_clock

    def reset(self) -> None:
        """Back to the seeded fleet and the faults given at start (``POST /_emulator/reset``)."""
        self.backend.reset()
        self.conditions.reset()

    def handle(self, request: Request) -> Reply:
        """Route ``request``: the API, the control endpoints, or a JSON 404."""
        request_id = new_request_id()
        try:
            if request.path == API_PATH:
                if request.method != "POST":
                    raise MethodNotAllowed(f"Method {request.method} is not allowed; use POST.")
                return self.api(request, request_id)
            if request.path.startswith(CONTROL_PREFIX):
                if request.method != "POST":
                    raise MethodNotAllowed(f"Method {request.method} is not allowed; use POST.")
                return self.control(request, request.path[len(CONTROL_PREFIX):], request_id)
            raise NotFound(f"No such endpoint; the vm API is POST {API_PATH}.")
        except EmulatorError as error:
            return failure_reply(error, request_id)

    # ---------------------------------------------------------------------- the API
    def api(self, request: Request, request_id: str) -> Reply:
        """``POST /api/v2/vm``: every step in order; the latency goes on the reply, whatever it says."""
        fault = None
        try:
            self.check_size(request)
            self.authenticate(request)
            self.limit_rate()
            handler, version = resolve(request.headers.get("x-zc-action"), request.headers.get("x-zc-version"))
            fault = self.inject_fault(request.headers["x-zc-action"])
            if fault == fault_kinds.LATE:  # dropped now, applied late_seconds later; its result reaches nobody
                parsed = parse_body(request.body)
                self.backend.apply_later(lambda: handler(self.backend, parsed, version))
                reply = Reply(200, b"")
            else:
                reply = Reply(200, render_success(request_id, self.dispatch(handler, request.body, version)))
        except EmulatorError as error:
            reply = failure_reply(error, request_id)
        return Reply(reply.status, reply.body, reply.headers, self.conditions.latency_ms / 1000,
                     drop=fault in (fault_kinds.LOST_RESPONSE, fault_kinds.LATE))

    @staticmethod
    def check_size(request: Request) -> None:
        if request.body_size > MAX_BODY_BYTES:
            raise RequestTooLarge(f"The request body is over {MAX_BODY_BYTES} bytes.")

    def authenticate(self, request: Request) -> str:
        """``"hmac"`` or ``"bearer"``, else :class:`~.exceptions.AuthFailure` (over the Host as received)."""
        return verify(request.headers, request.body, self.auth, self._wall_clock())

    def limit_rate(self) -> None:
        """429 ``REQUEST_LIMIT_EXCEEDED`` when the account's rate limit has no token left (``--rate-limit``)."""
        if not self.conditions.admit(self.backend.now()):
            raise Throttled(f"Request limit exceeded: at most {self.conditions.rate_limit:g} requests per second for this account.")

    def inject_fault(self, action: str) -> str | None:
        """Raise the fault drawn for this request, or return it when it acts around dispatch (``lost_response``, ``late``)."""
        fault = self.conditions.draw(action)
        if fault == fault_kinds.THROTTLE:
            raise Throttled("Request limit exceeded (injected fault).")
        if fault == fault_kinds.ERROR:
            raise InternalError("Internal server error (injected fault); nothing was changed.")
        if fault == fault_kinds.UNAVAILABLE:  # the request succeeds; the image it makes ends UNAVAILABLE
            self.backend.fail_next_image()
            return None
        if fault == fault_kinds.BOOT_FAILURE:  # the request succeeds; the instance it launches ends CREATE_FAILED
            self.backend.fail_next_boot()
            return None
        return fault

    def dispatch(self, handler: Handler, body: bytes, version: str) -> dict[str, Any]:
        """The action's inner ``response`` fields (the backend's named errors pass through)."""
        return handler(self.backend, parse_body(body), version)

    # ------------------------------------------------------------- control endpoints
    def control(self, request: Request, command: str, request_id: str) -> Reply:
        """``reset``, ``faults`` (``{"faults": [...], "latencyMs": n, "rateLimit": n | null}``), ``advance`` (``{"seconds": n}``)."""
        check_control_request(request, self.control_token)
        body = parse_body(request.body)
        if command == "reset":
            self.reset()
        elif command == "faults":
            self._set_faults(body)
        elif command == "advance":
            self.backend.advance(_finite_non_negative(body.get("seconds"), "seconds"))
        else:
            raise NotFound("Unknown control command; use reset, faults or advance.")
        faults = [f"{r.action}:{r.kind}:{r.probability:g}" for r in self.conditions.faults]
        return Reply(200, render_success(request_id, {"faults": faults, "latencyMs": self.conditions.latency_ms,
                                                      "rateLimit": self.conditions.rate_limit}))

    def _set_faults(self, body: dict[str, Any]) -> None:
        rules = body.get("faults", [])
        latency = body.get("latencyMs")
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            raise InvalidParameter("`faults` must be an array of ACTION:KIND:PROBABILITY strings.")
        if latency is not None:
            latency = _finite_non_negative(latency, "latencyMs")
        rate = body.get("rateLimit", self.conditions.rate_limit)
        try:
            check_rate(rate)
            self.conditions.set_faults(rules)
        except ValueError as exc:
            raise InvalidParameter(str(exc).replace("rate_limit", "`rateLimit`")) from None
        if latency is not None:
            self.conditions.latency_ms = latency
        if "rateLimit" in body:
            self.conditions.rate_limit = rate

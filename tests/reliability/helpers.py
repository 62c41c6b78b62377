"""Instruments for the reliability tests: what the backend applied, what went over the wire."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.api.retry import RetryPolicy
from zenlayer_widgets.emulator import RunningEmulator
from zenlayer_widgets.emulator.backend import EmulatorBackend
from zenlayer_widgets.emulator.transport import InProcessEmulator

#: Retries that wait milliseconds, not seconds, so fault loops stay fast.
FAST_RETRIES = RetryPolicy(max_throttle_retries=12, budget_seconds=10.0, base_delay=0.002, max_delay=0.02)


async def fast_sleep(seconds: float) -> None:
    """The workflow's waits (reconcile backoff, polling), cut to at most 10 ms."""
    await asyncio.sleep(min(seconds, 0.01))


@dataclass
class CreateLog:
    """Every CreateImage the backend applied, by image name, whatever happened to its answer."""

    applied: list[tuple[str, str]] = field(default_factory=list)  # (image name, image id)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def images_for(self, name: str) -> list[str]:
        with self._lock:
            return [image_id for applied_name, image_id in self.applied if applied_name == name]


def log_creates(backend: EmulatorBackend) -> CreateLog:
    """Wrap ``backend.create_image`` to log what it applied."""
    log = CreateLog()
    original = backend.create_image

    def create_image(instance_id: str, image_name: str, image_description: str | None = None):  # noqa: ANN202
        image = original(instance_id, image_name, image_description)
        with log._lock:
            log.applied.append((image_name, image.image_id))
        return image

    backend.create_image = create_image  # type: ignore[method-assign]
    return log


def allow_duplicate_names(backend: EmulatorBackend) -> None:
    """Behave like an API that does not refuse a second image with the same name (the reference is
    silent on uniqueness): then a blind resend after a lost answer really makes a second image."""
    backend.allow_duplicate_names = True


class RecordingTransport(httpx.AsyncBaseTransport):
    """Real HTTP (or, given to :func:`async_client` with the in-process emulator, its transport), with a log of
    ``(action, status or exception name)`` per request, in order.

    ``fail_connects[action] = n`` makes the next ``n`` requests of ``action`` fail with
    ``httpx.ConnectError`` before a byte leaves (as a refused connection does).
    """

    def __init__(self, on_status: Callable[[int], None] | None = None) -> None:
        self.inner: httpx.AsyncBaseTransport = httpx.AsyncHTTPTransport()
        self.log: list[tuple[str, Any]] = []
        self.fail_connects: Counter[str] = Counter()
        self._on_status = on_status

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        action = request.headers.get("x-zc-action", "")
        if self.fail_connects[action] > 0:
            self.fail_connects[action] -= 1
            self.log.append((action, "ConnectError"))
            raise httpx.ConnectError("connection refused (injected)", request=request)
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.HTTPError as error:
            self.log.append((action, type(error).__name__))
            raise
        self.log.append((action, response.status_code))
        if self._on_status is not None:
            self._on_status(response.status_code)
        return response

    async def aclose(self) -> None:
        await self.inner.aclose()

    def mark(self) -> int:
        """Where the log is now (slice ``log[mark:]`` later)."""
        return len(self.log)


def blind_resends(log: list[tuple[str, Any]]) -> list[int]:
    """Positions of CreateImage requests sent after an earlier one whose fate was unknown, with no
    successful DescribeImages (a reconcile lookup) in between. Throttled (429) and never-connected
    requests changed nothing, so sending again after those is not blind."""
    blind, unknown_since = [], False
    for position, (action, outcome) in enumerate(log):
        if action == "DescribeImages" and outcome == 200:
            unknown_since = False
        elif action == "CreateImage":
            if unknown_since:
                blind.append(position)
            unknown_since = outcome not in (200, 429, "ConnectError") and not (isinstance(outcome, int) and 400 <= outcome < 500)
    return blind


def async_client(emulator: RunningEmulator | InProcessEmulator, transport: httpx.AsyncBaseTransport | None = None,
                 policy: RetryPolicy = FAST_RETRIES, **options: Any) -> AsyncZenlayerClient:
    """Our async client for ``emulator`` (not labelled sandbox: its creates use a file journal if any). The in-process
    emulator is reached through its transport, behind ``transport`` when that is a :class:`RecordingTransport`."""
    if isinstance(emulator, InProcessEmulator):
        if isinstance(transport, RecordingTransport):
            transport.inner = emulator.transport
        else:
            transport = transport or emulator.transport
    credentials = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
    client = AsyncZenlayerClient(credentials, base_url=emulator.url, transport=transport, **options)
    client.retry_policy = policy
    return client


def custom_images_named(backend: EmulatorBackend, name: str) -> list[str]:
    return [i.image_id for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE" and i.image_name == name]

"""The emulator without a server: an httpx transport over the request pipeline (moto's ``mock_aws``).

::

    from zenlayer_widgets.emulator import mock_zenlayer

    with mock_zenlayer(transition_seconds=0.2) as emulator:
        client = emulator.client()                 # a ZenlayerClient on the in-process transport
        zw.load_inventory(client)                  # no socket, no thread, no port
        emulator.set_faults(["CreateImage:lost_response:1"])
        emulator.backend.advance(60)               # direct access to the state

:class:`EmulatorTransport` is both an ``httpx.BaseTransport`` and an ``httpx.AsyncBaseTransport``,
so a sync client and its async counterpart share it. It sleeps the reply's latency (``time.sleep``
or ``asyncio.sleep``) and turns a ``lost_response`` fault into ``httpx.RemoteProtocolError``, as a
dropped connection is. What needs a real socket (the raw Host as sent, connections the server
drops, the official SDK) stays with :func:`~.server.start_emulator`.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterable
from typing import Any

import httpx

from ..api.client import AsyncZenlayerClient, ZenlayerClient
from ..api.credentials import Credentials
from .auth import DEFAULT_WINDOW_SECONDS, AuthConfig
from .backend import EmulatorBackend
from .conditions import Conditions
from .faults import FaultRule
from .pipeline import Pipeline, Reply, Request
from .server import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD, DEMO_TOKEN

_numbers = itertools.count(1)


class EmulatorTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Answer httpx requests from a :class:`~.pipeline.Pipeline` in this process (sync and async).

    An async request is in flight for ``in_flight_seconds`` (default 1 ms) before the pipeline
    answers it, so requests gathered together are all sent before the first answer, as on a network.
    """

    def __init__(self, pipeline: Pipeline, *, in_flight_seconds: float = 0.001) -> None:
        self.pipeline = pipeline
        self.in_flight_seconds = in_flight_seconds

    @staticmethod
    def _request(request: httpx.Request, body: bytes) -> Request:
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers.raw}
        return Request(request.method, request.url.path, headers, body, remote_ip="127.0.0.1")

    @staticmethod
    def _response(request: httpx.Request, reply: Reply) -> httpx.Response:
        if reply.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        return httpx.Response(reply.status, headers=dict(reply.headers), content=reply.body, request=request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply = self.pipeline.handle(self._request(request, request.read()))
        if reply.delay_seconds:
            time.sleep(reply.delay_seconds)
        return self._response(request, reply)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        await asyncio.sleep(self.in_flight_seconds)
        reply = self.pipeline.handle(self._request(request, body))
        if reply.delay_seconds:
            await asyncio.sleep(reply.delay_seconds)
        return self._response(request, reply)


class InProcessEmulator:
    """An emulated account served by an :class:`EmulatorTransport`: the same attributes tests use on
    a :class:`~.server.RunningEmulator` (``backend``, ``conditions``, ``set_faults``, ``url``, the
    credentials), plus :meth:`client` / :meth:`async_client` wired to the transport (closed by :meth:`stop`)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.backend = pipeline.backend
        self.conditions = pipeline.conditions
        self.transport = EmulatorTransport(pipeline)
        #: A base URL no socket answers (``*.localhost`` is loopback by definition); one per emulator,
        #: so journals and caches keyed by endpoint never mix two of them.
        self.url = f"http://emulator-{next(_numbers)}.localhost"
        self._clients: list[Any] = []
        self._stopped = False

    @property
    def access_key_id(self) -> str:
        return self.pipeline.auth.access_key_id

    @property
    def access_key_password(self) -> str:
        return self.pipeline.auth.access_key_password

    @property
    def token(self) -> str | None:
        return self.pipeline.auth.token

    @property
    def running(self) -> bool:
        return not self._stopped

    def credentials(self, password: str | None = None) -> Credentials:
        """The accepted key pair (or the same key id with another ``password``)."""
        return Credentials(access_key_id=self.access_key_id, access_key_password=password or self.access_key_password)

    def reset(self) -> None:
        """Back to the seeded fleet and the faults given at start."""
        self.pipeline.reset()

    def set_faults(self, faults: Iterable[str | FaultRule]) -> None:
        """Replace the fault rules (``["CreateImage:lost_response:1"]``); ValueError when malformed."""
        self.conditions.set_faults(faults)

    def client(self, credentials: Credentials | None = None, **options: Any) -> ZenlayerClient:
        """A :class:`ZenlayerClient` on this emulator's transport (``options`` as for the client)."""
        client = ZenlayerClient(credentials or self.credentials(), base_url=self.url, transport=self.transport, **options)
        self._clients.append(client)
        return client

    def async_client(self, credentials: Credentials | None = None, **options: Any) -> AsyncZenlayerClient:
        """An :class:`AsyncZenlayerClient` on this emulator's transport."""
        client = AsyncZenlayerClient(credentials or self.credentials(), base_url=self.url, transport=self.transport, **options)
        self._clients.append(client)
        return client

    def stop(self) -> None:
        """Close the sync clients made here (async ones: ``await client.aclose()``); idempotent."""
        self._stopped = True
        for client in self._clients:
            if isinstance(client, ZenlayerClient):
                client.close()
        self._clients.clear()

    def __enter__(self) -> InProcessEmulator:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"<InProcessEmulator {self.url} access_key_id={self.access_key_id!r}>"


def mock_zenlayer(
    *,
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
) -> InProcessEmulator:
    """An emulated account in this process, no server (the same options as :func:`~.server.start_emulator`)."""
    backend = EmulatorBackend(seed=seed, instances=instances, transition_seconds=transition_seconds,
                              allow_duplicate_names=allow_duplicate_names, late_seconds=late_seconds)
    conditions = Conditions(list(faults or ()), latency_ms=latency_ms, seed=seed, rate_limit=rate_limit)
    auth = AuthConfig(access_key_id, access_key_password, token, timestamp_window_seconds)
    return InProcessEmulator(Pipeline(backend, auth, conditions))

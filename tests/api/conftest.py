"""Fixtures: every scenario that takes ``make_client`` runs twice, with :class:`ZenlayerClient` and
with :class:`AsyncZenlayerClient`. Tests ``await`` every method; the sync client's answers are
passed through, so the same assertions hold for both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient

from .stub import BASE_URL, KEY_ID, PASSWORD, Either, Stub


@pytest.fixture
def credentials() -> Credentials:
    return Credentials(access_key_id=KEY_ID, access_key_password=PASSWORD)


@pytest.fixture(params=["sync", "async"])
def make_client(request: pytest.FixtureRequest, credentials: Credentials) -> Callable[..., Either]:
    """``make_client(stub, **client_options) -> Either`` for the parametrized kind of client."""

    def make(handler: Callable[[httpx.Request], httpx.Response], creds: Credentials | None = None, **options: Any) -> Either:
        sleeps: list[float] = []
        if request.param == "sync":
            options.setdefault("sleep", sleeps.append)
            cls: type = ZenlayerClient
        else:

            async def sleep(seconds: float) -> None:
                sleeps.append(seconds)

            options.setdefault("sleep", sleep)
            cls = AsyncZenlayerClient
        options.setdefault("base_url", BASE_URL)
        client = cls(creds or credentials, transport=httpx.MockTransport(handler), **options)
        return Either(client, sleeps)

    return make


@pytest.fixture
def stub() -> Stub:
    return Stub()

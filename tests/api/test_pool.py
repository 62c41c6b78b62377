"""The async client's connection pool (linear bookkeeping, sized to an inventory load) and its TLS settings."""

from __future__ import annotations

import asyncio
import json
import ssl

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient, _pool
from zenlayer_widgets.api import client as client_module

from .stub import KEY_ID, PASSWORD
from .test_client import _url, loopback  # noqa: F401  (the loopback server fixture)

BODY = json.dumps({"requestId": "T1", "response": {"requestId": "T1", "zoneSet": []}}).encode()


def _client(server, **kw) -> AsyncZenlayerClient:
    return AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=_url(server), timeout=5, **kw)


async def test_concurrent_calls_open_connections_once_and_reuse_them(loopback) -> None:  # noqa: F811
    loopback.delay = 0.05  # type: ignore[attr-defined]
    async with _client(loopback) as client:
        if _pool.COMPATIBLE:
            assert isinstance(client._http._transport._pool, _pool.LinearPool)
        assert await asyncio.gather(*(client.describe_zones() for _ in range(12))) == [[]] * 12
        opened = loopback.connections  # type: ignore[attr-defined]
        assert 2 <= opened <= 12  # they overlapped, each on a connection of its own
        assert await asyncio.gather(*(client.describe_zones() for _ in range(12))) == [[]] * 12
        assert loopback.connections == opened  # type: ignore[attr-defined]  # all kept alive, all reused
        assert client.request_count == 24


async def test_requests_beyond_the_limit_wait_for_a_connection(loopback) -> None:  # noqa: F811
    loopback.delay = 0.02  # type: ignore[attr-defined]
    transport = _pool.async_transport(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), httpx.Limits(max_connections=3))
    async with httpx.AsyncClient(transport=transport) as http:
        answers = await asyncio.gather(*(http.post(_url(loopback), content=b"{}") for _ in range(8)))
    assert [answer.content for answer in answers] == [BODY] * 8
    assert loopback.connections == 3  # type: ignore[attr-defined]


async def test_an_expired_idle_connection_is_closed_not_reused(loopback) -> None:  # noqa: F811
    transport = _pool.async_transport(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), httpx.Limits(keepalive_expiry=0.05))
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        await asyncio.sleep(0.2)
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        assert len(transport._pool.connections) == 1
    assert loopback.connections == 2  # type: ignore[attr-defined]


def test_tls_settings_are_built_once_per_process_and_not_for_http(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = httpx.create_ssl_context

    def counting(*args: object, **kwargs: object) -> ssl.SSLContext:
        built.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(client_module.httpx, "create_ssl_context", counting)
    client_module.tls_context.cache_clear()
    try:
        credentials = Credentials(KEY_ID, PASSWORD)
        plain = [ZenlayerClient(credentials, base_url="http://127.0.0.1:9"), AsyncZenlayerClient(credentials, base_url="http://127.0.0.1:9")]
        assert built == []  # nothing loaded for http
        http_tls = client_module.tls_context(False)
        assert http_tls.get_ca_certs() == [] and http_tls.verify_mode == ssl.CERT_REQUIRED  # refuses any TLS peer
        secure = [ZenlayerClient(credentials, base_url="https://api.test"), AsyncZenlayerClient(credentials, base_url="https://api.test")]
        secure.append(secure[0].to_async())
        assert len(built) == 1  # the CAs are loaded once, then shared
        assert client_module.tls_context(True).verify_mode == ssl.CERT_REQUIRED
        assert secure[1]._http._transport._pool._ssl_context is client_module.tls_context(True)
    finally:
        client_module.tls_context.cache_clear()
        for each in plain + secure:
            if isinstance(each, ZenlayerClient):
                each.close()
            else:
                asyncio.run(each.aclose())

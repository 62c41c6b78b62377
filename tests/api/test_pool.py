"""The async client's connection pool (httpcore's, its bookkeeping linear: api/_pool.py) and the TLS settings' sharing."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient, _deadline, _network, _pool, _trust
from zenlayer_widgets.emulator import RunningEmulator

from .stub import KEY_ID, PASSWORD
from .test_client import _url, loopback  # noqa: F401  (the loopback server fixture)

BODY = json.dumps({"requestId": "T1", "response": {"requestId": "T1", "zoneSet": []}}).encode()
NO_TLS = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


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
    transport = _deadline.async_transport(verify=NO_TLS, limits=httpx.Limits(max_connections=3))
    async with httpx.AsyncClient(transport=transport) as http:
        answers = await asyncio.gather(*(http.post(_url(loopback), content=b"{}") for _ in range(8)))
    assert [answer.content for answer in answers] == [BODY] * 8
    assert loopback.connections == 3  # type: ignore[attr-defined]


async def test_an_expired_idle_connection_is_closed_not_reused(loopback) -> None:  # noqa: F811
    transport = _deadline.async_transport(verify=NO_TLS, limits=httpx.Limits(keepalive_expiry=0.05))
    async with httpx.AsyncClient(transport=transport) as http:
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        await asyncio.sleep(0.2)  # past the keep-alive expiry (a lower bound: waiting longer changes nothing)
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        assert len(transport._pool.connections) == 1
    assert loopback.connections == 2  # type: ignore[attr-defined]


def test_a_proxy_pool_keeps_its_own_connections() -> None:
    transport = _network.async_transport("https://api.test", verify=True, proxy="http://proxy.test:3128", limits=httpx.Limits())
    assert not isinstance(transport._pool, _pool.LinearPool)  # its create_connection goes through the proxy


def test_tls_settings_are_shared_and_none_are_loaded_for_http(monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[object] = []
    real = _trust.default_context

    def counting() -> ssl.SSLContext:
        built.append("certifi")
        return real()

    monkeypatch.setattr(_network._trust, "default_context", counting)
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    _network._default_context.cache_clear()
    credentials = Credentials(KEY_ID, PASSWORD)
    clients: list[ZenlayerClient | AsyncZenlayerClient] = []
    try:
        clients += [ZenlayerClient(credentials, base_url="http://127.0.0.1:9"), AsyncZenlayerClient(credentials, base_url="http://127.0.0.1:9")]
        assert built == []  # nothing loaded for http
        clients += [ZenlayerClient(credentials, base_url="https://api.test"), AsyncZenlayerClient(credentials, base_url="https://api.test")]
        clients.append(clients[2].to_async())
        assert len(built) == 1  # the CAs are loaded once, then shared
        assert clients[3]._http._transport._pool._ssl_context is clients[4]._http._transport._pool._ssl_context
    finally:
        _network._default_context.cache_clear()
        for each in clients:
            if isinstance(each, ZenlayerClient):
                each.close()
            else:
                asyncio.run(each.aclose())


async def test_an_idle_connection_the_server_closed_is_not_used_again() -> None:
    """Keep-alive announced, then the server closes each connection after one answer: on asyncio's streams
    (which read the close at once) the next request takes a new connection instead of failing on the old one."""
    import socket
    import threading

    answer = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    listener = socket.create_server(("127.0.0.1", 0))
    closed = threading.Semaphore(0)
    accepted: list[int] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(1)
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                conn.sendall(answer)
            closed.release()

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    try:
        async with httpx.AsyncClient(transport=_deadline.async_transport(verify=NO_TLS, limits=httpx.Limits())) as http:
            for _ in range(3):
                assert (await http.post(url, content=b"{}")).content == BODY
                assert await asyncio.to_thread(closed.acquire, True, 10)  # the server has closed that connection
    finally:
        listener.close()
    assert len(accepted) == 3


def test_a_first_load_in_a_fresh_process_runs_on_asyncio_alone(emulator: RunningEmulator) -> None:
    """A new kernel's first ``load_inventory`` (the real-account path: ``ZENLAYER_*`` set) does not load anyio's
    asyncio backend, which cost 20-30 ms of every cold load (benchmarks/README.md)."""
    script = ("import sys, zenlayer_widgets as zw\n"
              "inventory = zw.load_inventory(zw.connect())\n"
              "print(len(inventory.instances), sorted(m for m in sys.modules if m.startswith('anyio._backends')))\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENLAYER_")} | {
        "ZENLAYER_BASE_URL": emulator.url, "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
        "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120, check=True)
    count, backends = done.stdout.strip().split(" ", 1)
    assert int(count) > 0
    assert backends == "[]"


async def test_a_request_that_finds_the_pool_full_times_out_as_a_pool_timeout(loopback) -> None:  # noqa: F811
    loopback.delay = 1.0  # type: ignore[attr-defined]  # holds the one connection far longer than the pool wait
    transport = _deadline.async_transport(verify=NO_TLS, limits=httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5, pool=0.05)) as http:
        first = asyncio.ensure_future(http.post(_url(loopback), content=b"{}"))
        while not transport._pool.connections:  # the first request has the connection
            await asyncio.sleep(0.005)
        with pytest.raises(httpx.PoolTimeout):
            await http.post(_url(loopback), content=b"{}")
        assert (await first).content == BODY
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY  # the pool is usable again
        assert len(transport._pool._requests) == 0


async def test_a_cancelled_request_gives_its_place_in_the_pool_back(loopback) -> None:  # noqa: F811
    loopback.delay = 0.3  # type: ignore[attr-defined]
    loopback.handle_error = lambda *_: None  # type: ignore[method-assign]  # its answer to the cancelled request finds no one
    transport = _deadline.async_transport(verify=NO_TLS, limits=httpx.Limits(max_connections=1))
    async with httpx.AsyncClient(transport=transport, timeout=5) as http:
        waiting = asyncio.ensure_future(http.post(_url(loopback), content=b"{}"))
        while not transport._pool.connections:
            await asyncio.sleep(0.005)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert len(transport._pool._requests) == 0
        assert (await http.post(_url(loopback), content=b"{}")).content == BODY
        assert len(transport._pool._requests) == 0

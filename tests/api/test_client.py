"""Client construction, settings, the keep-alive pool, the async twin and the public surface."""

from __future__ import annotations

import inspect
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

import zenlayer_widgets.api as api
from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient

from .stub import KEY_ID, PASSWORD, ok


class _Envelope(BaseHTTPRequestHandler):
    """Answers every POST with an empty DescribeZones envelope, over HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        with self.server.lock:  # type: ignore[attr-defined]
            self.server.connections += 1  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        time.sleep(getattr(self.server, "delay", 0))  # set by a test that needs requests to overlap
        body = json.dumps({"requestId": "T1", "response": {"requestId": "T1", "zoneSet": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def loopback() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Envelope)
    server.connections = 0  # type: ignore[attr-defined]
    server.lock = threading.Lock()  # type: ignore[attr-defined]
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: ThreadingHTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def test_sync_calls_reuse_one_connection(loopback) -> None:
    with ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=_url(loopback), timeout=5) as client:
        for _ in range(5):
            assert client.describe_zones() == []
        assert client.request_count == 5
    assert loopback.connections == 1  # type: ignore[attr-defined]
    assert client.closed


async def test_async_calls_reuse_one_connection(loopback) -> None:
    async with AsyncZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url=_url(loopback), timeout=5) as client:
        for _ in range(5):
            assert await client.describe_zones() == []
        assert client.request_count == 5
    assert loopback.connections == 1  # type: ignore[attr-defined]
    assert client.closed


def test_the_official_sdk_opens_a_connection_per_call_for_comparison(loopback) -> None:
    """Why the pool matters: the reference SDK (requests without a session) reconnects every time."""
    from zenlayercloud.common.config import Config
    from zenlayercloud.common.credential import Credential
    from zenlayercloud.vm.v20230313.models import DescribeZonesRequest
    from zenlayercloud.vm.v20230313.vm_client import VmClient

    config = Config()
    config.domain, config.scheme = f"127.0.0.1:{loopback.server_address[1]}", "http"
    sdk = VmClient(Credential(KEY_ID, PASSWORD), config)
    for _ in range(3):
        sdk.DescribeZones(DescribeZonesRequest())
    assert loopback.connections == 3  # type: ignore[attr-defined]


def test_settings_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZENLAYER_BASE_URL", raising=False)
    client = ZenlayerClient(Credentials(KEY_ID, PASSWORD))
    assert (client.base_url, client.api_version, client.sandbox, client.request_count) == (
        "https://console.zenlayer.com", "2023-03-13", False, 0)
    monkeypatch.setenv("ZENLAYER_BASE_URL", "http://127.0.0.1:8800/")
    assert ZenlayerClient(Credentials(KEY_ID, PASSWORD)).base_url == "http://127.0.0.1:8800"
    assert ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url="https://x.test").base_url == "https://x.test"


@pytest.mark.parametrize(
    "kwargs",
    [{"api_version": "2024-01-01"}, {"base_url": "console.zenlayer.com"}, {"base_url": "ftp://x"}, {"timeout": 0},
     {"max_throttle_retries": -1}, {"throttle_budget_seconds": -5}],
)
@pytest.mark.parametrize("cls", [ZenlayerClient, AsyncZenlayerClient])
def test_bad_settings_are_refused(cls, kwargs) -> None:
    with pytest.raises(ValueError):
        cls(Credentials(KEY_ID, PASSWORD), **kwargs)


async def test_to_async_keeps_the_settings_and_gets_its_own_pool(stub) -> None:
    stub.on("DescribeZones", ok(zoneSet=[{"zoneId": "FRA-A"}]))
    sync = ZenlayerClient(Credentials(KEY_ID, PASSWORD), base_url="http://127.0.0.1:9", api_version="2026-04-01", timeout=7,
                          max_throttle_retries=2, throttle_budget_seconds=9, sandbox=True, transport=httpx.MockTransport(stub))
    twin = sync.to_async()
    assert isinstance(twin, AsyncZenlayerClient)
    assert (twin.base_url, twin.api_version, twin.timeout, twin.sandbox, twin.credentials) == (
        sync.base_url, sync.api_version, sync.timeout, True, sync.credentials)
    assert twin.retry_policy == sync.retry_policy
    assert twin._http is not sync._http
    assert [z.zone_id for z in await twin.describe_zones()] == ["FRA-A"]
    assert twin.request_count == 1 and sync.request_count == 0
    assert "sandbox=True" in repr(twin) and PASSWORD not in repr(twin)
    await twin.aclose()
    sync.close()


def test_async_methods_are_coroutine_functions_with_the_same_signatures() -> None:
    names = [name for name, value in vars(api.client._BaseClient).items() if isinstance(value, api.client._Operation)]
    assert len(names) == 21  # describe_image and the six launch/restore actions joined the ten actions and their list_* helpers
    sync = ZenlayerClient(Credentials(KEY_ID, PASSWORD))
    twin = sync.to_async()
    for name in names:
        assert inspect.iscoroutinefunction(getattr(twin, name)), name
        assert not inspect.iscoroutinefunction(getattr(sync, name)), name
        assert inspect.signature(getattr(twin, name)) == inspect.signature(getattr(sync, name))
        assert "ctx" not in inspect.signature(getattr(sync, name)).parameters
        assert getattr(sync, name).__doc__
    assert str(inspect.signature(sync.describe_zones).return_annotation) == "list[Zone]"


def test_public_names() -> None:
    assert sorted(api.__all__) == sorted(set(api.__all__))
    for name in api.__all__:
        assert getattr(api, name) is not None
    exported = {name for name, value in vars(api).items() if not name.startswith("_") and not inspect.ismodule(value)}
    assert exported == set(api.__all__)

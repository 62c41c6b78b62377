"""A TLS front with a private CA: refused by default (once, not retried, saying how to trust the CA), accepted with
``verify=`` or ``SSL_CERT_FILE`` (set after the first client too), refused on a host-name mismatch, through a proxy too."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any

import certifi
import pytest

from shared import credentials_for
from zenlayer_widgets.api import AsyncZenlayerClient, CertificateError, Credentials, ZenlayerClient, _network, _trust
from zenlayer_widgets.emulator import RunningEmulator

from .network import HOST, ForwardProxy, H2Server, TLSFront


def direct_url(front: TLSFront | H2Server) -> str:
    return f"https://127.0.0.1:{front.port}"


def test_a_private_ca_is_refused_by_default_once_with_how_to_trust_it(emulator: RunningEmulator, front: TLSFront) -> None:
    with ZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as client:
        with pytest.raises(CertificateError) as refused:
            client.describe_zones()
        assert client.request_count == 0
    message = str(refused.value)
    assert "certificate" in message and "nothing was sent" in message
    assert "verify=" in message and "SSL_CERT_FILE" in message
    from zenlayer_widgets.studio.explain import explain

    assert "trust its CA" in explain(refused.value).advice  # the studio says the same, not "check the network"
    front.wait_for_refusals(1)  # the front's thread records the handshake it saw fail
    assert (front.connections, front.refused) == (1, 1)  # not retried: it would be refused the same way


@pytest.mark.parametrize("kind", ["file", "context"])
def test_verify_accepts_the_private_ca(emulator: RunningEmulator, front: TLSFront, ca_file: str, kind: str) -> None:
    verify = ca_file if kind == "file" else ssl.create_default_context(cafile=ca_file)
    with ZenlayerClient(credentials_for(emulator), base_url=direct_url(front), verify=verify) as client:
        assert len(client.list_instances()) == 16


async def test_the_async_client_verifies_too(emulator: RunningEmulator, front: TLSFront, ca_file: str) -> None:
    async with AsyncZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as client:
        with pytest.raises(CertificateError):
            await client.describe_zones()
    async with AsyncZenlayerClient(credentials_for(emulator), base_url=direct_url(front), verify=ca_file) as client:
        assert await client.describe_zones()


def test_ssl_cert_file_set_after_the_first_client_takes_effect(emulator: RunningEmulator, front: TLSFront, ca_file: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    with ZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as first:
        with pytest.raises(CertificateError):
            first.describe_zones()
    monkeypatch.setenv("SSL_CERT_FILE", ca_file)
    with ZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as second:
        assert second.describe_zones()


def test_a_host_name_mismatch_is_refused_even_with_the_ca(emulator: RunningEmulator, front: TLSFront, ca_file: str) -> None:
    with ZenlayerClient(credentials_for(emulator), base_url=f"https://localhost:{front.port}", verify=ca_file) as client:
        with pytest.raises(CertificateError, match="(?i)hostname mismatch|doesn't match|not valid for"):
            client.describe_zones()


def test_verify_false_accepts_any_certificate(emulator: RunningEmulator, front: TLSFront) -> None:
    with ZenlayerClient(credentials_for(emulator), base_url=f"https://localhost:{front.port}", verify=False) as client:
        assert client.describe_zones()


def test_through_the_proxy_the_certificate_is_checked_the_same(emulator: RunningEmulator, front: TLSFront,
                                                               proxy: ForwardProxy, ca_file: str) -> None:
    url = f"https://{HOST}:{front.port}"
    with ZenlayerClient(credentials_for(emulator), base_url=url, proxy=proxy.url) as client:
        with pytest.raises(CertificateError):
            client.describe_zones()
    with ZenlayerClient(credentials_for(emulator), base_url=url, proxy=proxy.url, verify=ca_file) as client:
        assert client.describe_zones()
    assert proxy.seen == [f"CONNECT {HOST}:{front.port}"] * 2


@pytest.mark.parametrize("bad", ["/no/such/ca.pem", 3, "  "])
def test_a_bad_verify_is_refused_before_anything_is_opened(emulator: RunningEmulator, bad: object) -> None:
    with pytest.raises(ValueError, match="verify"):
        ZenlayerClient(credentials_for(emulator), base_url=emulator.url, verify=bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("side", ["sync", "async"])
async def test_http2_is_offered_to_an_https_server(emulator: RunningEmulator, ca, ca_file: str, side: str) -> None:
    """A server that offers h2 through ALPN gets it (httpx[http2]); this front then relays bytes to an HTTP/1.1
    emulator, so the exchange itself fails: the handshake's choice is what is checked."""
    h2_front = TLSFront(emulator.port, ca, alpn=["h2", "http/1.1"])
    try:
        if side == "sync":
            with ZenlayerClient(credentials_for(emulator), base_url=direct_url(h2_front), verify=ca_file, timeout=2) as client:
                with pytest.raises(Exception):  # noqa: B017  (an HTTP/2 client talking to HTTP/1.1 behind the front)
                    client.describe_zones()
        else:
            async with AsyncZenlayerClient(credentials_for(emulator), base_url=direct_url(h2_front), verify=ca_file,
                                           timeout=2) as aclient:
                with pytest.raises(Exception):  # noqa: B017
                    await aclient.describe_zones()
        assert h2_front.protocols and set(h2_front.protocols) == {"h2"}
    finally:
        h2_front.close()



async def test_concurrent_requests_share_one_http2_connection(ca, ca_file: str) -> None:
    """Against an HTTP/2 server, an inventory's burst of concurrent requests all succeed on one connection (the async
    client's HTTP/2 connection on asyncio's locks and semaphore, api/_native.py), and the sync client's request too."""
    body = json.dumps({"requestId": "H2", "response": {"requestId": "H2", "zoneSet": [{"zoneId": "FRA-A"}]}}).encode()
    server = H2Server(ca, body)
    try:
        credentials = Credentials("H2-KEY-ID", "h2-password")
        async with AsyncZenlayerClient(credentials, base_url=direct_url(server), verify=ca_file, timeout=5) as aclient:
            zones = await asyncio.gather(*(aclient.describe_zones() for _ in range(16)))
            assert [[zone.zone_id for zone in each] for each in zones] == [["FRA-A"]] * 16
            assert [zone.zone_id for zone in await aclient.describe_zones()] == ["FRA-A"]  # the connection is reused
        with ZenlayerClient(credentials, base_url=direct_url(server), verify=ca_file, timeout=5) as client:
            assert [zone.zone_id for zone in client.describe_zones()] == ["FRA-A"]
        assert server.streams == 18
        assert server.connections == 2  # one per client
    finally:
        server.close()


def _until(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"no {what} within {timeout:g} s"
        time.sleep(0.005)


def test_an_https_client_is_made_without_loading_the_ca_certificates_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """``connect()`` of an https client does not parse certifi's CA bundle (16-20 ms) on the caller's thread: a thread
    does, while the host name is resolved and the TCP connection made."""
    loaders: list[str] = []
    real = ssl.SSLContext.load_verify_locations

    def recording(context: ssl.SSLContext, *args: Any, **kwargs: Any) -> None:
        loaders.append(threading.current_thread().name)
        real(context, *args, **kwargs)

    monkeypatch.setattr(ssl.SSLContext, "load_verify_locations", recording)
    _network.forget_tls_contexts()
    with ZenlayerClient(Credentials("KEY-ID", "password"), base_url="https://127.0.0.1:9") as client:
        client.to_async()
        _until(lambda: bool(loaders), "CA load")
    assert loaders == ["zenlayer-widgets-ca-load"]  # once, shared by the client and its async twin, not on this thread


@pytest.mark.parametrize("side", ["sync", "async"])
async def test_a_handshake_waits_for_the_ca_certificates_loading_in_the_background(
        emulator: RunningEmulator, front: TLSFront, ca_file: str, monkeypatch: pytest.MonkeyPatch, side: str) -> None:
    go = threading.Event()
    real = _trust._load

    def held(context: _trust.BackgroundTrust) -> None:
        go.wait(10)
        real(context)

    monkeypatch.setattr(_trust, "_load", held)
    monkeypatch.setattr(certifi, "where", lambda: ca_file)  # this test's CA stands for certifi's bundle
    _network.forget_tls_contexts()
    if side == "sync":
        with ZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as client:
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                zones = pool.submit(client.describe_zones)
                await asyncio.to_thread(_until, lambda: front.connections == 1, "connection")
                assert not zones.done() and front.protocols == []  # connected; the handshake waits for the CAs
                go.set()
                assert zones.result(10)
    else:
        async with AsyncZenlayerClient(credentials_for(emulator), base_url=direct_url(front)) as aclient:
            task = asyncio.ensure_future(aclient.describe_zones())
            await asyncio.to_thread(_until, lambda: front.connections == 1, "connection")
            assert not task.done() and front.protocols == []
            go.set()
            assert await task
    assert front.protocols == [None]  # one handshake (this front offers no ALPN), after the CAs were loaded

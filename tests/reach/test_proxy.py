"""Behind a proxy: the environment's HTTPS_PROXY / HTTP_PROXY / NO_PROXY, ``proxy=`` and a profile's ``proxy``.

The API's host is ``zenlayer.invalid``, a name that never resolves: a call that succeeds went
through the loopback proxy (its request lines are checked); one that did not is a ConnectError.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import zenlayer_widgets as zw
from shared import credentials_for, ids_by_name
from zenlayer_widgets.api import AsyncZenlayerClient, ConnectError, ZenlayerClient
from zenlayer_widgets.api._network import InsecureTransportWarning, environment_proxy
from zenlayer_widgets.emulator import RunningEmulator

from .network import HOST, ForwardProxy, TLSFront


def secure_url(front: TLSFront) -> str:
    return f"https://{HOST}:{front.port}"


def tunnelled(proxy: ForwardProxy, front: TLSFront) -> bool:
    return f"CONNECT {HOST}:{front.port}" in proxy.seen


@pytest.fixture(params=["HTTPS_PROXY", "proxy="])
def way(request: pytest.FixtureRequest, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The client options of each way to name the proxy: the environment (none), or the argument."""
    if request.param == "HTTPS_PROXY":
        monkeypatch.setenv("HTTPS_PROXY", proxy.url)
        return {}
    return {"proxy": proxy.url}


def test_the_sync_client_goes_through_the_proxy(emulator: RunningEmulator, front: TLSFront, proxy: ForwardProxy,
                                                ca_file: str, way: dict[str, str]) -> None:
    with ZenlayerClient(credentials_for(emulator), base_url=secure_url(front), verify=ca_file, **way) as client:
        assert len(client.list_instances()) == 16
    assert tunnelled(proxy, front)


def test_load_inventory_and_create_image_go_through_the_proxy(emulator: RunningEmulator, front: TLSFront,
                                                              proxy: ForwardProxy, ca_file: str, way: dict[str, str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZENLAYER_JOURNAL", "off")  # the ledger in memory
    with zw.connect(credentials_for(emulator), base_url=secure_url(front), verify=ca_file, **way) as client:
        inventory = zw.load_inventory(client)
        assert len(inventory.instances) == 16
        build = ids_by_name(emulator)["build-hkg-01"]
        progress = zw.create_image(client, build, "through-the-proxy", stop_if_running=True, wait=False)
    assert progress.image_id in emulator.backend.images
    assert tunnelled(proxy, front)


async def test_the_studio_goes_through_the_proxy(emulator: RunningEmulator, front: TLSFront, proxy: ForwardProxy,
                                                 ca_file: str, way: dict[str, str]) -> None:
    from zenlayer_widgets.studio.controller import StudioController

    async with AsyncZenlayerClient(credentials_for(emulator), base_url=secure_url(front), verify=ca_file, **way) as client:
        controller = StudioController(client, poll_interval=0.1)
        try:
            await controller.refresh()
            assert len(controller.instances) == 16
        finally:
            controller.close()
    assert tunnelled(proxy, front)


def test_a_plain_http_endpoint_goes_through_http_proxy_in_absolute_form_with_a_warning(
        emulator: RunningEmulator, proxy: ForwardProxy, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTP_PROXY", proxy.url)
    with pytest.warns(InsecureTransportWarning, match="plain http:// to another computer"):
        client = ZenlayerClient(credentials_for(emulator), base_url=f"http://{HOST}:{emulator.port}")
    with client:
        assert client.describe_zones()
    assert proxy.seen == [f"POST http://{HOST}:{emulator.port}/api/v2/vm"]


def test_no_proxy_goes_direct(emulator: RunningEmulator, front: TLSFront, proxy: ForwardProxy, ca_file: str,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", proxy.url)
    monkeypatch.setenv("NO_PROXY", f"example.com, .{HOST.split('.')[-1]}")
    with ZenlayerClient(credentials_for(emulator), base_url=secure_url(front), verify=ca_file) as client:
        with pytest.raises(ConnectError, match="nothing was sent"):
            client.describe_zones()
    assert proxy.seen == []  # tried direct: zenlayer.invalid does not resolve


def test_loopback_is_always_direct(emulator: RunningEmulator, monkeypatch: pytest.MonkeyPatch) -> None:
    dead = "http://127.0.0.1:9"  # nothing listens on the discard port
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY"):
        monkeypatch.setenv(name, dead)
    with ZenlayerClient(credentials_for(emulator), base_url=emulator.url, proxy=dead) as client:
        assert client.describe_zones()
        assert zw.load_inventory(client).instances.shape[0] == 16


def test_a_profile_names_its_proxy_and_ca(emulator: RunningEmulator, front: TLSFront, proxy: ForwardProxy,
                                          ca_file: str) -> None:
    folder = Path(os.environ["HOME"]) / ".zenlayer"
    folder.mkdir(exist_ok=True)
    credentials = folder / "credentials.json"
    entry = {"access_key_id": emulator.access_key_id, "access_key_secret": emulator.access_key_password,
             "proxy": proxy.url, "verify": ca_file}
    credentials.write_text(json.dumps({"corp": entry}))
    credentials.chmod(0o600)
    try:
        with zw.connect(profile="corp", base_url=secure_url(front)) as client:
            assert client.describe_zones()
        assert tunnelled(proxy, front)
    finally:
        credentials.unlink()


def test_environment_proxy_rules() -> None:
    import httpx

    env = {"HTTPS_PROXY": "http://p:1", "NO_PROXY": "internal.example, .corp.example:443"}
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        assert environment_proxy(httpx.URL("https://console.zenlayer.com")) == "http://p:1"
        assert environment_proxy(httpx.URL("https://api.internal.example")) is None
        assert environment_proxy(httpx.URL("https://x.corp.example")) is None
        assert environment_proxy(httpx.URL("https://x.corp.example:8443")) == "http://p:1"
        assert environment_proxy(httpx.URL("http://console.zenlayer.com")) is None  # HTTP_PROXY unset
        patch.setenv("ALL_PROXY", "p2:3128")
        assert environment_proxy(httpx.URL("http://console.zenlayer.com")) == "http://p2:3128"


@pytest.mark.parametrize("bad", ["ftp://proxy:21", "not a url", "", 3128])
def test_a_bad_proxy_is_refused_with_a_clear_message(emulator: RunningEmulator, bad: object) -> None:
    with pytest.raises(ValueError, match="proxy"):
        ZenlayerClient(credentials_for(emulator), base_url=emulator.url, proxy=bad)  # type: ignore[arg-type]


def test_a_proxy_password_is_never_shown(emulator: RunningEmulator) -> None:
    with pytest.raises(ValueError) as refused:
        ZenlayerClient(credentials_for(emulator), base_url=emulator.url, proxy="ftp://user:s3cret-pw@proxy:21")
    assert "s3cret-pw" not in str(refused.value)

"""Shared helpers: the official SDK against an emulator, signed raw requests, state snapshots."""

from __future__ import annotations

import importlib
import json
import time
from collections.abc import Callable
from types import ModuleType
from typing import Any

import httpx
import pytest
from zenlayercloud.common.config import Config
from zenlayercloud.common.credential import Credential, TokenCredential
from zenlayercloud.common.excpetion.zenlayer_cloud_sdk_exception import ZenlayerCloudSdkException

from zenlayer_widgets.api import signing
from zenlayer_widgets.emulator import API_PATH, RunningEmulator

VERSIONS = ("2023-03-13", "2026-04-01")


def sdk(
    emulator: RunningEmulator,
    version: str = "2023-03-13",
    *,
    domain: str | None = None,
    credential: Any = None,
    retries: int = 0,
) -> tuple[Any, ModuleType]:
    """An official ``VmClient`` for ``version`` pointed at the emulator, and that version's models module."""
    package = f"zenlayercloud.vm.v{version.replace('-', '')}"
    client_module = importlib.import_module(f"{package}.vm_client")
    models = importlib.import_module(f"{package}.models")
    credential = credential or Credential(emulator.access_key_id, emulator.access_key_password)
    config = Config(scheme="http", domain=domain or emulator.host_port, request_timeout=10,
                    rate_limit_max_retries=retries, rate_limit_retry_duration=lambda index: 0.01)
    return client_module.VmClient(credential, config), models


def token_sdk(emulator: RunningEmulator, token: str, version: str = "2023-03-13") -> tuple[Any, ModuleType]:
    return sdk(emulator, version, credential=TokenCredential(token))


def request(models: ModuleType, name: str, **fields: Any) -> Any:
    """``models.<name>Request()`` with ``fields`` set."""
    req = getattr(models, f"{name}Request")()
    for key, value in fields.items():
        setattr(req, key, value)
    return req


def call(client: Any, models: ModuleType, action: str, **fields: Any) -> Any:
    """Call ``action`` through the official SDK."""
    return getattr(client, action)(request(models, action, **fields))


def sdk_error(fn: Callable[[], Any]) -> ZenlayerCloudSdkException:
    """Run ``fn`` and return the SDK exception it raised (fails the test if none)."""
    with pytest.raises(ZenlayerCloudSdkException) as info:
        fn()
    return info.value


def signed_post(
    emulator: RunningEmulator,
    action: str | None,
    body: bytes | dict | None = None,
    *,
    version: str | None = "2023-03-13",
    key_id: str | None = None,
    secret: str | None = None,
    timestamp: int | None = None,
    host: str | None = None,
    normalize: bool = True,
    drop: tuple[str, ...] = (),
    extra: dict[str, str] | None = None,
    client: httpx.Client | None = None,
) -> httpx.Response:
    """A ZC2-HMAC-SHA256 signed POST built by hand (to break one piece at a time)."""
    raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    host = host or emulator.host_port
    content_type = "application/json"
    sig = signing.signature(secret or emulator.access_key_password, stamp, content_type, host, raw, normalize=normalize)
    headers = {
        "Host": host,
        "Content-Type": content_type,
        "X-ZC-Timestamp": stamp,
        "X-ZC-Signature-Method": signing.SIGNATURE_METHOD,
        "Authorization": signing.authorization_header(key_id or emulator.access_key_id, sig),
    }
    if action is not None:
        headers["X-ZC-Action"] = action
    if version is not None:
        headers["X-ZC-Version"] = version
    headers.update(extra or {})
    for name in drop:
        headers.pop(name, None)
    poster = client or httpx
    return poster.post(emulator.url + API_PATH, content=raw, headers=headers, timeout=10)


def bearer_post(emulator: RunningEmulator, action: str, body: bytes | dict | None = None, *, token: str | None = None,
                client: httpx.Client | None = None, **headers: str) -> httpx.Response:
    """A bearer-token POST (no timestamp, no signature)."""
    raw = body if isinstance(body, bytes) else json.dumps(body or {}).encode()
    all_headers = {"Authorization": f"Bearer {emulator.token if token is None else token}", "X-ZC-Action": action,
                   "Content-Type": "application/json", **headers}
    return (client or httpx).post(emulator.url + API_PATH, content=raw, headers=all_headers, timeout=10)


def snapshot(emulator: RunningEmulator) -> tuple:
    """Everything a request could change: instance states and names, every image and its fields."""
    backend = emulator.backend
    instances = tuple(sorted((i.instance_id, i.status, i.instance_name) for i in backend.instances.values()))
    images = tuple(sorted((i.image_id, i.image_name, i.status, i.description, i.zone_id) for i in backend.images.values()))
    return instances, images


def instance_id(emulator: RunningEmulator, name: str) -> str:
    return emulator.backend.instance_named(name).instance_id


def wait_for(predicate: Callable[[], bool], timeout: float = 5.0, interval: float = 0.02) -> None:
    """Poll ``predicate`` until true (fails the test after ``timeout`` seconds)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached in time")
        time.sleep(interval)

"""The contract target: the emulator by default, the real API with ZENLAYER_CONTRACT_LIVE=1 (see target.py)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenlayer_widgets.api import Credentials, ZenlayerClient
from zenlayer_widgets.emulator import start_emulator

from .target import DUPLICATE_ENV, INSTANCE_ENV, LIVE_ENV, SNAPSHOTS, SNAPSHOTS_ENV, TIMEOUT_ENV, WRITE_ENV, ZONE_ENV, Target, live_client, on


def _environ(config: pytest.Config) -> dict[str, str]:
    return getattr(config, "zenlayer_original_environ", dict(os.environ))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Live, the write cycle runs only when asked for (ZENLAYER_CONTRACT_WRITE=1): deselected otherwise."""
    environ = _environ(config)
    if not on(environ, LIVE_ENV) or on(environ, WRITE_ENV):
        return
    writes = [item for item in items if item.get_closest_marker("contract_write")]
    if writes:
        config.hook.pytest_deselected(items=writes)
        items[:] = [item for item in items if item not in writes]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "contract_write: creates, renames and deletes one image (opt-in when live)")


@pytest.fixture(scope="session")
def target(pytestconfig: pytest.Config) -> Iterator[Target]:
    environ = _environ(pytestconfig)
    snapshots = Path(environ.get(SNAPSHOTS_ENV) or SNAPSHOTS)
    if on(environ, LIVE_ENV):
        client, bad = live_client(environ)
        with client:
            yield Target(client, True, snapshots, environ.get(INSTANCE_ENV, "").strip() or None,
                         environ.get(ZONE_ENV, "").strip() or None, float(environ.get(TIMEOUT_ENV) or 1800),
                         on(environ, DUPLICATE_ENV), bad)
        return
    with start_emulator(transition_seconds=0.2) as emulator:
        credentials = Credentials(emulator.access_key_id, emulator.access_key_password)
        build = emulator.backend.instance_named("build-hkg-01")

        def bad() -> ZenlayerClient:
            return ZenlayerClient(Credentials(emulator.access_key_id, "not-the-secret"), base_url=emulator.url)

        with ZenlayerClient(credentials, base_url=emulator.url) as client:
            yield Target(client, False, snapshots, build.instance_id, build.zone_id, 30.0, True, bad)

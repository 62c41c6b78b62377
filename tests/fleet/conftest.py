"""What only the fleet tests need: a fresh schema of the real PostgreSQL server, a fleet of instances in zones that
take images, and worker subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from zenlayer_widgets.emulator import RunningEmulator, start_emulator
from zenlayer_widgets.rules import zone_supports_images

CHILD = Path(__file__).with_name("child.py")


@pytest.fixture
def pg_url(postgres_base_url: str) -> str:
    import pg_cluster

    return pg_cluster.fresh_schema_url(postgres_base_url)


def fleet_ids(emulator: RunningEmulator, per_zone: int) -> list[str]:
    """Up to ``per_zone`` instances of each zone that takes custom images and has room for one more per instance."""
    chosen: dict[str, list[str]] = {}
    backend = emulator.backend
    for instance in backend.instances.values():
        zone = instance.zone_id
        room = 5 - backend.custom_image_count(zone)
        if zone_supports_images(zone) and len(chosen.setdefault(zone, [])) < min(per_zone, room):
            chosen[zone].append(instance.instance_id)
    return [i for ids in chosen.values() for i in ids]


@pytest.fixture
def fleet_emulator() -> Iterator[RunningEmulator]:
    """A synthetic fleet (24 instances, 12 zones); STOPPING, BOOTING and CREATING take 1 s."""
    with start_emulator(instances=24, transition_seconds=1.0) as running:
        yield running


@pytest.fixture
def spawn(fleet_emulator: RunningEmulator) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    """``spawn(ledger_url, ids, max_parallel=2, rate=0)``: a worker process (killed at the end if still running)."""
    started: list[subprocess.Popen[str]] = []
    env = {**os.environ, "ZW_TEST_KEY_ID": fleet_emulator.access_key_id,
           "ZW_TEST_PASSWORD": fleet_emulator.access_key_password}

    def run(ledger_url: str, ids: list[str], max_parallel: int = 2, rate: float = 0) -> subprocess.Popen[str]:
        process = subprocess.Popen([sys.executable, str(CHILD), fleet_emulator.url, ledger_url, str(max_parallel),
                                    str(rate), *ids], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        started.append(process)
        return process

    yield run
    for process in started:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=30)

"""Load on loopback: 50 clients at once mixing reads, creates and deletes; and a storm of 429s.

Everything is checked against the backend afterwards: every image a create returned exists
unless a delete removed it, nothing else appeared, no id or name twice, no 5xx ever, and the
sampled quota never went over 5.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter

import pytest

from shared import ids_by_name
from zenlayer_widgets.api.errors import APIError, RateLimited
from zenlayer_widgets.api.retry import RetryPolicy
from zenlayer_widgets.core.create import create_image_async
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.rules import IMAGE_QUOTA_PER_ZONE

from .helpers import RecordingTransport, async_client, fast_sleep

CLIENTS = 50
LOAD_SECONDS = 30.0
SEED = 50_30


class Tally:
    """What the clients saw: every image they created and deleted, every status, every surprise."""

    def __init__(self) -> None:
        self.statuses: Counter[int] = Counter()
        self.codes: Counter[str] = Counter()
        self.created: dict[str, str] = {}  # image id -> name
        self.deleted: set[str] = set()
        self.deletable: list[str] = []
        self.surprises: list[str] = []
        self.quota_samples = 0


async def worker(number: int, client, tally: Tally, stopped: list[str], zones: list[str], deadline: float) -> None:
    rng = random.Random(SEED + number)
    made = 0
    while time.monotonic() < deadline:
        roll = rng.random()
        try:
            if roll < 0.55:
                zone = rng.choice(zones)
                read = rng.randrange(4)
                if read == 0:
                    await client.describe_instances(zone_id=zone, page_size=100)
                elif read == 1:
                    await client.describe_images(zone)
                elif read == 2:
                    for quota in await client.describe_image_quota():  # the quota as clients see it
                        if quota.count > quota.max_count:
                            tally.surprises.append(f"DescribeImageQuota: {quota}")
                else:
                    await client.describe_instances_status(rng.sample(stopped, 5))
            elif roll < 0.8:
                made += 1
                name = f"load-{number}-{made}"
                result = await client.create_image(rng.choice(stopped), name)
                tally.created[result.image_id] = name
                tally.deletable.append(result.image_id)
            elif tally.deletable:
                image_id = tally.deletable.pop(rng.randrange(len(tally.deletable)))
                try:
                    await client.delete_images([image_id])
                    tally.deleted.add(image_id)
                except APIError as error:
                    if error.code != "INVALID_IMAGE_STATUS":
                        raise
                    tally.deletable.append(image_id)  # still CREATING: try again later
        except APIError as error:
            if error.http_status is None or error.http_status >= 500:
                tally.surprises.append(repr(error))
            tally.codes[error.code] += 1
        except Exception as error:  # noqa: BLE001 - any other failure is a finding
            tally.surprises.append(repr(error))


async def sample_quota(backend, tally: Tally, deadline: float) -> None:
    while time.monotonic() < deadline:
        for zone, count, maximum in backend.image_quota():
            if count > IMAGE_QUOTA_PER_ZONE:
                tally.surprises.append(f"{zone} has {count} of {maximum} custom images")
        tally.quota_samples += 1
        await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_fifty_clients_for_thirty_seconds_lose_and_duplicate_nothing():
    with start_emulator(instances=240, transition_seconds=0.1) as emulator:
        backend = emulator.backend
        initial = {i.image_id for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE"}
        stopped = [i.instance_id for i in backend.instances.values()
                   if i.status == "STOPPED" and i.zone_id not in ("SIN-E", "LAX-A")]
        zones = sorted(backend.zones)
        tally = Tally()
        clients = [async_client(emulator, RecordingTransport(on_status=lambda s: tally.statuses.update([s])))
                   for _ in range(CLIENTS)]
        deadline = time.monotonic() + LOAD_SECONDS
        started = time.monotonic()
        await asyncio.gather(sample_quota(backend, tally, deadline),
                             *(worker(n, c, tally, stopped, zones, deadline) for n, c in enumerate(clients)))
        elapsed = time.monotonic() - started
        for client in clients:
            await client.aclose()
        now = {i.image_id: i.image_name for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE"}

    print(f"{sum(tally.statuses.values())} requests in {elapsed:.1f} s, {len(tally.created)} created, "
          f"{len(tally.deleted)} deleted, codes {dict(tally.codes)}, {tally.quota_samples} quota samples")
    assert tally.surprises == []
    assert not [s for s in tally.statuses if s >= 500], tally.statuses
    assert elapsed < LOAD_SECONDS + 5
    assert sum(tally.statuses.values()) > 2_000 and len(tally.created) > 100 and len(tally.deleted) > 50, (
        tally.statuses, len(tally.created), len(tally.deleted))
    assert tally.codes["LIMIT_EXCEEDED_IMAGE_QUOTA"] > 0  # the quota was really contended
    assert set(now) == (initial | set(tally.created)) - tally.deleted  # nothing lost, nothing extra
    assert len(set(tally.created.values())) == len(tally.created)  # one image per create, none twice
    assert all(now[image_id] == name for image_id, name in tally.created.items() if image_id in now)
    assert tally.quota_samples > 100


async def test_a_storm_of_429s_is_backed_off_and_finished(tmp_path):
    """70% of all requests throttled: reads and a whole create (preflight, create, wait) still finish."""
    with start_emulator(transition_seconds=0.1, faults=["*:throttle:0.7"]) as emulator:
        statuses: Counter[int] = Counter()
        waits: list[float] = []

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            await asyncio.sleep(seconds)

        policy = RetryPolicy(max_throttle_retries=40, budget_seconds=20.0, base_delay=0.005, max_delay=0.05)
        transport = RecordingTransport(on_status=lambda status: statuses.update([status]))
        started = time.monotonic()
        async with async_client(emulator, transport, policy=policy, sleep=sleep) as client:
            for _ in range(15):
                assert [q.zone_id for q in await client.describe_image_quota(["HKG-A"])] == ["HKG-A"]
            result = await create_image_async(client, ids_by_name(emulator)["build-hkg-01"], "through-the-storm",
                                              poll_interval=0.1, sleep=fast_sleep, ledger=Ledger(None))
        elapsed = time.monotonic() - started
    assert result.status == "AVAILABLE"
    assert set(statuses) == {200, 429}
    assert 0.55 < statuses[429] / sum(statuses.values()) < 0.85, statuses
    assert len(waits) == statuses[429] and all(w >= 0 for w in waits)  # every 429 was followed by a wait
    assert elapsed < 20


async def test_the_default_policy_gives_up_with_a_clear_error_under_a_full_stop():
    """Every request throttled: a clear RateLimited after the client's retries, not a hang."""
    with start_emulator(faults=["DescribeZones:throttle:1"]) as emulator:
        waits: list[float] = []

        async def sleep(seconds: float) -> None:  # the decisions are real, the waiting is skipped
            waits.append(seconds)

        async with async_client(emulator, policy=RetryPolicy(), sleep=sleep) as client:
            with pytest.raises(RateLimited, match="REQUEST_LIMIT_EXCEEDED"):
                await client.describe_zones()
    assert len(waits) == RetryPolicy().max_throttle_retries and sum(waits) <= RetryPolicy().budget_seconds

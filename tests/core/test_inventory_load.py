"""load_inventory_async against the emulator: everything, in two rounds, even if the fleet grows meanwhile."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient
from zenlayer_widgets.core.inventory import load_inventory_async
from zenlayer_widgets.emulator import InProcessEmulator, mock_zenlayer

FLEET = 2500  # three pages of 1,000


@pytest.fixture(scope="module")
def emulator() -> Iterator[InProcessEmulator]:
    with mock_zenlayer(instances=FLEET) as running:
        yield running


@pytest.fixture
async def client(emulator: InProcessEmulator) -> AsyncIterator[AsyncZenlayerClient]:
    async with emulator.async_client() as client:
        yield client


def _label(request: httpx.Request) -> str:
    action = request.headers["X-ZC-Action"]
    if action == "DescribeInstances":
        return f"DescribeInstances/{json.loads(request.content)['pageSize']}"
    return action


async def test_every_instance_image_and_quota_in_two_rounds(client: AsyncZenlayerClient, emulator: InProcessEmulator) -> None:
    events: list[tuple[str, str]] = []

    async def sent(request: httpx.Request) -> None:
        events.append(("sent", _label(request)))

    async def answered(response: httpx.Response) -> None:
        events.append(("answered", _label(response.request)))

    client._http.event_hooks = {"request": [sent], "response": [answered]}
    inventory = await load_inventory_async(client)

    backend = emulator.backend
    assert sorted(inventory.instances["instance_id"]) == sorted(backend.instances)
    assert len(inventory.zone_ids) == 12
    custom = {i.image_id for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE"}
    assert set(inventory.images["image_id"]) == custom
    assert inventory.requests == 1 + 1 + 3 + 1 + 12  # zones, count, 3 pages, the quota, the images of 12 zones
    # first round: the zones, the count and the first page; the rest waits for the answer it needs
    first_round = ["DescribeInstances/1", "DescribeInstances/1000", "DescribeZones"]
    assert sorted(label for _, label in events[:3]) == first_round
    assert all(kind == "sent" for kind, _ in events[:3])
    zones_answered = events.index(("answered", "DescribeZones"))
    count_answered = events.index(("answered", "DescribeInstances/1"))
    assert all(i > zones_answered for i, e in enumerate(events) if e[1] in ("DescribeImages", "DescribeImageQuota"))
    assert all(i > count_answered for i, e in enumerate(events[3:], 3) if e == ("sent", "DescribeInstances/1000"))
    assert events.count(("sent", "DescribeInstances/1000")) == 3


async def test_instances_added_after_the_count_are_still_fetched(client: AsyncZenlayerClient, emulator: InProcessEmulator) -> None:
    real = client.describe_instances

    async def stale_count(**kwargs):  # noqa: ANN003, ANN202 - the count says 1,000 fewer than the pages will
        page = await real(**kwargs)
        return dataclasses.replace(page, total_count=page.total_count - 1000) if kwargs.get("page_size") == 1 else page

    client.describe_instances = stale_count  # type: ignore[method-assign]
    inventory = await load_inventory_async(client)
    assert len(inventory.instances) == FLEET
    assert inventory.instances["instance_id"].is_unique

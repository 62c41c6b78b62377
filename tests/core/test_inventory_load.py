"""load_inventory_async against the emulator: everything, in two rounds, even if the fleet grows meanwhile."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient
from zenlayer_widgets.core.inventory import load_inventory_async
from zenlayer_widgets.emulator import InProcessEmulator, RunningEmulator, mock_zenlayer

FLEET = 2500  # three pages of 1,000


@pytest.fixture(scope="module")
def mock_emulator() -> Iterator[InProcessEmulator]:
    with mock_zenlayer(instances=FLEET) as running:
        yield running


@pytest.fixture
async def mock_aclient(mock_emulator: InProcessEmulator) -> AsyncIterator[AsyncZenlayerClient]:
    async with mock_emulator.async_client() as client:
        yield client


def _label(request: httpx.Request) -> str:
    action = request.headers["X-ZC-Action"]
    if action == "DescribeInstances":
        return f"DescribeInstances/{json.loads(request.content)['pageSize']}"
    return action


async def test_every_instance_image_and_quota_in_two_rounds(mock_aclient: AsyncZenlayerClient, mock_emulator: InProcessEmulator) -> None:
    events: list[tuple[str, str]] = []

    async def sent(request: httpx.Request) -> None:
        events.append(("sent", _label(request)))

    async def answered(response: httpx.Response) -> None:
        events.append(("answered", _label(response.request)))

    mock_aclient._http.event_hooks = {"request": [sent], "response": [answered]}
    inventory = await load_inventory_async(mock_aclient)

    backend = mock_emulator.backend
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


async def test_instances_added_after_the_count_are_still_fetched(mock_aclient: AsyncZenlayerClient, mock_emulator: InProcessEmulator) -> None:
    real = mock_aclient.describe_instances

    async def stale_count(**kwargs):  # noqa: ANN003, ANN202 - the count says 1,000 fewer than the pages will
        page = await real(**kwargs)
        return dataclasses.replace(page, total_count=page.total_count - 1000) if kwargs.get("page_size") == 1 else page

    mock_aclient.describe_instances = stale_count  # type: ignore[method-assign]
    inventory = await load_inventory_async(mock_aclient)
    assert len(inventory.instances) == FLEET
    assert inventory.instances["instance_id"].is_unique


# -- refresh: one round, from the previous load's plan ------------------------------------------
def _same_snapshot(one, other) -> bool:
    return (
        sorted(zip(one.instances["instance_id"], one.instances["power_state"], strict=False))
        == sorted(zip(other.instances["instance_id"], other.instances["power_state"], strict=False))
        and sorted(one.images["image_id"]) == sorted(other.images["image_id"])
        and one.quota.equals(other.quota)
        and one.zone_ids == other.zone_ids
    )


async def test_a_refresh_is_one_round_of_requests(mock_aclient: AsyncZenlayerClient, mock_emulator: RunningEmulator) -> None:
    loaded = await load_inventory_async(mock_aclient)
    mock_emulator.backend.latency_ms = 30  # every answer takes a while: what is sent after one came back shows
    assert loaded.instance_total == FLEET and not loaded.refreshed
    events: list[str] = []

    async def sent(request: httpx.Request) -> None:
        events.append("sent")

    async def answered(response: httpx.Response) -> None:
        events.append("answered")

    mock_aclient._http.event_hooks = {"request": [sent], "response": [answered]}
    try:
        refreshed = await load_inventory_async(mock_aclient, previous=loaded)
    finally:
        mock_emulator.backend.latency_ms = 0
    assert refreshed.refreshed
    assert refreshed.requests == 1 + 1 + 12 + 3  # zones (the check), the quota, 12 zones' images, 3 pages
    assert events == ["sent"] * 17 + ["answered"] * 17  # nothing waited for another answer
    assert _same_snapshot(refreshed, loaded)
    assert refreshed.instance_total == FLEET and refreshed.loaded_at > loaded.loaded_at


@pytest.mark.parametrize(("now", "one_round"), [(FLEET + 600, False), (FLEET - 1100, True), (FLEET - 1, True)])
async def test_a_fleet_that_grew_or_shrank_is_still_loaded_in_full(mock_aclient: AsyncZenlayerClient, now: int, one_round: bool) -> None:
    """A fleet past the pages sent falls back to a full load; fewer instances fit the pages already sent."""
    loaded = await load_inventory_async(mock_aclient)
    with mock_zenlayer(instances=now) as changed:
        async with changed.async_client() as other:
            refreshed = await load_inventory_async(other, previous=loaded)
            assert _same_snapshot(refreshed, await load_inventory_async(other))
    assert refreshed.refreshed is one_round
    assert len(refreshed.instances) == now == refreshed.instance_total and refreshed.instances["instance_id"].is_unique
    assert refreshed.requests == 17 + (18 + 1 if now > FLEET else 0)  # the round, then a full load of 4 pages


async def test_pages_that_disagree_on_the_count_mean_a_full_load(mock_aclient: AsyncZenlayerClient) -> None:
    loaded = await load_inventory_async(mock_aclient)
    real = mock_aclient.describe_instances
    lies = iter([True])

    async def moved(**kwargs):  # noqa: ANN003, ANN202 - page 2 answers after an instance was deleted, once
        page = await real(**kwargs)
        if kwargs.get("page_num") == 2 and next(lies, False):
            return dataclasses.replace(page, total_count=page.total_count - 1)
        return page

    mock_aclient.describe_instances = moved  # type: ignore[method-assign]
    refreshed = await load_inventory_async(mock_aclient, previous=loaded)
    assert not refreshed.refreshed and _same_snapshot(refreshed, loaded)


async def test_a_zone_the_last_load_did_not_have_means_a_full_load(mock_aclient: AsyncZenlayerClient) -> None:
    loaded = await load_inventory_async(mock_aclient)
    stale = dataclasses.replace(loaded, zones=loaded.zones[:-1])
    refreshed = await load_inventory_async(mock_aclient, previous=stale)
    assert not refreshed.refreshed and _same_snapshot(refreshed, loaded)  # the new zone's images and quota are in


# -- a refresh decodes only what changed, and reuses the tables when nothing did ------------------------
@pytest.fixture
def own_fleet() -> Iterator[InProcessEmulator]:
    """A fleet of its own: these tests change it."""
    with mock_zenlayer(instances=FLEET, transition_seconds=60) as running:
        yield running


async def test_an_unchanged_refresh_reuses_the_models_and_copies_of_the_tables(own_fleet: InProcessEmulator) -> None:
    async with own_fleet.async_client() as client:
        loaded = await load_inventory_async(client)
        tables = loaded.instances, loaded.images, loaded.quota
        refreshed = await load_inventory_async(client, previous=loaded)
    assert refreshed.refreshed and len(refreshed.pages) == 3
    assert refreshed.instance_list is loaded.instance_list  # every page came back byte for byte: nothing decoded again
    assert all(new.items is old.items for new, old in zip(refreshed.pages, loaded.pages, strict=True))
    for new, old in zip((refreshed.instances, refreshed.images, refreshed.quota), tables, strict=True):
        assert new is not old and new.equals(old)  # copies: changing one leaves the other as it was
    refreshed.instances.loc[0, "name"] = "changed here only"
    assert loaded.instances.loc[0, "name"] != "changed here only"


async def test_a_page_changed_by_one_state_is_decoded_again_and_the_table_shows_it(own_fleet: InProcessEmulator) -> None:
    async with own_fleet.async_client() as client:
        loaded = await load_inventory_async(client)
        _ = loaded.instances
        target = next(i for i in loaded.pages[1].items if i.instance_status == "RUNNING")  # on the second page
        own_fleet.backend.stop_instances([target.instance_id])
        refreshed = await load_inventory_async(client, previous=loaded)
        assert _same_snapshot(refreshed, await load_inventory_async(client))
    assert refreshed.refreshed
    assert refreshed.pages[0].items is loaded.pages[0].items and refreshed.pages[2].items is loaded.pages[2].items
    assert refreshed.pages[1].items is not loaded.pages[1].items  # its bytes changed: decoded again
    row = refreshed.instances.set_index("instance_id").loc[target.instance_id]
    assert row["power_state"] == "STOPPING" and refreshed.instance(target.instance_id).instance_status == "STOPPING"
    assert refreshed.instances is not loaded.instances


async def test_a_refresh_after_local_status_changes_shows_what_the_server_says(own_fleet: InProcessEmulator) -> None:
    async with own_fleet.async_client() as client:
        loaded = await load_inventory_async(client)
        one = loaded.instance_list[0]
        guessed = loaded.with_statuses({one.instance_id: "STOPPING"})  # what the studio shows after a stop it sent
        _ = guessed.instances
        refreshed = await load_inventory_async(client, previous=guessed)  # but the stop never reached the server
    assert refreshed.refreshed
    assert refreshed.instance(one.instance_id).instance_status == one.instance_status
    assert refreshed.instances.set_index("instance_id").loc[one.instance_id, "power_state"] == one.instance_status


async def test_renamed_and_deleted_images_and_the_quota_show_in_a_refresh(own_fleet: InProcessEmulator) -> None:
    async with own_fleet.async_client() as client:
        loaded = await load_inventory_async(client)
        _ = loaded.images, loaded.quota
        first, second = loaded.image_list[0], next(i for i in loaded.image_list[1:] if i.zone_id != loaded.image_list[0].zone_id)
        own_fleet.backend.modify_images([first.image_id], image_name="renamed-01")
        own_fleet.backend.delete_images([second.image_id])
        refreshed = await load_inventory_async(client, previous=loaded)
    assert refreshed.refreshed and refreshed.instance_list is loaded.instance_list
    images = refreshed.images.set_index("image_id")
    assert images.loc[first.image_id, "name"] == "renamed-01" and second.image_id not in images.index
    used = refreshed.quota.set_index("zone").loc[second.zone_id, "used"]
    assert used == loaded.quota.set_index("zone").loc[second.zone_id, "used"] - 1

"""Launching, restoring and the recycle bin through our own client against the in-process emulator (sync and async)."""

from __future__ import annotations

import asyncio

import pytest

from zenlayer_widgets.api import InvalidParameter, InvalidState, NotFound, errors


def image_named(emulator, name: str) -> str:
    return next(i.image_id for i in emulator.backend.images.values() if i.image_name == name)


def test_price_launch_boot_terminate_release(mock_emulator):
    emulator = mock_emulator
    emulator.backend.transition_seconds = 3600
    client = emulator.client()
    types = client.describe_zone_instance_config_infos(zone_id="HKG-A")
    cheapest = min(types, key=lambda t: client.inquiry_price_create_instance("HKG-A", t.instance_type).instance_price.unit_price)
    price = client.inquiry_price_create_instance("HKG-A", cheapest.instance_type, system_disk_size=40)
    assert price.instance_price.charge_unit == "HOUR" and price.hourly_total > price.instance_price.unit_price > 0
    golden = image_named(emulator, "web-golden-2025")
    result = client.create_instances("HKG-A", cheapest.instance_type, golden, instance_name="verify-golden", key_id="key-ops",
                                     tags={"zenlayer-widgets:intent": "op-42"})
    (iid,) = result.instance_ids
    assert client.describe_instances_status([iid]).items[0].instance_status == "PENDING"
    emulator.backend.advance(7200)
    (instance,) = client.describe_instances(tags={"zenlayer-widgets:intent": "op-42"}).items
    assert (instance.instance_id, instance.instance_status, instance.image_id) == (iid, "RUNNING", golden)
    assert instance.tags == {"zenlayer-widgets:intent": "op-42"} and instance.instance_type == cheapest.instance_type
    assert iid in {i.instance_id for i in client.list_instances(image_id=golden)}
    client.terminate_instance(iid)
    assert client.describe_instances(instance_ids=[iid]).items[0].instance_status == "RECYCLING"
    client.release_instances([iid])
    assert client.describe_instances(tags={"zenlayer-widgets:intent": "op-42"}).total_count == 0


def test_state_rules_surface_as_the_packages_errors(mock_emulator):
    client = mock_emulator.client()
    web = mock_emulator.backend.instance_named("web-hkg-01").instance_id
    golden = image_named(mock_emulator, "web-golden-2025")
    with pytest.raises(InvalidState) as refused:
        client.reset_instance(web, golden, password="Reset-Pass-123")
    assert refused.value.code == errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED and "Reset-Pass-123" not in str(refused.value)
    with pytest.raises(InvalidState) as not_recycled:
        client.release_instances([web])
    assert not_recycled.value.code == errors.OPERATION_DENIED_INSTANCE_NOT_RECYCLED
    with pytest.raises(NotFound):
        client.create_instances("HKG-A", "z9.none", golden, key_id="k")
    with pytest.raises(InvalidParameter) as small:
        client.create_instances("HKG-A", "z2a.c1m2", golden, key_id="k", system_disk_size=20)
    assert small.value.code == errors.INVALID_SYSTEM_DISK_SIZE
    creating = mock_emulator.backend.create_image(mock_emulator.backend.instance_named("build-hkg-01").instance_id, "still-creating")
    with pytest.raises(InvalidState):
        client.create_instances("HKG-A", "z2a.c1m2", creating.image_id, key_id="k")


def test_restore_a_stopped_instance_from_an_image(mock_emulator):
    emulator = mock_emulator
    emulator.backend.transition_seconds = 3600
    client = emulator.client()
    build = emulator.backend.instance_named("build-hkg-01").instance_id
    golden = image_named(emulator, "web-golden-2025")
    client.reset_instance(build, golden, key_id="key-ops")
    assert client.describe_instances_status([build]).items[0].instance_status == "REBUILDING"
    emulator.backend.advance(3600)
    (instance,) = client.describe_instances(instance_ids=[build]).items
    assert (instance.instance_status, instance.image_id, instance.image_name) == ("RUNNING", golden, "web-golden-2025")


def test_boot_failure_seen_by_our_client(mock_emulator):
    emulator = mock_emulator
    emulator.set_faults(["CreateInstances:boot_failure:1"])
    client = emulator.client()
    debian = image_named(emulator, "Debian 12 x86 64-bit")
    (iid,) = client.create_instances("FRA-A", "z2a.c1m2", debian, key_id="k").instance_ids
    emulator.backend.advance(3600)
    assert client.describe_instances_status([iid]).items[0].instance_status == "CREATE_FAILED"


def test_the_async_client_launches_too(mock_emulator):
    emulator = mock_emulator
    debian = image_named(emulator, "Debian 12 x86 64-bit")

    async def main():
        client = emulator.async_client()
        price = await client.inquiry_price_create_instance("FRA-A", "z2a.c1m2")
        result = await client.create_instances("FRA-A", "z2a.c1m2", debian, key_id="k", tags={"run": "async"})
        page = await client.describe_instances(tags={"run": "async"})
        await client.aclose()
        return price, result, page

    price, result, page = asyncio.run(main())
    assert price.instance_price.unit_price > 0 and [i.instance_id for i in page.items] == list(result.instance_ids)

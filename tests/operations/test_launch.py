"""zw.launch_from_image: one instance per (image, like, name) with like's settings, under lost answers, late
landings and 429s; a re-run returns the same instance; refused before sending for another zone's image."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.operations import store
from zenlayer_widgets.core.operations.steps.instances import TAG_OPERATION

from .helpers import Applied, custom_image, fast_sleep, instance_in


async def launch(mock_aclient, ledger, image_id: str, like: str, name: str = "copy-1"):  # noqa: ANN001, ANN201
    return await zw.launch_from_image_async(mock_aclient, image_id, like=like, name=name, password="Pass-word-123",
                                            ledger=ledger, sleep=fast_sleep, poll_interval=0.1)


def named(backend, name: str) -> list[str]:  # noqa: ANN001
    return [r.instance_id for r in backend.instances.values() if r.instance_name == name]


async def test_one_instance_like_another_and_the_same_one_on_a_re_run(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    like = instance_in(mock_emulator.backend, image.zone_id)
    result = await launch(mock_aclient, ledger, image.image_id, like.instance_id)
    made = mock_emulator.backend.instances[result.instance_id]
    assert made.status == "RUNNING" and made.image_id == image.image_id and made.instance_name == "copy-1"
    assert (made.instance_type, made.subnet_id, made.internet_charge_type, made.internet_max_bandwidth_out,
            made.instance_charge_type) == (like.instance_type, like.subnet_id, like.internet_charge_type,
                                           like.internet_max_bandwidth_out, "POSTPAID")
    assert made.security_group_ids[:1] == like.security_group_ids[:1]
    assert result.price is not None and result.price > 0
    again = await launch(mock_aclient, ledger, image.image_id, like.instance_id)
    assert again.instance_id == result.instance_id and again.reused
    assert named(mock_emulator.backend, "copy-1") == [result.instance_id]


@pytest.mark.parametrize("fault", ["lost_response", "late", "throttle"])
async def test_exactly_one_instance_per_intent_under_faults(mock_emulator, mock_aclient, ledger, fault: str) -> None:
    image = custom_image(mock_emulator.backend)
    like = instance_in(mock_emulator.backend, image.zone_id)
    launches = Applied()
    launches.wrap(mock_emulator.backend, "create_instances", lambda *_a, **_k: mock_emulator.set_faults([]) if fault != "throttle" else None)
    mock_emulator.set_faults(["CreateInstances:throttle:0.5" if fault == "throttle" else f"CreateInstances:{fault}:1"])
    result = await launch(mock_aclient, ledger, image.image_id, like.instance_id)
    mock_emulator.backend.land_late_requests()
    assert launches.counts["create_instances"] == 1
    assert named(mock_emulator.backend, "copy-1") == [result.instance_id]
    tagged = await mock_aclient.list_instances(tags={TAG_OPERATION: result.operation_id})
    assert [i.instance_id for i in tagged] == [result.instance_id]
    again = await launch(mock_aclient, ledger, image.image_id, like.instance_id)
    assert again.instance_id == result.instance_id and launches.counts["create_instances"] == 1


async def test_another_zones_image_is_refused_before_anything_is_sent(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    other = next(r for r in mock_emulator.backend.instances.values() if r.zone_id != image.zone_id and r.status == "RUNNING")
    launches = Applied()
    launches.wrap(mock_emulator.backend, "create_instances")
    with pytest.raises(zw.OperationRefused, match="nothing was sent"):
        await launch(mock_aclient, ledger, image.image_id, other.instance_id)
    assert launches.counts["create_instances"] == 0 and store.operations(ledger) == []


@pytest.mark.parametrize("name", ["", "has space", "x" * 65, "under_score"])
async def test_a_name_the_api_would_refuse_is_refused_before_anything_is_sent(mock_emulator, mock_aclient, ledger, name: str) -> None:
    image = custom_image(mock_emulator.backend)
    like = instance_in(mock_emulator.backend, image.zone_id)
    with pytest.raises(ValueError, match="nothing was sent"):
        await launch(mock_aclient, ledger, image.image_id, like.instance_id, name=name)
    assert store.operations(ledger) == []

"""zw.verify_image: a throwaway launched from the image (price first), waited RUNNING, probed, then terminated and
released whatever happened; under lost answers, late landings and 429s exactly one launch and 0 throwaways left."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.from_image import verified
from zenlayer_widgets.core.ledger import account_of
from zenlayer_widgets.core.operations import DONE, store

from .helpers import Applied, custom_image, fast_sleep, throwaways_in, throwaways_listed

KIND_OF = {"CreateInstances": "launch", "TerminateInstance": "terminate", "ReleaseInstances": "release"}
METHOD_OF = {"CreateInstances": "create_instances", "TerminateInstance": "terminate_instance",
             "ReleaseInstances": "release_instances"}


async def verify(mock_aclient, ledger, image_id: str, **options):  # noqa: ANN001, ANN003, ANN201
    return await zw.verify_image_async(mock_aclient, image_id, ledger=ledger, sleep=fast_sleep, poll_interval=0.1, **options)


async def test_a_booting_image_is_verified_and_its_throwaway_released(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    launches = Applied()
    launches.wrap(mock_emulator.backend, "create_instances")
    prices: list[float | None] = []
    result = await verify(mock_aclient, ledger, image.image_id, on_price=prices.append)
    assert result.booted and result.boot_seconds is not None and result.boot_seconds > 0
    assert result.price is not None and result.price > 0 and prices == [result.price]
    assert result.instance_id and result.instance_id not in mock_emulator.backend.instances  # released
    assert launches.counts["create_instances"] == 1
    assert throwaways_in(mock_emulator.backend) == [] and await throwaways_listed(mock_aclient) == []
    when, seconds = verified(ledger, account_of(mock_aclient), image.image_id)  # type: ignore[misc]
    assert seconds == result.boot_seconds and when


async def test_the_price_is_asked_and_recorded_before_the_one_launch(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    seen: list[tuple[str, object]] = []

    def before_launch(*_args, **_kwargs) -> None:  # noqa: ANN002, ANN003
        [operation] = store.operations(ledger, kind="verify")
        seen.append((operation.step("price").state, operation.facts.get("price")))  # type: ignore[union-attr]

    Applied().wrap(mock_emulator.backend, "create_instances", before_launch)
    result = await verify(mock_aclient, ledger, image.image_id)
    assert seen == [(DONE, result.price)]


async def test_a_boot_failure_is_reported_and_the_throwaway_released(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    mock_emulator.set_faults(["CreateInstances:boot_failure:1"])  # the next launched instance ends CREATE_FAILED
    result = await verify(mock_aclient, ledger, image.image_id)
    assert not result.booted and result.boot_seconds is None and "NOT_RUNNING" in result.reason
    assert result.instance_id not in mock_emulator.backend.instances
    assert throwaways_in(mock_emulator.backend) == [] and await throwaways_listed(mock_aclient) == []
    assert verified(ledger, account_of(mock_aclient), image.image_id) is None  # never marked verified


async def test_a_failing_probe_is_not_a_verification(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    probed: list[str] = []

    def probe(instance) -> bool:  # noqa: ANN001
        probed.append(instance.instance_status)
        return False

    result = await verify(mock_aclient, ledger, image.image_id, probe=probe)
    assert probed == ["RUNNING"] and not result.booted and "PROBE_FAILED" in result.reason
    assert throwaways_in(mock_emulator.backend) == []
    assert verified(ledger, account_of(mock_aclient), image.image_id) is None


async def test_a_cost_cap_below_every_type_refuses_before_anything_is_sent(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    launches = Applied()
    launches.wrap(mock_emulator.backend, "create_instances")
    with pytest.raises(zw.OperationRefused, match="above max_price"):
        await verify(mock_aclient, ledger, image.image_id, max_price=0.0001)
    assert launches.counts["create_instances"] == 0 and store.operations(ledger) == []


@pytest.mark.parametrize("action", ["CreateInstances", "TerminateInstance", "ReleaseInstances"])
@pytest.mark.parametrize("fault", ["lost_response", "late", "throttle"])
async def test_under_faults_one_launch_and_no_throwaway_left(mock_emulator, mock_aclient, ledger, action: str, fault: str) -> None:
    image = custom_image(mock_emulator.backend)
    launches = Applied()
    launches.wrap(mock_emulator.backend, "create_instances")
    mock_emulator.set_faults([f"{action}:{fault}:0.5" if fault == "throttle" else f"{action}:{fault}:1"])
    if fault != "throttle":  # the first request that lands met the fault; the rest go through
        Applied().wrap(mock_emulator.backend, METHOD_OF[action], lambda *_a, **_k: mock_emulator.set_faults([]))
    result = await verify(mock_aclient, ledger, image.image_id)
    mock_emulator.backend.land_late_requests()
    assert result.booted
    assert launches.counts["create_instances"] == 1
    assert throwaways_in(mock_emulator.backend) == [] and await throwaways_listed(mock_aclient) == []
    if fault != "throttle":  # the answer never came: the step was settled on evidence, not sent again
        step = store.get(ledger, result.operation_id).step(KIND_OF[action])  # type: ignore[union-attr]
        assert step.evidence is not None and step.attempts == 1, step


async def test_an_orphan_throwaway_of_an_earlier_run_is_found_by_its_tag_and_released(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    mock_emulator.set_faults(["ReleaseInstances:error:1"])  # every release refused: the first verify cannot release
    with pytest.raises(zw.OperationFailed, match="was not released"):
        await verify(mock_aclient, ledger, image.image_id)
    [orphan] = throwaways_in(mock_emulator.backend)
    mock_emulator.set_faults([])
    result = await verify(mock_aclient, ledger, image.image_id)
    assert result.booted and orphan not in mock_emulator.backend.instances
    assert throwaways_in(mock_emulator.backend) == [] and await throwaways_listed(mock_aclient) == []


def test_the_sync_form_with_a_sync_client(mock_emulator, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    result = zw.verify_image(mock_emulator.client(), image.image_id, ledger=ledger, poll_interval=0.1)
    assert result.booted and throwaways_in(mock_emulator.backend) == []

"""zw.restore_instance: refused before anything is sent unless the typed name, an AVAILABLE image of the zone that
fits, and a STOPPED (or, with stop=True, RUNNING) instance; else an image of the current disk first when a slot is
free, exactly one ResetInstance under lost answers, late landings and 429s, RUNNING on the image at the end."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.operations import store

from .helpers import Applied, custom_image, fast_sleep, instance_in


async def restore(mock_aclient, ledger, instance, image_id: str, **options):  # noqa: ANN001, ANN003, ANN201
    options.setdefault("confirm", instance.instance_name)
    return await zw.restore_instance_async(mock_aclient, instance.instance_id, image_id, password="Pass-word-123",
                                           ledger=ledger, sleep=fast_sleep, poll_interval=0.1, **options)


def counted(backend) -> Applied:  # noqa: ANN001
    applied = Applied()
    for name in ("reset_instance", "stop_instances", "create_image"):
        applied.wrap(backend, name)
    return applied


async def test_a_running_instance_is_stopped_imaged_and_reset_once(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id)
    applied = counted(mock_emulator.backend)
    result = await restore(mock_aclient, ledger, instance, image.image_id, stop=True)
    after = mock_emulator.backend.instances[instance.instance_id]
    assert after.status == "RUNNING" and after.image_id == image.image_id
    assert applied.counts == {"stop_instances": 1, "create_image": 1, "reset_instance": 1}
    assert result.backup_image_id in mock_emulator.backend.images and "saved first as the image restore-" in result.note
    [operation] = store.operations(ledger, kind="restore")
    assert [s.kind for s in operation.steps] == ["stop", "wait_status", "create_image", "reset", "wait_status", "on_image"]


async def test_without_a_free_slot_no_image_is_made_and_the_result_says_so(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id, "STOPPED")
    [(_, used, most)] = mock_emulator.backend.image_quota([image.zone_id])
    for n in range(most - used):
        mock_emulator.backend.create_image(instance.instance_id, f"fill-{n}")  # the zone's free slots taken
        mock_emulator.backend.advance(1)
    assert (await mock_aclient.describe_image_quota([image.zone_id]))[0].free == 0
    applied = counted(mock_emulator.backend)
    result = await restore(mock_aclient, ledger, instance, image.image_id)
    assert result.backup_image_id is None and "no free custom-image slot" in result.note
    assert applied.counts == {"reset_instance": 1}


@pytest.mark.parametrize("fault", ["lost_response", "late", "throttle"])
@pytest.mark.parametrize("action", ["ResetInstance", "StopInstances"])
async def test_exactly_one_reset_under_faults(mock_emulator, mock_aclient, ledger, action: str, fault: str) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id)
    applied = counted(mock_emulator.backend)
    method = {"ResetInstance": "reset_instance", "StopInstances": "stop_instances"}[action]
    if fault != "throttle":
        Applied().wrap(mock_emulator.backend, method, lambda *_a, **_k: mock_emulator.set_faults([]))
    mock_emulator.set_faults([f"{action}:throttle:0.5" if fault == "throttle" else f"{action}:{fault}:1"])
    result = await restore(mock_aclient, ledger, instance, image.image_id, stop=True, backup=False)
    mock_emulator.backend.land_late_requests()
    after = mock_emulator.backend.instances[instance.instance_id]
    assert after.status == "RUNNING" and after.image_id == image.image_id
    assert applied.counts["reset_instance"] == 1 and applied.counts["stop_instances"] == 1
    if fault != "throttle":  # a blind resend would be refused by the API (not STOPPED / not RUNNING): count the sends
        step = store.get(ledger, result.operation_id).step({"ResetInstance": "reset", "StopInstances": "stop"}[action])
        assert step is not None and step.attempts == 1 and step.evidence is not None


def _unchanged(backend, instance, applied: Applied) -> None:  # noqa: ANN001
    after = backend.instances[instance.instance_id]
    assert (after.status, after.image_id) == (instance.status, instance.image_id)
    assert sum(applied.counts.values()) == 0


@pytest.mark.parametrize("confirm", ["", "someone else"])
async def test_refused_without_the_typed_name(mock_emulator, mock_aclient, ledger, confirm: str) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id)
    applied = counted(mock_emulator.backend)
    with pytest.raises(zw.OperationRefused, match="type its name"):
        await restore(mock_aclient, ledger, instance, image.image_id, confirm=confirm, stop=True)
    _unchanged(mock_emulator.backend, instance, applied)
    assert store.operations(ledger) == []


async def test_refused_for_another_zones_image(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    instance = next(r for r in mock_emulator.backend.instances.values() if r.zone_id != image.zone_id and r.status == "RUNNING")
    applied = counted(mock_emulator.backend)
    with pytest.raises(zw.OperationRefused, match="instance's zone"):
        await restore(mock_aclient, ledger, instance, image.image_id, stop=True)
    _unchanged(mock_emulator.backend, instance, applied)


async def test_refused_for_a_creating_image(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    source = instance_in(mock_emulator.backend, image.zone_id, "STOPPED")
    mock_emulator.backend.transition_seconds = 3600  # it stays CREATING
    creating = await mock_aclient.create_image(source.instance_id, "still-creating")
    instance = instance_in(mock_emulator.backend, image.zone_id, "RUNNING")
    applied = counted(mock_emulator.backend)
    with pytest.raises(zw.OperationRefused, match="CREATING"):
        await restore(mock_aclient, ledger, instance, creating.image_id, stop=True)
    _unchanged(mock_emulator.backend, instance, applied)


async def test_a_running_instance_is_not_stopped_unless_asked(mock_emulator, mock_aclient, ledger) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id)
    applied = counted(mock_emulator.backend)
    with pytest.raises(zw.OperationRefused, match="stop=True"):
        await restore(mock_aclient, ledger, instance, image.image_id)
    _unchanged(mock_emulator.backend, instance, applied)


async def test_the_password_never_reaches_the_ledger(mock_emulator, mock_aclient, ledger, tmp_path) -> None:
    image = custom_image(mock_emulator.backend)
    instance = instance_in(mock_emulator.backend, image.zone_id)
    like = instance_in(mock_emulator.backend, image.zone_id, "STOPPED")
    for record in (mock_emulator.backend._instances[instance.instance_id], mock_emulator.backend._instances[like.instance_id]):
        record.key_id, record.cached_json = None, None  # no key pair: the password is the login
    result = await restore(mock_aclient, ledger, instance, image.image_id, stop=True)
    await zw.launch_from_image_async(mock_aclient, image.image_id, like=like.instance_id, name="copy-2",
                                     password="Pass-word-123", ledger=ledger, sleep=fast_sleep, poll_interval=0.1)
    ledger.close()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("ledger.sqlite3*"))
    assert len(stored) > 0 and b"Pass-word-123" not in stored
    reset = store.get(ledger, result.operation_id).step("reset")  # type: ignore[union-attr]
    assert reset.state == "done" and reset.params["key_id"] is None  # no key pair: it went with the password

"""The in-use guard: an image that live instances run is never deleted by zw.delete_image (the shared path of the
studio row's Delete and a rotation's deletes) unless forced with a reason, which the ledger records."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import ledger_for


def run_image(backend, instance_name: str | None = None) -> tuple[str, str]:  # noqa: ANN001
    """Make a demo instance run one of the custom images (as if built from it); (image id, instance id)."""
    image = next(i for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE" and i.status == "AVAILABLE")
    record = next(r for r in backend._instances.values() if r.zone_id == image.zone_id)  # the record, not a copy
    record.image_id, record.image_name, record.cached_json = image.image_id, image.image_name, None
    return image.image_id, record.instance_id


def test_an_image_live_instances_run_is_not_deleted(mock_emulator) -> None:
    image_id, instance_id = run_image(mock_emulator.backend)
    client = mock_emulator.client()
    with pytest.raises(zw.ImageInUse) as refused:
        zw.delete_image(client, image_id)
    assert instance_id in str(refused.value) and "Nothing was deleted" in str(refused.value)
    assert refused.value.instances[0].instance_id == instance_id
    assert image_id in mock_emulator.backend.images
    assert ledger_for(client).history(kinds=["delete"]) == []  # nothing was sent, so nothing to record


def test_force_needs_a_reason_and_the_reason_is_recorded(mock_emulator) -> None:
    image_id, instance_id = run_image(mock_emulator.backend)
    client = mock_emulator.client()
    with pytest.raises(ValueError, match="needs reason"):
        zw.delete_image(client, image_id, force=True, reason="  ")
    assert image_id in mock_emulator.backend.images
    zw.delete_image(client, image_id, force=True, reason="replaced by the weekly image")
    assert image_id not in mock_emulator.backend.images
    [action] = ledger_for(client).history(kinds=["delete"])
    assert action.outcome == "done" and action.image_id == image_id
    assert action.detail == f"forced while in use by {instance_id}: replaced by the weekly image"


def test_an_image_nobody_runs_is_deleted_as_before(mock_emulator) -> None:
    backend = mock_emulator.backend
    image = next(i for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE")
    zw.delete_image(mock_emulator.client(), image.image_id)
    assert image.image_id not in backend.images


def test_a_rotation_never_deletes_an_image_in_use(mock_emulator) -> None:
    """keep=1: the second apply makes a new image and would delete the first, which an instance now runs: it stays."""
    backend = mock_emulator.backend
    client = mock_emulator.client()
    zone = next(z for z in ("HKG-A", "TYO-A", "SYD-A")
                if backend.image_quota([z])[0][2] - backend.image_quota([z])[0][1] >= 2)
    source = next(r for r in backend.instances.values() if r.zone_id == zone and r.status == "STOPPED")
    policy = zw.Policy("guard", keep=1, instance_ids=(source.instance_id,))
    zw.apply_rotation(client, policy, poll_interval=0.1)
    [first] = [i.image_id for i in backend.images.values() if i.image_name.startswith("guard-")]
    run_image_id(backend, first, zone)
    zw.apply_rotation(client, policy, poll_interval=0.1)
    made = [i.image_id for i in backend.images.values() if i.image_name.startswith("guard-")]
    assert first in made and len(made) == 2  # the new image made, the one in use kept


def run_image_id(backend, image_id: str, zone: str) -> str:  # noqa: ANN001
    record = next(r for r in backend._instances.values() if r.zone_id == zone and r.status == "RUNNING")
    record.image_id, record.cached_json = image_id, None
    return record.instance_id

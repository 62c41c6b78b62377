"""The row actions (delete, rename / re-describe) are one-step operations of the engine: written to the ledger
before they are sent, and a lost answer is decided on evidence (the image DELETING or gone; the image carrying
the new name) instead of ending in an error or a second request."""

from __future__ import annotations

import pytest

from zenlayer_widgets.core.changes import delete_image_async, rename_image_async
from zenlayer_widgets.core.image_actions import modify_image_async
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.operations import SUCCEEDED, store
from zenlayer_widgets.emulator import mock_zenlayer


@pytest.fixture
def quick():
    with mock_zenlayer(transition_seconds=0.05) as running:
        calls: list[str] = []
        for name in ("delete_images", "modify_images"):
            original = getattr(running.backend, name)

            def spy(*args, _original=original, _name=name, **kwargs):  # noqa: ANN002, ANN003, ANN202
                calls.append(_name)
                return _original(*args, **kwargs)

            setattr(running.backend, name, spy)
        running.calls = calls
        yield running


def an_unused_custom_image(quick):
    used = {i.image_id for i in quick.backend.instances.values()}
    return next(i for i in quick.backend.images.values() if i.image_type == "CUSTOM_IMAGE" and i.image_id not in used)


async def test_a_delete_whose_answer_is_lost_is_decided_on_evidence_and_sent_once(quick):
    image = an_unused_custom_image(quick)
    ledger = Ledger(None)
    quick.set_faults(["DeleteImages:lost_response:1"])
    async with quick.async_client() as client:
        await delete_image_async(client, image.image_id, zone_id=image.zone_id, image_name=image.image_name,
                                 ledger=ledger)
        [operation] = store.operations(ledger, account_of(client), kind="delete")
        [action] = ledger.history(account_of(client), kinds=["delete"])
    assert quick.calls == ["delete_images"] and image.image_id not in quick.backend.images  # gone, one request
    assert operation.outcome == SUCCEEDED and operation.steps[0].evidence["reason"]
    assert (action.image_name, action.outcome) == (image.image_name, "unknown")  # the request's own answer was lost


async def test_a_rename_whose_answer_is_lost_is_decided_on_evidence_and_sent_once(quick):
    image = an_unused_custom_image(quick)
    ledger = Ledger(None)
    quick.set_faults(["ModifyImagesAttributes:lost_response:1"])
    async with quick.async_client() as client:
        await rename_image_async(client, image.image_id, "renamed-once", zone_id=image.zone_id,
                                 old_name=image.image_name, ledger=ledger)
        await modify_image_async(client, image.image_id, description="said once", zone_id=image.zone_id,
                                 old_name="renamed-once", ledger=ledger)
        operations = store.operations(ledger, account_of(client), kind="rename")
    assert quick.calls == ["modify_images", "modify_images"]
    record = quick.backend.images[image.image_id]
    assert (record.image_name, record.description) == ("renamed-once", "said once")
    assert [op.outcome for op in operations] == [SUCCEEDED, SUCCEEDED]


async def test_a_refused_delete_raises_the_api_error_and_its_operation_is_failed(quick):
    ledger = Ledger(None)
    async with quick.async_client() as client:
        with pytest.raises(Exception, match="not found|NOT_FOUND") as refused:
            await delete_image_async(client, "img-not-there", ledger=ledger)
        [operation] = store.operations(ledger, account_of(client), kind="delete")
    assert type(refused.value).__name__ != "OperationError" and operation.outcome == "failed"
    assert operation.steps[0].error_code == "INVALID_IMAGE_NOT_FOUND"


async def test_a_delete_whose_run_died_after_sending_is_taken_up_on_evidence_not_sent_again(quick):
    """A kernel died after the DeleteImages it marked sent had landed: the same delete run again finds the
    unfinished operation, sees the image gone, and finishes it without a second request."""
    from zenlayer_widgets.core.ledger.ownership import new_owner
    from zenlayer_widgets.core.operations import StepPlan

    image = an_unused_custom_image(quick)
    ledger = Ledger(None)
    params = {"image_id": image.image_id, "zone_id": image.zone_id, "image_name": image.image_name, "reason": None}
    async with quick.async_client() as client:
        owner = new_owner()  # a run of this process that is no longer at work: as dead as a killed kernel
        began = store.begin(ledger, account_of(client), "delete", f"delete:{image.image_id}",
                            [StepPlan("delete_image", params)], owner=owner, image_id=image.image_id)
        store.mark_sent(ledger, began.steps[0], owner, 0.0)
        quick.backend.delete_images([image.image_id])  # ...and its request landed
        quick.calls.clear()
        assert await delete_image_async(client, image.image_id, zone_id=image.zone_id, image_name=image.image_name,
                                        ledger=ledger) == []
        [operation] = store.operations(ledger, account_of(client), kind="delete")
    assert quick.calls == [] and operation.operation_id == began.operation_id and operation.outcome == SUCCEEDED

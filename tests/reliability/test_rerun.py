"""A create run again after it finished: its image (``already_made``), nothing sent; the name used otherwise: a conflict.

Against the in-process emulator (no socket needed); every request our client sends is logged (``RecordingTransport``).
"""

from __future__ import annotations

import pytest

from shared import ids_by_name
from zenlayer_widgets.core.create import CreateConflict, create_image_async
from zenlayer_widgets.core.ledger import Ledger

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep

CHANGES = {"CreateImage", "StopInstances", "StartInstances", "DeleteImages", "ModifyImagesAttributes"}


@pytest.fixture
def ledger(ledger_url) -> Ledger:
    return Ledger(ledger_url)  # SQLite and PostgreSQL


async def create(client, instance_id: str, name: str, description: str | None, ledger: Ledger):
    return await create_image_async(client, instance_id, name, description, sleep=fast_sleep, poll_interval=0.1,
                                    ledger=ledger)


def sent(transport: RecordingTransport, since: int) -> list[str]:
    return [action for action, _ in transport.log[since:] if action in CHANGES]


async def test_a_finished_create_run_again_returns_its_image_and_sends_nothing(mock_emulator, ledger):
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    transport = RecordingTransport()
    async with async_client(mock_emulator, transport) as client:
        first = await create(client, build, "made-once", "nightly", ledger)
        mark = transport.mark()
        again = await create(client, build, "made-once", "nightly", ledger)
    assert (again.image_id, again.status, again.already_made) == (first.image_id, "AVAILABLE", True)
    assert not first.already_made
    assert sent(transport, mark) == []  # not even a second CreateImage refused by the API
    assert custom_images_named(mock_emulator.backend, "made-once") == [first.image_id]


@pytest.mark.parametrize("other", ["description", "instance"])
async def test_the_same_name_with_another_description_or_instance_is_a_named_conflict(mock_emulator, ledger, other):
    ids = ids_by_name(mock_emulator)
    build, db = ids["build-hkg-01"], ids["db-hkg-01"]  # both in HKG-A, both STOPPED
    transport = RecordingTransport()
    async with async_client(mock_emulator, transport) as client:
        first = await create(client, build, "made-once", "nightly", ledger)
        mark = transport.mark()
        with pytest.raises(CreateConflict) as conflict:
            if other == "description":
                await create(client, build, "made-once", "weekly", ledger)
            else:
                await create(client, db, "made-once", "nightly", ledger)
    said = str(conflict.value)
    assert first.image_id in said and build in said and "Nothing was sent" in said
    assert ("'nightly', not 'weekly'" in said) if other == "description" else (f"instance {build}, not {db}" in said)
    assert (conflict.value.image_id, conflict.value.made_from) == (first.image_id, build)
    assert sent(transport, mark) == []
    assert custom_images_named(mock_emulator.backend, "made-once") == [first.image_id]


async def test_an_image_deleted_since_is_made_again(mock_emulator, ledger):
    """The ledger's image no longer exists: the re-run is a new create, not a report of a gone image."""
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    async with async_client(mock_emulator) as client:
        first = await create(client, build, "made-twice", None, ledger)
        mock_emulator.backend.delete_images([first.image_id])
        again = await create(client, build, "made-twice", None, ledger)
    assert not again.already_made and again.image_id != first.image_id
    assert custom_images_named(mock_emulator.backend, "made-twice") == [again.image_id]

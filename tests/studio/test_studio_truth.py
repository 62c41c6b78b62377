"""Issue 21 through the controller: image tables that follow the account (a light poll, backed off when idle, stopped
on close), the rename editor's checks before Save, feedback kept next to what it is about, no ledger query while
the form renders."""

from __future__ import annotations

import asyncio

from shared import ids_by_name
from zenlayer_widgets.studio.controller import StudioController
from zenlayer_widgets.studio.loading import IDLE_EVERY


class Clock:
    """A sleep that records each pause and lets the test decide when the loop goes on."""

    def __init__(self) -> None:
        self.pauses: list[float] = []
        self.go = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        await self.go.wait()
        self.go.clear()

    async def tick(self) -> None:
        """Let one pause end and the round after it run."""
        self.go.set()
        for _ in range(100):
            await asyncio.sleep(0.01)
            if not self.go.is_set():
                break
        for _ in range(50):  # the round's calls (in-process: a few loop turns)
            await asyncio.sleep(0.01)


async def test_images_made_and_deleted_elsewhere_show_without_a_click_and_the_poll_stops_on_close(mock_aclient, mock_emulator):
    clock = Clock()
    controller = StudioController(mock_aclient, sleep=clock.sleep, images_every=10.0, idle_after=30.0)
    await controller.refresh()
    first_as_of = controller.images_at
    ids = ids_by_name(mock_emulator)
    golden = next(i.image_id for i in controller.inventory.image_list if i.image_name == "web-golden-2025")
    controller.set_image_poll(True)
    await asyncio.sleep(0.02)
    async with mock_emulator.async_client(sandbox=True) as elsewhere:  # cron, a colleague, another notebook
        made = await elsewhere.create_image(ids["build-hkg-01"], "nightly-20261201T0300")
        await elsewhere.delete_images([golden])
    assert "nightly-20261201T0300" not in {i.image_name for i in controller.inventory.image_list}
    await clock.tick()
    names = {i.image_name for i in controller.inventory.image_list}
    assert "nightly-20261201T0300" in names and "web-golden-2025" not in names  # no click
    assert controller.image(made.image_id) is not None and controller.images_at > first_as_of
    assert clock.pauses[:2] == [10.0, 10.0]
    for _ in range(3):  # nobody uses the studio: past idle_after the poll slows down
        await clock.tick()
    assert clock.pauses[-1] == IDLE_EVERY
    controller.select(ids["web-hkg-01"])  # someone is back: the quick pace again
    await clock.tick()
    assert clock.pauses[-1] == 10.0
    controller.close()
    await asyncio.sleep(0.05)
    rounds = len(clock.pauses)
    clock.go.set()
    await asyncio.sleep(0.05)
    assert len(clock.pauses) == rounds and controller.loading.image_task is None  # stopped with the studio


async def test_the_rename_editor_refuses_a_name_taken_in_the_zone_before_save(controller, mock_emulator):
    from zenlayer_widgets.widgets import ImageStudio

    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    row = next(r for r in studio.inventory.rows.values() if r.image.image_name == "api-release-1")
    row.edit_button.click()
    row.name.value = "api-release-2"  # taken in FRA-A: said in the field at once, Save refused
    assert row.name.conflict == {"value": "api-release-2", "message": "FRA-A already has an image named 'api-release-2'."}
    assert row.name.flagged and row.save_button.disabled
    row.name.value = "api release"  # the browser's own rule says this one; the kernel adds nothing
    assert row.name.conflict == {} and row.save_button.disabled
    row.name.value = "api-release-1b"
    assert row.name.conflict == {} and not row.save_button.disabled
    assert controller.edit_problem(row.image.image_id, "web-golden-2025", "") == ""  # another zone's name is free


async def test_a_row_error_stays_at_its_row_and_the_form_column_stays_clear(controller, mock_emulator):
    from zenlayer_widgets.widgets import ImageStudio

    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    row = next(r for r in studio.inventory.rows.values() if r.image.image_name == "api-release-1")
    image_id = row.image.image_id
    mock_emulator.set_faults(["DeleteImages:throttle:1.0"])
    row.delete_button.click()
    row.confirm_button.click()
    await controller.tasks.drain()
    assert controller.error is None and studio.form.error.value == ""  # not in the create form's column
    assert "Deleting image api-release-1 in FRA-A" in row.note.value and "zw-note-error" in row.note.value
    await controller.refresh()  # a reload keeps it until the next action
    assert "Deleting image api-release-1 in FRA-A" in studio.inventory.rows[image_id].note.value


async def test_the_last_creates_progress_does_not_stay_under_the_next_instance(controller, mock_emulator):
    ids = ids_by_name(mock_emulator)
    controller.select(ids["build-hkg-01"])
    controller.set_name("for-build")
    assert (await controller.submit()).status == "AVAILABLE"
    assert controller.progress is not None
    controller.select(ids["db-hkg-01"])
    assert controller.progress is None and controller.notice == ""


async def test_the_form_reads_no_ledger_while_it_renders(controller, monkeypatch):
    from zenlayer_widgets.studio import create_loop, proof_actions

    def refuse(*_args, **_kwargs):
        raise AssertionError("a ledger query during render")

    from zenlayer_widgets.core.reconcile import CreateOutcomeUnknown
    from zenlayer_widgets.widgets.create_form import CreateForm

    controller.unknown = CreateOutcomeUnknown("HKG-A", "lost-answer", "timeout", instance_id=controller.selected_id)
    for module in (create_loop, proof_actions):  # the parts that read the ledger
        monkeypatch.setattr(module, "ledger_for", refuse)
    form = CreateForm(controller)  # "check again" / "send again" are offered from traits only
    form.render()
    assert controller.can_send_again is False and form.send_again.disabled
    controller.send_again_ready = True  # the settle window ended (set by the task that waits for it)
    assert controller.can_send_again and not form.send_again.disabled


def _record_actions(emulator, monkeypatch) -> list[str]:
    """Every action the studio's client sends from now on (the X-ZC-Action of each request)."""
    sent: list[str] = []
    handle = emulator.transport.handle_async_request

    async def recording(request):
        sent.append(request.headers.get("X-ZC-Action", ""))
        return await handle(request)

    monkeypatch.setattr(emulator.transport, "handle_async_request", recording)
    return sent


async def test_edit_or_delete_of_an_image_deleted_elsewhere_says_it_is_gone_and_sends_nothing(controller, mock_emulator,
                                                                                               monkeypatch):
    from zenlayer_widgets.widgets import ImageStudio

    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    rows = {r.image.image_name: r for r in studio.inventory.rows.values()}
    first, second = rows["api-release-1"], rows["api-release-2"]
    sent = _record_actions(mock_emulator, monkeypatch)
    async with mock_emulator.async_client(sandbox=True) as elsewhere:  # a colleague, before the studio's next poll
        await elsewhere.delete_images([first.image.image_id])
    sent.clear()

    first.delete_button.click()  # the question opens, the check closes it again
    await controller.tasks.drain()
    assert sent[0] == "DescribeImages" and "DeleteImages" not in sent
    assert controller.delete_candidate is None
    note = studio.inventory.zone_notes["FRA-A"].value
    assert "This image is gone: api-release-1 in FRA-A was deleted elsewhere" in note and "zw-note-error" in note
    assert "api-release-1" not in {i.image_name for i in controller.inventory.image_list}  # its row is gone too
    assert controller.error is None and studio.form.error.value == ""  # not in the create form's column

    async with mock_emulator.async_client(sandbox=True) as elsewhere:
        await elsewhere.delete_images([second.image.image_id])
    sent.clear()
    second.edit_button.click()  # the editor opens, the check closes it again
    await controller.tasks.drain()
    assert sent[0] == "DescribeImages" and "ModifyImagesAttributes" not in sent
    assert controller.editing is None
    assert "This image is gone: api-release-2 in FRA-A" in studio.inventory.zone_notes["FRA-A"].value

    sent.clear()  # an image that is still there: one DescribeImages by id, and the editor stays open
    third = rows["api-release-3"]
    third.edit_button.click()
    await controller.tasks.drain()
    assert sent == ["DescribeImages"] and controller.editing == third.image.image_id
    assert "gone" not in third.note.value


async def test_the_image_tables_say_when_they_were_read_and_how_often(controller):
    from zenlayer_widgets.widgets.inventory_view import InventoryView

    view = InventoryView(controller)
    assert "As of " in view.as_of.value and "checked every 10 s while the studio is open" in view.as_of.value
    view.close()

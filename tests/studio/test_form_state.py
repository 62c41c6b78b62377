"""The create form's state bugs of issue 11, each pinned: what the user sees around a create."""

from __future__ import annotations

import asyncio

from shared import ids_by_name
from zenlayer_widgets.widgets import ImageStudio
from zenlayer_widgets.widgets.name_field import NAME_HINT, NAME_OK_TEXT


async def until(condition, timeout: float = 10.0) -> None:
    """Let the event loop run until ``condition()`` holds (fails after ``timeout`` seconds)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.01)


def studio_for(controller) -> ImageStudio:
    return ImageStudio(controller=controller, auto_refresh=False, load=False)


async def test_a_name_typed_while_a_create_runs_survives_its_end(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("build-base-1")
    mock_emulator.backend.transition_seconds = 3600  # still being made when the next name is typed
    task = controller.tasks.spawn(controller.submit())
    await until(lambda: controller.progress is not None and controller.progress.image_id)
    controller.set_name("build-base-2")  # the next image's name, typed while the first one is made
    mock_emulator.backend.advance(3600)  # now it is made
    await task
    assert controller.progress.status == "AVAILABLE" and controller.progress.image_name == "build-base-1"
    assert controller.image_name == "build-base-2"


async def test_the_name_just_submitted_is_cleared_when_its_create_ends(controller, mock_emulator):
    controller.select(ids_by_name(mock_emulator)["build-hkg-01"])
    controller.set_name("build-base-1")
    await controller.submit()
    assert controller.image_name == ""


async def test_the_checklist_stays_green_during_its_own_create(controller, mock_emulator):
    """Its own image (the name now in the zone, the IMAGING instance, the slot it takes) is not a failure."""
    # SEL-A holds 4 of 5: this image takes the last slot
    controller.select(ids_by_name(mock_emulator)["app-sel-02"])
    controller.set_name("app-base-v4")
    assert controller.preflight.ok
    failures: list[str] = []
    def seen(_change) -> None:
        if controller.creating:
            failures.extend(c.key for c in controller.preflight.failures)

    controller.observe(seen, ["inventory", "progress", "instances"])
    mock_emulator.backend.transition_seconds = 3600  # its own image is CREATING until the test moves the clock
    task = controller.tasks.spawn(controller.submit())
    await until(lambda: controller.inventory.quota_for("SEL-A").count == 5)  # the reload that lists it has landed
    assert "app-base-v4" in controller.inventory.image_names_in("SEL-A") and controller.creating
    assert controller.preflight.ok and failures == []
    mock_emulator.backend.advance(3600)  # the image is made
    await task
    assert failures == []
    # afterwards the checks are judged on the account as it now is: SEL-A is full
    assert controller.inventory.quota_for("SEL-A").count == 5 and not controller.preflight.check("quota").ok


async def test_a_refused_create_leaves_no_submitting_line(controller, mock_emulator, mock_client):
    web = ids_by_name(mock_emulator)["build-hkg-01"]
    controller.select(web)
    controller.set_name("taken-meanwhile")
    mock_client.create_image(web, "taken-meanwhile")  # another session takes the name after the studio loaded
    studio = studio_for(controller)
    assert await controller.submit() is None
    assert controller.error is not None and controller.progress is None
    assert "submitting" not in studio.form.progress.value and " 0 s" not in studio.form.progress.value
    assert "taken-meanwhile" in studio.form.error.value


async def test_the_name_field_and_the_checklist_agree_on_a_taken_name(controller, mock_emulator):
    studio = studio_for(controller)
    form = studio.form
    form.picker.value = ids_by_name(mock_emulator)["build-hkg-01"]
    form.name.value = "web-golden-2025"  # already in HKG-A
    assert "HKG-A already has an image named" in form.checks.value
    assert form.name.feedback != NAME_OK_TEXT and "already has an image named" in form.name.feedback
    assert "zw-invalid" in form.name._dom_classes and not form.name.valid
    form.name.value = "web-golden-2026"
    assert form.name.feedback == NAME_OK_TEXT and "zw-invalid" not in form.name._dom_classes


async def test_the_empty_name_field_is_neutral_and_shows_the_rules(controller):
    form = studio_for(controller).form
    assert form.name.value == "" and "zw-invalid" not in form.name._dom_classes
    assert form.name.hint == NAME_HINT and form.name.feedback == NAME_HINT
    assert "Chinese characters, letters, digits, - and _" in NAME_HINT


async def test_the_checklist_waits_for_a_name_instead_of_failing_it(controller, mock_emulator):
    form = studio_for(controller).form
    form.picker.value = ids_by_name(mock_emulator)["build-hkg-01"]
    assert "zw-check-name zw-pending" in form.checks.value and "zw-check-name zw-fail" not in form.checks.value
    assert form.submit.disabled  # neutral, still not submittable
    form.name.value = "a b"
    assert "zw-check-name zw-fail" in form.checks.value


async def test_the_tables_reload_while_an_image_made_elsewhere_is_creating(controller, mock_emulator, mock_client):
    """An image CREATING (from another session or a runbook) turns AVAILABLE in the tables without Refresh."""
    build = ids_by_name(mock_emulator)["build-hkg-01"]
    mock_emulator.backend.transition_seconds = 3600  # CREATING until the test moves the clock (no race with refresh)
    mock_client.create_image(build, "made-elsewhere")
    await controller.refresh()
    image = next(i for i in controller.inventory.image_list if i.image_name == "made-elsewhere")
    assert image.image_status == "CREATING" and controller.images_creating()
    controller.set_auto_refresh(True)
    try:
        await asyncio.sleep(0.5)  # a couple of automatic reloads: still CREATING, still shown so
        assert controller.images_creating()
        mock_emulator.backend.advance(3600)  # the image is made; no one presses Refresh
        await until(lambda: not controller.images_creating())
    finally:
        controller.set_auto_refresh(False)
    assert {i.image_name: i.image_status for i in controller.inventory.image_list}["made-elsewhere"] == "AVAILABLE"

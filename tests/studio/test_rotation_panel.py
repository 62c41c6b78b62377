"""The studio's rotation panel (controller.rotation) over the in-process emulator: preview, confirm, apply, errors."""

from __future__ import annotations

import asyncio

from shared import credentials_for, ids_by_name
from zenlayer_widgets.core.ledger import account_of, ledger_for
from zenlayer_widgets.core.policy import owned_images, runs
from zenlayer_widgets.core.policy.plan import RUNNING_NOT_ALLOWED
from zenlayer_widgets.studio.controller import StudioController


def account_images(mock_emulator) -> dict[str, tuple[str, str, str]]:
    """Every image on the account: id -> (zone, name, status)."""
    return {i: (r.zone_id, r.image_name, r.status) for i, r in mock_emulator.backend.images.items()}


def custom(mock_emulator, zone: str) -> dict[str, str]:
    return {i: r.image_name for i, r in mock_emulator.backend.images.items() if r.zone_id == zone and r.image_type == "CUSTOM_IMAGE"}


def rotation_for(controller, mock_emulator, *names: str, prefix: str = "nightly"):
    rotation = controller.rotation
    rotation.name_prefix = prefix
    rotation.choose([ids_by_name(mock_emulator)[name] for name in names])
    return rotation


async def apply(rotation):
    """Preview, Apply…, Confirm: the outcome."""
    assert await rotation.preview() is not None, rotation.error
    assert rotation.ask_apply(), rotation.notice
    return await rotation.confirm_apply()


async def test_the_studio_selection_is_the_default_until_instances_are_chosen(controller, mock_emulator):
    rotation, ids = controller.rotation, ids_by_name(mock_emulator)
    assert rotation.keep == 2 and not rotation.stop_if_running and not rotation.delete_first_when_full
    assert rotation.instance_ids == (controller.selected_id,)
    controller.select(ids["build-hkg-01"])
    assert rotation.instance_ids == (ids["build-hkg-01"],)
    assert ("build-hkg-01 · HKG-A", ids["build-hkg-01"]) in rotation.choices and len(rotation.choices) == 16
    rotation.choose([ids["build-hkg-01"], ids["ci-nyc-01"]])
    controller.select(ids["web-hkg-01"])
    assert rotation.instance_ids == (ids["build-hkg-01"], ids["ci-nyc-01"])  # chosen: the studio's selection no longer moves it


async def test_a_preview_changes_nothing_on_the_account(controller, mock_emulator, mock_aclient):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01", "web-hkg-01", "ci-nyc-01")
    images, powers = account_images(mock_emulator), {i: r.status for i, r in mock_emulator.backend.instances.items()}
    plan = await rotation.preview()
    assert plan is not None and rotation.error == ""
    assert account_images(mock_emulator) == images
    assert {i: r.status for i, r in mock_emulator.backend.instances.items()} == powers
    assert runs(ledger_for(mock_aclient), account_of(mock_aclient)) == []  # not even a run recorded
    by_name = {row["instance"]: row for row in rotation.plan_rows}
    assert by_name["build-hkg-01"]["action"] == "create" and by_name["build-hkg-01"]["image_name"].startswith("nightly-")
    assert by_name["web-hkg-01"]["action"] == "skip"
    assert rotation.plan_summary == "Policy nightly: 2 to create, 0 to delete, 1 skipped, 0 failing, of 3 instances (at most 3 deletes per run)."
    quota = {row["zone"]: (row["used_before"], row["used_after"], row["max"]) for row in rotation.plan_quota}
    assert quota == {"HKG-A": (1, 2, 5), "NYC-A": (2, 3, 5)}
    assert rotation.can_apply


async def test_a_change_after_the_preview_makes_it_stale_and_apply_waits_for_a_new_one(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    await rotation.preview()
    assert rotation.can_apply and not rotation.stale
    assert "create 1 image (build-hkg-01)" in rotation.ask_apply()
    rotation.keep = 3
    assert rotation.stale and not rotation.can_apply and rotation.confirming == ""  # the pending question is gone too
    assert rotation.apply_blocked == "Changed since the preview: preview again."
    assert rotation.ask_apply() == "" and rotation.notice == "Not applied: Changed since the preview: preview again."
    assert await rotation.confirm_apply() is None
    await rotation.preview()
    assert rotation.can_apply
    for change in (lambda: setattr(rotation, "stop_if_running", True), lambda: setattr(rotation, "name_prefix", "weekly"),
                   lambda: rotation.choose([ids_by_name(mock_emulator)["db-hkg-01"]]),
                   lambda: setattr(rotation, "delete_first_when_full", True), lambda: setattr(rotation, "start_after", False)):
        await rotation.preview()
        change()
        assert rotation.stale and not rotation.can_apply
    assert custom(mock_emulator, "HKG-A") == {i: n for i, n in custom(mock_emulator, "HKG-A").items() if not n.startswith(("nightly", "weekly"))}


async def test_a_field_changed_while_the_preview_runs_leaves_it_stale(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    running = controller.tasks.spawn(rotation.preview())
    await asyncio.sleep(0)
    assert rotation.previewing and not rotation.can_apply and rotation.apply_blocked == "A preview is running."
    rotation.keep = 4
    await running
    assert rotation.plan is not None and rotation.stale and not rotation.can_apply


async def test_confirm_applies_once_and_the_studio_shows_the_new_image(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01", "ci-nyc-01")
    await rotation.preview()
    question = rotation.ask_apply()
    assert question == ("Apply policy nightly: create 2 images (build-hkg-01, ci-nyc-01), delete 0 images, "
                        "stop and restart 0 instances.")
    seen: list[dict] = []
    rotation.observe(lambda change: seen.append(dict(change["new"])), "progress")
    first = controller.tasks.spawn(rotation.confirm_apply())
    await asyncio.sleep(0)
    assert rotation.applying and not rotation.can_apply
    second = await rotation.confirm_apply()  # the double click
    outcome = await first
    assert second is None and outcome is not None and outcome.ok
    for zone in ("HKG-A", "NYC-A"):
        assert sum(n.startswith("nightly-") for n in custom(mock_emulator, zone).values()) == 1
    assert [row["result"] for row in rotation.outcome_rows] == ["created", "created"]
    assert rotation.outcome_summary.startswith("Policy nightly: 2 created, 0 deleted, 0 skipped, 0 failed")
    assert {row["zone"]: row["used"] for row in rotation.outcome_quota} == {"HKG-A": 2, "NYC-A": 3}
    assert set(rotation.progress.values()) == {"done"} and any("creating the image…" in s.values() for s in seen)
    assert rotation.plan is None and not rotation.can_apply  # spent: Apply waits for a new preview
    names = set(controller.inventory.images_in("HKG-A")["name"])  # the studio reloaded
    assert any(name.startswith("nightly-") for name in names)
    assert controller.inventory.quota_for("HKG-A").count == 2
    assert any(row["kind"] == "create" and str(row["image_name"]).startswith("nightly-") for row in controller.activity.rows)
    assert controller.activity.notice == rotation.outcome_summary
    assert await rotation.confirm_apply() is None  # no confirmation pending


async def test_keep_two_after_three_applies_leaves_two_owned_images(controller, mock_emulator, mock_aclient):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    made = []
    for _ in range(3):
        outcome = await apply(rotation)
        assert outcome is not None and outcome.ok, rotation.error
        made.append(outcome.results[0].image_id)
    assert outcome.results[0].deleted == (made[0],)
    from zenlayer_widgets.widgets.rotation_view import RotationView

    assert f"− {rotation.image_names[made[0]]}" in RotationView(rotation).outcome.value  # deleted, by name
    owned = owned_images(ledger_for(mock_aclient), account_of(mock_aclient), "nightly")
    left = custom(mock_emulator, "HKG-A")
    assert {i for i in left if i in owned} == {made[1], made[2]}
    assert "web-golden-2025" in left.values() and len(left) == 3  # the foreign image is untouched
    await rotation.preview()
    old = left[made[1]]
    assert f"delete 1 image ({old})" in rotation.ask_apply()  # the next run names what it deletes


async def test_a_running_instance_is_skipped_without_stop_if_running_and_the_reason_is_shown(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "web-hkg-01")
    await rotation.preview()
    (row,) = rotation.plan_rows
    assert row["action"] == "skip" and row["reason"] == RUNNING_NOT_ALLOWED
    assert not rotation.can_apply and rotation.apply_blocked == "Nothing to create or delete."
    assert rotation.ask_apply() == "" and "Nothing to create or delete" in rotation.notice
    rotation.stop_if_running = True
    await rotation.preview()
    (row,) = rotation.plan_rows
    assert row["action"] == "create" and row["stop_start"]
    assert "stop and restart 1 instance (web-hkg-01)" in rotation.ask_apply()
    outcome = await rotation.confirm_apply()
    assert outcome is not None and outcome.ok, rotation.error
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    assert mock_emulator.backend.instances[web].status == "RUNNING"  # started again
    assert sum(n.startswith("nightly-") for n in custom(mock_emulator, "HKG-A").values()) == 1


async def test_a_bad_prefix_or_keep_is_a_clear_message_and_changes_nothing(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    await rotation.preview()
    plan = rotation.plan
    rotation.name_prefix = "bad pfx!"
    images = account_images(mock_emulator)
    assert await rotation.preview() is None
    assert rotation.error.startswith("Not previewed: name_prefix 'bad pfx!' cannot make a valid image name: ")
    assert "space" in rotation.error.lower() and "Traceback" not in rotation.error
    assert rotation.plan is plan and rotation.stale and not rotation.can_apply  # the old preview stays, stale
    rotation.name_prefix = "x" * 10
    await rotation.preview()
    assert "at most" in rotation.error and "characters" in rotation.error
    rotation.name_prefix = ""
    await rotation.preview()
    assert rotation.error == "Not previewed: Type a name prefix: the images are named <prefix>-<YYYYMMDDTHHMM> (UTC)."
    rotation.name_prefix, rotation.keep = "nightly", 0
    await rotation.preview()
    assert rotation.error == "Not previewed: keep must be from 1 to 5, not 0"
    rotation.keep = 2
    rotation.choose([])
    await rotation.preview()
    assert rotation.error == "Not previewed: Choose at least one instance for the policy."
    assert account_images(mock_emulator) == images


async def test_a_zone_full_of_foreign_images_fails_clearly_and_nothing_is_deleted(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "api-fra-01", "build-hkg-01")
    rotation.delete_first_when_full = True  # even so: the policy never deletes what it did not make
    frankfurt = custom(mock_emulator, "FRA-A")
    await rotation.preview()
    fra = next(row for row in rotation.plan_rows if row["instance"] == "api-fra-01")
    assert fra["action"] == "fail" and fra["reason"] == ("zone FRA-A is full (5/5) of images this policy does not own; "
                                                         "nothing deleted")
    assert "1 instance will fail (api-fra-01)." in rotation.ask_apply()
    outcome = await rotation.confirm_apply()
    assert outcome is not None and not outcome.ok
    assert rotation.error.startswith("Policy nightly: 1 failed (") and "FRA-A is full (5/5)" in rotation.error
    assert "nothing deleted" in rotation.error
    assert custom(mock_emulator, "FRA-A") == frankfurt
    assert sum(n.startswith("nightly-") for n in custom(mock_emulator, "HKG-A").values()) == 1  # the other zone went ahead


async def test_api_errors_are_one_line_and_never_carry_the_secret(mock_emulator):
    secret = "definitely-wrong-secret-456"
    async with mock_emulator.async_client(credentials_for(mock_emulator, secret), sandbox=True) as wrong:
        controller = StudioController(wrong, poll_interval=0.1)
        rotation = controller.rotation
        rotation.name_prefix = "nightly"
        rotation.choose([ids_by_name(mock_emulator)["build-hkg-01"]])
        assert await rotation.preview() is None
    assert "AUTH_FAILURE" in rotation.error and "credentials were refused" in rotation.error
    assert secret not in rotation.error and "\n" not in rotation.error and rotation.plan is None


async def test_a_refused_create_is_a_failed_outcome_shown_as_a_message(mock_emulator):
    async with mock_emulator.async_client(sandbox=True, max_throttle_retries=0) as impatient:
        controller = StudioController(impatient, poll_interval=0.1)
        await controller.refresh()
        rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
        await rotation.preview()
        rotation.ask_apply()
        mock_emulator.set_faults(["CreateImage:throttle:1.0"])
        outcome = await rotation.confirm_apply()
    assert outcome is not None and not outcome.ok
    assert rotation.error.startswith("Policy nightly: 1 failed (") and "RateLimited" in rotation.error
    assert not rotation.applying and "nightly" not in " ".join(custom(mock_emulator, "HKG-A").values())


async def test_an_account_switch_drops_the_preview(controller, mock_emulator):
    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    await rotation.preview()
    rotation.ask_apply()
    async with mock_emulator.async_client(sandbox=True) as other:
        controller.switch_client(other, "the other account")
        assert rotation.plan is None and rotation.confirming == "" and not rotation.can_apply
        assert rotation.follow_selection
        for _ in range(200):  # the reload on the new account (tasks.drain would wait out the old client's close)
            if controller.selected_id is not None:
                break
            await asyncio.sleep(0.02)
        assert rotation.instance_ids == (controller.selected_id,)
        controller.tasks.cancel_all()


# -- the view (widgets/rotation_view.py) over the same model, no browser ----------------------------------------------
async def test_the_view_previews_asks_and_applies_through_its_buttons(controller, mock_emulator):
    from zenlayer_widgets.widgets import ImageStudio

    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    view, ids = studio.rotation, ids_by_name(mock_emulator)
    assert "zw-rotation" in view._dom_classes and studio.children.index(view) == studio.children.index(studio.inventory) + 1
    assert view.instances.value == (controller.selected_id,) and len(view.instances.options) == 16
    view.prefix.value = "nightly"
    view.instances.value = (ids["build-hkg-01"], ids["web-hkg-01"])
    assert controller.rotation.instance_ids == (ids["build-hkg-01"], ids["web-hkg-01"]) and not controller.rotation.follow_selection
    assert view.apply_button.disabled and view.start_after.disabled  # no preview yet; start_after only with stop_if_running
    view.preview_button.click()
    await controller.tasks.drain()
    assert "<table" in view.plan.value and "zw-state-create" in view.plan.value and "zw-state-skip" in view.plan.value
    assert "+ nightly-" in view.plan.value and "RUNNING and this policy may not stop it" in view.plan.value
    assert "zw-rotation-quota" in view.plan.value and "Used now" in view.plan.value
    assert not view.apply_button.disabled
    view.keep.value = 3
    assert view.apply_button.disabled and "Changed since this preview" in view.plan.value
    view.preview_button.click()
    await controller.tasks.drain()
    view.apply_button.click()
    assert view.confirm_box.layout.display == "" and view.apply_button.layout.display == "none"
    assert "create 1 image (build-hkg-01)" in view.question.value
    assert view.confirm_button.description == "Confirm: create 1, delete 0"
    view.cancel_button.click()
    assert view.confirm_box.layout.display == "none" and controller.rotation.confirming == ""
    view.apply_button.click()
    view.confirm_button.click()
    view.confirm_button.click()  # the double click: the button is disabled at once, the model refuses a second apply
    await controller.tasks.drain()
    assert "zw-state-created" in view.outcome.value and "build-hkg-01\nHKG-A" in view.outcome.value
    assert sum(n.startswith("nightly-") for n in custom(mock_emulator, "HKG-A").values()) == 1
    assert view.plan.value == "" and view.apply_button.disabled
    studio.close()


async def test_the_view_shows_hostile_names_and_errors_as_text(controller, mock_emulator):
    from zenlayer_widgets.widgets.rotation_view import RotationView, outcome_table, plan_table

    hostile = "<img src=x onerror=alert(1)>"
    row = {"instance_id": "1", "instance": hostile, "zone": "HKG-A", "status": "<b>", "action": "create", "image_name": hostile,
           "deletes": hostile, "quota_before": "1/5", "quota_after": "2/5", "reason": hostile}
    assert "<img" not in plan_table([row]) and "&lt;img" in plan_table([row])
    done = {"instance_id": "1", "zone": "HKG-A", "result": "created", "image_name": hostile, "image_id": "i", "deleted": "",
            "reason": hostile, "seconds": 1.0}
    assert "<img" not in outcome_table([done], {"1": hostile})
    view = RotationView(controller.rotation)
    controller.rotation.error = hostile
    assert "<img" not in view.status.value and "zw-error-box" in view.status.value


async def test_a_policy_another_apply_holds_is_a_clear_message_and_nothing_changes(controller, mock_emulator, mock_aclient):
    from zenlayer_widgets.core.ledger.ownership import live_owners
    from zenlayer_widgets.core.policy import lease

    rotation = rotation_for(controller, mock_emulator, "build-hkg-01")
    assert await rotation.preview() is not None and rotation.ask_apply()
    held, _ = lease.claim_run(ledger_for(mock_aclient), account_of(mock_aclient), "nightly", "nightly", "20261201T0000")
    try:  # a cron job (or a colleague's notebook) is applying the same policy right now
        before = account_images(mock_emulator)
        assert await rotation.confirm_apply() is None
        assert "nightly is being applied by" in rotation.error and "changed nothing" in rotation.error
        assert account_images(mock_emulator) == before and not rotation.applying
    finally:
        live_owners.discard(held.owner)

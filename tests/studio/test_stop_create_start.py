"""The studio's stop-create-start flow, the Start action and the activity panel, through the controller."""

from __future__ import annotations

import csv

from shared import ids_by_name
from zenlayer_widgets.studio.activity import Activity
from zenlayer_widgets.studio.controller import StudioController
from zenlayer_widgets.widgets.create_form import CreateForm


async def test_a_running_instance_is_stopped_imaged_and_started_again_and_the_activity_lists_it(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    stops: list[bool] = []
    original = mock_emulator.backend.stop_instances
    mock_emulator.backend.stop_instances = lambda ids, force=True: (stops.append(force), original(ids, force))[1]
    controller.select(web)
    controller.set_name("备份-01")
    assert not controller.can_submit and controller.can_cycle and controller.start_after and not controller.force_stop
    form = CreateForm(controller)
    assert form.cycle_box.layout.display == "" and form.start_button.layout.display == "none"
    result = await controller.submit_cycle()
    assert result is not None and result.status == "AVAILABLE" and stops == [False]  # graceful, sent explicitly
    assert mock_emulator.backend.instances[web].status == "RUNNING"
    assert result.stopped_at < result.started_at and "downtime" in form.downtime.value
    kinds = [(row["kind"], row["outcome"]) for row in controller.activity.rows]
    # one row per action, where it stands now: not the create's "submitted" nor the start "planned" before the stop
    assert kinds == [("start", "done"), ("create", "available"), ("stop", "done")]
    start = controller.activity.rows[0]
    assert start["request_id"] and start["instance"] == web and start["downtime_s"] is not None
    assert "RUNNING again" in controller.activity.notice and "备份-01" in controller.activity.notice


async def test_stop_is_never_offered_where_another_check_blocks_the_image(controller, mock_emulator):
    ids = ids_by_name(mock_emulator)
    controller.select(ids["web-hkg-01"])
    controller.set_name("bad name with spaces")  # a bad name: stopping would not make the image possible
    assert not controller.can_cycle and not controller.only_power_blocks
    form = CreateForm(controller)
    assert form.cycle_box.layout.display == "none" and form.stop_button.layout.display == "none"
    running_in_sin = next(i for i in controller.inventory.instance_list
                          if i.zone_id in ("SIN-E", "LAX-A") and i.instance_status == "RUNNING")
    controller.select(running_in_sin.instance_id)
    controller.set_name("fine-name")
    assert not controller.can_cycle and await controller.submit_cycle() is None
    assert mock_emulator.backend.instances[running_in_sin.instance_id].status == "RUNNING"


async def test_start_after_off_and_force_leave_it_stopped_then_start_instance_starts_it(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    forces: list[bool] = []
    original = mock_emulator.backend.stop_instances
    mock_emulator.backend.stop_instances = lambda ids, force=True: (forces.append(force), original(ids, force))[1]
    controller.select(web)
    controller.set_name("left-stopped")
    controller.start_after, controller.force_stop = False, True
    result = await controller.submit_cycle()
    assert result.status == "AVAILABLE" and result.started_at is None and forces == [True]
    assert controller.selected_instance.instance_status == "STOPPED" and controller.can_start
    await controller.start_selected()
    assert mock_emulator.backend.instances[web].status == "RUNNING" and controller.notice.endswith("is RUNNING.")
    assert controller.activity.rows[0]["kind"] == "start" and controller.activity.rows[0]["request_id"]


async def test_the_activity_survives_a_new_controller_filters_and_exports_csv(controller, mock_aclient, mock_emulator, tmp_path):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    controller.select(web)
    controller.set_name("kept-in-ledger")
    await controller.submit_cycle()
    fresh = StudioController(mock_aclient)  # a kernel restart: a new controller reads the same ledger
    fresh.activity.reload()
    assert {row["kind"] for row in fresh.activity.rows} >= {"stop", "create", "start"}
    fresh.activity.kind = "stop"
    assert [row["kind"] for row in fresh.activity.rows] == ["stop"]
    fresh.activity.kind = ""
    fresh.activity.instance_id = "no-such-instance"
    assert fresh.activity.rows == []
    fresh.activity.instance_id = web
    path = fresh.activity.export_csv(tmp_path / "exports")
    assert path.parent == tmp_path / "exports" and path.name.startswith("activity-") and path.suffix == ".csv"
    with path.open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(fresh.activity.rows) and {r["kind"] for r in rows} >= {"stop", "create", "start"}
    assert all(r["instance"] == web for r in rows)
    fresh.close()


def test_an_unknown_kind_is_refused():
    import pytest
    import traitlets

    activity = Activity(lambda: None)
    with pytest.raises(traitlets.TraitError, match="kind must be one of"):
        activity.kind = "reboot"


async def test_a_restart_owed_after_a_crash_is_announced_and_start_instance_settles_it(controller, mock_aclient, mock_emulator):
    from zenlayer_widgets.core.create import stop_instance_async
    from zenlayer_widgets.core.ledger import ledger_for
    from zenlayer_widgets.core.restart import pending_restart, plan_restart

    web = ids_by_name(mock_emulator)["web-hkg-01"]
    plan_restart(ledger_for(mock_aclient), mock_aclient, web, "HKG-A", "crashed-mid-way")  # what a create writes before stopping
    await stop_instance_async(mock_aclient, web, poll_interval=0.1)  # ...and then the kernel died
    fresh = StudioController(mock_aclient, poll_interval=0.1)
    await fresh.refresh()
    assert web in fresh.activity.notice and "Start instance" in fresh.activity.notice
    fresh.select(web)
    assert fresh.can_start
    await fresh.start_selected()
    assert mock_emulator.backend.instances[web].status == "RUNNING"
    assert pending_restart(ledger_for(mock_aclient), mock_aclient, web) is None
    await fresh.refresh()
    assert web not in fresh.activity.notice
    fresh.close()


async def test_stop_create_start_asks_first_names_the_instance_and_its_button_follows_the_choices(controller, mock_emulator):
    web = ids_by_name(mock_emulator)["web-hkg-01"]
    controller.select(web)
    controller.set_name("asked-first")
    form = CreateForm(controller)
    assert form.cycle_button.description == "Stop, create the image and start it again"
    form.start_after.value = False  # unticking "start again" changes what the button says
    assert form.cycle_button.description == "Stop, create the image and leave it STOPPED"
    form.force_stop.value = True
    assert form.cycle_button.description == "Force off, create the image and leave it STOPPED"
    form.start_after.value, form.force_stop.value = True, False
    form.cycle_button.click()  # one click starts no outage: it asks, naming the instance and what happens
    await controller.tasks.drain()
    assert mock_emulator.backend.instances[web].status == "RUNNING" and controller.progress is None
    assert form.cycle_confirm.layout.display == "" and form.cycle_button.layout.display == "none"
    assert "web-hkg-01 (HKG-A) will be shut down gracefully, imaged, then started again" in form.cycle_question.value
    form.cycle_cancel_button.click()
    assert form.cycle_confirm.layout.display == "none" and mock_emulator.backend.instances[web].status == "RUNNING"
    form.cycle_button.click()
    form.cycle_confirm_button.click()
    await controller.tasks.drain()
    assert controller.progress is not None and controller.progress.status == "AVAILABLE"


async def test_every_step_of_the_loop_shows_as_it_happens_and_the_downtime_is_one_figure(controller, mock_emulator, tmp_path):
    from datetime import datetime, timezone

    from zenlayer_widgets.widgets.render import loop_step

    web = ids_by_name(mock_emulator)["web-hkg-01"]
    sent: list[datetime] = []
    original = mock_emulator.backend.stop_instances
    mock_emulator.backend.stop_instances = lambda ids, force=True: (sent.append(datetime.now(timezone.utc)), original(ids, force))[1]
    controller.select(web)
    controller.set_name("one-downtime")
    form = CreateForm(controller)
    steps: list[str] = []
    states: list[str] = []
    checklist: list[str] = []
    progress_lines: list[str] = []

    def seen(_change: object) -> None:
        step = loop_step(controller.progress)
        if step and (not steps or steps[-1] != step):
            steps.append(step)
        instance = controller.selected_instance
        if instance is not None and (not states or states[-1] != instance.instance_status):
            states.append(instance.instance_status)
        checklist.append(form.checks.value)
        progress_lines.append(form.progress.value)

    controller.observe(seen, ["progress", "inventory"])
    result = await controller.submit_cycle()
    assert result is not None and result.status == "AVAILABLE"
    assert steps == ["stopping", "stopped", "imaging", "starting", "running"]
    # the table follows the loop too (IMAGING comes from the reload after the request: too short to assert on)
    assert states[:3] == ["RUNNING", "STOPPING", "STOPPED"] and "STARTING" in states and states[-1] == "RUNNING"
    assert "submitting…" not in progress_lines[0] and "stopping the instance" in progress_lines[0]  # not "submitting… 0 s"
    assert any("The instance is STOPPED and being imaged." in c for c in checklist)
    assert any("The instance is being started again (STARTING)." in c for c in checklist)
    # the downtime starts when the stop is sent (the shutdown counts) and ends RUNNING again: one figure everywhere
    assert datetime.fromisoformat(result.stopped_at) <= sent[0]
    figure = result.downtime
    assert figure is not None and figure >= 0.4  # two 0.2 s transitions at least: STOPPING and STARTING
    start = controller.activity.rows[0]
    assert start["kind"] == "start" and start["downtime_s"] == figure
    assert f"downtime <b>{figure:.1f} s</b>" in form.downtime.value
    assert f"offline {figure:.1f} s" in controller.activity.notice and "web-hkg-01 was offline" in controller.activity.notice
    path = controller.activity.export_csv(tmp_path)
    with path.open() as handle:
        assert float(next(csv.DictReader(handle))["downtime_s"]) == figure
    from zenlayer_widgets.core.runbook import summary

    assert summary(result)["downtime_s"] == figure

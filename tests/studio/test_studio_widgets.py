"""The widgets as views: what each part shows for the controller's state (no browser)."""

from __future__ import annotations

from shared import ids_by_name
from zenlayer_widgets.widgets import ImageStudio
from zenlayer_widgets.widgets.instances import picker_label


async def studio_for(controller) -> ImageStudio:
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    return studio


async def test_parts_carry_the_documented_classes(controller):
    studio = await studio_for(controller)
    form = studio.form
    assert "zw-instance-picker" in form.picker._dom_classes
    assert "zw-image-name" in form.name._dom_classes
    assert "zw-image-description" in form.description._dom_classes
    assert "zw-preflight" in form.checks._dom_classes
    assert "zw-submit" in form.submit._dom_classes
    assert "zw-progress" in form.progress._dom_classes
    assert "zw-inventory" in studio.inventory._dom_classes
    assert "zw-sandbox-banner" in studio.banner._dom_classes
    assert "SANDBOX MODE" in studio.banner.value


async def test_picker_labels_show_name_zone_and_power_state(controller, emulator):
    studio = await studio_for(controller)
    labels = dict((value, label) for label, value in studio.form.picker.options)
    web = ids_by_name(emulator)["web-hkg-01"]
    assert labels[web] == picker_label("web-hkg-01", "HKG-A", "RUNNING") == "web-hkg-01 · HKG-A · RUNNING"


async def test_submit_disabled_for_a_running_instance_and_stop_offered(controller, emulator):
    studio = await studio_for(controller)
    form = studio.form
    form.picker.value = ids_by_name(emulator)["web-hkg-01"]
    form.name.value = "web-backup"
    assert form.submit.disabled
    assert "stop the instance first" in form.checks.value
    assert form.stop_button.layout.display == ""
    form.stop_button.click()
    assert form.confirm_box.layout.display == "" and form.stop_button.layout.display == "none"
    form.cancel_button.click()
    assert form.confirm_box.layout.display == "none"


async def test_valid_choice_enables_submit_and_invalid_name_disables_it(controller, emulator):
    studio = await studio_for(controller)
    form = studio.form
    form.picker.value = ids_by_name(emulator)["build-hkg-01"]
    form.name.value = "镜像-ok"
    assert not form.submit.disabled
    form.name.value = "a" * 25
    assert form.submit.disabled
    assert "Too long: 25 characters, 1 character over the limit of 24." in form.checks.value


async def test_inventory_shows_each_zone_with_quota_and_marks_refusing_zones(controller):
    studio = await studio_for(controller)
    zones = {box._dom_classes[1]: box for box in studio.inventory.children[2:]}
    assert set(zones) >= {"zw-zone-HKG-A", "zw-zone-FRA-A", "zw-zone-SIN-E", "zw-zone-LAX-A"}
    fra_quota = zones["zw-zone-FRA-A"].children[1].children[1]
    assert "zw-quota" in fra_quota._dom_classes and "5 / 5" in fra_quota.value and "zw-quota-full" in fra_quota.value
    assert "zw-zone-refuses" in zones["zw-zone-SIN-E"]._dom_classes
    assert "not supported" in zones["zw-zone-SIN-E"].children[1].children[1].value
    hkg_table = zones["zw-zone-HKG-A"].children[1].children[0].value
    assert "web-golden-2025" in hkg_table and "<table" in hkg_table


async def test_instance_table_filters_and_pages(controller):
    studio = await studio_for(controller)
    table = studio.instances
    table.page_size = 5
    table.render()
    assert "1–5 of 16 instances" in table.page_label.value
    table.next_button.click()
    assert "6–10 of 16" in table.page_label.value
    table.zone.value = "HKG-A"
    assert "1–4 of 4" in table.page_label.value
    table.state.value = "RUNNING"
    assert "web-hkg-01" in table.table.value and "db-hkg-01" not in table.table.value
    assert "zw-state-RUNNING" in table.table.value
    # the picker offers what the filters let through
    assert {label.split(" · ")[0] for label, _ in studio.form.picker.options} == {"web-hkg-01", "cache-hkg-01"}


async def test_submit_button_creates_shows_progress_and_clears_the_name(controller, emulator):
    studio = await studio_for(controller)
    form = studio.form
    form.picker.value = ids_by_name(emulator)["db-hkg-01"]
    form.name.value = "db-snapshot"
    form.submit.click()
    assert form.submit.disabled  # at once: no second click gets through
    await controller.tasks.drain()
    assert "db-snapshot" in form.progress.value and "AVAILABLE" in form.progress.value
    assert "img-" in form.progress.value and "request <code>T" in form.progress.value
    assert form.name.value == "" and form.submit.disabled
    hkg = next(box for box in studio.inventory.children[2:] if "zw-zone-HKG-A" in box._dom_classes)
    assert "db-snapshot" in hkg.children[1].children[0].value and "2 / 5" in hkg.children[1].children[1].value


async def test_delete_an_image_after_confirmation_frees_quota(controller, emulator):
    studio = await studio_for(controller)
    bar = studio.inventory.delete_bar
    labels = [label for label, _ in bar.picker.options]
    assert any(label.startswith("FRA-A · api-release-1 · img-") for label in labels)
    bar.picker.value = next(v for label, v in bar.picker.options if label.startswith("FRA-A · api-release-1"))
    bar.delete_button.click()
    assert "api-release-1" in bar.confirm_text.value and bar.confirm_button.layout.display == ""
    bar.cancel_button.click()
    assert controller.inventory.quota_for("FRA-A").count == 5
    bar.delete_button.click()
    bar.confirm_button.click()
    await controller.tasks.drain()
    assert controller.inventory.quota_for("FRA-A").count == 4
    assert "api-release-1" not in {i.image_name for i in emulator.backend.images.values()}
    assert not any(label.startswith("FRA-A · api-release-1") for label, _ in bar.picker.options)
    fra = next(box for box in studio.inventory.children[2:] if "zw-zone-FRA-A" in box._dom_classes)
    assert "4 / 5" in fra.children[1].children[1].value


async def test_a_click_that_races_a_change_says_why_nothing_was_sent(controller, emulator):
    studio = await studio_for(controller)
    form = studio.form
    form.picker.value = ids_by_name(emulator)["web-hkg-01"]
    form.name.value = "web-backup"
    form._submit_clicked(form.submit)  # as if the click left the browser before the kernel disabled it
    await controller.tasks.drain()
    assert "Not submitted" in form.progress.value and "RUNNING" in form.progress.value
    assert "web-backup" not in {i.image_name for i in emulator.backend.images.values()}


async def test_filters_set_on_the_controller_show_in_the_table_and_the_picker(controller):
    studio = await studio_for(controller)
    controller.set_filters(zone="SEL-A", name="app")
    assert (studio.instances.zone.value, studio.instances.name.value) == ("SEL-A", "app")
    picked = {label.split(" · ")[0] for label, _ in studio.form.picker.options}
    assert picked == {"app-sel-01", "app-sel-02", controller.selected_instance.instance_name}  # and the chosen one
    studio.instances.name.value = ""  # typing in the view changes the controller's filters
    assert controller.filters.name == "" and controller.filters.zone == "SEL-A"


async def test_a_power_state_change_updates_the_table_not_the_zone_tables(controller, emulator):
    studio = await studio_for(controller)
    zones = studio.inventory.children
    web = ids_by_name(emulator)["web-hkg-01"]
    controller.select(web)
    controller.request_stop()
    await controller.confirm_stop()
    assert studio.inventory.children == zones  # the same widgets: the zone tables were not rebuilt
    labels = dict((value, label) for label, value in studio.form.picker.options)
    assert labels[web] == "web-hkg-01 · HKG-A · STOPPED"
    assert "zw-state-STOPPED" in studio.instances.table.value


async def test_a_filter_set_before_the_first_load_shows_once_the_instances_arrive(aclient):
    from zenlayer_widgets.studio.controller import StudioController

    controller = StudioController(aclient)
    studio = await studio_for(controller)
    controller.set_filters(zone="FRA-A")
    assert studio.instances.zone.value == ""  # nothing listed yet: no FRA-A to show
    await controller.refresh()
    assert studio.instances.zone.value == "FRA-A" and controller.filters.zone == "FRA-A"
    assert {label.split(" · ")[1] for label, _ in studio.form.picker.options} - {controller.selected_instance.zone_id} <= {"FRA-A"}
    controller.close()


async def test_check_again_and_send_again_show_only_after_an_unknown_outcome(controller, emulator):
    from zenlayer_widgets.core.reconcile import CreateOutcomeUnknown

    studio = await studio_for(controller)
    form = studio.form
    assert form.unknown_box.layout.display == "none"
    controller.unknown = CreateOutcomeUnknown("HKG-A", "lost", "a lost answer", (), ids_by_name(emulator)["build-hkg-01"])
    assert form.unknown_box.layout.display == "" and not form.check_again.disabled
    assert form.send_again.disabled  # no intent whose settle window is over: not sure yet
    assert "zw-check-again" in form.check_again._dom_classes and "zw-send-again" in form.send_again._dom_classes
    controller.unknown = None
    assert form.unknown_box.layout.display == "none"

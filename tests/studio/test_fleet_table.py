"""Fleet scale (issue 11): sortable columns, a row click chooses, jump to a page, one match selects, no silent cut."""

from __future__ import annotations

from shared import ids_by_name
from zenlayer_widgets.widgets import ImageStudio
from zenlayer_widgets.widgets import instances as instances_module
from zenlayer_widgets.widgets.instances import more_label


def studio_for(controller) -> ImageStudio:
    return ImageStudio(controller=controller, auto_refresh=False, load=False)


def names_shown(table) -> list[str]:
    return [str(n) for n in table.rows().head(table.page_size)["name"]]


async def test_a_header_click_sorts_and_a_second_reverses(controller):
    table = studio_for(controller).instances
    table.table.click_header("name")
    everything = sorted(controller.instances["name"])
    assert names_shown(table) == everything[: table.page_size]
    assert 'data-sort="name" aria-sort="ascending"' in table.table.value and "Name ▲" in table.table.value
    table.table.click_header("name")
    assert names_shown(table) == sorted(everything, reverse=True)[: table.page_size]
    assert "Name ▼" in table.table.value
    table.table.click_header("power_state")
    states = list(table.rows()["power_state"])
    assert states == sorted(states)
    table.table.click_header("<script>")  # not a column: ignored
    assert table.sort_by == "power_state"


async def test_a_row_click_chooses_that_instance_for_the_form(controller, mock_emulator):
    studio = studio_for(controller)
    db = ids_by_name(mock_emulator)["db-hkg-01"]
    studio.instances.table.click_row(db)
    assert controller.selected_id == db and studio.form.picker.value == db
    assert f'<tr data-id="{db}" class="zw-selected"' in studio.instances.table.value or db not in studio.instances.table.value


async def test_jump_to_a_page(controller):
    table = studio_for(controller).instances
    table.page_size = 5
    table.render()
    assert table.jump.max == 4  # 16 instances
    table.jump.value = 4
    assert "16–16 of 16 instances" in table.page_label.value and table.next_button.disabled
    table.jump.value = 2
    assert "6–10 of 16" in table.page_label.value


async def test_a_filter_with_one_match_selects_it(controller, mock_emulator):
    studio = studio_for(controller)
    edge = ids_by_name(mock_emulator)["edge-sin-01"]
    assert controller.selected_id != edge
    studio.instances.name.value = "edge-sin-01"
    assert controller.selected_id == edge and studio.form.picker.value == edge
    studio.instances.name.value = "edge-sin"  # two matches: the choice stays
    assert controller.selected_id == edge


async def test_the_picker_says_what_it_leaves_out(controller, monkeypatch):
    monkeypatch.setattr(instances_module, "PICKER_LIMIT", 10)
    picker = studio_for(controller).form.picker
    labels = [label for label, _ in picker.options]
    assert labels[-1] == more_label(6) == "… 6 more not listed: type in Find (or click a row in the table)"
    picker.value = ""  # choosing the note chooses nothing
    assert controller.selected_id

"""Every string the API supplies is shown as text, never run as HTML: zone, instance and image names,
descriptions, states. The hostile strings go in through the real emulator and come back over the wire.
"""

from __future__ import annotations

import ipywidgets as W

from zenlayer_widgets.widgets import ImageStudio
from zenlayer_widgets.widgets.render import badge, css_token

SCRIPT = "<script>alert('zone')</script>"
BOLD = "<b>bold</b>"
IMG = '<img src=x onerror="alert(1)">'


def html_of(widget: W.Widget) -> list[str]:
    """The HTML of every ``W.HTML`` in a widget tree."""
    found = [widget.value] if isinstance(widget, W.HTML) else []
    for child in getattr(widget, "children", ()):
        found += html_of(child)
    return found


def plant_hostile_names(mock_emulator) -> dict[str, str]:
    """Give a zone, an instance and a custom image names no browser should run (in the emulator's own records)."""
    backend = mock_emulator.backend
    with backend._lock:  # the emulator has no control endpoint for these fields
        backend._zones["HKG-A"].zone_name = SCRIPT
        web = next(r for r in backend._instances.values() if r.instance_name == "web-hkg-01")
        web.instance_name, web.cached_json = IMG, None
        image = next(i for i in backend._custom.values() if i.image_name == "web-golden-2025")
        image.image_name, image.description = BOLD, SCRIPT
    return {"web": web.instance_id}


def assert_escaped(fragments: list[str]) -> None:
    text = "\n".join(fragments)
    for hostile in (SCRIPT, BOLD, IMG):
        assert hostile not in text, hostile
    assert "&lt;script&gt;" in text


async def test_inventory_shows_hostile_zone_and_image_names_as_text(mock_emulator, controller):
    plant_hostile_names(mock_emulator)
    await controller.refresh()
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    fragments = html_of(studio.inventory)
    assert_escaped(fragments)
    assert any("&lt;b&gt;bold&lt;/b&gt;" in f for f in fragments)  # the image name, shown as typed
    assert any("&lt;script&gt;alert(&#x27;zone&#x27;)&lt;/script&gt;" in f for f in fragments)  # the zone name
    assert "zw-zone-HKG-A" in {c for box in studio.inventory.children[2:] for c in box._dom_classes}


async def test_the_stop_question_shows_a_hostile_instance_name_as_text(mock_emulator, controller):
    ids = plant_hostile_names(mock_emulator)
    await controller.refresh()
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    studio.form.picker.value = ids["web"]
    studio.form.stop_button.click()
    question = studio.form.confirm_text.value
    assert IMG not in question and "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in question
    assert_escaped(html_of(studio) + [SCRIPT.replace("<", "&lt;").replace(">", "&gt;")])


def test_a_hostile_state_or_zone_id_cannot_leave_its_class_attribute():
    pill = badge('RUNNING" onmouseover="alert(1)')
    assert 'onmouseover="' not in pill and "zw-state-RUNNING__onmouseover__alert_1_" in pill
    assert css_token("FRA-A") == "FRA-A" and css_token("a b<c>") == "a_b_c_"
    assert "UNKNOWN" in badge(None)  # type: ignore[arg-type]

"""A studio over a read-only client shows no write control and says READ-ONLY (no browser: the widgets' state)."""

from __future__ import annotations

from pathlib import Path

import zenlayer_widgets.widgets as views
from zenlayer_widgets.studio.controller import StudioController
from zenlayer_widgets.widgets import ImageStudio


async def test_a_read_only_studio_hides_every_write_control(mock_emulator):
    aclient = mock_emulator.async_client(sandbox=True, read_only=True)
    controller = StudioController(aclient, poll_interval=0.1, auto_refresh_seconds=0.2)
    await controller.refresh()
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    assert studio.read_only
    assert studio.form.layout.display == "none" and studio.rotation.layout.display == "none"
    assert "zw-read-only" in studio._dom_classes  # hides the images' Edit / Delete (zenlayer.css)
    assert studio.banner.value.startswith('<div class="zw-banner-read-only"><b>READ-ONLY</b>')
    css = (Path(views.__file__).parent / "zenlayer.css").read_text()
    assert ".zw-read-only .zw-edit-image,\n.zw-read-only .zw-delete-image," in css
    controller.close()
    await aclient.aclose()


async def test_a_writable_studio_keeps_its_controls(controller):
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    assert not studio.read_only
    assert studio.form.layout.display is None and studio.rotation.layout.display is None
    assert "zw-read-only" not in studio._dom_classes and "READ-ONLY" not in studio.banner.value

"""The studio in a real JupyterLab with ZENLAYER_READ_ONLY=1: READ-ONLY said, no write control shown."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from zenlayer_widgets.emulator import start_emulator

from .harness.lab import open_notebook, run_all

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"


@pytest.mark.browser
def test_a_read_only_studio_shows_no_write_control(page: Page, lab_server, tmp_path: Path):
    with start_emulator(transition_seconds=1) as emulator:
        env = {"HOME": str(tmp_path), "ZENLAYER_BASE_URL": emulator.url, "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
               "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password, "ZENLAYER_READ_ONLY": "1"}
        open_notebook(page, lab_server, RUNBOOK, env=env)
        run_all(page)
        expect(page.locator(".zw-banner-read-only")).to_contain_text("READ-ONLY")
        expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("1 / 5")  # the inventory is there to read
        assert page.locator(".zw-zone-HKG-A .zw-edit-image").count() > 0  # in the page, and hidden:
        for write in (".zw-create-form", ".zw-rotation", ".zw-submit", ".zw-delete-image", ".zw-confirm-delete"):
            assert all(not element.is_visible() for element in page.locator(write).all()), write
        for label in ("Create image", "Delete", "Edit", "Stop instance", "Apply…"):
            assert not any(b.is_visible() for b in page.get_by_role("button", name=label, exact=True).all()), label

"""The account picker in a real JupyterLab: two zeno profiles, the studio on the current one, a switch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from zenlayer_widgets.emulator import start_emulator

from .harness.lab import open_notebook, run_all

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"


@pytest.fixture
def two_profiles(tmp_path: Path):
    """An emulator, and a HOME whose zeno files hold a key pair (current) and a token for it."""
    with start_emulator(transition_seconds=1) as emulator:
        folder = tmp_path / "home" / ".zenlayer"
        folder.mkdir(parents=True)
        (folder / "credentials.json").write_text(json.dumps({
            "prod": {"access_key_id": emulator.access_key_id, "access_key_secret": emulator.access_key_password},
            "ci": {"token": emulator.token}}))
        (folder / "credentials.json").chmod(0o600)
        (folder / "config.json").write_text(json.dumps({"current_profile": "prod", "profiles": {}}))
        yield emulator, {"HOME": str(tmp_path / "home"), "ZENLAYER_BASE_URL": emulator.url}


@pytest.mark.browser
def test_switching_the_account_in_the_studio(page: Page, lab_server, two_profiles):
    emulator, env = two_profiles
    open_notebook(page, lab_server, RUNBOOK, env=env)
    run_all(page)
    banner = page.locator(".zw-connection")
    expect(banner).to_contain_text(f"Connected to the Zenlayer Cloud API at {emulator.url}")
    expect(banner).to_contain_text("profile 'prod' in ~/.zenlayer/credentials.json")
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("1 / 5")
    select = page.locator(".zw-profile-picker select")
    expect(select.locator("option")).to_have_count(3)
    select.select_option(label=select.locator("option", has_text=re.compile(r"^ci")).evaluate("o => o.text"))
    expect(page.locator(".zw-progress")).to_contain_text("Switched to profile 'ci': reloading")
    expect(banner).to_contain_text("profile 'ci' in ~/.zenlayer/credentials.json")
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("1 / 5")  # reloaded from the new account
    assert emulator.access_key_password not in page.content() and emulator.token not in page.content()

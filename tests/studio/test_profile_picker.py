"""The studio's account picker: shown when there is a choice; switching reloads everything and says so."""

from __future__ import annotations

import asyncio
import html
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials
from zenlayer_widgets.emulator import RunningEmulator, start_emulator
from zenlayer_widgets.emulator.sandbox import stop_sandbox
from zenlayer_widgets.studio.controller import StudioController
from zenlayer_widgets.widgets import ImageStudio
from zenlayer_widgets.widgets.profile_picker import SANDBOX


@pytest.fixture
def server() -> Iterator[RunningEmulator]:
    """A real loopback server: profiles reach it by base URL, as they would the real API."""
    with start_emulator(transition_seconds=0.2) as running:
        yield running


@pytest.fixture
def profiles_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server: RunningEmulator):
    """Two usable profiles (a key pair and a token) of the same emulator, and a broken one."""
    emulator = server
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ZENLAYER_BASE_URL", emulator.url)
    sandbox = Path(os.environ["ZENLAYER_SANDBOX_DIR"]).parent / f"picker-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(sandbox))
    monkeypatch.setenv("ZENLAYER_SANDBOX_TRANSITION_SECONDS", "0.2")
    folder = tmp_path / ".zenlayer"
    folder.mkdir()
    path = folder / "credentials.json"
    path.write_text(json.dumps({
        "prod": {"access_key_id": emulator.access_key_id, "access_key_secret": emulator.access_key_password},
        "ci": {"token": emulator.token},
        "broken": {"access_key_id": "AKID-HALF"},
    }), encoding="utf-8")
    path.chmod(0o600)
    yield path
    stop_sandbox(sandbox)


async def settle(controller: StudioController) -> None:
    for _ in range(200):
        await asyncio.sleep(0.02)
        if controller.inventory is not None and "refresh" not in controller.busy:
            return
    raise AssertionError("the studio did not reload")


async def studio_on(mock_emulator, profile: str) -> ImageStudio:
    credentials = Credentials(mock_emulator.access_key_id, mock_emulator.access_key_password, source="test", profile=profile)
    controller = StudioController(AsyncZenlayerClient(credentials, base_url=mock_emulator.url), poll_interval=0.1)
    await controller.refresh()
    return ImageStudio(controller=controller, auto_refresh=False, load=False)


async def test_switching_profiles_reloads_everything_and_says_so(profiles_home, server: RunningEmulator) -> None:
    emulator = server
    studio = await studio_on(emulator, "prod")
    dropdown = studio.picker.dropdown
    assert studio.picker.layout.display == "" and "zw-profile-picker" in dropdown._dom_classes
    assert [value for _, value in dropdown.options] == ["prod", "ci", SANDBOX]  # the broken one is not offered
    assert dropdown.value == "prod"
    assert all(emulator.access_key_password not in label and emulator.token not in label for label, _ in dropdown.options)
    first_load = studio.controller.loaded_at

    dropdown.value = "ci"
    controller = studio.controller
    assert controller.inventory is None and controller.instances.empty  # nothing of the old account stays on screen
    assert "Switched to profile 'ci'" in controller.notice and "reloading" in controller.notice
    assert "Switched to profile 'ci'" in html.unescape(studio.form.progress.value)
    await settle(controller)
    assert controller.client.credentials.profile == "ci" and controller.client.credentials.kind == "token"
    assert controller.loaded_at > first_load and len(controller.instances) == 16
    assert "profile 'ci' in ~/.zenlayer/credentials.json" in html.unescape(studio.banner.value)

    dropdown.value = SANDBOX
    await settle(controller)
    assert controller.sandbox and "SANDBOX MODE" in studio.banner.value
    assert "zw-sandbox-banner" in studio.banner._dom_classes and "zw-connection" not in studio.banner._dom_classes
    studio.close()


async def test_a_refused_switch_keeps_the_account_and_says_why(profiles_home, server: RunningEmulator) -> None:
    emulator = server
    studio = await studio_on(emulator, "prod")
    profiles_home.write_text(json.dumps({"prod": json.loads(profiles_home.read_text())["prod"]}), encoding="utf-8")
    studio.picker.dropdown.value = "ci"  # removed from the file meanwhile
    assert "No Zenlayer profile 'ci'" in html.unescape(studio.form.error.value)
    assert studio.picker.dropdown.value == "prod" and studio.controller.client.credentials.profile == "prod"
    studio.close()


async def test_no_picker_with_one_profile_or_none(tmp_path, monkeypatch, controller) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    studio = ImageStudio(controller=controller, auto_refresh=False, load=False)
    assert studio.picker.layout.display == "none"

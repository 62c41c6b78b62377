"""No secret leaks in a real JupyterLab: the studio run with a real key pair, an auth failure with a
wrong one, and a password typed into CredentialsForm. Afterwards the saved notebooks (outputs and
saved widget state), the page, what the kernel sent the browser and the server log are searched.

The emulator (a subprocess) and the key pair are the shared ``cli`` and ``found`` fixtures
(tests/conftest.py, over tests/security/leaks.py); this file lives here for the browser fixtures.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import Page, expect

from security.leaks import Secrets, find_leaks

from .harness.lab import open_notebook, run_all, save_notebook

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


@pytest.fixture(scope="module")
def server(lab_server_factory, found, cli, tmp_path_factory):
    """A JupyterLab whose kernels have the key pair, and which saves widget state into notebooks."""
    settings = tmp_path_factory.mktemp("lab-settings")
    plugin = settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings"
    plugin.parent.mkdir(parents=True)
    plugin.write_text(json.dumps({"saveState": True}))
    return lab_server_factory({**found.key_pair_env(cli.url), "JUPYTERLAB_SETTINGS_DIR": str(settings),
                               "ZENLAYER_JOURNAL": str(settings / "ledger.sqlite3")})


@pytest.fixture
def from_kernel(page: Page) -> list[bytes]:
    """Every websocket frame the browser received (what the kernel and server sent it)."""
    frames: list[bytes] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: frames.append(
        payload if isinstance(payload, bytes) else payload.encode())))
    return frames


def save(page: Page, path: Path) -> dict:
    """Save the notebook in JupyterLab (its docmanager:save command), then read it with its widget state."""
    save_notebook(page, path)
    saved = json.loads(path.read_text())
    assert saved["metadata"]["widgets"][WIDGET_STATE]["state"], "saved without widget state"
    return saved


def assert_no_leaks(found: Secrets, server, page: Page, frames: list[bytes], saved: dict) -> None:
    texts = {
        "saved notebook": json.dumps(saved, ensure_ascii=False),
        "page": page.content(),
        "frames from the kernel": b"\n".join(frames).decode("utf-8", "replace"),
        "JupyterLab and kernel log": server.process.log_path.read_text(errors="replace"),
    }
    hits = [hit for where, text in texts.items() for hit in find_leaks(text, found, where)]
    assert hits == [], hits


@pytest.mark.browser
def test_studio_with_a_key_pair_and_a_refused_one(page: Page, server, found, cli, from_kernel):
    path = open_notebook(page, server, RUNBOOK)
    run_all(page)
    expect(page.locator(".zw-connection")).to_contain_text(f"Connected to the Zenlayer Cloud API at {cli.url}")
    select = page.locator(".zw-instance-picker select")
    select.select_option(label=select.locator("option", has_text="build-hkg-01 · HKG-A").evaluate("o => o.text"))
    page.locator(".zw-image-name input").fill("browser-leak-check")
    page.locator("button.zw-submit").click()
    expect(page.locator(".zw-progress")).to_contain_text("AVAILABLE", timeout=30_000)
    saved = save(page, path)
    assert "browser-leak-check" in json.dumps(saved, ensure_ascii=False)  # the saved state is the studio's
    assert_no_leaks(found, server, page, from_kernel, saved)

    refused = open_notebook(page, server, RUNBOOK, env={"ZENLAYER_ACCESS_KEY_PASSWORD": found.wrong_password})
    run_all(page)
    expect(page.locator(".zw-error")).to_contain_text("credentials were refused")
    expect(page.locator(".zw-error")).to_contain_text("AUTH_FAILURE_SIGNATURE_MISMATCH")
    assert_no_leaks(found, server, page, from_kernel, save(page, refused))


@pytest.mark.browser
def test_a_password_typed_into_credentials_form(page: Page, server, found, cli, from_kernel, tmp_path):
    """The box empties as soon as the kernel has the password; the kernel never sends it back."""
    source = tmp_path / "sign_in.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import zenlayer_widgets as zw\n"
        "form = zw.CredentialsForm(then=lambda client: zw.ImageStudio(client, auto_refresh=False))\nform")]), source)
    path = open_notebook(page, server, source, env={"ZENLAYER_ACCESS_KEY_ID": "", "ZENLAYER_ACCESS_KEY_PASSWORD": ""})
    run_all(page)
    page.locator(".zw-key-id input").fill(found.key_id)
    password = page.locator(".zw-key-password input")
    expect(password).to_have_attribute("type", "password")
    password.press_sequentially(found.password)
    password.press("Enter")
    expect(password).to_have_value("")
    expect(page.locator(".zw-credentials-status")).to_contain_text("Received the password")
    page.locator("button.zw-connect").click()
    expect(page.locator(".zw-credentials-status")).to_contain_text(f"Connected to {cli.url}")
    expect(page.locator(".zw-connection")).to_contain_text("Connected to the Zenlayer Cloud API")  # the studio
    expect(page.locator(".zw-instance-picker select")).to_contain_text("build-hkg-01")  # and it has loaded
    sent = b"\n".join(from_kernel)
    assert re.search(rb"zw-instance-picker|build-hkg-01", sent)  # the frames were captured
    assert_no_leaks(found, server, page, from_kernel, save(page, path))

"""From an image row in a real JupyterLab (issue 19): Verify (the price asked first, the outcome "booted" kept at
the row, the row's proof line now "verified ... · booted in N s") in the light theme, and Restore (the question
names the instance, says the disk is formatted and that a RUNNING one is stopped first; Restore disabled until the
name is typed; the instance RUNNING again on the image, checked through the official SDK) in the dark theme: both
at 900 px with the file browser open, in one page session."""

from __future__ import annotations

from pathlib import Path

from emulator.helpers import call, sdk
from playwright.sync_api import Page, expect

from zenlayer_widgets.emulator.sandbox import find_sandbox

from .harness.lab import CONTRAST_JS, FIRST_LOAD_MS, THEMES, open_notebook, run_all, screenshot, use_theme

ROOT = Path(__file__).resolve().parents[2]
RUNBOOK = ROOT / "notebooks" / "create_image.ipynb"
# the fit-and-rows server (tests/browser/test_studio_fit_and_rows.py): no extra server start for this file
ENV = {"ZENLAYER_SANDBOX_TRANSITION_SECONDS": "1", "ZW_TEST_SERVER": "fit-and-rows"}
IMAGE, INSTANCE = "web-golden-2025", "web-hkg-01"  # 40 GB image of HKG-A; a RUNNING 40 GB instance with a key pair


def _readable(page: Page, locator, theme: str) -> None:  # noqa: ANN001
    low = [r for r in locator.evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
    assert low == [], f"text under 4.5:1 in {theme} at 900 px:\n" + "\n".join(map(str, low))


def test_verify_and_restore_from_an_image_row_light_and_dark_at_900px(page: Page, lab_server_factory):
    server = lab_server_factory(ENV)
    notebook = open_notebook(page, server, RUNBOOK)
    run_all(page)
    page.set_viewport_size({"width": 900, "height": 1000})
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    expect(page.locator(".jp-FileBrowser")).to_be_visible()
    row = page.locator(".zw-zone-HKG-A .zw-image-row", has_text=IMAGE)
    note = row.locator(".zw-image-note")
    try:
        use_theme(page, THEMES["light"])
        expect(row).to_have_count(1, timeout=FIRST_LOAD_MS)
        row.scroll_into_view_if_needed()
        expect(row.locator(".zw-image-proof")).to_contain_text("not verified")
        row.locator("button.zw-verify-image").click()
        question = row.locator(".zw-proof-question")
        expect(question.locator(".zw-proof-ask")).to_contain_text("per hour")  # the price, asked before anything
        expect(question.locator(".zw-proof-ask")).to_contain_text("terminated and released")
        go = question.locator("button.zw-proof-go")
        expect(go).to_be_enabled()
        _readable(page, row, "light")
        screenshot(row, "verify-question-light-900px")
        go.click()
        expect(note).to_contain_text("booted in", timeout=60_000)
        expect(note).to_contain_text("released")
        expect(row.locator(".zw-image-proof")).to_contain_text("verified")
        expect(row.locator(".zw-image-proof")).to_contain_text("booted in")
        expect(row.locator(".zw-image-proof")).not_to_contain_text("not verified")
        _readable(page, row, "light")
        screenshot(row, "verify-booted-light-900px")

        use_theme(page, THEMES["dark"])
        expect(note).to_contain_text("booted in")  # the outcome stays at the row until the next action
        row.locator("button.zw-restore-image").click()
        question = row.locator(".zw-proof-question")
        chooser = question.locator(".zw-proof-instance select")
        option = chooser.locator("option", has_text=f"{INSTANCE} (")
        expect(option).to_have_count(1)  # the zone's instances, offered
        chooser.select_option(label=option.inner_text())
        ask = question.locator(".zw-proof-ask")
        for said in (INSTANCE, "formatted", "cannot be undone", "stopped gracefully first"):
            expect(ask).to_contain_text(said)
        go = question.locator("button.zw-proof-go")
        expect(go).to_be_disabled()
        typed = question.locator(".zw-proof-typed input")
        typed.press_sequentially(INSTANCE[:-1])
        expect(go).to_be_disabled()
        typed.press_sequentially(INSTANCE[-1])
        expect(go).to_be_enabled()
        _readable(page, row, "dark")
        screenshot(row, "restore-question-dark-900px")
        go.click()
        expect(note).to_contain_text(f"{INSTANCE} is RUNNING on {IMAGE}", timeout=90_000)
        _readable(page, row, "dark")
        row.scroll_into_view_if_needed()
        screenshot(row, "restore-done-dark-900px")
    finally:
        use_theme(page, THEMES["light"])
        page.set_viewport_size({"width": 1400, "height": 1000})
    handle = find_sandbox(Path(server.env["ZENLAYER_SANDBOX_DIR"]).parent / f"lab-{notebook.stem}")
    assert handle is not None
    client, models = sdk(handle)  # the official SDK: what the account really says
    image_id = next(i.imageId for i in call(client, models, "DescribeImages", zoneId="HKG-A", imageType="CUSTOM_IMAGE").dataSet
                    if i.imageName == IMAGE)
    [web] = [i for i in call(client, models, "DescribeInstances", zoneId="HKG-A").dataSet if i.instanceName == INSTANCE]
    assert web.instanceStatus == "RUNNING" and web.imageId == image_id

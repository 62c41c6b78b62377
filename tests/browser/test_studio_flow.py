"""The runbook in a real JupyterLab (and once in Voila) in headless Chromium, used as an operator would.

Each test opens a fresh copy of notebooks/create_image.ipynb with a sandbox directory of its own
(open_notebook), so each kernel starts its own sandbox emulator with the demo fleet; transitions last 1 s so the flows stay quick.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from zenlayer_widgets.rules import validate_image_name

from .harness.lab import open_notebook, open_voila, run_all, screenshot

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
FAST = {"ZENLAYER_SANDBOX_TRANSITION_SECONDS": "1"}
DOCS = Path(__file__).resolve().parents[2] / "docs"


def pick(page: Page, label_start: str) -> None:
    """Choose the instance whose picker label starts with ``label_start`` (name · zone)."""
    select = page.locator(".zw-instance-picker select")
    option = select.locator("option", has_text=label_start)
    expect(option).to_have_count(1)
    select.select_option(label=option.evaluate("o => o.text"))


def quota_of(page: Page, zone: str):
    return page.locator(f".zw-zone-{zone} .zw-quota")


def submit_and_wait_available(page: Page, name: str) -> None:
    submit = page.locator("button.zw-submit")
    # the kernel has judged this very name (the browser validates ahead of it)
    expect(page.locator(".zw-preflight .zw-check-unique_name")).to_contain_text(f"No image named '{name}'")
    expect(submit).to_be_enabled()
    submit.click()
    progress = page.locator(".zw-progress")
    expect(progress).to_contain_text(re.compile(r"img-\w+"))
    expect(progress).to_contain_text("AVAILABLE", timeout=30_000)
    expect(progress).to_contain_text(name)


@pytest.fixture
def studio(page: Page, lab_server_factory) -> Page:
    server = lab_server_factory(FAST)
    open_notebook(page, server, RUNBOOK)
    run_all(page)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE")
    expect(quota_of(page, "HKG-A")).to_contain_text("1 / 5")
    return page


def test_stop_a_running_instance_then_create_a_chinese_named_image(studio: Page):
    page = studio
    pick(page, "web-hkg-01 · HKG-A")
    name = page.locator(".zw-image-name input")
    name.fill("web-golden")
    submit = page.locator("button.zw-submit")
    expect(submit).to_be_disabled()
    expect(page.locator(".zw-preflight")).to_contain_text("The instance is RUNNING; Zenlayer copies the system disk")

    # stop it through the form, with a confirmation, and follow STOPPING -> STOPPED
    page.locator("button.zw-stop-instance").click()
    expect(page.locator(".zw-confirm")).to_contain_text("Stop web-hkg-01 (HKG-A)?")
    page.locator("button.zw-confirm-stop").click()
    picker = page.locator(".zw-instance-picker select")
    expect(picker.locator("option:checked")).to_have_text("web-hkg-01 · HKG-A · STOPPING")
    expect(picker.locator("option:checked")).to_have_text("web-hkg-01 · HKG-A · STOPPED", timeout=15_000)
    expect(page.locator(".zw-instance-table")).to_contain_text("STOPPED")

    # an invalid name: the exact message, the zw-invalid class, submit refused
    name.fill("")
    name.press_sequentially("nightly build!")
    feedback = page.locator(".zw-name-feedback")
    expect(feedback).to_have_text(validate_image_name("nightly build!").message)
    expect(page.locator(".zw-image-name")).to_have_class(re.compile(r"\bzw-invalid\b"))
    expect(submit).to_be_disabled()

    # a valid Chinese name
    name.fill("镜像备份-2026")
    expect(page.locator(".zw-image-name")).not_to_have_class(re.compile(r"\bzw-invalid\b"))
    screenshot(page.locator(".zw-studio"), "studio-ready")
    submit_and_wait_available(page, "镜像备份-2026")
    expect(page.locator(".zw-progress")).to_contain_text(re.compile(r"request T[0-9A-F-]{36}"))
    hkg = page.locator(".zw-zone-HKG-A")
    expect(hkg.locator(".zw-image-row", has_text="镜像备份-2026")).to_contain_text("AVAILABLE")
    expect(quota_of(page, "HKG-A")).to_contain_text("2 / 5")
    screenshot(page.locator(".zw-studio"), "studio-created")
    # the README's picture: the whole studio, in a window tall enough to hold it
    page.set_viewport_size({"width": 1500, "height": 2300})
    page.locator(".zw-sandbox-banner").scroll_into_view_if_needed()
    screenshot(page.locator(".zw-studio"), "studio-readme")


def test_refusing_zone_and_full_quota_are_refused_with_reasons(studio: Page):
    page = studio
    submit = page.locator("button.zw-submit")
    page.locator(".zw-image-name input").fill("edge-base")
    pick(page, "edge-sin-01 · SIN-E")
    expect(page.locator(".zw-preflight")).to_contain_text("Zone SIN-E does not support custom images")
    expect(submit).to_be_disabled()
    expect(page.locator(".zw-zone-SIN-E")).to_contain_text("images not supported")

    # SEL-A is at 4 of 5: one more image fills it, the next is refused
    pick(page, "app-sel-02 · SEL-A")
    page.locator(".zw-image-name input").fill("app-base-v4")
    submit_and_wait_available(page, "app-base-v4")
    expect(quota_of(page, "SEL-A")).to_contain_text("5 / 5")
    expect(quota_of(page, "SEL-A").locator(".zw-quota-full")).to_be_visible()
    page.locator(".zw-image-name input").fill("app-base-v5")
    expect(page.locator(".zw-preflight")).to_contain_text("SEL-A already has 5 of 5 custom images")
    expect(submit).to_be_disabled()

    # deleting an image there (with a confirmation) frees the slot and lets the create through
    row = page.locator(".zw-zone-SEL-A .zw-image-row", has_text="app-base-v1")
    row.locator("button.zw-delete-image").click()
    expect(row.locator(".zw-delete-question")).to_contain_text("Delete app-base-v1 in SEL-A (img-")
    expect(row.locator(".zw-delete-question")).to_contain_text("This cannot be undone. Frees 1 of 5 image slots in SEL-A.")
    row.locator("button.zw-confirm-delete").click()
    expect(quota_of(page, "SEL-A")).to_contain_text("4 / 5")
    expect(page.locator(".zw-zone-SEL-A .zw-image-row", has_text="app-base-v1")).to_have_count(0)
    expect(page.locator(".zw-zone-SEL-A .zw-zone-note")).to_contain_text("app-base-v1 deleted from SEL-A")
    expect(submit).to_be_enabled()


def test_the_same_flow_under_voila(voila_server, page: Page):  # the server outlives the page
    server = voila_server(RUNBOOK, env=FAST)
    open_voila(page, server)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE", timeout=60_000)
    expect(quota_of(page, "HKG-A")).to_contain_text("1 / 5")
    # the page is the app: the runbook's notebook-only text (papermill usage, headless steps) is hidden
    expect(page.get_by_text("Headless: preflight, create, wait")).to_be_hidden()
    expect(page.get_by_text("Interactively", exact=False)).to_be_hidden()
    expect(page.get_by_text("The image studio (interactive)")).to_be_visible()
    pick(page, "build-hkg-01 · HKG-A")
    name = page.locator(".zw-image-name input")
    name.press_sequentially("bad name")
    expect(page.locator(".zw-name-feedback")).to_have_text(validate_image_name("bad name").message)
    name.fill("build-base-1")
    submit_and_wait_available(page, "build-base-1")
    expect(quota_of(page, "HKG-A")).to_contain_text("2 / 5")
    screenshot(page.locator(".zw-studio"), "studio-voila")


def test_slow_calls_never_freeze_the_form(page: Page, lab_server_factory):
    """With 1.5 s per API call, the form keeps validating and the kernel keeps answering mid-refresh."""
    server = lab_server_factory({**FAST, "ZENLAYER_SANDBOX_LATENCY_MS": "1500"})
    open_notebook(page, server, RUNBOOK)
    run_all(page)
    expect(quota_of(page, "HKG-A")).to_contain_text("1 / 5", timeout=30_000)
    refresh = page.locator("button.zw-refresh")
    refresh.click()
    expect(refresh).to_be_disabled()  # the refresh is in flight...
    page.locator(".zw-image-name input").fill("way-too-long-name-for-zenlayer")
    expect(page.locator(".zw-name-feedback")).to_have_text(validate_image_name("way-too-long-name-for-zenlayer").message)
    # ...and the kernel is not blocked by it: the preflight list follows the name at once
    expect(page.locator(".zw-preflight")).to_contain_text("6 characters over the limit", timeout=1_000)
    expect(refresh).to_be_disabled()
    expect(refresh).to_be_enabled(timeout=15_000)

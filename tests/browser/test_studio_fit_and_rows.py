"""The studio in a real JupyterLab: image actions from the image's row, text contrast in light and dark
themes, and the instance table at 900 px with the file browser open (issue 11)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .harness.lab import CONTRAST_JS, THEMES, open_notebook, run_all, screenshot, use_theme

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
# a server of this file's own: the theme is a user setting and must not leak into other tests' pages
ENV = {"ZENLAYER_SANDBOX_TRANSITION_SECONDS": "1", "ZW_TEST_SERVER": "fit-and-rows"}

@pytest.fixture
def studio(page: Page, lab_server_factory) -> Page:
    server = lab_server_factory(ENV)
    open_notebook(page, server, RUNBOOK)
    run_all(page)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE")
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("1 / 5")
    return page


def test_rename_and_delete_an_image_from_its_row(studio: Page):
    page = studio
    row = page.locator(".zw-zone-HKG-A .zw-image-row", has_text="web-golden-2025")
    row.locator("button.zw-edit-image").click()
    name = row.locator(".zw-image-name input")
    expect(name).to_have_value("web-golden-2025")
    name.fill("web golden")  # the create form's live rule
    expect(row.locator(".zw-name-feedback")).to_contain_text("A space at position 4 is not allowed")
    expect(row.locator(".zw-image-name")).to_have_class(re.compile(r"\bzw-invalid\b"))
    name.fill("web-黄金-2026")
    row.locator(".zw-image-description textarea").fill("golden image, renamed from its row")
    row.locator("button.zw-save-image").click()
    renamed = page.locator(".zw-zone-HKG-A .zw-image-row", has_text="web-黄金-2026")
    expect(renamed.locator(".zw-image-note")).to_contain_text("renamed to web-黄金-2026", timeout=30_000)
    expect(renamed.locator(".zw-image-cells")).to_contain_text("golden image, renamed from its row")
    expect(page.locator(".zw-zone-HKG-A .zw-image-cells")).not_to_contain_text("web-golden-2025")
    screenshot(page.locator(".zw-studio"), "image-row-renamed")  # the studio, not the row: a refresh may re-render it

    renamed.locator("button.zw-delete-image").click()
    question = renamed.locator(".zw-delete-question")
    expect(question).to_contain_text("Delete web-黄金-2026 in HKG-A (img-")
    expect(question).to_contain_text("This cannot be undone. Frees 1 of 5 image slots in HKG-A.")
    confirm = renamed.locator("button.zw-confirm-delete")
    expect(confirm).to_have_text("Delete image")
    assert confirm.evaluate("b => b.scrollWidth <= b.clientWidth"), "the confirm button's text is cut off"
    screenshot(page.locator(".zw-studio"), "image-row-delete-question")
    confirm.click()
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("0 / 5", timeout=30_000)
    expect(page.locator(".zw-zone-HKG-A .zw-image-row", has_text="web-黄金-2026")).to_have_count(0)
    # the outcome stays under the zone's table (not in the create form's column) once the row is gone
    expect(page.locator(".zw-zone-HKG-A .zw-zone-note")).to_contain_text("web-黄金-2026 deleted from HKG-A")
    expect(page.locator(".zw-progress")).not_to_contain_text("web-黄金-2026")


@pytest.mark.parametrize("theme", ["light", "dark", "high-contrast"])
def test_every_text_in_the_studio_reads_at_4_5_to_1(studio: Page, theme: str):
    page = studio
    use_theme(page, THEMES[theme])
    try:
        # show the states with the most colour: an invalid name, a failed check, an error, a delete question
        page.locator(".zw-form-name .zw-image-name input, .zw-create-form .zw-image-name input").first.fill("bad name")
        page.locator(".zw-image-row button.zw-delete-image").first.click()
        expect(page.locator(".zw-delete-question").first).to_be_visible()
        results = page.locator(".zw-studio").evaluate(CONTRAST_JS)
        assert len(results) > 50, results  # it saw the studio's text
        low = [r for r in results if r["ratio"] < 4.5]
        assert low == [], f"text under 4.5:1 in {theme}:\n" + "\n".join(map(str, low))
        page.set_viewport_size({"width": 1400, "height": 2400})  # the whole studio on screen for the picture
        page.locator(".zw-studio").scroll_into_view_if_needed()
        screenshot(page.locator(".zw-studio"), f"studio-{theme}")
    finally:
        use_theme(page, THEMES["light"])


def test_the_instance_table_at_900px_with_the_file_browser_open(studio: Page):
    page = studio
    page.set_viewport_size({"width": 900, "height": 1000})
    page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
    expect(page.locator(".jp-FileBrowser")).to_be_visible()
    table = page.locator(".zw-instance-table")
    expect(table.locator("tbody tr").first).to_be_visible()
    page.wait_for_function(  # the layout has settled at the new width
        "() => { const t = document.querySelector('.zw-instance-table'); return t && t.getBoundingClientRect().width > 0; }"
    )
    visible = table.evaluate(
        """(el) => { let left = el.getBoundingClientRect().left, right = el.getBoundingClientRect().right;
        for (let n = el.parentElement; n; n = n.parentElement) { const s = getComputedStyle(n);
          if (s.overflowX !== 'visible') { const r = n.getBoundingClientRect(); left = Math.max(left, r.left); right = Math.min(right, r.right); } }
        return Math.max(0, right - left); }"""
    )
    assert visible >= 300, f"the instance table shows only {visible:.0f} px"
    badge = table.locator("tbody tr").first.locator(".zw-badge")
    badge_box, table_box = badge.bounding_box(), table.bounding_box()
    clip = table.evaluate(
        """(el) => { let right = innerWidth; for (let n = el.parentElement; n; n = n.parentElement) {
          const s = getComputedStyle(n); if (s.overflowX !== 'visible') right = Math.min(right, n.getBoundingClientRect().right); }
          return right; }"""
    )
    assert badge_box and table_box and badge_box["x"] + badge_box["width"] <= clip, "the power state is cut off"
    table.scroll_into_view_if_needed()
    screenshot(page.locator("#main"), "studio-900px")  # what the operator sees at that width


def test_a_header_click_sorts_and_a_row_click_chooses(studio: Page):
    page = studio
    table = page.locator(".zw-instance-table")
    table.locator("th[data-sort='name']").click()
    expect(table.locator("th[data-sort='name']")).to_have_attribute("aria-sort", "ascending")
    expect(table.locator("tbody tr").first).to_contain_text("api-fra-01")
    table.locator("th[data-sort='name']").click()
    expect(table.locator("tbody tr").first).to_contain_text("web-hkg-01")  # reversed
    table.locator("tbody tr", has_text="media-lax-02").click()
    picker = page.locator(".zw-instance-picker select")
    expect(picker.locator("option:checked")).to_contain_text("media-lax-02")  # (Dropdown labels use no-break spaces)
    expect(table.locator("tr.zw-selected")).to_contain_text("media-lax-02")
    expect(page.locator(".zw-preflight")).to_contain_text("Zone LAX-A does not support custom images")

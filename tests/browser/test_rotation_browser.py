"""The studio's rotation policy in a real JupyterLab: a prefix typed, two instances chosen, Preview shows the plan
(one create, one skip with its reason), Apply… asks what will happen, Confirm makes the image, the outcome and the
inventory show it; the section fits 900 px in the light and dark themes (screenshots in test-artifacts/)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Locator, Page, expect

from .harness.lab import CONTRAST_JS, THEMES, open_notebook, run_all, screenshot, use_theme

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
# a server of this file's own: the theme is a user setting and must not leak into other tests' pages
ENV = {"ZENLAYER_SANDBOX_TRANSITION_SECONDS": "1", "ZW_TEST_SERVER": "rotation"}
SLOW = 90_000  # a create on a loaded 2-core machine: submit, CREATING -> AVAILABLE, reload

# Whether anything in the section reaches past its own right edge (a table scrolls inside its box instead).
_OVERFLOW_JS = """(root) => { const edge = root.getBoundingClientRect().right + 1;
  return [...root.querySelectorAll('*')].filter(el => { const box = el.getBoundingClientRect();
    if (box.width === 0 || el.closest('.zw-rotation-scroll')) return false; return box.right > edge; })
  .map(el => `${el.tagName}.${String(el.className).slice(0, 40)} right ${Math.round(el.getBoundingClientRect().right)} > ${Math.round(edge)}: `
    + (el.textContent || '').slice(0, 40)); }"""


def option_label(select: Locator, text: str) -> str:
    """The chooser's label for an instance (ipywidgets writes some spaces as no-break spaces)."""
    option = select.locator("option", has_text=text)
    expect(option).to_have_count(1)
    return option.evaluate("o => o.text")


def fits_and_reads(section: Locator, theme: str) -> None:
    """Nothing reaches past the section's edge, and every text reads at 4.5:1 (WCAG AA)."""
    assert section.evaluate(_OVERFLOW_JS) == [], "something in the rotation section is cut off at 900 px"
    results = section.evaluate(CONTRAST_JS)
    assert len(results) > 20, results  # it saw the section's text
    low = [r for r in results if r["ratio"] < 4.5]
    assert low == [], f"text under 4.5:1 in {theme}:\n" + "\n".join(map(str, low))


def test_preview_apply_confirm_and_the_new_image_in_the_inventory(page: Page, lab_server_factory):
    open_notebook(page, lab_server_factory(ENV), RUNBOOK)
    run_all(page)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE")
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("1 / 5")
    page.set_viewport_size({"width": 900, "height": 1400})
    section = page.locator(".zw-rotation")
    expect(section.locator("h4")).to_have_text("Rotation policy")
    apply = section.locator("button.zw-rotation-apply")
    expect(apply).to_be_disabled()  # nothing previewed yet

    section.locator(".zw-rotation-prefix input").fill("nightly")
    chooser = section.locator(".zw-rotation-instances select")
    chooser.select_option(label=[option_label(chooser, "build-hkg-01 · HKG-A"), option_label(chooser, "web-hkg-01 · HKG-A")])
    section.locator("button.zw-rotation-preview").click()
    rows = section.locator(".zw-rotation-plan table.zw-rotation-rows tbody tr")
    expect(rows).to_have_count(2, timeout=SLOW)
    expect(rows.filter(has_text="build-hkg-01")).to_contain_text("create")
    expect(rows.filter(has_text="build-hkg-01")).to_contain_text("nightly-")
    expect(section.locator(".zw-rotation-plan table.zw-rotation-quota tbody tr")).to_have_text(re.compile(r"HKG-A\s*1\s*2\s*5"))
    expect(rows.filter(has_text="web-hkg-01")).to_contain_text("it is RUNNING and this policy may not stop it")
    expect(section.locator(".zw-rotation-plan")).to_contain_text("1 to create, 0 to delete, 1 skipped")

    expect(apply).to_be_enabled()
    apply.click()
    expect(section.locator(".zw-rotation-question")).to_contain_text(
        "create 1 image (build-hkg-01), delete 0 images, stop and restart 0 instances.")
    confirm = section.locator("button.zw-rotation-confirm")
    expect(confirm).to_have_text("Confirm: create 1, delete 0")
    assert confirm.evaluate("b => b.scrollWidth <= b.clientWidth"), "the confirm button's text is cut off"
    expect(apply).to_be_hidden()
    section.scroll_into_view_if_needed()
    fits_and_reads(section, "light")
    screenshot(section, "rotation-confirm-light")
    confirm.click()

    outcome = section.locator(".zw-rotation-outcome")
    expect(outcome).to_contain_text("1 created, 0 deleted, 1 skipped, 0 failed", timeout=SLOW)
    expect(outcome.locator("tbody tr").filter(has_text="build-hkg-01")).to_contain_text("nightly-")
    expect(apply).to_be_disabled()  # the preview is spent: Apply waits for a new one
    expect(page.locator(".zw-zone-HKG-A .zw-image-row", has_text="nightly-")).to_have_count(1, timeout=SLOW)
    expect(page.locator(".zw-zone-HKG-A .zw-quota")).to_contain_text("2 / 5", timeout=SLOW)
    run_entry = page.locator(".zw-activity tr.zw-activity-run[data-kind='policy']")  # the run: one entry, its actions under it
    expect(run_entry).to_have_count(1, timeout=SLOW)
    expect(run_entry).to_contain_text("Policy nightly · ok · 1 created (nightly-", timeout=SLOW)
    expect(run_entry).to_contain_text("1 skipped")
    steps = page.locator(".zw-activity tr.zw-activity-step[data-kind='create']")
    expect(steps.first).to_contain_text("nightly-")
    activity = page.locator(".zw-activity-panel")

    try:
        for theme in ("light", "dark"):
            use_theme(page, THEMES[theme])
            section.scroll_into_view_if_needed()
            fits_and_reads(section, theme)
            screenshot(section, f"rotation-{theme}")
            activity.scroll_into_view_if_needed()
            low = [r for r in activity.evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
            assert low == [], f"activity text under 4.5:1 in {theme}:\n" + "\n".join(map(str, low))
            screenshot(activity, f"activity-policy-run-{theme}")
    finally:
        use_theme(page, THEMES["light"])

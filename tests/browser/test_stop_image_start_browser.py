"""The operator's loop in a real JupyterLab: a RUNNING instance stopped gracefully from the form, imaged with a
Chinese name, RUNNING again by itself once AVAILABLE, the activity panel listing stop, create and start with
request ids; the new image then renamed and deleted from its row, the activity listing all five actions; and
after a kernel restart the activity is still there (the sandbox's ledger is a file)."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from .harness.lab import CONTRAST_JS, THEMES, open_notebook, run_all, screenshot, use_theme, wait_idle

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
DOCS = Path(__file__).resolve().parents[2] / "docs"
KINDS = ("stop", "create", "start", "rename", "delete")
FAST = {"ZENLAYER_SANDBOX_TRANSITION_SECONDS": "1"}
REQUEST_ID = re.compile(r"T[0-9A-F-]{36}")

# Restart this notebook's kernel (no dialog) and clear the outputs, so Run All starts from blank prompts.
_RESTART_JS = """async () => {
    const app = window.jupyterapp;
    const panel = app.shell.currentWidget;
    await panel.sessionContext.session.kernel.restart();
    await app.commands.execute('notebook:clear-all-cell-outputs');
}"""


# Record, in the page, every text the loop's steps, the checklist's power line, the picker's choice and the progress
# line show (a step can last under a second: polling from the test could miss it).
_RECORD_STEPS_JS = """() => {
    const seen = window.zwSeen = {steps: [], checks: [], states: [], progress: []};
    const keep = (list, text) => { if (text && list[list.length - 1] !== text) list.push(text); };
    const look = () => {
        const now = document.querySelector('.zw-loop-steps .zw-step-now');
        keep(seen.steps, now && now.textContent.replace(/^\\W+/, '').trim());
        const check = document.querySelector('.zw-preflight .zw-check-power_state');
        keep(seen.checks, check && check.textContent);
        const chosen = document.querySelector('.zw-instance-picker select option:checked');
        keep(seen.states, chosen && chosen.textContent.split(' · ').pop());
        const line = document.querySelector('.zw-progress .zw-progress-line');
        keep(seen.progress, line && line.textContent.split(' · ').slice(3).join(' · '));
    };
    new MutationObserver(look).observe(document.body, {subtree: true, childList: true, characterData: true});
    look();
}"""


def _in_order(seen: list[str], wanted: list[str]) -> bool:
    """Whether each of ``wanted`` appears (as part of an entry of ``seen``) after the one before it."""
    at = 0
    for entry in seen:
        if at < len(wanted) and wanted[at] in entry:
            at += 1
    return at == len(wanted)


def activity_row(page: Page, kind: str):
    return page.locator(f".zw-activity tr.zw-activity-row[data-kind='{kind}']")


def _stop_image_start_again(page: Page, name: str) -> str:
    """The loop on web-hkg-01 from the form: the labels follow the choices, it asks first (naming the instance and
    what happens), every step shows as it happens, and one downtime figure (form = Activity); returns the figure."""
    picker = page.locator(".zw-instance-picker select")
    option = picker.locator("option", has_text="web-hkg-01 · HKG-A")
    expect(option).to_have_count(1)
    picker.select_option(label=option.evaluate("o => o.text"))
    page.locator(".zw-image-name input").fill(name)
    expect(page.locator(".zw-preflight .zw-check-unique_name")).to_contain_text(f"No image named '{name}'")

    cycle = page.locator("button.zw-cycle")
    expect(cycle).to_have_text("Stop, create the image and start it again")
    expect(page.locator(".zw-start-after input[type=checkbox]")).to_be_checked()  # on by default
    expect(page.locator(".zw-force-stop input[type=checkbox]")).not_to_be_checked()  # graceful unless chosen
    expect(page.locator(".zw-force-stop")).to_contain_text("only if a graceful stop hangs")
    for choice in (".zw-start-after", ".zw-force-stop"):  # the whole explanation in view: wrapped, not cut off with "…"
        label = page.locator(f"{choice} .widget-label-basic")
        assert label.evaluate("l => l.scrollWidth <= l.clientWidth"), f"{choice}: its label is cut off"
    page.locator(".zw-start-after input[type=checkbox]").uncheck()  # the button says what the choices do
    expect(cycle).to_have_text("Stop, create the image and leave it STOPPED")
    page.locator(".zw-start-after input[type=checkbox]").check()
    expect(cycle).to_have_text("Stop, create the image and start it again")
    assert cycle.evaluate("b => b.scrollWidth <= b.clientWidth + 1"), "the loop button's text is cut off"
    cycle.click()  # an outage: it asks first, naming the instance and what happens
    question = page.locator(".zw-cycle-question")
    expect(question).to_contain_text("web-hkg-01 (HKG-A) will be shut down gracefully, imaged, then started again")
    assert question.evaluate("q => q.scrollWidth <= q.clientWidth + 1"), "the question is cut off"
    expect(picker.locator("option:checked")).to_have_text("web-hkg-01 · HKG-A · RUNNING")  # nothing stopped yet
    page.evaluate(_RECORD_STEPS_JS)
    page.locator("button.zw-confirm-cycle").click()

    progress = page.locator(".zw-progress")
    expect(progress).to_contain_text("AVAILABLE", timeout=60_000)
    expect(progress).to_contain_text(name)
    expect(page.locator(".zw-downtime-box")).to_contain_text("RUNNING again at", timeout=60_000)
    # every step showed as it happened, in the form's steps, the checklist and the picker's power state
    seen = page.evaluate("() => window.zwSeen")
    assert _in_order(seen["steps"], ["Stopping", "Stopped", "Imaging", "Starting"]), seen["steps"]
    assert _in_order(seen["checks"], ["being stopped (STOPPING)", "STOPPED and being imaged",
                                      "being started again (STARTING)"]), seen["checks"]
    assert _in_order(seen["states"], ["STOPPING", "STOPPED", "RUNNING"]), seen["states"]
    assert not any(text.startswith("submitting") for text in seen["progress"][:1]), seen["progress"]
    # one downtime figure: the form's and the Activity's start row (stop sent -> RUNNING again)
    figure = re.search(r"downtime (\d+\.\d) s", page.locator(".zw-downtime-box").inner_text()).group(1)
    expect(activity_row(page, "start").first.locator("td").nth(7)).to_have_text(figure, timeout=30_000)
    expect(picker.locator("option:checked")).to_have_text("web-hkg-01 · HKG-A · RUNNING", timeout=30_000)
    expect(page.locator(".zw-activity-notice")).to_contain_text("RUNNING again")
    return figure


def test_stop_image_start_again_and_the_activity_survives_a_kernel_restart(page: Page, lab_server_factory):
    server = lab_server_factory(FAST)
    open_notebook(page, server, RUNBOOK)
    run_all(page)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE")
    # Run All does not leave the page at the last cell: the studio brought itself into view
    expect(page.locator(".zw-sandbox-banner")).to_be_in_viewport()
    picker = page.locator(".zw-instance-picker select")
    cycle = page.locator("button.zw-cycle")
    progress = page.locator(".zw-progress")
    _stop_image_start_again(page, "备份-01")

    for kind in ("stop", "create", "start"):
        expect(activity_row(page, kind).first).to_contain_text(REQUEST_ID)
    expect(activity_row(page, "start").first).to_contain_text("done")
    expect(activity_row(page, "create").first).to_contain_text("备份-01")
    # the README's picture: the instance RUNNING again, the image AVAILABLE, and the next name typed, so the
    # form offers the loop again (its button and both checkboxes)
    page.locator(".zw-create-form .zw-image-name input").fill("备份-03")
    expect(cycle).to_be_visible()
    expect(page.locator(".zw-start-after")).to_be_visible()
    page.set_viewport_size({"width": 1500, "height": 3400})  # the whole studio, the rotation section and the activity too
    page.locator(".zw-sandbox-banner").scroll_into_view_if_needed()
    screenshot(page.locator(".zw-studio"), "studio", DOCS)
    page.locator(".zw-create-form .zw-image-name input").fill("")
    # the last create's progress belongs to web-hkg-01: choosing another instance does not leave it under that one
    picker.select_option(label=picker.locator("option", has_text="build-hkg-01 · HKG-A").evaluate("o => o.text"))
    expect(progress).not_to_contain_text("备份-01")
    expect(page.locator(".zw-downtime-box")).to_have_text("")

    # the new image's row: rename it, then delete it (confirmed)
    row = page.locator(".zw-zone-HKG-A .zw-image-row", has_text="备份-01")
    expect(row).to_contain_text("AVAILABLE")
    row.locator("button.zw-edit-image").click()
    name = row.locator(".zw-image-name input")
    expect(name).to_have_value("备份-01")
    name.fill("备份-02")
    row.locator("button.zw-save-image").click()
    renamed = page.locator(".zw-zone-HKG-A .zw-image-row", has_text="备份-02")
    expect(renamed.locator(".zw-image-note")).to_contain_text("renamed to 备份-02", timeout=30_000)
    expect(activity_row(page, "rename").first).to_contain_text("备份-02", timeout=30_000)
    renamed.locator("button.zw-delete-image").click()
    expect(renamed.locator(".zw-delete-question")).to_contain_text("Delete 备份-02 in HKG-A (img-")
    expect(renamed.locator(".zw-delete-question")).to_contain_text("This cannot be undone.")
    renamed.locator("button.zw-confirm-delete").click()
    expect(page.locator(".zw-zone-HKG-A .zw-image-row", has_text="备份-02")).to_have_count(0, timeout=30_000)
    expect(activity_row(page, "delete").first).to_contain_text("备份-02", timeout=30_000)
    for kind in KINDS:
        expect(activity_row(page, kind).first).to_contain_text(REQUEST_ID)

    page.evaluate(_RESTART_JS)
    wait_idle(page)
    run_all(page)
    expect(page.locator(".zw-sandbox-banner")).to_contain_text("SANDBOX MODE")
    for kind in KINDS:
        expect(activity_row(page, kind).first).to_contain_text(REQUEST_ID, timeout=30_000)
    expect(activity_row(page, "create").first).to_contain_text("备份-01")
    expect(activity_row(page, "rename").first).to_contain_text("备份-02")
    expect(activity_row(page, "delete").first).to_contain_text("备份-02")

    # the same loop, and what it shows, in the dark theme at 900 px with the file browser open
    use_theme(page, THEMES["dark"])
    try:
        page.set_viewport_size({"width": 900, "height": 1000})
        page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        expect(page.locator(".jp-FileBrowser")).to_be_visible()
        figure = _stop_image_start_again(page, "备份-04")
        assert page.locator(".zw-downtime-box").evaluate("b => b.scrollWidth <= b.clientWidth + 1"), "downtime cut off"
        expect(activity_row(page, "create").first).to_contain_text("备份-04")
        low = [r for r in page.locator(".zw-create-form").evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
        assert low == [], "text under 4.5:1 in dark at 900 px:\n" + "\n".join(map(str, low))
        page.locator(".zw-create-form").scroll_into_view_if_needed()
        screenshot(page.locator("#main"), "stop-image-start-dark-900px")
        assert figure in page.locator(".zw-downtime-box").inner_text()
        picker = page.locator(".zw-instance-picker select")  # the progress stays with web-hkg-01, not the next one
        picker.select_option(label=picker.locator("option", has_text="build-hkg-01 · HKG-A").evaluate("o => o.text"))
        expect(page.locator(".zw-progress")).not_to_contain_text("备份-04")
    finally:
        use_theme(page, THEMES["light"])
        page.set_viewport_size({"width": 1400, "height": 1000})

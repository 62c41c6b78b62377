"""The studio's Activity in a real JupyterLab lists the run history's runs; a run's output notebook under the server's
root is a link that opens it in Lab, one elsewhere (a scheduler's staging folder) shows its absolute path."""

from __future__ import annotations

import uuid
from pathlib import Path

import nbformat
from playwright.sync_api import BrowserContext, Page, expect

from shared import credentials_for
from zenlayer_widgets.api import ZenlayerClient
from zenlayer_widgets.core.ledger import account_of, open_ledger
from zenlayer_widgets.core.runs import FAILED, OK, end_run, start_run
from zenlayer_widgets.emulator import start_emulator

from .harness.lab import CONTRAST_JS, THEMES, open_notebook, run_all, screenshot, use_theme

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"


def test_a_run_in_the_activity_opens_its_output_notebook_in_lab(page: Page, context: BrowserContext, lab_server,
                                                                 tmp_path: Path):
    marker = f"rotation output {uuid.uuid4().hex[:8]}"
    output = lab_server.root_dir / "runs" / f"rotate-{uuid.uuid4().hex[:8]}.ipynb"
    output.parent.mkdir(exist_ok=True)
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(f"# {marker}")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, output)
    elsewhere = tmp_path / "staging" / "rotate_images-2026-12-07.ipynb"
    ledger_path = tmp_path / "ledger.sqlite3"
    with start_emulator(transition_seconds=1) as emulator:
        with ZenlayerClient(credentials_for(emulator), base_url=emulator.url) as client:
            ledger, account = open_ledger(str(ledger_path)), account_of(client)
            for policy, where, outcome in (("nightly", output, OK), ("verify-images", elsewhere, FAILED)):
                end_run(ledger, start_run(ledger, account, policy, runbook="rotate_images.ipynb", kind="cron",
                                          output=str(where)), outcome)
        env = {"HOME": str(tmp_path), "ZENLAYER_BASE_URL": emulator.url, "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
               "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password, "ZENLAYER_JOURNAL": str(ledger_path)}
        open_notebook(page, lab_server, RUNBOOK, env=env)
        run_all(page)
        runs = page.locator(".zw-activity-runs")
        runs.scroll_into_view_if_needed()
        expect(runs.locator("tr.zw-run-row")).to_have_count(2)
        expect(runs.locator("tr.zw-run-row").first).to_contain_text("verify-images")
        expect(runs.locator("code.zw-run-output-path")).to_have_text(str(elsewhere))
        link = runs.locator("a.zw-run-output")
        expect(link).to_have_text(output.name)
        expect(link).to_have_attribute("href", f"/lab/tree/runs/{output.name}")
        page.set_viewport_size({"width": 900, "height": 1000})
        try:
            for theme in ("light", "dark"):  # the table at 900 px, readable in both themes
                use_theme(page, THEMES[theme])
                runs.scroll_into_view_if_needed()
                low = [r for r in runs.evaluate(CONTRAST_JS) if r["ratio"] < 4.5]
                assert low == [], f"text under 4.5:1 in {theme} at 900 px:\n" + "\n".join(map(str, low))
                screenshot(runs, f"activity-runs-{theme}-900px")
        finally:
            use_theme(page, THEMES["light"])
            page.set_viewport_size({"width": 1400, "height": 1000})
        with context.expect_page() as opened:
            link.click()
        tab = opened.value
        expect(tab.locator(".jp-NotebookPanel .jp-RenderedMarkdown h1")).to_contain_text(marker, timeout=60_000)
        assert tab.url.endswith(f"/tree/runs/{output.name}")  # Lab moves it into a workspace: /lab/workspaces/auto-N/tree/...

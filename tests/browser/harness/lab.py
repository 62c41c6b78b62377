"""Driving JupyterLab pages as a person would: open a notebook copy, Run All, wait, screenshot,
and watch the browser console for errors."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from urllib.parse import quote

import nbformat
from playwright.sync_api import ConsoleMessage, Error, Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .jupyter_env import add_kernelspec, use_kernel
from .servers import LabServer, VoilaServer

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
KERNEL_TIMEOUT_MS = 60_000
RUN_TIMEOUT_MS = 120_000

# The status bar's kernel item ("Python 3 (ipykernel) | Idle"). The toolbar's execution
# indicator is not enough: it says idle while the status bar still reads "No Kernel |
# Initializing", and a Run All then runs nothing.
_KERNEL_IDLE = """(() => {
    const item = document.querySelector("#jp-main-statusbar [title^='Change kernel for']");
    const text = item ? item.textContent.trim() : '';
    return !text.startsWith('No Kernel') && text.endsWith('| Idle');
})()"""
_PROMPTS = ".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt"
_SETTLED_JS = f"""() => {_KERNEL_IDLE}
    && ![...document.querySelectorAll('{_PROMPTS}')].some(p => p.textContent.includes('*'))"""
# State of the notebook's code cells: prompt text and whether the cell has any code.
_CELLS_JS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell')].map(c => ({
    prompt: (c.querySelector('.jp-InputPrompt')?.textContent ?? '').trim(),
    code: (c.querySelector('.cm-content')?.textContent ?? '').trim() !== '',
}))"""
_VOILA_CDN_CSS = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@*/css/*.css"
_EXECUTED = re.compile(r"^\[\d+\]:$")


def open_notebook(
    page: Page,
    lab_server: LabServer,
    source_path: Path,
    *,
    name: str | None = None,
    env: Mapping[str, str] | None = None,
) -> Path:
    """Copy `source_path` into the server's root as `<name>.ipynb` and open it in `page`.

    `name` defaults to the source's stem plus a random suffix (a reopened notebook would reuse
    its kernel, and Lab autosaves outputs into the file, so every test gets a fresh copy).
    With `env`, this notebook's kernel gets those variables on top of the server's (through a
    kernelspec of its own). Returns the copy's path; waits until the kernel is idle.
    """
    name = name or f"{source_path.stem}-{uuid.uuid4().hex[:8]}"
    dest = lab_server.root_dir / f"{name}.ipynb"
    if dest.exists():
        raise FileExistsError(f"{dest} exists: pick a name not used before in this session")
    nb = nbformat.read(source_path, as_version=4)
    # every notebook gets a sandbox of its own: the sandbox is shared by a user's kernels and persists
    sandbox = Path(lab_server.env["ZENLAYER_SANDBOX_DIR"]).parent / f"lab-{name}"
    use_kernel(nb, add_kernelspec(lab_server.env, {"ZENLAYER_SANDBOX_DIR": str(sandbox), **(env or {})}))
    nbformat.write(nb, dest)
    page.goto(lab_server.url(f"/lab/tree/{quote(dest.name)}?reset"))
    try:
        page.wait_for_function(f"() => {_KERNEL_IDLE}", timeout=KERNEL_TIMEOUT_MS)
    except PlaywrightTimeoutError:
        status = page.locator("#jp-main-statusbar").inner_text()
        raise AssertionError(
            f"{dest.name}: no idle kernel after {KERNEL_TIMEOUT_MS // 1000}s (status bar: "
            f"{' '.join(status.split())!r}); server log:\n{lab_server.log_tail()}"
        ) from None
    return dest


def run_all(page: Page, *, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
    """Run > Run All Cells, then wait until every non-empty code cell has run.

    Raises AssertionError (with the error outputs shown) if a cell failed and the rest were
    skipped.
    """
    before = page.evaluate(_CELLS_JS)
    first = next((i for i, cell in enumerate(before) if cell["code"]), None)
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
    if first is not None:  # the top cell's prompt changes as soon as Run All took effect
        expect(page.locator(_PROMPTS).nth(first)).not_to_have_text(
            before[first]["prompt"], timeout=timeout_ms
        )
    wait_idle(page, timeout_ms=timeout_ms)
    after = page.evaluate(_CELLS_JS)
    skipped = [
        i for i, cell in enumerate(after) if cell["code"] and not _EXECUTED.match(cell["prompt"])
    ]
    if skipped:
        errors = page.locator(
            ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
        ).all_inner_texts()
        raise AssertionError(
            f"Run All stopped: code cells {skipped} did not run. Error outputs:\n"
            + "\n---\n".join(errors)
        )


def wait_idle(page: Page, *, timeout_ms: float = RUN_TIMEOUT_MS) -> None:
    """Wait until the kernel is idle and no cell is queued or running ([*])."""
    page.wait_for_function(_SETTLED_JS, timeout=timeout_ms)


# Save one open notebook through JupyterLab's own command (what Ctrl+S runs), without depending on
# where the keyboard focus is: activate its panel, run docmanager:save, and answer once the save
# has completed (the command's promise resolves after the file was written).
_SAVE_JS = """async (name) => {
    const app = window.jupyterapp;
    if (!app) { throw new Error('window.jupyterapp is missing: start JupyterLab with expose_app_in_browser'); }
    const panel = [...app.shell.widgets('main')].find(w => w.context && w.context.path.split('/').pop() === name);
    if (!panel) { throw new Error(name + ' is not open in JupyterLab'); }
    app.shell.activateById(panel.id);
    await panel.context.ready;
    await app.commands.execute('docmanager:save');
    return panel.context.contentsModel.last_modified;
}"""


def save_notebook(page: Page, path: Path) -> None:
    """Save the open notebook `path` as File > Save does, and return once it is on disk and clean.

    Runs JupyterLab's ``docmanager:save`` command on that notebook's panel (so the keyboard focus
    does not matter, unlike Ctrl+S) and waits for the save to finish. The saved file includes the
    widget state when the widget manager's ``saveState`` setting is on. With that setting, any
    later widget change marks the notebook dirty again, so "no .jp-mod-dirty" is no sign of a
    save: the command's completion and the file's new mtime are.
    """
    before = path.stat().st_mtime_ns
    wait_idle(page)
    page.evaluate(_SAVE_JS, path.name)
    assert path.stat().st_mtime_ns != before, f"{path.name} was not written by the save"


def open_voila(page: Page, voila: VoilaServer) -> None:
    """Load the Voila app in `page` (the notebook runs on load; no Run All in Voila).

    Voila's template also links Font Awesome from a CDN although its own bundle carries it;
    those two stylesheets are answered with empty CSS, so the page is the same offline or not
    and makes no internet request.
    """
    page.route(_VOILA_CDN_CSS, lambda route: route.fulfill(content_type="text/css", body=""))
    page.goto(voila.url)


def screenshot(locator: Locator, name: str, folder: Path = ARTIFACTS) -> Path:
    """Save an element screenshot as <folder>/<name>.png (test-artifacts/ by default; for people to look at)."""
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.png"
    locator.screenshot(path=path, animations="disabled")
    return path


class ConsoleWatcher:
    """Collects console errors and uncaught page errors, minus allowlisted ones (regexes)."""

    def __init__(self, page: Page, allowlist: Iterable[str] = ()) -> None:
        self._allow = [re.compile(pattern) for pattern in allowlist]
        self._problems: list[str] = []
        self._reported = 0
        page.on("console", self._on_console)
        page.on("pageerror", self._on_pageerror)

    def _add(self, text: str) -> None:
        if not any(pattern.search(text) for pattern in self._allow):
            self._problems.append(text)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            where = message.location.get("url", "")
            self._add(f"console error: {message.text}" + (f" (at {where})" if where else ""))

    def _on_pageerror(self, error: Error) -> None:
        self._add(f"page error: {error.name}: {error.message}")

    def take_new(self) -> list[str]:
        """Problems not handed out before."""
        new = self._problems[self._reported :]
        self._reported = len(self._problems)
        return new

    def raise_if_any(self) -> None:
        """Fail with every new console error / page error listed."""
        __tracebackhide__ = True
        new = self.take_new()
        if new:
            raise AssertionError(
                f"{len(new)} browser console error(s):\n" + "\n".join(f"  {p}" for p in new)
            )

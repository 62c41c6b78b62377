"""Driving JupyterLab pages as a person would: open a notebook copy, Run All, wait, switch the theme, measure
text contrast, screenshot, and watch the browser console for errors."""

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
# the first image load of a fresh kernel (its ledger opened and migrated): a loaded CI machine took more than 20 s once
FIRST_LOAD_MS = 60_000

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


# Every visible text under an element: its colour against the background actually behind it (the
# nearest opaque ancestor background, with translucent layers composited), as WCAG 2 computes
# contrast. Disabled controls are exempt (WCAG 1.4.3), as are <option>s (drawn by the OS).
CONTRAST_JS = """(root) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return null;
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const background = (el) => {
    const layers = [];
    for (let n = el; n; n = n.parentElement) {
      const c = parse(getComputedStyle(n).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (const layer of layers.reverse()) colour = over(layer, colour);
    return colour;
  };
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const results = [];
  for (const el of root.querySelectorAll('*')) {
    if (el.closest('option, .zw-stylesheet, style, script')) continue;
    if (el.closest(':disabled, .mod-disabled, [aria-disabled="true"]')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    const field = ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName) && (el.value || '').trim();
    if (!own && !field) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
    let opacity = 1;
    for (let n = el; n; n = n.parentElement) opacity *= Number(getComputedStyle(n).opacity);
    const fg = parse(style.color); if (!fg) continue;
    const bg = background(el);
    const text = over([fg[0], fg[1], fg[2], fg[3] * opacity], bg);
    results.push({ text: (field || el.textContent).trim().slice(0, 40), tag: el.tagName, cls: el.className && String(el.className).slice(0, 60),
                   ratio: Math.round(ratio(text, bg) * 100) / 100, fg: style.color, bg: 'rgb(' + bg.slice(0, 3).map(Math.round).join(',') + ')' });
  }
  return results;
}"""

#: JupyterLab's themes by short name (a theme is a user setting: a test that changes it uses a server of its own).
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark", "high-contrast": "JupyterLab Dark High Contrast"}


def use_theme(page: Page, theme: str) -> None:
    """Switch JupyterLab to ``theme`` (a full name, THEMES' values) and wait until its stylesheet applies."""
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", theme)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", theme, timeout=30_000)
    # the theme's stylesheet has applied when the page background is the theme's own
    page.wait_for_function(
        "(dark) => { const bg = getComputedStyle(document.body).getPropertyValue('--jp-layout-color0').trim();"
        " return dark ? bg === '#111' : bg === 'white'; }",
        arg=theme != THEMES["light"],
    )


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

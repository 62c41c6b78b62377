"""A JupyterLab and a headless Chromium page for the browser benchmarks, from the tests' harness.

Reuses the browser tests' harness, tests/browser/harness (``isolated_env``, ``start_lab``,
``open_notebook``, ``run_all`` and the Chromium settings; never a conftest), so the benchmarks drive the studio exactly as the browser
tests do.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.browser.harness.chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from tests.browser.harness.jupyter_env import isolated_env, stop_sandboxes
from tests.browser.harness.servers import LabServer, start_lab

from .common import REPO

#: The kernel imports this checkout, installed or not (as in the browser tests).
KERNEL_ENV = {"PYTHONPATH": str(REPO)}
NOTEBOOKS = Path(__file__).parent / "notebooks"

#: Installed before any page script: every long task (> 50 ms on the main thread) since load.
LONG_TASKS_JS = """
window.__longTasks = [];
try {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push({start: e.startTime, duration: e.duration});
  }).observe({type: 'longtask', buffered: true});
} catch (e) { window.__longTasks = null; }
"""


@dataclass
class LabSession:
    lab: LabServer
    page: Page

    def kernel_pid(self, notebook: Path) -> int | None:
        """The pid of the kernel running ``notebook`` (Jupyter's sessions API, then the process table)."""
        with urllib.request.urlopen(self.lab.url("/api/sessions")) as answer:  # noqa: S310 - loopback
            sessions = json.load(answer)
        kernel_ids = [s["kernel"]["id"] for s in sessions if Path(s.get("path", "")).name == notebook.name]
        if not kernel_ids:
            return None
        needle = f"kernel-{kernel_ids[0]}.json"
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                with contextlib.suppress(OSError):
                    if needle in (proc / "cmdline").read_bytes().decode(errors="replace"):
                        return int(proc.name)
        return None

    def shutdown_kernels(self) -> None:
        """Shut down every kernel of the server (Jupyter's kernels API)."""
        with urllib.request.urlopen(self.lab.url("/api/kernels")) as answer:  # noqa: S310 - loopback
            kernels = json.load(answer)
        for kernel in kernels:
            request = urllib.request.Request(self.lab.url(f"/api/kernels/{kernel['id']}"), method="DELETE")
            urllib.request.urlopen(request).close()  # noqa: S310 - loopback

    def long_tasks(self) -> list[dict[str, float]] | None:
        """Every long task the page has seen (start and duration in ms, page clock), None if unsupported."""
        return self.page.evaluate("window.__longTasks")


def rss_mib(pid: int) -> float:
    """Resident memory of a process (VmRSS), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def lab_session(server_env: Mapping[str, str] | None = None) -> Iterator[LabSession]:
    """A JupyterLab (kernels see ``server_env``) and a fresh Chromium page watching long tasks."""
    with tempfile.TemporaryDirectory(prefix="zw-bench-") as tmp:
        base = Path(tmp)
        sandboxes = base / "sandboxes"  # each notebook's sandbox goes next to this one (never the user's)
        env = isolated_env(base / "env", {**KERNEL_ENV, "ZENLAYER_SANDBOX_DIR": str(sandboxes / "session"), **(server_env or {})})
        root = base / "root"
        root.mkdir()
        lab = start_lab(root, env, base / "lab.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, env=env)
                try:
                    context = browser.new_context(viewport=VIEWPORT)
                    context.add_init_script(LONG_TASKS_JS)
                    page = context.new_page()
                    page.set_default_timeout(60_000)
                    yield LabSession(lab, page)
                finally:
                    browser.close()
        finally:
            lab.stop()
            stop_sandboxes(sandboxes)

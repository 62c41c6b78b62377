"""Smoke tests of the browser harness on a tiny plain-ipywidgets notebook: the kernel echoes
each keystroke into a label, greeting with $ZW_TEST_GREETING (so tests see the kernel's env)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from playwright.sync_api import Page, expect

from .harness.jupyter_env import execute_notebook
from .harness.lab import ConsoleWatcher, open_notebook, open_voila, run_all, save_notebook, screenshot
from .harness.servers import LabServer, VoilaServer

ECHO = Path(__file__).parent / "fixtures" / "echo.ipynb"
NAME_INPUT = ".zw-test-name input"
LABEL = ".zw-test-label .widget-html-content"


def _type_and_expect_echo(page: Page, text: str, greeting: str) -> None:
    box = page.locator(NAME_INPUT)
    box.press_sequentially(text)
    expect(page.locator(LABEL)).to_have_text(f"{greeting}, {text}!")


@pytest.mark.browser
def test_lab_runs_notebook_and_kernel_echoes_each_keystroke(
    page: Page, lab_server: LabServer
) -> None:
    open_notebook(page, lab_server, ECHO)
    run_all(page)
    expect(page.locator(LABEL)).to_have_text("(type a name)")
    box = page.locator(NAME_INPUT)
    box.press_sequentially("Ada")
    expect(page.locator(LABEL)).to_have_text("Hello, Ada!")
    box.press("Backspace")  # every key is a round trip, not only the last value
    expect(page.locator(LABEL)).to_have_text("Hello, Ad!")
    shot = screenshot(page.locator(".jp-OutputArea-output").filter(has=box), "harness-lab-echo")
    assert shot.stat().st_size > 1000


@pytest.mark.browser
def test_save_notebook_writes_the_run_outputs_wherever_the_focus_is(page: Page, lab_server: LabServer) -> None:
    path = open_notebook(page, lab_server, ECHO)
    run_all(page)
    page.locator(NAME_INPUT).click()  # the keyboard focus in a widget, where Ctrl+S would not reach the notebook
    save_notebook(page, path)
    saved = nbformat.read(path, as_version=4)
    assert any(cell.get("outputs") for cell in saved.cells if cell.cell_type == "code")


@pytest.mark.browser
def test_open_notebook_env_reaches_only_that_kernel(page: Page, lab_server: LabServer) -> None:
    open_notebook(page, lab_server, ECHO, env={"ZW_TEST_GREETING": "Bonjour"})
    run_all(page)
    _type_and_expect_echo(page, "Zoé", "Bonjour")
    assert "ZW_TEST_GREETING" not in lab_server.env


@pytest.mark.browser
def test_run_all_reports_the_failing_cell(page: Page, lab_server: LabServer, tmp_path: Path) -> None:
    broken = nbformat.read(ECHO, as_version=4)
    broken.cells.insert(2, new_code_cell("raise RuntimeError('boom from the fixture')"))
    path = tmp_path / "broken.ipynb"
    nbformat.write(broken, path)
    open_notebook(page, lab_server, path)
    with pytest.raises(AssertionError, match="boom from the fixture"):
        run_all(page)


@pytest.mark.browser
@pytest.mark.parametrize("console_allowlist", [[r"harmless noise"]])
def test_page_collects_console_and_page_errors_except_allowlisted(
    page: Page, console_watcher: ConsoleWatcher
) -> None:
    page.set_content(
        "<script>console.error('harmless noise'); console.error('real problem')</script>"
        "<script>throw new Error('kaboom')</script>"
    )
    expect(page.locator("script")).to_have_count(2)

    problems = console_watcher.take_new()  # consumed here, so this test itself passes

    assert sorted(p.split(" (at ")[0] for p in problems) == [
        "console error: real problem",
        "page error: Error: kaboom",
    ]
    with page.expect_console_message():
        page.evaluate("console.error('real problem again')")
    with pytest.raises(AssertionError, match=r"(?s)1 browser console error.*real problem again"):
        console_watcher.raise_if_any()
    assert console_watcher.take_new() == []


@pytest.mark.browser
def test_voila_renders_the_app_and_kernel_echoes(
    page: Page, voila_server: Callable[..., VoilaServer]
) -> None:
    server = voila_server(ECHO, env={"ZW_TEST_GREETING": "Hola"})
    open_voila(page, server)
    _type_and_expect_echo(page, "Ana", "Hola")
    screenshot(page.locator(".widget-vbox").filter(has=page.locator(NAME_INPUT)), "harness-voila-echo")


def test_headless_run_builds_the_widgets_and_echo(jupyter_env: dict[str, str], tmp_path: Path) -> None:
    nb = nbformat.read(ECHO, as_version=4)
    nb.cells.append(new_code_cell("name.value = 'Grace'"))
    path = tmp_path / "echo.ipynb"
    nbformat.write(nb, path)

    _, widgets = execute_notebook(path, {**jupyter_env, "ZW_TEST_GREETING": "Hi"})

    labels = [s for s in widgets.values() if "zw-test-label" in s.get("_dom_classes", ())]
    assert [s["value"] for s in labels] == ["Hi, Grace!"]

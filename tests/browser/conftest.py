"""Real-browser tests: JupyterLab and Voila servers, and Debian's headless Chromium.

Fixtures (every test using one is marked `browser` automatically; mark it explicitly too):

- `jupyter_env` (session) -> dict: the environment servers, kernels and Chromium run with:
  Jupyter/IPython/XDG dirs, HOME and TMPDIR in temp; no ZENLAYER_* (see tests/conftest.py).
- `lab_server` (session) -> LabServer: JupyterLab on a free loopback port (`.url(path)` adds the
  token, `.root_dir`, `.env`, `.log_tail()`). Its kernels inherit `jupyter_env`.
- `lab_server_factory` (session) -> `start(env=None) -> LabServer`: a JupyterLab whose kernels
  also see `env` (e.g. ZENLAYER_SANDBOX_TRANSITION_SECONDS); one per distinct env, reused.
  For one notebook only, prefer `open_notebook(..., env=...)`.
- `voila_server` -> `start(notebook, *, env=None) -> VoilaServer` (`.url`); stopped after the test.
- `browser` (package) -> playwright Browser; `context` -> fresh BrowserContext (1400x1000);
  `page` -> Page in it. A test FAILS if its page logged a console error or threw an uncaught
  error; override `console_allowlist` (list of regexes, empty by default) for known-harmless
  messages, or consume provoked ones with `console_watcher.take_new()`. A failed test leaves a
  full-page screenshot in test-artifacts/failures/.

Helpers in .lab: open_notebook, run_all, wait_idle, open_voila, screenshot; headless runs with
.jupyter_env.execute_notebook (or papermill inside `.jupyter_env.environ(jupyter_env)`).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from .chromium import CHROMIUM, CHROMIUM_ARGS, VIEWPORT
from .jupyter_env import isolated_env
from .lab import ARTIFACTS, ConsoleWatcher
from .servers import LabServer, VoilaServer, start_lab, start_voila

# Kernel start + widget render on a busy 2-core CI machine can exceed Playwright's 5 s default.
expect.set_options(timeout=20_000)

_WATCHER = pytest.StashKey[ConsoleWatcher]()
_CALL_REPORT = pytest.StashKey[pytest.TestReport]()
_BROWSER_FIXTURES = {"page", "context", "browser", "lab_server", "lab_server_factory", "voila_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Anything that uses a browser or a server fixture is a browser test, marked or not."""
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Keep the call phase's report, so `page` can screenshot a failed test at teardown."""
    report = yield
    if report.when == "call":
        item.stash[_CALL_REPORT] = report
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a passing test that produced console errors; attach them to a failing one."""
    __tracebackhide__ = True
    watcher = item.stash.get(_WATCHER, None)
    try:
        result = yield
    except BaseException:
        if watcher is not None and (problems := watcher.take_new()):
            item.add_report_section("call", "browser console", "\n".join(problems))
        raise
    if watcher is not None:
        watcher.raise_if_any()
    return result


@pytest.fixture(scope="session", autouse=True)
def _fresh_failure_screenshots() -> None:
    """test-artifacts/failures/ shows this run's failures only."""
    shutil.rmtree(ARTIFACTS / "failures", ignore_errors=True)


@pytest.fixture(scope="session")
def jupyter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The session's isolated environment (Jupyter/IPython/XDG dirs, HOME, TMPDIR in temp)."""
    return isolated_env(tmp_path_factory.mktemp("jupyter-env"))


@pytest.fixture(scope="session")
def lab_server_factory(
    tmp_path_factory: pytest.TempPathFactory, jupyter_env: dict[str, str]
) -> Iterator[Callable[..., LabServer]]:
    """`start(env=None) -> LabServer`: a JupyterLab whose kernels see `env` on top of
    `jupyter_env`. One server per distinct env for the whole session; all stop at the end."""
    servers: dict[frozenset[tuple[str, str]], LabServer] = {}

    def start(env: Mapping[str, str] | None = None) -> LabServer:
        key = frozenset((env or {}).items())
        if key not in servers:
            base = tmp_path_factory.mktemp("lab")
            root = base / "root"
            root.mkdir()
            servers[key] = start_lab(root, {**jupyter_env, **(env or {})}, base / "lab.log")
        return servers[key]

    yield start
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def lab_server(lab_server_factory: Callable[..., LabServer]) -> LabServer:
    """The session's default JupyterLab (kernels inherit `jupyter_env`)."""
    return lab_server_factory()


@pytest.fixture
def voila_server(
    tmp_path: Path, jupyter_env: dict[str, str]
) -> Iterator[Callable[..., VoilaServer]]:
    """`start(notebook, *, env=None) -> VoilaServer` serving one notebook; stopped after the test."""
    servers: list[VoilaServer] = []

    def start(notebook: Path, *, env: Mapping[str, str] | None = None) -> VoilaServer:
        log = tmp_path / f"voila-{len(servers)}-{notebook.stem}.log"
        servers.append(start_voila(notebook.resolve(), {**jupyter_env, **(env or {})}, log))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(scope="package")
def browser(jupyter_env: dict[str, str]) -> Iterator[Browser]:
    """Debian's Chromium, headless, with the offline-safe flags.

    Package scope on purpose: Playwright's sync API marks its asyncio loop as running between
    calls, which breaks every pytest-asyncio test run after it, so Playwright lives only while
    the tests in tests/browser run (keep asyncio tests out of this package).
    """
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            env=jupyter_env,  # its caches and ~/.pki stay in temp too
        )
        yield browser
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (no cookies, storage or cache shared between tests)."""
    context = browser.new_context(viewport=VIEWPORT)
    yield context
    context.close()


@pytest.fixture
def console_allowlist() -> list[str]:
    """Regexes (re.search) of console/page errors a test accepts. Override to extend; keep short."""
    return []


@pytest.fixture
def page(
    context: BrowserContext, console_allowlist: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """A page in its own context, 1400x1000, that fails its test on console or page errors.

    If the test failed, a full-page screenshot goes to test-artifacts/failures/.
    """
    page = context.new_page()
    watcher = ConsoleWatcher(page, console_allowlist)
    request.node.stash[_WATCHER] = watcher
    yield page
    call = request.node.stash.get(_CALL_REPORT, None)
    if call is not None and call.failed:
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid)
        page.screenshot(path=ARTIFACTS / "failures" / f"{name}.png", full_page=True)
    watcher.raise_if_any()  # anything that arrived after the test body


@pytest.fixture
def console_watcher(page: Page, request: pytest.FixtureRequest) -> ConsoleWatcher:
    """The watcher of this test's `page`: `take_new()` consumes errors a test provoked on purpose."""
    return request.node.stash[_WATCHER]

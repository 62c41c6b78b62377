"""Fixtures for real-browser tests: JupyterLab / Voila servers and Debian's headless Chromium.

Browser, context and page come from pytest-playwright, configured here for /usr/bin/chromium
(its `--headed`, `--slowmo`, `--tracing`, `--screenshot` options work). Every `page` fails its
test on any browser console error or uncaught page error unless a test overrides the
`console_allowlist` fixture. See tests/browser/README.md for the API.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from .jupyter_env import isolated_env
from .lab import ConsoleWatcher
from .servers import LabServer, VoilaServer, start_lab, start_voila

CHROMIUM = "/usr/bin/chromium"
# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1400, "height": 1000}
# Kernel start + widget render on a busy 2-core CI machine can exceed Playwright's 5 s default.
expect.set_options(timeout=20_000)

_WATCHER = pytest.StashKey[ConsoleWatcher]()
_BROWSER_FIXTURES = {"page", "context", "browser", "lab_server", "lab_server_factory", "voila_server"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Anything that uses a browser or a server fixture is a browser test, marked or not."""
    for item in items:
        if _BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail a passing test that produced console errors; attach them to a failing one."""
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


@pytest.fixture(scope="session")
def browser_type_launch_args(
    browser_type_launch_args: dict, jupyter_env: dict[str, str]
) -> dict:
    """pytest-playwright's launch options, pointed at Debian's Chromium (offline-safe flags)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": CHROMIUM_ARGS,
        "env": jupyter_env,  # its profile, caches and ~/.pki stay in temp too
    }


@pytest.fixture(scope="session")
def base_url() -> None:
    """No base URL: tests navigate to the servers' full URLs. (Overriding pytest-playwright's
    fallback fixture also silences its deprecation warning under pytest 9.)"""
    return None


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    return {**browser_context_args, "viewport": VIEWPORT}


@pytest.fixture
def console_allowlist() -> list[str]:
    """Regexes (re.search) of console/page errors a test accepts. Override to extend; keep short."""
    return []


@pytest.fixture
def page(
    page: Page, console_allowlist: list[str], request: pytest.FixtureRequest
) -> Iterator[Page]:
    """pytest-playwright's fresh page (own context, 1400x1000) that fails on console errors."""
    watcher = ConsoleWatcher(page, console_allowlist)
    request.node.stash[_WATCHER] = watcher
    yield page
    watcher.raise_if_any()  # anything that arrived after the test body


@pytest.fixture
def console_watcher(page: Page, request: pytest.FixtureRequest) -> ConsoleWatcher:
    """The watcher of this test's `page`: `take_new()` consumes errors a test provoked on purpose."""
    return request.node.stash[_WATCHER]

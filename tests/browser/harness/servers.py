"""JupyterLab and Voila servers as subprocesses on free loopback ports, for browser tests and benchmarks."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from jupyter_core.paths import jupyter_config_path

START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
_LOG_TAIL = 4000

#: The repository: its voila.json is the one the README's Voila lines read (they run from here).
REPO_ROOT = Path(__file__).resolve().parents[3]


class ServerStartError(RuntimeError):
    """A server exited or never answered; the message carries the tail of its log."""


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class _Process:
    """A server subprocess in its own session, logging to a file."""

    argv: Sequence[str]
    env: Mapping[str, str]
    log_path: Path
    cwd: Path
    proc: subprocess.Popen[bytes] = field(init=False)

    def __post_init__(self) -> None:
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv built by this module
                list(self.argv),
                env=dict(self.env),
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_tail(self) -> str:
        text = self.log_path.read_text(errors="replace")
        return text[-_LOG_TAIL:]

    def wait_until_answers(self, url: str, what: str) -> None:
        """Poll `url` until it returns 200; raise with the log if the process dies or hangs."""
        deadline = time.monotonic() + START_TIMEOUT
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    self.stop()
                    raise ServerStartError(
                        f"{what} exited with code {self.proc.returncode}; log:\n{self.log_tail()}"
                    )
                try:
                    if client.get(url).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.2)
        self.stop()
        raise ServerStartError(
            f"{what} did not answer within {START_TIMEOUT:.0f}s; log:\n{self.log_tail()}"
        )

    def stop(self) -> None:
        """SIGTERM (the server shuts its kernels down); SIGKILL its process group if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()


@dataclass
class _Server:
    port: int
    process: _Process

    def log_tail(self) -> str:
        """The end of the server's log (stdout and stderr)."""
        return self.process.log_tail()

    def stop(self) -> None:
        self.process.stop()


@dataclass
class LabServer(_Server):
    """A running JupyterLab. `env` is the full environment its kernels inherit."""

    token: str
    root_dir: Path
    env: Mapping[str, str]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """`path` (starting with /) on this server, with the token; `path` may carry a query."""
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}{path}{sep}token={self.token}"


def start_lab(root_dir: Path, env: Mapping[str, str], log_path: Path) -> LabServer:
    """Start JupyterLab serving `root_dir`; returns once /api/status answers."""
    port, token = free_port(), secrets.token_hex(16)
    argv = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser", "--allow-root",
        "--ip=127.0.0.1", f"--port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--LabApp.extension_manager=readonly",  # no PyPI queries from the tests
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: lab.save_notebook runs its commands
    ]  # fmt: skip
    process = _Process(argv, env, log_path, cwd=root_dir)
    server = LabServer(port, process, token, root_dir, env)
    process.wait_until_answers(server.url("/api/status"), "JupyterLab")
    return server


@dataclass
class VoilaServer(_Server):
    """A running Voila rendering one notebook at `url`."""

    notebook: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


def start_voila(notebook: Path, env: Mapping[str, str], log_path: Path) -> VoilaServer:
    """Start Voila on `notebook`; returns once its static files answer (no kernel started yet)."""
    port = free_port()
    argv = [
        sys.executable, "-m", "voila", str(notebook),
        "--no-browser", "--Voila.ip=127.0.0.1", f"--port={port}",
        # the repository's voila.json, as the README's Voila lines (run from the repository root) read it
        *(f"--Voila.config_file_paths={path}" for path in (str(REPO_ROOT), *jupyter_config_path())),
    ]  # fmt: skip
    process = _Process(argv, env, log_path, cwd=notebook.parent)
    server = VoilaServer(port, process, notebook)
    process.wait_until_answers(f"{server.url}voila/static/voila.js", "Voila")
    return server

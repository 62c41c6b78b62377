"""Jupyter state kept out of $HOME: isolated directories, per-notebook kernel environments,
and headless notebook execution inside that isolation."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from unittest import mock

import nbformat
from nbclient import NotebookClient

# Variables that would point Jupyter at the developer's own configuration or servers.
_LEAKY_VARS = ("JUPYTER_PATH", "JUPYTER_CONFIG_PATH", "JUPYTER_TOKEN", "JUPYTER_PREFER_ENV_PATH")
_DIRS = {
    "HOME": "home",  # nothing reads the developer's dotfiles (or credentials)
    "TMPDIR": "tmp",
    "JUPYTER_CONFIG_DIR": "jupyter-config",
    "JUPYTER_DATA_DIR": "jupyter-data",
    "JUPYTER_RUNTIME_DIR": "jupyter-runtime",
    "IPYTHONDIR": "ipython",
    "XDG_CONFIG_HOME": "xdg-config",
    "XDG_CACHE_HOME": "xdg-cache",
    "XDG_RUNTIME_DIR": "xdg-runtime",
}
# JupyterLab's "news" toast covers the page; tests never want it.
_PAGE_CONFIG = {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}


def isolated_env(base: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A complete process environment whose Jupyter/IPython/XDG state lives under `base`.

    `extra` is applied last, so callers can set e.g. ZENLAYER_* variables for kernels. Without a
    ZENLAYER_SANDBOX_DIR (the tests' session sets one), the sandbox is `base/sandboxes/session`, never the
    user's own; stop its servers with :func:`stop_sandboxes` before `base` goes.
    """
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY_VARS}
    env.setdefault("ZENLAYER_SANDBOX_DIR", str(base / "sandboxes" / "session"))
    for var, sub in _DIRS.items():
        path = base / sub
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
        env[var] = str(path)
    labconfig = base / _DIRS["JUPYTER_CONFIG_DIR"] / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(json.dumps(_PAGE_CONFIG))
    # Same interpreter for everything the servers start, even if PATH has another python.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env.update(extra or {})
    return env


def stop_sandboxes(root: Path) -> int:
    """Stop every sandbox server whose state file is under ``root``; how many were running."""
    from zenlayer_widgets.emulator.sandbox import STATE_FILE, stop_sandbox

    return sum(stop_sandbox(state.parent, timeout=10) for state in root.rglob(STATE_FILE))


def add_kernelspec(env: Mapping[str, str], kernel_env: Mapping[str, str]) -> str:
    """Install a python kernelspec whose kernels get `kernel_env`; returns its name.

    The spec goes into the isolated JUPYTER_DATA_DIR, which servers rescan on each request.
    """
    name = f"zw-env-{uuid.uuid4().hex[:10]}"
    spec_dir = Path(env["JUPYTER_DATA_DIR"]) / "kernels" / name
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 ({name})",
        "language": "python",
        "env": dict(kernel_env),
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))
    return name


def use_kernel(nb: nbformat.NotebookNode, kernel_name: str) -> None:
    """Point a notebook's metadata at `kernel_name` (so Lab starts that kernel without asking)."""
    nb.metadata["kernelspec"] = {
        "name": kernel_name,
        "display_name": kernel_name,
        "language": "python",
    }


@contextlib.contextmanager
def environ(env: Mapping[str, str]) -> Iterator[None]:
    """Run in-process Jupyter code (nbclient, papermill) with exactly `env` as os.environ."""
    with mock.patch.dict(os.environ, env, clear=True):
        yield


def execute_notebook(
    path: Path, env: Mapping[str, str], *, timeout: int = 60
) -> tuple[nbformat.NotebookNode, dict[str, Any]]:
    """Run a notebook top to bottom on a fresh python3 kernel, headless.

    Raises nbclient's CellExecutionError on the first failing cell. Returns the executed
    notebook and the widget models' state by model id (what a browser would render from).
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, kernel_name="python3", timeout=timeout, resources={"metadata": {"path": str(path.parent)}}
    )
    with environ(env):
        client.execute()
    return nb, dict(client.widget_state)

"""The README's main-job command, as a new user runs it: `make lab` serves the runbook."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_readme_first_screen_gives_the_two_commands():
    first_screen = "\n".join(ROOT.joinpath("README.md").read_text().splitlines()[:20])
    assert "make lab" in first_screen and "make test" in first_screen


def test_make_lab_serves_the_runbook_in_jupyterlab(tmp_path):
    port = free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config")}
    process = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"LAB_PORT={port}"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )
    try:
        url = None
        deadline = time.monotonic() + 120
        output = []
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                assert process.poll() is None, "make lab exited:\n" + "".join(output)
                continue
            output.append(line)
            match = re.search(rf"(http://127\.0\.0\.1:{port}/lab/tree/create_image\.ipynb\?token=\w+)", line)
            url = match.group(1) if match else None
        assert url, "no runbook URL printed:\n" + "".join(output)
        page = httpx.get(url, timeout=30)
        assert page.status_code == 200 and "JupyterLab" in page.text
        token = url.split("token=")[1]
        content = httpx.get(f"http://127.0.0.1:{port}/api/contents/create_image.ipynb?token={token}", timeout=30).json()
        assert content["type"] == "notebook"
        assert (ROOT / "notebooks" / "work" / "create_image.ipynb").exists()  # Lab serves the untracked working copy
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)

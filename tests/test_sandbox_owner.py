"""A sandbox only its user controls: the control endpoints want its token, its folder must be the user's alone,
a pid is trusted only when it is the user's sandbox server, and the log is never opened through a symlink."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.emulator import sandbox
from zenlayer_widgets.emulator.sandbox import CONTROL_HEADER, TOKEN_FILE, SandboxError, ensure_sandbox, find_sandbox, stop_sandbox

#: What a process of another user (or one without the token) sends to each control endpoint.
INTRUDER = """
import json, sys, urllib.request, urllib.error
url, token = sys.argv[1], sys.argv[2]
for command, body in (("reset", {}), ("faults", {"faults": ["*:error:1"], "latencyMs": 5000}), ("advance", {"seconds": 86400})):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["X-Emulator-Control-Token"] = token
    request = urllib.request.Request(f"{url}/_emulator/{command}", json.dumps(body).encode(), headers, method="POST")
    try:
        print(command, urllib.request.urlopen(request, timeout=10).status)
    except urllib.error.HTTPError as error:
        print(command, error.code)
try:
    open(sys.argv[3]).read()
    print("token read")
except OSError:
    print("token unreadable")
"""


#: A Python any user can run (only the standard library is needed).
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable


@pytest.fixture
def sandbox_dir(monkeypatch: pytest.MonkeyPatch):
    directory = Path(os.environ["ZENLAYER_SANDBOX_DIR"]).parent / f"owner-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(directory))
    monkeypatch.setenv("ZENLAYER_SANDBOX_TRANSITION_SECONDS", "0.2")
    yield directory
    stop_sandbox(directory)


def intrude(url: str, directory: Path, token: str = "", as_nobody: bool = False) -> list[str]:
    user = {"user": 65534, "group": 65534, "extra_groups": []} if as_nobody else {}
    python = SYSTEM_PYTHON if as_nobody else sys.executable  # one the other user may run (the venv may be private)
    done = subprocess.run([python, "-c", INTRUDER, url, token, str(directory / TOKEN_FILE)], capture_output=True,
                          text=True, timeout=60, cwd="/", env={"PATH": os.environ.get("PATH", "")}, **user)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")[:4]


def test_without_the_token_no_process_can_reset_fault_or_slow_the_sandbox(sandbox_dir: Path) -> None:
    with zw.connect() as client:
        made = client.create_image(next(i for i in client.list_instances() if i.instance_name == "build-hkg-01").instance_id,
                                   "kept-from-intruders")
        handle = find_sandbox(sandbox_dir)
        assert handle is not None
        as_nobody = os.geteuid() == 0  # as root (CI): a real other user, who cannot read the token either
        said = intrude(handle.url, sandbox_dir, as_nobody=as_nobody)
        assert said[:3] == ["reset 403", "faults 403", "advance 403"]
        assert said[3] == "token unreadable" if as_nobody else True
        assert intrude(handle.url, sandbox_dir, token="guessed-wrong")[:3] == ["reset 403", "faults 403", "advance 403"]
        # nothing changed: the image is there, no fault or latency was set, the clock did not jump
        assert made.image_id in {i.image_id for i in client.list_images("HKG-A", image_type="CUSTOM_IMAGE")}
        assert client.describe_zones()
    assert (sandbox_dir / TOKEN_FILE).stat().st_mode & 0o077 == 0


def test_reset_sandbox_and_the_cli_still_can(sandbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with zw.connect() as client:
        build = next(i for i in client.list_instances() if i.instance_name == "build-hkg-01")
        client.create_image(build.instance_id, "gone-after-reset")
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # reset goes straight to loopback, never through a proxy
        assert "back to the demo fleet" in zw.reset_sandbox()
        names = {i.image_name for i in client.list_images("HKG-A", image_type="CUSTOM_IMAGE")}
        assert "gone-after-reset" not in names
        client.create_image(build.instance_id, "gone-after-cli-reset")
        done = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "reset"], capture_output=True, text=True,
                              timeout=60, env=os.environ)
        assert done.returncode == 0 and "back to the demo fleet" in done.stdout, done.stderr
        assert "gone-after-cli-reset" not in {i.image_name for i in client.list_images("HKG-A", image_type="CUSTOM_IMAGE")}


def test_the_token_is_new_for_every_server(sandbox_dir: Path) -> None:
    ensure_sandbox(0.2, directory=sandbox_dir)
    first = (sandbox_dir / TOKEN_FILE).read_text()
    handle = ensure_sandbox(0.3, directory=sandbox_dir)  # other settings: a new server
    second = (sandbox_dir / TOKEN_FILE).read_text()
    assert first != second
    refused = httpx.post(f"{handle.url}/_emulator/reset", json={}, headers={CONTROL_HEADER: first}, trust_env=False)
    assert refused.status_code == 403
    accepted = httpx.post(f"{handle.url}/_emulator/reset", json={}, headers={CONTROL_HEADER: second}, trust_env=False)
    assert accepted.status_code == 200


def test_a_folder_of_another_user_is_refused(sandbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox_dir.mkdir(mode=0o700, parents=True)
    with monkeypatch.context() as as_another_user, pytest.raises(SandboxError, match="belongs to another user"):
        as_another_user.setattr(os, "geteuid", lambda: os.stat(sandbox_dir).st_uid + 1)
        ensure_sandbox(0.2, directory=sandbox_dir)
    assert os.listdir(sandbox_dir) == []  # nothing was written into it


def test_a_folder_others_may_write_to_is_refused(sandbox_dir: Path) -> None:
    sandbox_dir.mkdir(mode=0o700, parents=True)
    sandbox_dir.chmod(0o777)
    try:
        with pytest.raises(SandboxError, match=r"writable by other users \(mode 0777\); run chmod go-w"):
            ensure_sandbox(0.2, directory=sandbox_dir)
        assert os.listdir(sandbox_dir) == []
    finally:
        sandbox_dir.chmod(0o700)


def test_a_symlink_in_place_of_the_log_is_not_followed(sandbox_dir: Path, tmp_path: Path) -> None:
    sandbox_dir.mkdir(mode=0o700, parents=True)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    (sandbox_dir / "sandbox.log").symlink_to(victim)
    with pytest.raises(SandboxError, match="cannot be opened as a plain file"):
        ensure_sandbox(0.2, directory=sandbox_dir)
    assert victim.read_text() == "precious\n"


def test_a_pid_is_trusted_only_when_it_is_this_users_sandbox_server(sandbox_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sandbox_dir.mkdir(mode=0o700, parents=True)
    # a process whose command line looks like this folder's server, and one that is something else (a reused pid)
    lookalike = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "-m", "zenlayer_widgets.emulator",
                                  "sandbox-serve", "--dir", str(sandbox_dir)])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert sandbox._pid_alive(lookalike.pid, sandbox_dir)
        assert not sandbox._pid_alive(other.pid, sandbox_dir)
        assert not sandbox._pid_alive(lookalike.pid, sandbox_dir.parent / "elsewhere")
        state = {"url": "http://127.0.0.1:9", "pid": other.pid, "port": 9, "access_key_id": "X", "access_key_password": "Y",
                 "transition_seconds": 0.2, "latency_ms": 0.0, "directory": str(sandbox_dir), "nonce": ""}
        (sandbox_dir / sandbox.STATE_FILE).write_text(json.dumps(state))
        assert not stop_sandbox(sandbox_dir)  # a reused pid is never signalled
        assert other.poll() is None
        with monkeypatch.context() as as_another_user:
            as_another_user.setattr(os, "geteuid", lambda: os.stat(sandbox_dir).st_uid + 1)
            assert not sandbox._pid_alive(lookalike.pid, sandbox_dir)  # another user's process is not ours
    finally:
        for process in (lookalike, other):
            process.kill()
            process.wait()

"""One sandbox per user: kernels (processes) share it, it survives restarts, it resets on demand."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.emulator.sandbox import STATE_FILE, find_sandbox, stop_sandbox

KERNEL = """
import sys, time, zenlayer_widgets as zw
client = zw.connect()
if sys.argv[1] == "create":
    build = next(i for i in client.list_instances() if i.instance_name == "build-hkg-01")
    print(client.create_image(build.instance_id, sys.argv[2]).image_id)
else:
    print(" ".join(f"{i.image_name}={i.image_status}" for i in client.list_images("HKG-A", image_type="CUSTOM_IMAGE")))
print(client.base_url)
"""


@pytest.fixture
def sandbox_dir(monkeypatch: pytest.MonkeyPatch):
    """A sandbox directory of this test's own (quick transitions); its server is stopped afterwards."""
    directory = Path(os.environ["ZENLAYER_SANDBOX_DIR"]).parent / f"shared-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(directory))
    monkeypatch.setenv("ZENLAYER_SANDBOX_TRANSITION_SECONDS", "0.2")
    yield directory
    stop_sandbox(directory)


def kernel(*args: str) -> list[str]:
    """Run a separate Python process (a kernel) against the sandbox; its output lines."""
    done = subprocess.run([sys.executable, "-c", KERNEL, *args], capture_output=True, text=True, timeout=120, env=os.environ)
    assert done.returncode == 0, done.stderr
    return done.stdout.split("\n")


def custom_images(client) -> dict[str, str]:
    return {i.image_name: i.image_status for i in client.list_images("HKG-A", image_type="CUSTOM_IMAGE")}


def wait_available(client, name: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while custom_images(client).get(name) != "AVAILABLE":
        assert time.monotonic() < deadline, custom_images(client)
        time.sleep(0.1)


def test_two_kernels_share_one_sandbox(sandbox_dir: Path) -> None:
    image_id, url = kernel("create", "made-in-kernel-a")[:2]
    seen, other_url = kernel("list")[:2]
    assert other_url == url and "made-in-kernel-a=" in seen  # the second kernel sees the first one's image
    with zw.connect() as client:  # and so does this process
        assert client.sandbox and client.base_url == url
        assert {i.image_id for i in client.list_images("HKG-A", image_ids=[image_id])} == {image_id}
        wait_available(client, "made-in-kernel-a")


def test_the_sandbox_survives_a_server_restart_and_pending_transitions_finish(sandbox_dir: Path, monkeypatch) -> None:
    monkeypatch.setenv("ZENLAYER_SANDBOX_TRANSITION_SECONDS", "1.5")
    with zw.connect() as client:
        build = next(i for i in client.list_instances() if i.instance_name == "build-hkg-01")
        client.create_image(build.instance_id, "before-restart")
        first = find_sandbox(sandbox_dir)
    assert stop_sandbox(sandbox_dir)  # the server dies while the image is CREATING
    assert find_sandbox(sandbox_dir) is None
    with zw.connect() as client:  # a restarted kernel: a new server, the same account
        assert find_sandbox(sandbox_dir).pid != first.pid
        assert custom_images(client)["before-restart"] in ("CREATING", "AVAILABLE")
        wait_available(client, "before-restart")
        assert next(i for i in client.list_instances() if i.instance_name == "build-hkg-01").instance_status == "STOPPED"


def test_concurrent_kernels_start_exactly_one_server(sandbox_dir: Path) -> None:
    with ThreadPoolExecutor(4) as pool:
        urls = list(pool.map(lambda _: kernel("list")[1], range(4)))
    assert len(set(urls)) == 1
    handle = find_sandbox(sandbox_dir)
    assert handle is not None and handle.url == urls[0] and handle.url.startswith("http://127.0.0.1:")


def test_other_settings_restart_the_server_on_the_same_port_with_the_same_state(sandbox_dir: Path, monkeypatch) -> None:
    kernel("create", "kept-across-settings")
    before = find_sandbox(sandbox_dir)
    monkeypatch.setenv("ZENLAYER_SANDBOX_LATENCY_MS", "50")
    with zw.connect() as client:
        after = find_sandbox(sandbox_dir)
        assert (after.latency_ms, after.port) == (50.0, before.port) and after.pid != before.pid
        assert "kept-across-settings" in custom_images(client)
        started = time.perf_counter()
        client.describe_zones()
        assert time.perf_counter() - started >= 0.05  # the new latency is in force


def test_reset_puts_the_demo_fleet_back_for_every_kernel(sandbox_dir: Path) -> None:
    kernel("create", "to-be-reset")
    with zw.connect() as client:
        assert "to-be-reset" in custom_images(client)
        assert "demo fleet" in zw.reset_sandbox()
        assert list(custom_images(client)) == ["web-golden-2025"]  # the same connection, the demo state
    kernel("create", "again")
    done = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "reset"], capture_output=True, text=True,
                          timeout=60, env=os.environ)
    assert done.returncode == 0 and "demo fleet" in done.stdout
    assert "again" not in kernel("list")[0]


def test_the_server_stops_when_its_state_file_is_removed(sandbox_dir: Path) -> None:
    kernel("list")
    handle = find_sandbox(sandbox_dir)
    (sandbox_dir / STATE_FILE).unlink()
    deadline = time.monotonic() + 10
    while Path(f"/proc/{handle.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    with pytest.raises(httpx.ConnectError):
        httpx.post(handle.url + "/api/v2/vm", timeout=2)


def test_the_state_file_and_snapshot_are_private(sandbox_dir: Path) -> None:
    kernel("list")
    for name in (STATE_FILE, "state.json"):
        assert (sandbox_dir / name).stat().st_mode & 0o077 == 0, name


def test_a_sandbox_that_cannot_start_falls_back_to_this_kernel_alone(tmp_path: Path, monkeypatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(blocker / "sandbox"))
    monkeypatch.setattr("zenlayer_widgets.connection._fallback", None)
    with pytest.warns(RuntimeWarning, match="could not start.*its own in-memory emulator"):
        client = zw.connect()
    with client:
        assert client.sandbox and len(client.list_instances()) == 16
    import zenlayer_widgets.connection as connection

    connection._fallback.stop()


def test_the_cli_tells_status_and_stops_it(sandbox_dir: Path) -> None:
    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", *args], capture_output=True, text=True,
                              timeout=60, env=os.environ)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "not running" in cli("status")
    url = kernel("list")[1]
    assert f"running at {url}" in cli("status") and "transitions 0.2 s" in cli("status")
    assert "stopped" in cli("stop") and "not running" in cli("status")
    assert "state.json" in os.listdir(sandbox_dir)  # the account stays for the next start


def test_a_restart_whose_old_port_is_taken_moves_to_a_free_one(sandbox_dir: Path) -> None:
    import socket

    kernel("create", "survives-the-move")
    before = find_sandbox(sandbox_dir)
    assert stop_sandbox(sandbox_dir)
    (sandbox_dir / STATE_FILE).write_text(json.dumps({**dataclasses.asdict(before), "pid": 1}))  # a stale state file
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", before.port))
        squatter.listen()
        with zw.connect() as client:
            assert client.base_url != before.url and "survives-the-move" in custom_images(client)

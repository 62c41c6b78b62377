"""notebooks/verify_images.ipynb run headless with papermill (its command line, as cron runs it) against the sandbox:
the newest image of an instance verified, one line and a JSON summary on stdout, the run in the run history; a
boot failure (the emulator fault ``CreateInstances:boot_failure:1``) alerted and the run exiting non-zero."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from unattended.test_runbook_unattended import webhook  # noqa: F401 - the fixture (ZENLAYER_ALERT_URLS)
from unattended.webhook import Webhook

import zenlayer_widgets as zw
from notebooks.test_runbooks_headless import NOTEBOOKS, demo_id, sandbox_env  # noqa: F401 - the fixture
from zenlayer_widgets.core.ledger import open_ledger
from zenlayer_widgets.core.operations.steps.instances import TAG_ROLE, THROWAWAY
from zenlayer_widgets.emulator.sandbox import CONTROL_HEADER, find_sandbox, read_token, sandbox_dir


def papermill(out: Path, **parameters: object) -> subprocess.CompletedProcess[str]:
    options = [part for name, value in parameters.items() for part in ("-p", name, str(value))]
    return subprocess.run([sys.executable, "-m", "papermill", str(NOTEBOOKS / "verify_images.ipynb"), str(out),
                           "--cwd", str(out.parent), *options], capture_output=True, text=True, env=os.environ.copy(),
                          timeout=300, check=False)


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def set_faults(faults: list[str]) -> None:
    """The sandbox's control endpoint, with its token (what ``zenlayer-sandbox`` sends)."""
    handle = find_sandbox()
    assert handle is not None
    httpx.post(f"{handle.url}/_emulator/faults", json={"faults": faults},
               headers={CONTROL_HEADER: read_token(sandbox_dir())}, timeout=30, trust_env=False).raise_for_status()


def test_the_newest_image_is_verified_and_a_boot_failure_fails_the_run(sandbox_env: Path, webhook: Webhook) -> None:  # noqa: F811
    build = demo_id("build-hkg-01")
    path = str(sandbox_env / "verify.sqlite3")
    ledger = open_ledger(path)
    with zw.connect() as client:  # the sandbox the kernel uses
        zw.create_image(client, build, "verify-old", poll_interval=0.1, ledger=ledger)
        newest = zw.create_image(client, build, "verify-new", poll_interval=0.1, ledger=ledger).image_id

        done = papermill(sandbox_env / "verify-ok.ipynb", instance_ids=build, poll_interval=0.1, ledger_url=path,
                         run_output=sandbox_env / "verify-ok.ipynb")
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.startswith("Verified the newest image of 1 instance(s): 1 booted, 0 did not boot")
        [summary] = json_lines(done.stdout)
        [item] = summary["items"]  # type: ignore[misc]
        assert summary["ok"] is True and item["image_id"] == newest and item["result"] == "booted"
        assert item["price"] and item["throwaway"] and item["boot_seconds"]

        set_faults(["CreateInstances:boot_failure:1"])  # the next launched instance never boots
        failed = papermill(sandbox_env / "verify-fail.ipynb", instance_ids=build, poll_interval=0.1, ledger_url=path)
        assert failed.returncode != 0
        assert "RunFailed" in failed.stderr and "verify-new" in failed.stderr and "did not boot" in failed.stderr
        [summary] = json_lines(failed.stdout)
        assert summary["ok"] is False and summary["not_booted"] == 1
        alert = webhook.wait_for(1, timeout=60)[0]
        assert alert["title"] == "Zenlayer: verification did not boot, policy verify-images in HKG-A"
        assert "Instances: build-hkg-01" in alert["message"] and "verify-new" in alert["message"]
        assert client.list_instances(tags={TAG_ROLE: THROWAWAY}) == []  # the failed throwaway was released too

        history = zw.run_history(client, "verify-images", ledger=ledger)
        assert list(history["outcome"]) == ["failed", "ok"]
        assert history["output"].iloc[1] == str(sandbox_env / "verify-ok.ipynb")


def test_no_instance_chosen_says_what_to_set(sandbox_env: Path) -> None:  # noqa: F811
    result = papermill(sandbox_env / "nothing.ipynb")
    assert result.returncode != 0 and "No instances chosen: set instance_ids" in result.stderr


def test_make_lab_opens_a_working_copy_of_it(tmp_path: Path) -> None:
    work = tmp_path / "work"
    made = subprocess.run(["make", "-s", "lab-copies", f"LAB_DIR={work}"], cwd=NOTEBOOKS.parent, capture_output=True,
                          text=True, timeout=60, check=False)
    assert made.returncode == 0, made.stderr
    assert (work / "verify_images.ipynb").read_bytes() == (NOTEBOOKS / "verify_images.ipynb").read_bytes()

"""A real jupyter-scheduler in a real JupyterLab runs the rotation runbook from a job definition (the scheduler extra).

The job definition is made through the scheduler's REST API, as the Lab UI's "Create a notebook job" makes it
(parameters are Python literals, as typed in that dialog); a job is triggered from it, as its cron schedule would.
The server's environment puts the runbook on the sandbox emulator with a ledger of the test's own.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import httpx
import nbformat

import zenlayer_widgets as zw
from browser.harness.jupyter_env import isolated_env
from browser.harness.servers import LabServer, start_lab
from notebooks.test_readme_commands import block_after
from notebooks.test_runbooks_headless import NOTEBOOKS, demo_id, outputs_text, sandbox_env  # noqa: F401 - the fixture
from zenlayer_widgets.core.ledger import open_ledger

JOB_TIMEOUT = 75.0
#: What README.md tells a reader to put in jupyter_server_config.json, as written.
SERVER_CONFIG = json.loads(block_after("jupyter-scheduler (from the Lab UI)", "json"))


def api(lab: LabServer) -> httpx.Client:
    return httpx.Client(base_url=lab.base_url, headers={"Authorization": f"token {lab.token}"}, trust_env=False,
                        timeout=20.0)


def wait_for_job(client: httpx.Client, job_id: str, lab: LabServer) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        job = client.get(f"/scheduler/jobs/{job_id}").raise_for_status().json()
        if job["status"] in ("COMPLETED", "FAILED"):  # a new job reads STOPPED until its process starts
            return job
        time.sleep(0.5)  # polling the job's status, as the Lab UI's job list does: no timing assumption
    raise AssertionError(f"job {job_id} did not finish within {JOB_TIMEOUT:.0f}s; server log:\n{lab.log_tail()}")


def test_a_job_definition_runs_the_rotation_runbook_once_per_window(sandbox_env, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("ZENLAYER_SANDBOX", "1")  # the server's jobs and this test: one sandbox (ZENLAYER_SANDBOX_DIR)
    root = tmp_path / "lab"
    root.mkdir()
    shutil.copy(NOTEBOOKS / "rotate_images.ipynb", root / "rotate_images.ipynb")
    env = isolated_env(tmp_path / "jupyter")
    assert SERVER_CONFIG == {"Scheduler": {"execution_manager_class": "zenlayer_widgets.scheduling.RecordingExecutionManager"}}
    (Path(env["JUPYTER_CONFIG_DIR"]) / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
    build = demo_id("build-hkg-01")
    lab = start_lab(root, env, tmp_path / "lab.log")
    try:
        with api(lab) as client:
            definition = client.post("/scheduler/job_definitions", json={
                "input_uri": "rotate_images.ipynb", "runtime_environment_name": "python3", "name": "nightly rotation",
                "output_formats": ["ipynb"], "schedule": "0 3 * * *", "timezone": "UTC",
                "parameters": {"instance_ids": f'"{build}"', "keep": "2", "apply": "True", "period": '"1d"',
                               "name_prefix": '"nightly"'}}).raise_for_status().json()["job_definition_id"]
            jobs = []
            for _ in range(2):  # the schedule's firing, then a second firing of the same UTC day
                job_id = client.post(f"/scheduler/job_definitions/{definition}/jobs", json={}) \
                    .raise_for_status().json()["job_id"]
                jobs.append(wait_for_job(client, job_id, lab))
    finally:
        lab.stop()
    assert [job["status"] for job in jobs] == ["COMPLETED", "COMPLETED"], [job.get("status_message") for job in jobs]

    client = zw.connect()  # the jobs' sandbox; their ledger is its file (tests/conftest.py moves this process's)
    history = zw.run_history(client, ledger=open_ledger(str(Path(os.environ["ZENLAYER_SANDBOX_DIR"]) / "ledger.sqlite3")))
    assert [tuple(row) for row in history[["policy", "kind", "outcome"]].itertuples(index=False)] == [
        ("nightly", "jupyter-scheduler", "skipped"), ("nightly", "jupyter-scheduler", "ok")]
    outputs = [Path(output) for output in history["output"]]
    assert all(path.exists() and path.suffix == ".ipynb" for path in outputs) and outputs[0] != outputs[1]
    second_nb, first_nb = (nbformat.read(path, as_version=4) for path in outputs)
    second, first = outputs_text(second_nb), outputs_text(first_nb)
    assert "Policy nightly (applied): Policy nightly: 1 created, 0 deleted" in first
    assert "Policy nightly (skipped): Window" in second and "was already claimed by run" in second
    assert "(dry run)" not in second

    summary = next(output["data"]["application/json"] for cell in first_nb.cells for output in cell.get("outputs", [])
                   if "application/json" in output.get("data", {}))
    created = [(item["zone"], item["image_id"], item["image_name"]) for item in summary["items"]
               if item["result"] == "created" and item["instance_id"] == build]
    assert len(created) == 1
    zone, image_id, name = created[0]
    images = {image.image_id: image for image in client.describe_images(zone, image_type="CUSTOM_IMAGE")}
    assert image_id in images, sorted(image.image_name for image in images.values())
    assert (images[image_id].image_name, images[image_id].image_status) == (name, "AVAILABLE")

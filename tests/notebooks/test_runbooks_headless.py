"""The runbooks run headless with papermill, as a colleague or a scheduler would run them."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path

import nbformat
import papermill
import pytest

from zenlayer_widgets.emulator import EmulatorBackend
from zenlayer_widgets.emulator.sandbox import stop_sandbox

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def sandbox_env(monkeypatch, tmp_path):
    """The kernel papermill starts inherits this: sandbox mode, quick transitions, no credentials,
    and a sandbox of this test's own (the sandbox is shared by kernels and persists otherwise)."""
    sandbox = Path(os.environ["ZENLAYER_SANDBOX_DIR"]).parent / uuid.uuid4().hex[:12]
    monkeypatch.setenv("ZENLAYER_SANDBOX_DIR", str(sandbox))
    for name in ("ZENLAYER_ACCESS_KEY_ID", "ZENLAYER_ACCESS_KEY_PASSWORD", "ZENLAYER_TOKEN", "ZENLAYER_BASE_URL",
                 "ZENLAYER_CREDENTIALS_FILE", "ZENLAYER_SANDBOX"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZENLAYER_SANDBOX_TRANSITION_SECONDS", "0.3")
    monkeypatch.setenv("ZENLAYER_JOURNAL", str(tmp_path / "ledger.sqlite3"))
    monkeypatch.setenv("HOME", str(tmp_path))
    yield tmp_path
    stop_sandbox(sandbox)


def demo_id(name: str) -> str:
    """Demo-fleet ids are deterministic: the kernel's sandbox has the same ones."""
    return EmulatorBackend().instance_named(name).instance_id


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            parts.append(output.get("text", ""))
            data = output.get("data", {})
            parts.append(data.get("text/plain", ""))
            parts.append(data.get("text/html", ""))
            parts.append(data.get("text/markdown", ""))
            parts.append(output.get("evalue", ""))
    return "\n".join(map(str, parts))


def test_create_image_runbook_headless_success(sandbox_env):
    out = sandbox_env / "out.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "create_image.ipynb"),
        str(out),
        parameters={"interactive": False, "instance_id": demo_id("build-hkg-01"), "image_name": "镜像-nightly", "wait": True},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(sandbox_env),
    )
    nb = nbformat.read(out, as_version=4)
    text = outputs_text(nb)
    assert "Sandbox: the built-in Zenlayer API emulator" in text
    assert "镜像-nightly" in text and "AVAILABLE" in text
    # the inventory and quota are left as plain tables, readable in the saved notebook
    assert "HKG-A: 2 / 5 custom images" in text
    assert "<table" in text and "web-golden-2025" in text


def test_create_image_runbook_fails_with_the_preflight_reason(sandbox_env):
    out = sandbox_env / "refused.ipynb"
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        papermill.execute_notebook(
            str(NOTEBOOKS / "create_image.ipynb"),
            str(out),
            parameters={"interactive": False, "instance_id": demo_id("web-hkg-01"), "image_name": "web-backup"},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(sandbox_env),
        )
    assert failure.value.ename == "RunFailed"  # one short line, not a buried traceback
    assert "The instance is RUNNING" in failure.value.evalue and "stop_if_running" in failure.value.evalue
    assert len(failure.value.traceback) == 1
    text = outputs_text(nbformat.read(out, as_version=4))
    assert "stop the instance first" in text
    assert "AVAILABLE" not in text.split("PreflightFailed")[0].split("Headless")[-1]


def run_create(sandbox_env, out: str, **parameters) -> nbformat.NotebookNode:
    papermill.execute_notebook(
        str(NOTEBOOKS / "create_image.ipynb"), str(sandbox_env / out), parameters={"interactive": False, **parameters},
        kernel_name="python3", progress_bar=False, cwd=str(sandbox_env),
    )
    return nbformat.read(sandbox_env / out, as_version=4)


def json_summary(nb: nbformat.NotebookNode) -> dict:
    found = [o["data"]["application/json"] for c in nb.cells for o in c.get("outputs", [])
             if "application/json" in o.get("data", {})]
    assert len(found) == 1
    return found[0]


def power_state(instance_id: str) -> str:
    import zenlayer_widgets as zw

    with zw.connect() as client:  # the same sandbox the kernel used
        return client.describe_instances_status([instance_id]).items[0].instance_status


def test_an_instance_id_papermill_makes_an_int_is_read_as_text(sandbox_env):
    build = demo_id("build-hkg-01")
    assert build.isdigit()
    nb = run_create(sandbox_env, "digits.ipynb", instance_id=int(build), image_name="digits-ok")
    summary = json_summary(nb)
    assert (summary["ok"], summary["instance_id"], summary["status"]) == (True, build, "AVAILABLE")
    assert summary["stopped_at"] is None and summary["image_id"]
    assert f"Image digits-ok ({summary['image_id']}) is AVAILABLE in HKG-A." in outputs_text(nb)


def test_a_running_instance_without_stop_if_running_fails_with_the_reason_and_changes_nothing(sandbox_env):
    web = demo_id("web-hkg-01")
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        run_create(sandbox_env, "running.ipynb", instance_id=int(web), image_name="web-untouched")
    assert failure.value.ename == "RunFailed" and "RUNNING" in failure.value.evalue
    assert power_state(web) == "RUNNING"
    nb = nbformat.read(sandbox_env / "running.ipynb", as_version=4)
    assert not [o for c in nb.cells for o in c.get("outputs", []) if "application/json" in o.get("data", {})]


def test_stop_if_running_stops_images_and_starts_the_instance_again(sandbox_env):
    web = demo_id("web-hkg-01")
    nb = run_create(sandbox_env, "cycle.ipynb", instance_id=web, image_name="备份-01", stop_if_running=True)
    summary = json_summary(nb)
    assert summary["status"] == "AVAILABLE" and summary["stopped_at"] < summary["started_at"]
    assert power_state(web) == "RUNNING"
    text = outputs_text(nb)
    assert "stop sent at" in text and "RUNNING again at" in text and f"(downtime {summary['downtime_s']:.1f} s)" in text


def test_inventory_runbook_tables_chart_and_csv(sandbox_env):
    out = sandbox_env / "inventory.ipynb"
    papermill.execute_notebook(
        str(NOTEBOOKS / "inventory.ipynb"),
        str(out),
        parameters={"export_dir": str(sandbox_env / "exports")},
        kernel_name="python3",
        progress_bar=False,
        cwd=str(sandbox_env),
    )
    text = outputs_text(nbformat.read(out, as_version=4))
    assert "16 instances, 12 custom images in 7 zones" in text
    assert "FRA-A: 5 / 5" in text and "SEL-A: 4 / 5" in text
    assert "Custom images used per zone" in text  # the quota chart (a Styler bar chart)
    chart = next(o["data"]["text/html"] for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])
                 if "Custom images used per zone" in o.get("data", {}).get("text/html", ""))
    assert "#d65f5f" in chart and "#5fba7d" in chart  # FRA-A full (red) beside zones with room (green), not all red
    exported = sorted(p.name for p in (sandbox_env / "exports").glob("*.csv"))
    stamp = exported[0].split("-", 1)[1] if exported else ""
    assert exported == [f"images-{stamp}", f"instances-{stamp}", f"quota-{stamp}"] and stamp.endswith("Z.csv")
    quota = (sandbox_env / "exports" / f"quota-{stamp}").read_text().splitlines()
    assert quota[0] == "zone,used,max,free,supports_images" and any(line.startswith("FRA-A,5,5,0") for line in quota)


def test_committed_notebooks_have_no_outputs():
    for path in NOTEBOOKS.glob("*.ipynb"):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell.get("outputs") == [] and cell.get("execution_count") is None, path.name


def test_the_inventory_runbook_sees_the_image_the_create_runbook_made(sandbox_env):
    """Two kernels, one sandbox: what create_image.ipynb made, inventory.ipynb lists (and a third run still does)."""
    papermill.execute_notebook(
        str(NOTEBOOKS / "create_image.ipynb"), str(sandbox_env / "create.ipynb"),
        parameters={"interactive": False, "instance_id": demo_id("build-hkg-01"), "image_name": "shared-across-kernels",
                    "wait": True},
        kernel_name="python3", progress_bar=False, cwd=str(sandbox_env),
    )
    for run in ("first", "again"):
        out = sandbox_env / f"inventory-{run}.ipynb"
        papermill.execute_notebook(
            str(NOTEBOOKS / "inventory.ipynb"), str(out), parameters={"export_dir": str(sandbox_env / run)},
            kernel_name="python3", progress_bar=False, cwd=str(sandbox_env),
        )
        text = outputs_text(nbformat.read(out, as_version=4))
        assert "16 instances, 13 custom images in 7 zones" in text and "shared-across-kernels" in text
        assert "HKG-A: 2 / 5" in text

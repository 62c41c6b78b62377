"""notebooks/rotate_images.ipynb run headless with papermill, as a nightly cron job would run it."""

from __future__ import annotations

import nbformat
import papermill
import pytest

from notebooks.test_runbooks_headless import NOTEBOOKS, demo_id, outputs_text, sandbox_env  # noqa: F401 - the fixture


def rotate(sandbox_env, out: str, **parameters) -> str:  # noqa: F811 - the fixture's value
    path = sandbox_env / out
    try:
        papermill.execute_notebook(str(NOTEBOOKS / "rotate_images.ipynb"), str(path), parameters=parameters,
                                   kernel_name="python3", progress_bar=False, cwd=str(sandbox_env))
    finally:
        text = outputs_text(nbformat.read(path, as_version=4)) if path.exists() else ""
        rotate.last = text  # type: ignore[attr-defined]
    return text


def test_dry_run_then_three_applied_runs_keep_two(sandbox_env):  # noqa: F811
    build, web = demo_id("build-hkg-01"), demo_id("web-hkg-01")
    ledger = str(sandbox_env / "policy.sqlite3")
    dry = rotate(sandbox_env, "dry.ipynb", instance_ids=f"{build}, {web}", keep=2, ledger_url=ledger)
    assert "Dry run (apply = False): nothing was changed" in dry
    assert "1 to create, 0 to delete, 1 skipped" in dry and "RUNNING and this policy may not stop it" in dry
    assert "Quota per zone" in dry
    texts = [rotate(sandbox_env, f"run{n}.ipynb", instance_ids=[int(build)], keep=2, apply=True, ledger_url=ledger)
             for n in range(3)]
    assert "1/5" in texts[0].split("Quota per zone (before")[0]  # the dry run created nothing
    assert all("1 created" in t for t in texts)
    assert "0 deleted" in texts[1] and "1 deleted" in texts[2]
    assert "Quota per zone after the run" in texts[2] and "All instances rotated" in texts[2]
    # the policy's images, with their age: one, two, then exactly two left
    assert [t.count("Policy nightly owns 1 image(s) now.") for t in texts] == [1, 0, 0]
    assert "Policy nightly owns 2 image(s) now." in texts[1] and "Policy nightly owns 2 image(s) now." in texts[2]


def test_a_zone_full_of_foreign_images_fails_the_run_with_the_reason(sandbox_env):  # noqa: F811
    with pytest.raises(papermill.PapermillExecutionError) as failure:
        rotate(sandbox_env, "full.ipynb", instance_ids=demo_id("api-fra-01"), apply=True,
               delete_first_when_full=True, ledger_url=str(sandbox_env / "policy.sqlite3"))
    assert failure.value.ename == "RotationFailed"
    assert "of images this policy does not own; nothing deleted" in failure.value.evalue
    assert "FRA-A" in rotate.last and "0 deleted" in rotate.last  # type: ignore[attr-defined]


def test_a_running_instance_is_stopped_imaged_and_started_with_stop_if_running(sandbox_env):  # noqa: F811
    text = rotate(sandbox_env, "running.ipynb", instance_ids=demo_id("web-hkg-01"), apply=True, stop_if_running=True,
                  ledger_url=str(sandbox_env / "policy.sqlite3"))
    assert "1 created, 0 deleted, 0 skipped, 0 failed" in text


def test_two_runbook_workers_share_one_run_each_on_its_zone(sandbox_env, postgres_base_url):  # noqa: F811
    import pg_cluster

    from zenlayer_widgets.core.ledger import Ledger, schema

    ledger_url = pg_cluster.fresh_schema_url(postgres_base_url)
    ids = f"{demo_id('build-hkg-01')},{demo_id('ci-nyc-01')}"
    first = rotate(sandbox_env, "hkg.ipynb", instance_ids=ids, apply=True, worker=True, zone="HKG-A", rate_limit=10,
                   ledger_url=ledger_url)
    assert "this worker finished 1 unit(s) (HKG-A): 1 created, 0 failed" in first
    runs = Ledger(ledger_url)._read(schema.fleet_runs.select())
    assert len(runs) == 1 and runs[0].finished_at is None  # NYC-A's unit is still waiting for its worker
    second = rotate(sandbox_env, "nyc.ipynb", instance_ids=ids, apply=True, worker=True, zone="NYC-A",
                    ledger_url=ledger_url)
    assert "this worker finished 1 unit(s) (NYC-A): 1 created, 0 failed" in second
    (run,) = Ledger(ledger_url)._read(schema.fleet_runs.select())
    assert run.outcome == "ok" and run.finished_at is not None

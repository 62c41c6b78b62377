"""The benchmark scripts work: ``run_all --quick`` for the inventory (ours vs the SDK) and the emulator.

Only that they run and agree with themselves is asserted; speed is measured by ``make bench``,
never asserted in a test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def test_quick_inventory_and_emulator_benchmarks_run(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    readme = (REPO / "benchmarks" / "README.md").read_bytes() if (REPO / "benchmarks" / "README.md").exists() else None
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--quick", "--only", "inventory,emulator", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(out.read_text())["results"]

    inventory = results["inventory"]["data"]
    assert inventory["equal"], results["inventory"]["targets"]
    assert (inventory["instances"], inventory["zones"]) == (300, 12)
    # ours: the zones, the instance count and the page, then the quota and one DescribeImages per
    # zone; the SDK: the zones, the page, the images of each zone and the quota, one after another
    assert inventory["requests_ours"] == 3 + 1 + 12
    assert inventory["requests_sdk"] == 1 + 1 + 12 + 1
    # the refresh: the zones (its check), the quota, the images of 12 zones and the one page, all at once
    assert inventory["requests_refresh"] == 1 + 1 + 12 + 1 and inventory["refreshed_in_one_round"] == 1
    timed = ("fresh_s", "rerun_s", "cold_s", "warm_s", "refresh_s", "sdk_s", "floor_pairs_s", "warm_cpu_s")
    assert all(t > 0 for key in timed for t in inventory[key])
    assert "cold (`connect()` + load, fresh process) at least 6x faster than the SDK loop" in done.stdout
    assert "refresh within 1.45x of one round trip" in done.stdout

    emulator = results["emulator"]["data"]
    assert set(emulator) == {"DescribeInstances pageSize 20", "DescribeInstances pageSize 1000", "DescribeInstancesStatus pageSize 1000"}
    for label, figures in emulator.items():
        assert figures["requests"] > 0 and figures["failures"] == 0, label
        assert figures["p99_s"] >= figures["p50_s"] > 0, label
    # a quick run never rewrites the README's results
    after = (REPO / "benchmarks" / "README.md").read_bytes() if (REPO / "benchmarks" / "README.md").exists() else None
    assert after == readme


def test_quick_fleet_workers_benchmark_runs(tmp_path: Path, postgres_base_url: str) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--quick", "--only", "workers", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
        env={**os.environ, "ZENLAYER_TEST_POSTGRES_URL": postgres_base_url},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    data = json.loads(out.read_text())["results"]["workers"]["data"]
    for case in (data["workers_1"], data["workers_4"]):
        assert (case["instances"], case["imaged"], case["duplicates"], case["failed"]) == (12, 12, 0, [])
        assert case["requests"] > 0 and case["wall"] > 0


def test_no_benchmark_imports_a_pytest_conftest() -> None:
    """A conftest belongs to pytest: importing one from a benchmark runs its hooks and import-time settings."""
    import ast

    for path in sorted((REPO / "benchmarks").rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        modules = [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
        modules += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
        assert not [m for m in modules if m.split(".")[-1] == "conftest"], path


@pytest.mark.browser
def test_quick_keystroke_benchmark_runs_from_a_plain_shell(tmp_path: Path) -> None:
    """The browser benchmarks (``make bench``) from a shell with no ZENLAYER_SANDBOX_DIR, as a user's is: the
    notebook's kernel gets a sandbox in the benchmark's temp dir (the benchmark crashed with KeyError before)."""
    out = tmp_path / "bench.json"
    env = {k: v for k, v in os.environ.items() if k != "ZENLAYER_SANDBOX_DIR"}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run_all", "--quick", "--only", "keystroke", "--json", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # 1 if the benchmark crashed
    figures = json.loads(out.read_text())["results"]["keystroke"]["data"]
    assert figures["keys"] == 10 and len(figures["feedback_ms"]) == 10 and not figures["missing"], figures


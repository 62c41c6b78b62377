"""The Airflow DAG example (docs/airflow/zenlayer_rotation_dag.py) without Airflow: its file loads with Airflow's
names stubbed, its ``units`` task begins the ledger's fleet run and maps the Papermill task over its units, with
parameters the rotation runbook has. (Airflow itself is not installed here: ``dag.test()`` is not run.)"""

from __future__ import annotations

import ast
import importlib.util
import json
import sys
import types
from pathlib import Path
from typing import Any

from zenlayer_widgets.core.ledger import Ledger, schema

ROOT = Path(__file__).resolve().parents[2]
DAG_FILE = ROOT / "docs" / "airflow" / "zenlayer_rotation_dag.py"
RUNBOOK = ROOT / "notebooks" / "rotate_images.ipynb"


def _stub_airflow(monkeypatch) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    def dag(**settings: Any):
        def decorate(function):
            def build() -> None:
                seen["dag"] = settings
                function()
            return build
        return decorate

    class PapermillOperator:
        @classmethod
        def partial(cls, **settings: Any) -> type[PapermillOperator]:
            seen["partial"] = settings
            return cls

        @classmethod
        def expand(cls, **mapped: Any) -> None:
            seen["expand"] = mapped

    names = ["airflow", "airflow.sdk", "airflow.providers", "airflow.providers.papermill",
             "airflow.providers.papermill.operators", "airflow.providers.papermill.operators.papermill"]
    for name in names:
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    sys.modules["airflow.sdk"].dag, sys.modules["airflow.sdk"].task = dag, lambda function: function
    sys.modules["airflow.providers.papermill.operators.papermill"].PapermillOperator = PapermillOperator
    return seen


def _load_dag() -> None:
    spec = importlib.util.spec_from_file_location("zenlayer_rotation_dag", DAG_FILE)
    assert spec is not None and spec.loader is not None
    spec.loader.exec_module(importlib.util.module_from_spec(spec))


def _runbook_parameters() -> set[str]:
    cells = json.loads(RUNBOOK.read_text())["cells"]
    source = next("".join(c["source"]) for c in cells if "parameters" in c.get("metadata", {}).get("tags", []))
    return {target.id for node in ast.parse(source).body if isinstance(node, ast.Assign) for target in node.targets
            if isinstance(target, ast.Name)}


def test_the_dag_maps_the_runbook_over_the_ledgers_units(monkeypatch, fleet_emulator, pg_url):
    emulator = fleet_emulator  # "web-" instances in two zones
    monkeypatch.setenv("ZENLAYER_BASE_URL", emulator.url)
    monkeypatch.setenv("ZENLAYER_ACCESS_KEY_ID", emulator.access_key_id)
    monkeypatch.setenv("ZENLAYER_ACCESS_KEY_PASSWORD", emulator.access_key_password)
    monkeypatch.setenv("ZENLAYER_JOURNAL", pg_url)
    seen = _stub_airflow(monkeypatch)
    _load_dag()
    assert seen["dag"]["schedule"] and seen["partial"]["input_nb"].endswith("rotate_images.ipynb")
    assert "{{ ti.map_index }}" in seen["partial"]["output_nb"]  # each mapped task keeps its own output notebook
    mapped = seen["expand"]["parameters"]
    web_zones = sorted({i.zone_id for i in emulator.backend.instances.values() if "web-" in i.instance_name})
    assert [p["zone"] for p in mapped] == web_zones and len(web_zones) > 1
    assert all(p["worker"] is True and p["apply"] is True and p["ledger_url"] == pg_url for p in mapped)
    assert {name for p in mapped for name in p} <= _runbook_parameters()  # papermill sets only what the runbook has
    (run,) = Ledger(pg_url)._read(schema.fleet_runs.select())  # the DAG's run began the fleet run, once
    assert run.finished_at is None and run.run_key.startswith("window:")
    _load_dag()  # the task retried (or a second scheduler): the same run, the same units
    assert [p["zone"] for p in seen["expand"]["parameters"]] == web_zones
    assert len(Ledger(pg_url)._read(schema.fleet_runs.select())) == 1

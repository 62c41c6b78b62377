"""Run the example DAG once with Airflow's own ``dag.test()``, against the emulator and a throwaway PostgreSQL ledger.

Airflow is not a dependency of this package; give it its own environment (it pins much of what it uses)::

    python3 -m venv /tmp/airflow-venv
    /tmp/airflow-venv/bin/pip install "apache-airflow>=3" apache-airflow-providers-papermill -e .
    .venv/bin/python docs/airflow/try_with_airflow.py /tmp/airflow-venv

This script runs in the project's venv: it starts the emulator (24 synthetic instances, 0.3 s transitions) and a
PostgreSQL cluster (tests/pg_cluster.py), copies the DAG and the rotation runbook into a fresh DAGs folder, runs
``airflow db migrate`` and ``dag.test()`` in the Airflow environment (credentials only in the environment), and
prints the task instances, the images made and the output notebooks. Exit 0 when every task succeeded and each
"web-" instance has exactly one new image.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INNER = """
import sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(dag_folder=sys.argv[1])
assert not bag.import_errors, bag.import_errors
run = bag.get_dag("zenlayer_rotation").test()
for ti in sorted(run.get_task_instances(), key=lambda t: (t.task_id, t.map_index)):
    print("task", ti.task_id, ti.map_index, ti.state)
print("dag run", run.state)
sys.exit(0 if str(run.state) == "success" else 1)
"""


def main(airflow_venv: str) -> int:
    sys.path.insert(0, str(ROOT / "tests"))
    import pg_cluster

    from zenlayer_widgets.emulator import start_emulator

    work = Path(tempfile.mkdtemp(prefix="zw-airflow-"))
    home, dags, outputs = work / "home", work / "dags", work / "outputs"
    for folder in (home, dags, outputs):
        folder.mkdir()
    shutil.copy(ROOT / "docs" / "airflow" / "zenlayer_rotation_dag.py", dags)
    shutil.copy(ROOT / "notebooks" / "rotate_images.ipynb", dags)
    cluster = pg_cluster.start_cluster()
    try:
        with start_emulator(instances=24, transition_seconds=0.3) as emulator:
            env = {k: v for k, v in os.environ.items() if not k.startswith("ZENLAYER_")}
            env.update(AIRFLOW_HOME=str(home), AIRFLOW__CORE__LOAD_EXAMPLES="False", AIRFLOW__CORE__DAGS_FOLDER=str(dags),
                       ZENLAYER_BASE_URL=emulator.url, ZENLAYER_ACCESS_KEY_ID=emulator.access_key_id,
                       ZENLAYER_ACCESS_KEY_PASSWORD=emulator.access_key_password,
                       ZENLAYER_JOURNAL=pg_cluster.fresh_schema_url(cluster.url), ZENLAYER_RUN_OUTPUTS=str(outputs),
                       HOME=str(home))
            bin_dir = Path(airflow_venv) / "bin"
            subprocess.run([str(bin_dir / "airflow"), "db", "migrate"], env=env, check=True, capture_output=True)
            test = subprocess.run([str(bin_dir / "python"), "-c", INNER, str(dags / "zenlayer_rotation_dag.py")], env=env,
                                  capture_output=True, text=True)
            print("\n".join(line for line in test.stdout.splitlines() if line.startswith(("task", "dag run"))))
            web = {i.instance_id for i in emulator.backend.instances.values() if "web-" in i.instance_name}
            made = Counter(i.source_instance_id for i in emulator.backend.images.values()
                           if i.image_name.startswith("nightly-") and i.source_instance_id in web)
            print(f"new images per web- instance: {sorted(made.values())} ({len(web)} instances)")
            print(f"output notebooks: {sorted(p.name for p in outputs.iterdir())}")
            if test.returncode != 0:
                print(test.stderr[-4000:])
            return 0 if test.returncode == 0 and made == Counter(dict.fromkeys(web, 1)) else 1
    finally:
        cluster.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "/tmp/airflow-venv"))

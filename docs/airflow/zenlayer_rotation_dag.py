"""Airflow DAG: the nightly image rotation as one Papermill task per (account, zone) unit of the ledger's fleet run.

Copy this file into your DAGs folder, next to a copy of ``notebooks/rotate_images.ipynb``, on Airflow workers that
have ``zenlayer-widgets`` and ``apache-airflow-providers-papermill`` installed and the account's credentials in
their environment (``ZENLAYER_ACCESS_KEY_ID`` / ``ZENLAYER_ACCESS_KEY_PASSWORD``, never in this file). All tasks must
share one PostgreSQL ledger (``ZENLAYER_JOURNAL=postgresql://...``).

``units`` begins (or joins) the policy's fleet run for tonight's window and returns one parameter set per unit;
``rotate_unit`` is mapped over them (dynamic task mapping): each mapped task runs the runbook with ``worker=True``
and its ``zone``, so each zone is rotated by exactly one task at a time, with exactly-once creates. A task killed
mid-unit (a lost Airflow worker) is retried by Airflow and its retry takes the unit over once the dead one's
heartbeat is older than the lease (30 s; at once on the same host); every task shares the account's request budget
through the ledger (``rate_limit``). Each task keeps its own output notebook.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from typing import Any

try:  # Airflow 3
    from airflow.sdk import dag, task
except ImportError:  # Airflow 2
    from airflow.decorators import dag, task
from airflow.providers.papermill.operators.papermill import PapermillOperator

RUNBOOK = os.environ.get("ZENLAYER_RUNBOOK", os.path.join(os.path.dirname(__file__), "rotate_images.ipynb"))
OUTPUTS = os.environ.get("ZENLAYER_RUN_OUTPUTS", "/var/lib/zenlayer/runs")
#: The policy, as the runbook's parameters (the same names as zw.Policy's fields).
POLICY: dict[str, Any] = {"name_prefix": "nightly", "name_contains": "web-", "keep": 2, "stop_if_running": True,
                          "period": "1d"}
#: Requests per second for the account, shared by every task through the ledger.
RATE_LIMIT = 20


def unit_parameters(zones: list[str], policy: dict[str, Any] = POLICY, rate_limit: float = RATE_LIMIT) -> list[dict[str, Any]]:
    """The runbook's parameters for each unit: the policy, applied as a worker on that zone."""
    return [{**policy, "apply": True, "worker": True, "zone": zone, "rate_limit": rate_limit,
             "ledger_url": os.environ.get("ZENLAYER_JOURNAL", "")} for zone in zones]


@dag(schedule="0 3 * * *", start_date=datetime(2026, 1, 1), catchup=False, max_active_runs=1, tags=["zenlayer"],
     default_args={"retries": 2, "retry_delay": timedelta(minutes=1)})
def zenlayer_rotation() -> None:
    @task
    def units() -> list[dict[str, Any]]:
        """Begin (or join) tonight's fleet run and list its units still to work."""
        import zenlayer_widgets as zw
        from zenlayer_widgets.core.ledger import open_ledger

        client = zw.connect()
        ledger_url = os.environ.get("ZENLAYER_JOURNAL", "")
        ledger = open_ledger(ledger_url) if ledger_url else zw.ledger_for(client)
        return unit_parameters(zw.fleet_units(client, zw.Policy(**POLICY), ledger))

    PapermillOperator.partial(
        task_id="rotate_unit",
        input_nb=RUNBOOK,
        output_nb=OUTPUTS + "/rotate-{{ ts_nodash }}-{{ ti.map_index }}.ipynb",
        max_active_tis_per_dag=8,
    ).expand(parameters=units())


zenlayer_rotation()

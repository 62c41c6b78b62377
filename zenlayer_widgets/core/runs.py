"""Run history: one ledger row per unattended run (a runbook under papermill or a scheduler, the studio's apply).

:func:`start_run` writes the parameters, the start and the output notebook's path; :func:`end_run` the end and
the outcome. :func:`run_history` is the DataFrame a person reads (one row per run: policy, started, ended,
outcome, output). Nothing secret goes in: the parameters are the runbook's, messages are one line of reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .ledger import Ledger, account_of, ledger_for
from .ledger import schema as tables
from .ledger.records import now_text, who_am_i

if TYPE_CHECKING:
    import pandas as pd

    from .sync import AnyClient

#: Environment variable: the output notebook this run writes (a scheduler's line sets it; papermill does not tell).
ENV_RUN_OUTPUT = "ZENLAYER_RUN_OUTPUT"
#: Environment variable: what started the run (``cron``, ``systemd``, ``jupyter-scheduler``...).
ENV_RUN_KIND = "ZENLAYER_RUN_KIND"
OK, FAILED, ERROR, DRY_RUN, SKIPPED = "ok", "failed", "error", "dry run", "skipped"
COLUMNS = ["policy", "started", "ended", "outcome", "output", "kind", "window", "detail", "run_id"]


def new_run_id() -> str:
    return uuid.uuid4().hex


def run_output(given: object = None) -> str | None:
    """The output notebook's path: ``given`` (the runbook's ``run_output``), else ``ZENLAYER_RUN_OUTPUT``."""
    text = str(given).strip() if given else os.environ.get(ENV_RUN_OUTPUT, "").strip()
    return os.path.abspath(text) if text else None


def run_kind(output: str | None) -> str:
    """``ZENLAYER_RUN_KIND`` when set, else papermill when an output notebook is named, else notebook."""
    return os.environ.get(ENV_RUN_KIND, "").strip() or ("papermill" if output else "notebook")


def start_run(ledger: Ledger, account: str, policy: str, *, runbook: str, kind: str,
              parameters: Mapping[str, Any] | None = None, output: str | None = None, window: str | None = None,
              run_id: str | None = None) -> str:
    """Record a run as begun; its id."""
    run_id = run_id or new_run_id()
    ledger._write(tables.run_history.insert().values(
        run_id=run_id, account=account, policy=policy, runbook=runbook, kind=kind,
        parameters=dict(parameters or {}), window_start=window, started_at=now_text(), output=output, who=who_am_i()))
    return run_id


def end_run(ledger: Ledger, run_id: str, outcome: str, detail: str | None = None) -> None:
    """Record the end of a run: ``outcome`` (ok, failed, error, dry run, skipped) and one line of ``detail``."""
    t = tables.run_history.c
    ledger._write(tables.run_history.update().where(t.run_id == run_id)
                  .values(ended_at=now_text(), outcome=outcome, detail=(detail or None) and detail[:500]))


@dataclass
class RunRecord:
    """A run being recorded by :func:`recorded_run`: say how it ended with :meth:`done` (else: ok)."""

    ledger: Ledger
    run_id: str
    outcome: str = OK
    detail: str | None = None

    def done(self, ok: bool, detail: str | None = None) -> None:
        self.outcome, self.detail = (OK if ok else FAILED), detail


@contextmanager
def recorded_run(client: AnyClient, policy: str, parameters: Mapping[str, Any], *, kind: str, runbook: str,
                 ledger: Ledger | None = None) -> Iterator[RunRecord]:
    """Record the run inside the ``with``: begun now, ended with the :class:`RunRecord`'s outcome, or ``error`` (the
    exception's class and first line) when one escapes (it is raised again)."""
    ledger = ledger_for(client) if ledger is None else ledger
    record = RunRecord(ledger, start_run(ledger, account_of(client), policy, runbook=runbook, kind=kind,
                                         parameters=parameters))
    try:
        yield record
    except BaseException as error:
        end_run(ledger, record.run_id, ERROR, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
        raise
    end_run(ledger, record.run_id, record.outcome, record.detail)


def history_rows(ledger: Ledger, account: str | None = None, policy: str | None = None, *,
                 limit: int = 500) -> list[dict[str, Any]]:
    """The newest runs first, as plain dicts (the frame's columns)."""
    t = tables.run_history.c
    query = sa.select(tables.run_history).order_by(t.started_at.desc()).limit(limit)
    if account is not None:
        query = query.where(t.account == account)
    if policy is not None:
        query = query.where(t.policy == policy)
    return [{"policy": r.policy, "started": r.started_at, "ended": r.ended_at or "", "outcome": r.outcome or "running",
             "output": r.output or "", "kind": r.kind, "window": r.window_start or "", "detail": r.detail or "",
             "run_id": r.run_id} for r in ledger._read(query)]


def run_history(client: AnyClient, policy: str | None = None, *, ledger: Ledger | None = None,
                limit: int = 500) -> pd.DataFrame:
    """The client's account's runs, newest first: one row per run (policy, started, ended, outcome, output, then
    kind, window, detail, run_id). ``ledger`` defaults to the client's (``ZENLAYER_JOURNAL``)."""
    import pandas as pd

    ledger = ledger_for(client) if ledger is None else ledger
    return pd.DataFrame(history_rows(ledger, account_of(client), policy, limit=limit), columns=COLUMNS)

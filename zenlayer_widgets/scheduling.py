"""jupyter-scheduler's execution manager that tells the runbook its output notebook (the ``scheduler`` extra).

jupyter-scheduler runs each job in a process of its own and writes the output notebook into the job's staging
folder, a path the kernel is never told. :class:`RecordingExecutionManager` sets ``ZENLAYER_RUN_OUTPUT`` (that
path) and ``ZENLAYER_RUN_KIND=jupyter-scheduler`` for the job's kernel, so the run history
(:func:`zenlayer_widgets.core.runs.run_history`) links each run to its output notebook. Use it with::

    jupyter lab --Scheduler.execution_manager_class=zenlayer_widgets.scheduling.RecordingExecutionManager
"""

from __future__ import annotations

import os

from jupyter_scheduler.executors import DefaultExecutionManager

from .core.runs import ENV_RUN_KIND, ENV_RUN_OUTPUT

#: ``ZENLAYER_RUN_KIND`` of the runs jupyter-scheduler starts.
KIND = "jupyter-scheduler"


def run_environment(staging_paths: dict[str, str]) -> dict[str, str]:
    """The variables the job's kernel gets: its output notebook (when the job writes one) and the kind of run."""
    found = {ENV_RUN_KIND: KIND}
    if staging_paths.get("ipynb"):
        found[ENV_RUN_OUTPUT] = os.path.abspath(staging_paths["ipynb"])
    return found


class RecordingExecutionManager(DefaultExecutionManager):
    """jupyter-scheduler's default execution, with the output notebook's path in the kernel's environment."""

    def execute(self) -> None:
        os.environ.update(run_environment(self.staging_paths))  # this job's own process: no other job sees it
        super().execute()


__all__ = ["KIND", "RecordingExecutionManager", "run_environment"]

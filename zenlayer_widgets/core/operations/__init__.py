"""Durable operations: every multi-step change as a named plan of steps in the ledger, run by one driver.

* :mod:`.model`: operations, steps, their states and errors;
* :mod:`.store`: the ledger rows (``zw_operations``, ``zw_operation_steps``), fenced by the owner;
* :mod:`.steps`: one module per family of step kinds (how to send, what evidence proves it landed);
* :mod:`.driver`: begins, runs, resumes and takes over operations.
"""

from .driver import HEARTBEAT_SECONDS, LEASE_SECONDS, Driver, claim, held_by_another, settled
from .model import (
    DONE,
    FAILED,
    OPERATION_FAILED,
    PLANNED,
    SENT,
    SKIPPED,
    SUCCEEDED,
    LeaseLost,
    Operation,
    OperationBusy,
    OperationError,
    Step,
    StepFailed,
    StepOutcomeUnknown,
    StepPlan,
)

__all__ = [
    "DONE", "FAILED", "HEARTBEAT_SECONDS", "LEASE_SECONDS", "OPERATION_FAILED", "PLANNED", "SENT", "SKIPPED",
    "SUCCEEDED", "Driver", "LeaseLost", "claim", "Operation", "OperationBusy", "OperationError", "Step", "StepFailed",
    "StepOutcomeUnknown", "StepPlan", "held_by_another", "settled",
]

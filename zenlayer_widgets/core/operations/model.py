"""What an operation is, as Python values: its plan of steps, their states, and the operation's errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ...api.errors import ZenlayerError

# Step states. ``sent`` is written BEFORE the request goes out: a step found ``sent`` has an unknown outcome
# until its kind's evidence says whether it landed.
PLANNED, SENT, DONE, FAILED, SKIPPED = "planned", "sent", "done", "failed", "skipped"
STEP_STATES = (PLANNED, SENT, DONE, FAILED, SKIPPED)
# Operation outcomes (None while unfinished).
SUCCEEDED, OPERATION_FAILED = "done", "failed"


@dataclass(frozen=True)
class StepPlan:
    """One step as planned: its kind (a module of steps/), its parameters (JSON), and whether it is a clean-up
    (``always``: it runs after an earlier step failed too)."""

    kind: str
    params: dict[str, Any] = field(default_factory=dict)
    always: bool = False


@dataclass(frozen=True)
class Step:
    """One step as stored."""

    operation_id: str
    position: int
    kind: str
    params: dict[str, Any]
    always: bool
    state: str
    sent_at: str | None = None
    attempts: int = 0
    settle_seconds: float | None = None
    result: dict[str, Any] | None = None
    evidence: dict[str, Any] | None = None
    error_type: str | None = None
    error_code: str | None = None
    updated_at: str = ""


@dataclass(frozen=True)
class Operation:
    """One operation as stored, with its steps in order."""

    operation_id: str
    kind: str
    key: str
    account: str
    who: str
    started_at: str
    updated_at: str
    zone_id: str | None = None
    instance_id: str | None = None
    image_id: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    facts: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    error_type: str | None = None
    error_code: str | None = None
    owner: str | None = None
    owner_host: str | None = None
    owner_pid: int | None = None
    owner_process: str | None = None
    heartbeat_at: str | None = None
    finished_at: str | None = None
    steps: tuple[Step, ...] = ()

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def step(self, kind: str) -> Step | None:
        """The first step of ``kind``, if the plan has one."""
        return next((s for s in self.steps if s.kind == kind), None)

    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.state == FAILED), None)


class OperationError(ZenlayerError):
    """An operation could not go on."""


class OperationBusy(OperationError):
    """Another live run holds the operation (its heartbeat is fresh); this one sent nothing."""

    def __init__(self, operation: Operation) -> None:
        self.operation = operation
        where = f" on {operation.owner_host} (pid {operation.owner_pid})" if operation.owner_host else ""
        super().__init__(f"Operation {operation.kind} {operation.operation_id[:8]} is being run by {operation.who}{where} "
                         f"(last heartbeat {operation.heartbeat_at}). This run sent nothing; let that one finish, or "
                         "run again once it has stopped: its steps are then resumed, not repeated.")


class LeaseLost(OperationError):
    """Another run took the operation over (this one's heartbeat had stalled); this one sends nothing more."""


class StepOutcomeUnknown(OperationError):
    """A step was sent, its answer was lost, and the evidence cannot tell whether it landed. It is never sent
    again blind: the next run looks again."""

    def __init__(self, operation: Operation, step: Step, reason: str) -> None:
        self.operation = operation
        self.step = step
        super().__init__(f"Step {step.position + 1} ({step.kind}) of {operation.kind} {operation.operation_id[:8]} was "
                         f"sent and its outcome is unknown: {reason}. Nothing was sent again. Run the same "
                         f"{operation.kind} again later: it looks again and goes on from there.")


class StepFailed(OperationError):
    """A step's kind decided the step failed (e.g. an instance that never booted); ``code`` names why."""

    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)

"""The contract every step kind keeps: how to send it, and what evidence proves it landed.

A kind is *idempotent* when sending it again changes nothing (a read, a wait, a probe): after an unknown
outcome the driver simply runs it again. Any other kind must say, from what the API shows now, whether an
earlier send landed (:meth:`StepKind.look`): ``landed`` True (with the result it would have returned), False
(nothing shows it; once the settle window is over, proven not landed, so it may be sent again) or None
(ambiguous in a way waiting cannot lift: the driver stops and says so, never sending blind).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from ..model import Operation, Step

if TYPE_CHECKING:
    from ....api.client import AsyncZenlayerClient
    from ...ledger import Ledger

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True)
class Evidence:
    """What the API shows about a step sent earlier."""

    landed: bool | None
    result: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    seen: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepRun:
    """Everything a step kind may use: the client, the ledger, the operation (its facts) and the step."""

    client: AsyncZenlayerClient
    ledger: Ledger
    account: str
    operation: Operation
    step: Step
    sleep: Sleep
    extras: Mapping[str, Any]

    def param(self, name: str, default: Any = None) -> Any:
        """A step parameter, else the operation's fact of that name (what an earlier step learnt)."""
        if name in self.step.params:
            return self.step.params[name]
        return self.operation.facts.get(name, default)

    def need(self, name: str) -> Any:
        value = self.param(name)
        if value is None:
            raise KeyError(f"step {self.step.kind} needs {name!r} (a parameter or an earlier step's result)")
        return value


class StepKind:
    """A kind of step (subclass per module in steps/; registered by :func:`register`)."""

    name: ClassVar[str] = ""
    idempotent: ClassVar[bool] = False

    async def send(self, run: StepRun) -> dict[str, Any]:
        """Send the step (once) and return its result (JSON: merged into the operation's facts)."""
        raise NotImplementedError

    async def look(self, run: StepRun) -> Evidence:
        """After an unknown outcome: whether the earlier send landed, on evidence (idempotent kinds need not)."""
        raise NotImplementedError


KINDS: dict[str, StepKind] = {}


def register(kind: type[StepKind]) -> type[StepKind]:
    """Class decorator: make ``kind`` known to the driver by its name."""
    KINDS[kind.name] = kind()
    return kind


def request_id(ids: list[str] | str | None) -> str | None:
    if isinstance(ids, list):
        return ",".join(ids) or None
    return ids

"""A change of one request (delete, rename) as a one-step operation of the engine: written to the ledger before it
is sent, and, when its answer is lost, decided on its step kind's evidence (never sent again blind); a re-run of
the same change takes an unfinished one up."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from .ledger import Ledger, LedgerError, account_of
from .operations import SUCCEEDED, Driver, Operation, OperationError, StepPlan

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient


def change_key(kind: str, target: str, params: dict[str, Any]) -> str:
    """What makes a re-run the same change: the kind, the target and what it sets."""
    digest = hashlib.sha256(json.dumps(params, sort_keys=True).encode()).hexdigest()[:16]
    return f"{kind}:{target}:{digest}"


async def run_change(client: AsyncZenlayerClient, ledger: Ledger, kind: str, key: str, step: StepPlan,
                     **fields: Any) -> Operation:
    """Claim (begin, or take up) the one-step operation ``key`` and drive it; its step's error when it failed
    (the API's refusal as it came), :class:`~.operations.StepOutcomeUnknown` when the evidence cannot decide."""
    driver = Driver(client, ledger, account_of(client))
    try:
        operation, owner, _ = driver.claim(kind, key, lambda: [step], **fields)
    except SQLAlchemyError as error:
        raise LedgerError(f"The {kind} could not be written to the ledger ({type(error).__name__}); nothing was "
                          "sent.") from None
    try:
        done = await driver.drive(operation, owner)
    except SQLAlchemyError as error:  # never a raw SQLAlchemy error; the request may have gone out meanwhile
        raise LedgerError(f"The ledger failed while the {kind} ran ({type(error).__name__}); it may have been "
                          "sent: look at the image before doing it again (a re-run looks first).") from None
    if done.outcome != SUCCEEDED:
        raise driver.failure or OperationError(f"The {kind} failed; operation {done.operation_id} has its step.")
    return done

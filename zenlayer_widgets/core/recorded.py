"""Recording one change as an action row in the ledger, whatever its outcome (``done``, ``refused``, ``unknown``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..api.errors import APIError, TransportError
from .ledger import account_of, ledger_for

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient
    from .ledger import Ledger

DONE, REFUSED, UNKNOWN = "done", "refused", "unknown"


@dataclass
class Recorded:
    request_ids: list[str] = field(default_factory=list)


@asynccontextmanager
async def recorded(client: AsyncZenlayerClient, kind: str, *, zone_id: str | None = None, instance_id: str | None = None,
                   image_id: str | None = None, image_name: str | None = None, detail: str | None = None,
                   ledger: Ledger | None = None) -> AsyncIterator[Recorded]:
    """Record the change made inside the block as one action in ``ledger`` (default: the client's), whatever its
    outcome (the error is re-raised)."""
    action = Recorded()
    outcome = DONE
    try:
        yield action
    except (TransportError, APIError) as error:
        outcome = UNKNOWN if getattr(error, "outcome_unknown", False) else REFUSED
        detail = getattr(error, "code", None) or type(error).__name__
        raise
    except BaseException as error:
        outcome, detail = UNKNOWN, type(error).__name__
        raise
    finally:
        (ledger_for(client) if ledger is None else ledger).record_action(
            kind, account=account_of(client), outcome=outcome, zone_id=zone_id, instance_id=instance_id, image_id=image_id,
            image_name=image_name, request_id=",".join(action.request_ids) or None, detail=detail)

"""Mark an inventory's images table with the policy that made each image and its age."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..ledger import Ledger
from ..ledger.records import parse_time
from .records import owned_images

if TYPE_CHECKING:
    import pandas as pd


def mark_policy_images(images: pd.DataFrame, ledger: Ledger, account: str, *, now: datetime | None = None) -> pd.DataFrame:
    """A copy of ``images`` (``Inventory.images``) with ``policy`` (the policy that provably made the image, else
    empty) and ``age`` (since its create, for policy images; NaT for others: their age is unknown)."""
    import pandas as pd

    owned = owned_images(ledger, account)
    moment = now or datetime.now(timezone.utc)
    marked = images.copy()
    marked["policy"] = [owned[i].policy if i in owned else "" for i in marked["image_id"]]
    marked["age"] = pd.to_timedelta([moment - parse_time(owned[i].made_at) if i in owned else None
                                     for i in marked["image_id"]])
    return marked

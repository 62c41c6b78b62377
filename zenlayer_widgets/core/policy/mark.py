"""Mark an inventory's images table with the policy that made each image, its age, and whether it is pinned."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..arguments import BadArgument, id_arg, of_type, optional_of_type
from ..ledger import Ledger
from ..ledger.records import parse_time
from .naming import name_pattern
from .pins import pins
from .records import owned_images, runs

if TYPE_CHECKING:
    import pandas as pd


def mark_policy_images(images: pd.DataFrame, ledger: Ledger, account: str, *, now: datetime | None = None) -> pd.DataFrame:
    """A copy of ``images`` (``Inventory.images``) with ``policy`` (the policy that provably made the image, by id,
    else empty), ``age`` (since its create, for policy images; NaT for others: their age is unknown), ``pinned``
    (True: no policy deletes it) and ``pin_reason`` (the pin's reason, or the rename that took it out of its policy)."""
    import pandas as pd

    _check(images, ledger, account, now)
    owned, pinned = owned_images(ledger, account), pins(ledger, account)
    prefixes = {run.policy: run.name_prefix for run in reversed(runs(ledger, account))}  # each policy's latest prefix
    moment = now or datetime.now(timezone.utc)
    marked = images.copy()
    reasons = []
    for image_id, name in zip(marked["image_id"], marked["name"], strict=True):
        made = owned.get(image_id)
        if image_id in pinned:
            reasons.append(pinned[image_id].reason)
        elif made is not None and made.policy in prefixes and not name_pattern(prefixes[made.policy]).match(name):
            reasons.append(f"renamed from {made.image_name}: policy {made.policy} no longer deletes it")
        else:
            reasons.append("")
    marked["policy"] = [owned[i].policy if i in owned else "" for i in marked["image_id"]]
    marked["age"] = pd.to_timedelta([moment - parse_time(owned[i].made_at) if i in owned else None
                                     for i in marked["image_id"]])
    marked["pinned"] = [bool(reason) for reason in reasons]
    marked["pin_reason"] = reasons
    return marked


def _check(images: object, ledger: object, account: object, now: object) -> None:
    """:func:`mark_policy_images`'s arguments, checked before the ledger is read."""
    import pandas as pd

    frame = of_type(images, pd.DataFrame, "images")
    missing = [column for column in ("image_id", "name") if column not in frame.columns]
    if missing:
        raise BadArgument(f"images must be an inventory's images table (Inventory.images); it has no {', '.join(missing)} column")
    of_type(ledger, Ledger, "ledger")
    id_arg(account, "account")
    moment = optional_of_type(now, datetime, "now")
    if moment is not None and moment.tzinfo is None:
        raise BadArgument("now must carry a time zone (e.g. datetime.now(timezone.utc)), not a naive datetime")

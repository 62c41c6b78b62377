"""Rename, re-describe and delete one custom image: the checks, then one call each (what the studio's rows call).

Each is a one-step operation of the engine (:mod:`.one_step`), recorded as an action too; delete is
:func:`.changes.delete_image_async`.
"""

from __future__ import annotations

from ..rules import validate_image_description, validate_image_name
from .ledger import Ledger, ledger_for
from .one_step import change_key, run_change
from .operations import StepPlan
from .sync import AnyClient, async_side


def check_edit(
    name: str, description: str, *, current_name: str, zone: str = "This zone", taken: set[str] | frozenset[str] = frozenset()
) -> str:
    """Why this rename/re-describe would be refused ("" when it may go out): the create form's rules."""
    verdict = validate_image_name(name)
    if not verdict.ok:
        return verdict.message
    described = validate_image_description(description)
    if not described.ok:
        return described.message
    if name != current_name and name in taken:
        return f"{zone} already has an image named {name!r}."
    return ""


async def modify_image_async(
    client: AnyClient, image_id: str, *, name: str | None = None, description: str | None = None,
    zone_id: str | None = None, old_name: str | None = None, ledger: Ledger | None = None,
) -> list[str]:
    """ModifyImagesAttributes for one image (only what changed is sent) as a one-step operation
    (:mod:`.one_step`: written before it is sent, a lost answer decided on evidence), recorded in ``ledger``
    (default: the client's) as a ``rename`` (``detail``: the old name, or "description" when only that changed);
    the request ids."""
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    params = {"image_id": image_id, "zone_id": zone_id, "name": name, "description": description, "old_name": old_name}
    done = await run_change(client, ledger, "rename", change_key("rename", image_id, params),
                            StepPlan("modify_image", params), zone_id=zone_id, image_id=image_id)
    return list(done.facts.get("modify_request_ids") or [])


__all__ = ["check_edit", "modify_image_async"]

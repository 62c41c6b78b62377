"""One helper for every studio part: run a task with a busy flag set, then show its outcome.

:func:`attempt` is the shape every call of the studio and its rotation panel shares: a busy flag
(and what the start clears) set in one notification before the first await, the failure handed to
the caller's words, the flag cleared at the end, nothing raised. :func:`run_action` is the studio's
user action on top of it: the outcome lands next to what it is about (an image's row, else the form).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

import traitlets as T

from .explain import explain

if TYPE_CHECKING:
    from ..api.models import Image
    from .state import StudioState

R = TypeVar("R")


def _always() -> bool:
    return True


def explain_text(error: BaseException, doing: str) -> str:
    """One line for an error next to a row (the same words as the error box)."""
    return explain(error, doing).text()


async def attempt(owner: T.HasTraits, busy: str, work: Callable[[], Awaitable[R]], *,
                  failed: Callable[[BaseException], None], start: Callable[[], None] | None = None,
                  then: Callable[[], None] | None = None, current: Callable[[], bool] = _always) -> tuple[bool, R | None]:
    """Run ``work`` with ``owner.<busy>`` True: ``start`` runs in the same notification as the flag is set, an exception
    goes to ``failed`` (never raised), and ``then`` runs as the flag is cleared. ``current`` False (the account was
    switched meanwhile): the outcome is no longer this owner's to show, so ``failed``/``then`` and the flag are left.
    Returns (True, the result) when ``work`` finished, else (False, None)."""
    with owner.hold_trait_notifications():
        setattr(owner, busy, True)
        if start is not None:
            start()
    try:
        return True, await work()
    except Exception as error:  # noqa: BLE001 - handed to the caller's words, shown where it is about
        if current():
            failed(error)
        return False, None
    finally:
        if current():
            with owner.hold_trait_notifications():
                if then is not None:
                    then()
                setattr(owner, busy, False)


async def run_action(state: StudioState, busy: str, doing: str, work: Callable[[], Awaitable[str]], *,
                     image: Image | None = None, working: str = "") -> bool:
    """Run one user action: ``busy`` (a flag of BUSY_FLAGS) while it runs, the previous action's feedback dropped;
    then its outcome (``work``'s sentence, or the error explained as ``doing``) next to what it is about: the image's
    row (``image``; its zone's table once the image is gone), else the form. True: done."""

    def begin() -> None:
        state.image_note = ()
        if image is None:
            state.notice = working

    def failed(error: BaseException) -> None:
        if image is None:
            state.notice = ""
            state.report(error, doing)
        else:
            state.image_note = (image.image_id, "error", explain_text(error, doing), image.zone_id or "")

    done, said = await attempt(state, busy, work, failed=failed, start=begin)
    if not done:
        return False
    if image is None:
        with state.hold_trait_notifications():
            state.notice = said or ""
            state.report(None)
    else:
        state.image_note = (image.image_id, "ok", said or "", image.zone_id or "")
    return True


__all__ = ["attempt", "explain_text", "run_action"]

"""What an image row says about proof and what its Verify, Launch a copy and Restore ask first (plain text).

The row's line: the instance the image was made from (the ledger's create intent) and "verified <time> · booted in
N s" or "not verified". The questions: what each action costs, launches, destroys. No widget here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..api.models import Image, Instance
from ..api.vocabulary import AVAILABLE, RUNNING
from ..core.from_image import verified
from ..core.from_image.common import source_instance_id
from ..core.ledger import Ledger
from .clock import clock_text

#: The row actions, as the controller's ``row_action`` names them.
VERIFY, LAUNCH, RESTORE = "verify", "launch", "restore"


@dataclass(frozen=True)
class Proof:
    """An image's source instance (None: the ledger does not know) and its last good verification."""

    source_id: str | None
    verified_at: str | None
    boot_seconds: float | None

    def text(self, label: Callable[[str], str]) -> str:
        """``"from web-1 · verified 05:41:10 UTC · booted in 41 s"``; ``label`` names an instance."""
        source = f"from {label(self.source_id)}" if self.source_id else "source instance unknown"
        if self.verified_at is None:
            return f"{source} · not verified"
        boot = "" if self.boot_seconds is None else f" · booted in {self.boot_seconds:.0f} s"
        return f"{source} · verified {clock_text(self.verified_at)}{boot}"


def proof_of(ledger: Ledger, account: str, image_id: str) -> Proof:
    """What the ledger knows of one image: where it came from, when it last booted."""
    seen = verified(ledger, account, image_id)
    return Proof(source_instance_id(ledger, image_id), None if seen is None else seen[0], None if seen is None else seen[1])


def blocked(image: Image | None, read_only: bool) -> str:
    """Why Verify, Launch a copy and Restore are disabled for this image ("" = they are not)."""
    if image is None:
        return "This image is gone."
    if read_only:
        return "This studio is read-only: nothing can be launched or restored."
    if image.image_status != AVAILABLE:
        return f"Wait until it is AVAILABLE (it is {image.image_status or 'in an unknown state'})."
    return ""


def _price(price: float | None) -> str:
    return "an unknown price" if price is None else f"{price:g} per hour"


def verify_question(image: Image, price: float | None, instance_type: str | None) -> str:
    """What Verify asks before it launches anything."""
    shape = f" ({instance_type})" if instance_type else ""
    return (f"Verify {image.image_name or image.image_id}: a throwaway POSTPAID instance{shape} is launched from it in "
            f"{image.zone_id} at {_price(price)}, waited until it boots, then terminated and released.")


def launch_question(image: Image, like: Instance | None, price: float | None) -> str:
    """What Launch a copy asks before it launches."""
    model = f"with the settings of {like.instance_name or like.instance_id} ({like.instance_type})" if like else \
        "(choose the instance whose settings it copies)"
    return (f"Launch a new POSTPAID instance from {image.image_name or image.image_id} {model} at {_price(price)}; "
            "it keeps running (and billing) until you release it.")


def restore_question(image: Image, instance: Instance | None) -> str:
    """What Restore says before it formats anything: which instance, that it cannot be undone, the stop first."""
    if instance is None:
        return "Choose the instance to restore."
    name = instance.instance_name or instance.instance_id
    stop = (f" {name} is RUNNING: it is stopped gracefully first." if instance.instance_status == RUNNING else "")
    return (f"Restore {name} ({instance.instance_id}) from {image.image_name or image.image_id}: its system disk is "
            f"formatted and this cannot be undone (an image of the current disk is made first when {image.zone_id} has a "
            f"free image slot).{stop} Type the instance's name ({name}) to confirm.")


def restore_problem(instance: Instance | None, typed: str) -> str:
    """Why Restore stays disabled ("" = the typed name matches)."""
    if instance is None:
        return "Choose the instance to restore."
    if typed != instance.instance_name:
        return f"Type {instance.instance_name!r} to confirm."
    return ""


__all__ = ["LAUNCH", "RESTORE", "VERIFY", "Proof", "blocked", "launch_question", "proof_of", "restore_problem",
           "restore_question", "verify_question"]

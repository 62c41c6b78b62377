"""The image row's Verify, Launch a copy and Restore: ask first (the price, what is launched or formatted), then run
the core operation (core/from_image) with progress and the outcome kept at the row, as for a create.

A part of :class:`~zenlayer_widgets.studio.controller.StudioController` (``controller.proof_actions``); each run
goes through :func:`~zenlayer_widgets.studio.outcome.run_action`. What the rows show (the proof line, the image's
source instance) is read from the ledger on load and refresh, never while a row renders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..api.models import Image, Instance
from ..api.vocabulary import RUNNING
from ..core.from_image import launch_from_image_async, restore_instance_async, verify_image_async
from ..core.from_image.common import choose_shape
from ..core.from_image.launch import check_instance_name
from ..core.ledger import account_of, ledger_for
from .explain import explain
from .image_proof import LAUNCH, RESTORE, VERIFY, blocked, proof_of, restore_problem
from .outcome import run_action

if TYPE_CHECKING:
    from .controller import StudioController

ACTIONS = (VERIFY, LAUNCH, RESTORE)


def _per_hour(price: float | None) -> str:
    return "price unknown" if price is None else f"{price:g} per hour"


class ProofActions:
    """Verify, Launch a copy and Restore on an image's row: the question first, then the run, the outcome at the row."""

    def __init__(self, studio: StudioController) -> None:
        self.studio = studio
        self._sources: dict[str, str | None] = {}  # image id -> the instance it was made from, as of the last load

    # -- what the rows show ----------------------------------------------------------------
    def load_proofs(self) -> None:
        """Each listed image's proof line and source instance, from the ledger (called on load and refresh; a ledger
        that cannot be read leaves the lines as they were)."""
        studio = self.studio
        if studio.inventory is None:
            return
        try:
            ledger, account = ledger_for(studio.client), account_of(studio.client)
            found = {image.image_id: proof_of(ledger, account, image.image_id) for image in studio.inventory.image_list}
        except Exception as error:  # noqa: BLE001 - the rows keep their last line; the error box says why
            studio.report(error, "Reading the images' verifications from the ledger")
            return
        self._sources = {image_id: proof.source_id for image_id, proof in found.items()}
        proofs = {image_id: proof.text(studio.label) for image_id, proof in found.items()}
        if proofs != studio.proofs:
            studio.proofs = proofs

    def source_of(self, image_id: str) -> Instance | None:
        """The listed instance the image was made from (the ledger's create intent, as of the last load), if any."""
        source_id = self._sources.get(image_id)
        inventory = self.studio.inventory
        return None if source_id is None or inventory is None else inventory.instance(source_id)

    def zone_instances(self, image_id: str) -> list[Instance]:
        """The instances of the image's zone (what Launch a copy and Restore offer)."""
        studio = self.studio
        image = studio.image(image_id)
        if image is None or studio.inventory is None:
            return []
        return [i for i in studio.inventory.instance_list if i.zone_id == image.zone_id]

    @staticmethod
    def launch_name_ok(name: str) -> bool:
        """Whether ``name`` is an instance name the API takes (the rule launch_from_image checks)."""
        try:
            check_instance_name(name)
        except ValueError:
            return False
        return True

    def row_blocked(self, image_id: str) -> str:
        """Why the row's Verify, Launch a copy and Restore are disabled ("" = they are not)."""
        studio = self.studio
        problem = blocked(studio.image(image_id), bool(getattr(studio.client, "read_only", False)))
        if not problem and (studio.verifying or studio.launching or studio.restoring):
            problem = "Another verify, launch or restore is running; wait for its outcome."
        return problem

    # -- asking first ----------------------------------------------------------------------
    async def open_row_action(self, image_id: str, kind: str) -> None:
        """Open the row's question for ``kind`` (verify, launch, restore); Verify and Launch ask the price first."""
        studio = self.studio
        if kind not in ACTIONS:
            raise ValueError(f"kind must be one of {', '.join(ACTIONS)}, not {kind!r}")
        image = studio.image(image_id)
        problem = self.row_blocked(image_id)
        if image is None or problem:
            if image is not None:
                studio.image_note = (image_id, "error", f"Nothing was sent: {problem}", image.zone_id or "")
            return
        with studio.hold_trait_notifications():
            studio.row_action, studio.row_price, studio.image_note = (image_id, kind), (), ()
        if kind == VERIFY:
            await self._ask_price(image, lambda: self._verify_price(image))
        elif kind == LAUNCH:
            source = self.source_of(image_id)
            if source is not None:
                await self.price_launch(image_id, source.instance_id)

    def cancel_row_action(self) -> None:
        self.studio.row_action, self.studio.row_price = (), ()

    async def _verify_price(self, image: Image) -> tuple[float | None, str | None]:
        client = self.studio.client
        shape = await choose_shape(client, ledger_for(client), image, None)
        return shape.price, shape.instance_type

    async def price_launch(self, image_id: str, like_id: str) -> None:
        """The hourly price of a copy shaped like ``like_id`` (shown in the question before Launch)."""
        studio = self.studio
        image = studio.image(image_id)
        like = studio.inventory.instance(like_id) if studio.inventory is not None else None
        if image is None or like is None:
            return
        studio.row_price = ()  # the last instance's price is not this one's: Launch waits for it

        async def quote() -> tuple[float | None, str | None]:
            answer = await studio.client.inquiry_price_create_instance(str(like.zone_id), str(like.instance_type),
                                                                       system_disk_size=like.system_disk_size)
            return answer.hourly_total, like.instance_type

        await self._ask_price(image, quote)

    async def _ask_price(self, image: Image, ask: Any) -> None:
        studio = self.studio
        try:
            price, instance_type = await ask()
        except Exception as error:  # noqa: BLE001 - said at the row; the question stays open
            studio.image_note = (image.image_id, "error", explain(error, "Asking the price").text(), image.zone_id or "")
            return
        if studio.row_action[:1] == (image.image_id,):
            studio.row_price = (image.image_id, price, instance_type)

    def _progress(self, image: Image, text: str) -> None:
        self.studio.image_note = (image.image_id, "busy", text, image.zone_id or "")

    # -- running ---------------------------------------------------------------------------
    async def verify_row(self, image_id: str) -> bool:
        """Verify the image (a throwaway launched, waited RUNNING, released); the outcome stays at the row."""
        studio = self.studio
        image = studio.image(image_id)
        if image is None or self.row_blocked(image_id):
            return False
        self.cancel_row_action()
        name = image.image_name or image_id
        found: list[Any] = []

        async def verify() -> str:
            self._progress(image, f"Verifying {name}: asking the price…")
            result = await verify_image_async(
                studio.client, image_id, timeout=studio.wait_timeout, sleep=studio.sleep, poll_interval=studio.poll_interval,
                on_price=lambda price: self._progress(image, f"Verifying {name}: {_per_hour(price)}; a throwaway is "
                                                             "launched, waited until it boots, then released…"))
            found.append(result)
            throwaway = f"throwaway {result.instance_id}, {_per_hour(result.price)}, released"
            if result.booted:
                return f"{name} booted in {result.boot_seconds:.0f} s ({throwaway})."
            return f"{name} did not boot ({result.reason}; {throwaway})."

        done = await run_action(studio, "verifying", f"Verifying image {name}", verify, image=image)
        if done and found and not found[0].booted:
            studio.image_note = (image_id, "error", studio.image_note[2], image.zone_id or "")
        self.load_proofs()
        studio.activity.reload()
        return done and bool(found) and found[0].booted

    async def launch_row(self, image_id: str, like_id: str, name: str) -> bool:
        """Launch one instance ``name`` from the image with ``like_id``'s settings; the new id stays at the row."""
        studio = self.studio
        image = studio.image(image_id)
        if image is None or self.row_blocked(image_id):
            return False
        try:
            check_instance_name(name)
        except ValueError as error:
            studio.image_note = (image_id, "error", f"Not launched: {error}", image.zone_id or "")
            return False
        self.cancel_row_action()

        async def launch() -> str:
            self._progress(image, f"Launching {name} from {image.image_name}: asking the price…")
            result = await launch_from_image_async(
                studio.client, image_id, like=like_id, name=name, timeout=studio.wait_timeout, sleep=studio.sleep,
                poll_interval=studio.poll_interval,
                on_price=lambda price: self._progress(image, f"Launching {name}: {_per_hour(price)}; waiting until it "
                                                             "is RUNNING…"))
            return (f"{name} is RUNNING: instance {result.instance_id} ({result.instance_type}, {_per_hour(result.price)}"
                    f"{', launched by an earlier run' if result.reused else ''}).")

        done = await run_action(studio, "launching", f"Launching {name} from image {image.image_name}", launch, image=image)
        studio.activity.reload()
        await studio.loading.refresh()
        return done

    async def restore_row(self, image_id: str, instance_id: str, typed: str) -> bool:
        """Restore ``instance_id`` from the image once its name is typed (a RUNNING one is stopped gracefully first)."""
        studio = self.studio
        image = studio.image(image_id)
        instance = studio.inventory.instance(instance_id) if studio.inventory is not None else None
        if image is None or self.row_blocked(image_id):
            return False
        problem = restore_problem(instance, typed)
        if problem or instance is None:
            studio.image_note = (image_id, "error", f"Nothing was sent: {problem}", image.zone_id or "")
            return False
        self.cancel_row_action()
        label = instance.instance_name or instance_id

        async def restore() -> str:
            stop = instance.instance_status == RUNNING
            self._progress(image, f"Restoring {label} from {image.image_name}: "
                                  f"{'stopping it gracefully, then ' if stop else ''}rebuilding its system disk…")
            result = await restore_instance_async(studio.client, instance_id, image_id, confirm=typed, stop=stop,
                                                  timeout=studio.wait_timeout, sleep=studio.sleep,
                                                  poll_interval=studio.poll_interval)
            studio.loading.apply_status(instance_id, RUNNING)
            backup = f" The former disk is image {result.backup_image_id}." if result.backup_image_id else ""
            return f"{label} is RUNNING on {image.image_name} ({image_id}).{backup} {result.note}".strip()

        done = await run_action(studio, "restoring", f"Restoring {label} from image {image.image_name}", restore, image=image)
        studio.activity.reload()
        await studio.loading.refresh()
        return done


__all__ = ["ACTIONS", "ProofActions"]

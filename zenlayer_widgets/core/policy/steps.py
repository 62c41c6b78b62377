"""The step kinds of a rotation (one ``rotate`` operation per instance), registered with the engine's driver.

* ``rotate_image``: the exactly-once create (core/create.py: stopping a RUNNING instance and starting it again when
  the policy says so), its image id written to the operation as soon as CreateImage answers (ownership by id, at
  create time), followed to its end. Idempotent to the driver: run again after a kill, the same instance and name
  resume the create's intent, never a second image; a made image already AVAILABLE is taken as it is.
* ``rotate_wait``: the gate: the new image is AVAILABLE now (a read); else the step fails and nothing is deleted.
* ``rotate_created``: local: the gate passed and is recorded (the ``created`` phase of ``on_step``).
* ``rotate_delete``: one planned delete, with every guard checked afresh right before it is sent: this apply still
  holds the run (a fence), the image is still the policy's by id, not pinned, still named by its pattern, not the
  instance's newest AVAILABLE image nor one ``keep_verified`` keeps, and no live instance runs it.

What the steps need besides their parameters comes in the driver's extras: ``policy``, ``run`` (the lease),
``on_step``, ``poll``, and ``messages`` (operation id -> the failure in words, kept in memory, not in the ledger).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...api.errors import APIError, TransportError
from ...rules import AVAILABLE, CREATING, UNAVAILABLE
from ..changes import ImageInUse, delete_image_async
from ..create import create_image_async
from ..create_errors import CreateImageError, ImageCreationFailed
from ..ledger.records import now_text
from ..operations import StepFailed, store
from ..operations.steps.base import Evidence, StepKind, StepRun, register
from ..operations.steps.images import DELETING, WaitImage, image_status
from ..restart import pending_restart
from .lease import LeaseLost, ensure_held
from .model import Policy
from .pins import pins
from .plan import kept_verified, named, proven_images, rotating, zone_state
from .records import CREATE_STEP, CREATED, CREATED_STEP, DELETE_STEP, SUBMITTED, WAIT_STEP, owned_images


def _policy(run: StepRun) -> Policy:
    policy = run.extras.get("policy")
    if not isinstance(policy, Policy):
        raise StepFailed("NO_POLICY", "A rotation step runs only inside apply_rotation (it needs the policy).")
    return policy


def _phase(run: StepRun, phase: str) -> None:
    callback: Callable[[str, str], None] | None = run.extras.get("on_step")
    if callback is not None:
        callback(run.need("instance_id"), phase)


def _remember(run: StepRun, message: str) -> None:
    """The words of a failure, kept in memory for this apply's outcome (the ledger keeps the class and code)."""
    run.extras.get("messages", {})[run.operation.operation_id] = message


def _failed(run: StepRun, code: str, message: str) -> StepFailed:
    _remember(run, message)
    return StepFailed(code, message)


def _gone_text(image_name: str, zone: str, status: str | None) -> str:
    ended = "is gone" if status is None else f"is still {status}" if status == CREATING else f"ended {status}"
    return f"the new image {image_name} ({zone}) {ended}, never AVAILABLE; nothing deleted, the older images are kept"


def _note_image(run: StepRun, image_id: str) -> None:
    if run.operation.image_id != image_id and run.operation.owner is not None:
        store.set_image(run.ledger, run.operation.operation_id, run.operation.owner, image_id)


@register
class RotateImage(StepKind):
    """The instance's new image, made once and followed to its end; its result: ``image_id``."""

    name = CREATE_STEP
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        policy = _policy(run)
        instance_id, image_name, zone = run.need("instance_id"), run.need("image_name"), run.need("zone_id")
        made = run.param("made_image_id")  # an interrupted run's image (carried over): AVAILABLE means done
        if made and await image_status(run, zone, made) == AVAILABLE and \
                pending_restart(run.ledger, run.client, instance_id) is None:
            _note_image(run, made)
            return {"image_id": made}
        noted: set[str] = set()

        def progressed(progress: Any) -> None:  # recorded at create time: the policy owns this id, whatever its name
            if progress.image_id is not None and progress.image_id not in noted:
                noted.add(progress.image_id)
                _note_image(run, progress.image_id)
                _phase(run, SUBMITTED)

        try:
            progress = await create_image_async(
                run.client, instance_id, image_name, policy.image_description, stop_if_running=policy.stop_if_running,
                start_after=policy.start_after, ledger=run.ledger, poll_interval=float(run.extras.get("poll", 2.0)),
                on_progress=progressed)
        except ImageCreationFailed as error:
            status = error.progress.status or UNAVAILABLE
            raise _failed(run, f"ENDED_{status}", f"the new image {image_name} ({zone}) ended {status}; nothing deleted, "
                                                  "the older images are kept") from None
        except CreateImageError as error:
            raise _failed(run, type(error).__name__, _error_text(error)) from None
        except (APIError, TransportError) as error:  # the driver decides (a 429 is sent again); its words are kept
            _remember(run, _error_text(error))
            raise
        assert progress.image_id is not None
        _note_image(run, progress.image_id)
        return {"image_id": progress.image_id}


def _error_text(error: BaseException) -> str:
    text = str(error)
    return f"{type(error).__name__}: {text.splitlines()[0] if text else ''}"


@register
class RotateWait(WaitImage):
    """The new image (``image_id``, from ``rotate_image``) is AVAILABLE: only then may anything be deleted."""

    name = WAIT_STEP

    async def send(self, run: StepRun) -> dict[str, Any]:
        try:
            await super().send(run)
        except StepFailed as error:
            status = await image_status(run, run.need("zone_id"), run.need("image_id"))
            raise _failed(run, error.code, _gone_text(run.need("image_name"), run.need("zone_id"), status)) from None
        return {"available_at": now_text()}


@register
class RotateCreated(StepKind):
    """Local: the new image was seen AVAILABLE (``rotate_wait`` is done): the ``created`` phase, before any delete."""

    name = CREATED_STEP
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        _phase(run, CREATED)
        return {}


@register
class RotateDelete(StepKind):
    """One planned delete (``delete_image_id``), sent only if every guard still holds; its result: the id deleted
    (``deleted_image_id``), or why it was kept (``kept``)."""

    name = DELETE_STEP

    async def send(self, run: StepRun) -> dict[str, Any]:
        policy, image_id = _policy(run), run.need("delete_image_id")
        try:
            ensure_held(run.ledger, run.extras["run"])  # a fence: an apply that lost its run deletes nothing
        except LeaseLost:
            if run.operation.owner is not None:
                store.back_to_planned(run.ledger, run.step, run.operation.owner)  # nothing was sent
            raise
        kept, image_name = await _refusal(run, policy, image_id)
        if kept is not None:
            return {"kept": kept} if kept else {}
        try:
            await delete_image_async(run.client, image_id, zone_id=run.need("zone_id"), image_name=image_name,
                                     ledger=run.ledger)
        except ImageInUse as error:
            raise _failed(run, "IMAGE_IN_USE", _error_text(error)) from None
        except (APIError, TransportError) as error:
            _remember(run, _error_text(error))
            raise
        return {"deleted_image_id": image_id}

    async def look(self, run: StepRun) -> Evidence:
        image_id = run.need("delete_image_id")
        status = await image_status(run, run.need("zone_id"), image_id)
        if status is None or status == DELETING:
            return Evidence(True, {"deleted_image_id": image_id}, f"the image is {status or 'gone'}")
        return Evidence(False, reason=f"the image is {status}", seen={"status": status})


async def _refusal(run: StepRun, policy: Policy, image_id: str) -> tuple[str | None, str | None]:
    """Why ``image_id`` must stay now (None: it may go; "": it is gone already), and its current name."""
    instance_id, zone = run.need("instance_id"), run.need("zone_id")
    images, _, _ = await zone_state(run.client, zone)
    current = next((i for i in images if i.image_id == image_id), None)
    if current is None:
        return "", None
    owned = owned_images(run.ledger, run.account, policy.name)
    mine = rotating(policy, instance_id, images, owned, set(pins(run.ledger, run.account)))
    target = next((o for o in mine if o.image_id == image_id), None)
    if target is None:
        return f"{current.image_name} ({zone}) is no longer this policy's to delete (pinned or renamed): kept", None
    status = {i.image_id: i.image_status for i in images}
    good = [o for o in mine if status.get(o.image_id) == AVAILABLE]
    if status.get(image_id) == CREATING or (good and good[-1].image_id == image_id):
        return f"{named(target)} is kept: it is this instance's newest good image", None
    verified = kept_verified(policy, mine, status, proven_images(run.ledger, run.account, [o.image_id for o in mine]))
    if image_id in verified:
        return verified[image_id], None
    return None, current.image_name

"""Steps that launch, price, reset, terminate and release instances.

A launch is tagged with its operation's id (:data:`TAG_OPERATION`): after a lost answer the tag finds exactly
the instances it made (unlike images, whose records do not name their maker). Passwords never reach the
ledger: a launch or reset takes one from the driver's ``extras`` (or makes a random one for a throwaway).
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from ....api.models import Instance
from ....api.vocabulary import CREATE_FAILED, REBUILDING, RECYCLED_STATES, RUNNING, STOPPED
from ...ledger.records import now_text, parse_time
from ..model import StepFailed
from .base import Evidence, StepKind, StepRun, register
from .power import instance_status, status_evidence

#: The tag every launch carries: its operation's id.
TAG_OPERATION = "zenlayer-widgets-operation"
#: The tag a throwaway (a verification's instance) carries besides: what it is for.
TAG_ROLE = "zenlayer-widgets-role"
THROWAWAY = "verify-throwaway"
#: Instances in these states can be moved to the recycle bin.
TERMINABLE = frozenset({RUNNING, STOPPED, CREATE_FAILED})


async def tagged(run: StepRun, operation_id: str) -> list[Instance]:
    """The instances a launch of ``operation_id`` made (found by its tag), the recycle bin included."""
    return list(await run.client.list_instances(tags={TAG_OPERATION: operation_id}))


def _login(run: StepRun) -> dict[str, Any]:
    """Exactly one of key_id (a parameter: an id, not a secret) and password (from extras; a random one when
    the step allows it)."""
    key_id = run.param("key_id")
    if key_id:
        return {"key_id": key_id}
    password = run.extras.get("password")
    if password is None and run.param("random_password"):
        password = secrets.token_urlsafe(18) + "Aa1"
    if password is None:
        raise StepFailed("NO_LOGIN", "A password or key_id is needed (the instance has no key pair).")
    return {"password": password}


@register
class Price(StepKind):
    """InquiryPriceCreateInstance (a read): the hourly price of the launch; fails ``PRICE_ABOVE_CAP`` when it is
    above ``max_price``."""

    name = "price"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        quote = await run.client.inquiry_price_create_instance(
            run.need("zone_id"), run.need("instance_type"), internet_charge_type=run.param("internet_charge_type"),
            internet_max_bandwidth_out=run.param("internet_max_bandwidth_out"),
            system_disk_size=run.param("system_disk_size"))
        price = quote.hourly_total
        shown = run.extras.get("on_price")
        if shown is not None:
            shown(price)
        cap = run.param("max_price")
        if cap is not None and (price is None or price > float(cap)):
            raise StepFailed("PRICE_ABOVE_CAP", f"Type {run.param('instance_type')} costs {price} per hour, above the "
                                                f"cap of {cap}; nothing was launched.")
        return {"price": price}


@register
class Launch(StepKind):
    """CreateInstances (one instance, POSTPAID), tagged with the operation's id. Landed: an instance with the tag."""

    name = "launch"

    async def send(self, run: StepRun) -> dict[str, Any]:
        tags = {TAG_OPERATION: run.operation.operation_id, **(run.param("tags") or {})}
        result = await run.client.create_instances(
            run.need("zone_id"), run.need("instance_type"), run.need("image_id"),
            instance_name=run.param("instance_name"), subnet_id=run.param("subnet_id"),
            security_group_id=run.param("security_group_id"), internet_charge_type=run.param("internet_charge_type"),
            internet_max_bandwidth_out=run.param("internet_max_bandwidth_out"),
            system_disk_size=run.param("system_disk_size"), tags=tags, **_login(run))
        return {"instance_id": result.instance_ids[0], "launch_request_id": result.request_id}

    async def look(self, run: StepRun) -> Evidence:
        found = await tagged(run, run.operation.operation_id)
        ids = sorted(i.instance_id for i in found)
        if len(ids) == 1:
            return Evidence(True, {"instance_id": ids[0], "launch_request_id": None}, "one instance carries the tag",
                            {"tagged": ids})
        if ids:
            return Evidence(None, reason=f"{len(ids)} instances carry the tag ({', '.join(ids)})", seen={"tagged": ids})
        return Evidence(False, reason="no instance carries the tag", seen={"tagged": []})


@register
class Reset(StepKind):
    """ResetInstance of a STOPPED instance onto ``image_id`` (the system disk is formatted). Landed: the instance is
    REBUILDING, or RUNNING on the image (it was STOPPED when the reset was sent: only the rebuild starts it)."""

    name = "reset"

    async def send(self, run: StepRun) -> dict[str, Any]:
        request = await run.client.reset_instance(run.need("instance_id"), run.need("image_id"), **_login(run))
        return {"reset_request_id": request}

    async def look(self, run: StepRun) -> Evidence:
        instance_id, image_id = run.need("instance_id"), run.need("image_id")
        found = await run.client.list_instances(instance_ids=[instance_id])
        instance = next(iter(found), None)
        if instance is None:
            return Evidence(None, reason="the instance is no longer listed")
        seen = {"status": instance.instance_status, "image_id": instance.image_id}
        if instance.instance_status == REBUILDING or (instance.instance_status == RUNNING and instance.image_id == image_id):
            return Evidence(True, {"reset_request_id": None}, f"the instance is {instance.instance_status} on the image", seen)
        if instance.instance_status == STOPPED:
            return Evidence(False, reason="the instance is still STOPPED", seen=seen)
        return Evidence(None, reason=f"the instance is {instance.instance_status} on {instance.image_id}", seen=seen)


@register
class Terminate(StepKind):
    """TerminateInstance (to the recycle bin; billing stops) of ``instance_id``, once it is in a state that allows
    it; nothing to do when no instance was made or it is already in the bin. Landed: in the bin, or gone."""

    name = "terminate"

    async def send(self, run: StepRun) -> dict[str, Any]:
        instance_id = run.param("instance_id")
        if instance_id is None:
            return {}
        timeout = float(run.param("timeout") or 900.0)
        started = time.monotonic()
        while True:
            status = await instance_status(run, instance_id)
            if status is None or status in RECYCLED_STATES:
                return {}
            if status in TERMINABLE:
                break
            if time.monotonic() - started > timeout:
                raise StepFailed("TIMEOUT", f"Instance {instance_id} is still {status}; it cannot be terminated yet.")
            await run.sleep(float(run.extras.get("poll", 1.0)))
        return {"terminate_request_id": await run.client.terminate_instance(instance_id), "terminated_at": now_text()}

    async def look(self, run: StepRun) -> Evidence:
        return await status_evidence(run, RECYCLED_STATES, {"terminated_at": now_text()}, gone=True)


@register
class Release(StepKind):
    """ReleaseInstances (irreversible) of ``instance_id`` from the recycle bin. Landed: the instance is gone."""

    name = "release"

    async def send(self, run: StepRun) -> dict[str, Any]:
        instance_id = run.param("instance_id")
        if instance_id is None or await instance_status(run, instance_id) is None:
            return {"released": instance_id is not None}
        await run.client.release_instances([instance_id])
        return {"released": True, "released_at": now_text()}

    async def look(self, run: StepRun) -> Evidence:
        return await status_evidence(run, frozenset(), {"released": True, "released_at": now_text()}, gone=True)


@register
class Probe(StepKind):
    """The caller's probe (``extras['probe']``, given the instance): a read as far as the API goes, so it is run
    again after a kill. Fails ``PROBE_FAILED`` when it returns False or raises."""

    name = "probe"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        probe = run.extras.get("probe")
        if probe is None:
            return {}
        instance = next(iter(await run.client.list_instances(instance_ids=[run.need("instance_id")])), None)
        try:
            answer = probe(instance)
            if hasattr(answer, "__await__"):
                answer = await answer
        except Exception as error:  # noqa: BLE001 - the caller's code: any failure is a failed probe
            raise StepFailed("PROBE_FAILED", f"The probe raised {type(error).__name__}.") from None
        if answer is False:
            raise StepFailed("PROBE_FAILED", "The probe returned False.")
        return {"probed_at": now_text()}


@register
class OnImage(StepKind):
    """A read: the instance runs ``image_id`` now (after a reset); fails ``NOT_ON_IMAGE`` otherwise."""

    name = "on_image"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        instance_id, image_id = run.need("instance_id"), run.need("image_id")
        instance = next(iter(await run.client.list_instances(instance_ids=[instance_id])), None)
        if instance is None or instance.image_id != image_id:
            raise StepFailed("NOT_ON_IMAGE", f"Instance {instance_id} runs {instance.image_id if instance else 'nothing'}, "
                                             f"not {image_id}.")
        return {"restored_at": now_text()}


@register
class RecordBoot(StepKind):
    """Local: the throwaway booted (it is reached only when the wait and the probe passed). Its result marks the
    image verified: ``booted``, ``boot_seconds`` (from the launch's send to RUNNING seen), ``verified_at``."""

    name = "record_boot"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        launch = run.operation.step("launch")
        running_at = run.operation.facts.get("running_at")
        seconds = None
        if launch is not None and launch.sent_at and running_at:
            seconds = round((parse_time(running_at) - parse_time(launch.sent_at)).total_seconds(), 3)
        return {"booted": True, "boot_seconds": seconds, "verified_at": now_text()}

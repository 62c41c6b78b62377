"""Contract checks: what the emulator assumes about the Zenlayer VM API, checkable against a real account.

``make contract`` runs them against the emulator (comparing with any recorded snapshots);
``ZENLAYER_CONTRACT_LIVE=1 make contract`` runs them read-only against the real API and records
the snapshots; ``ZENLAYER_CONTRACT_WRITE=1`` adds one create / rename / delete cycle
(``ZENLAYER_CONTRACT_DUPLICATE=1``: and a second create with the same name).
"""

from __future__ import annotations

import time
import uuid

import pytest

from zenlayer_widgets.api import APIError, AuthError

from .target import Target, outcome

IMAGE_STATUSES = {"CREATING", "AVAILABLE", "UNAVAILABLE"}


def fields_of(rows: list) -> list[str]:
    return sorted({key for row in rows for key in row})


def test_zones(target: Target) -> None:
    zones = target.client.call("DescribeZones")["zoneSet"]
    assert zones and all(isinstance(z.get("zoneId"), str) and z["zoneId"] for z in zones)
    target.check("zones", {"zone_fields": fields_of(zones)}, subset=("zone_fields",))


def test_instance_paging(target: Target) -> None:
    first = target.client.call("DescribeInstances", {"pageNum": 1, "pageSize": 1})
    total, rows = first.get("totalCount"), first.get("dataSet") or []
    assert isinstance(total, int) and len(rows) <= 1
    disjoint = True
    if total >= 2:
        second = target.client.call("DescribeInstances", {"pageNum": 2, "pageSize": 1})["dataSet"]
        disjoint = {r["instanceId"] for r in rows}.isdisjoint(r["instanceId"] for r in second)
        assert disjoint, "page 2 repeats page 1"
    if total <= 5000:
        assert len(target.client.list_instances()) == total
    target.check("instance_paging", {"total_count_type": type(total).__name__, "pages_disjoint": disjoint,
                                     "instance_fields": fields_of(rows)}, subset=("instance_fields",))


def test_images(target: Target) -> None:
    zone = next(q.zone_id for q in target.client.describe_image_quota() if q.max_count > 0)
    answer = target.client.call("DescribeImages", {"zoneId": zone, "pageSize": 100})
    rows = answer.get("dataSet") or []
    assert rows and {r.get("imageType") for r in rows} <= {"PUBLIC_IMAGE", "CUSTOM_IMAGE"}
    assert {r.get("imageStatus") for r in rows} <= IMAGE_STATUSES
    target.check("images", {"image_fields": fields_of(rows), "image_size_type": type(rows[0].get("imageSize")).__name__},
                 subset=("image_fields",))


def test_quota(target: Target) -> None:
    quotas = target.client.describe_image_quota()
    assert quotas and all(0 <= q.count <= max(q.max_count, q.count) for q in quotas)
    rows = target.client.call("DescribeImageQuota")["images"]
    target.check("quota", {"quota_fields": fields_of(rows)}, subset=("quota_fields",))


def test_bad_signature(target: Target) -> None:
    with target.bad_client() as bad:
        answer = outcome(bad.describe_zones)
        with pytest.raises(AuthError):
            bad.describe_zones()
    assert "ok" not in answer
    target.check("bad_signature", answer)


def test_unknown_zone(target: Target) -> None:
    answer = outcome(lambda: target.client.call("DescribeImages", {"zoneId": "ZW-NO-SUCH-ZONE-1"}))
    assert "ok" not in answer
    target.check("unknown_zone", answer)


def test_bad_page_size(target: Target) -> None:
    answer = outcome(lambda: target.client.call("DescribeInstances", {"pageNum": 1, "pageSize": 1001}))
    target.check("bad_page_size", answer)  # refused (emulator) or clamped: the snapshot says which


def _status(target: Target, zone: str, image_id: str) -> str | None:
    found = target.client.list_images(zone, image_ids=[image_id])
    return found[0].image_status if found else None


def _wait_done(target: Target, zone: str, image_id: str) -> str:
    deadline = time.monotonic() + target.timeout
    while (status := _status(target, zone, image_id)) == "CREATING":
        assert time.monotonic() < deadline, f"image {image_id} still CREATING after {target.timeout:.0f} s"
        time.sleep(0.2 if not target.live else 10)
    assert status is not None, f"image {image_id} vanished while CREATING"
    return status


@pytest.mark.contract_write
def test_write_cycle_create_rename_delete(target: Target) -> None:
    assert target.write_instance, "name a STOPPED instance: ZENLAYER_CONTRACT_INSTANCE=<instance id> (and ZENLAYER_CONTRACT_ZONE)"
    [instance] = target.client.list_instances(instance_ids=[target.write_instance])
    assert instance.instance_status == "STOPPED", f"instance {instance.instance_id} is {instance.instance_status}; stop it first"
    if target.write_zone:
        assert instance.zone_id == target.write_zone, f"instance {instance.instance_id} is in {instance.zone_id}, not {target.write_zone}"
    zone, name = instance.zone_id, f"zwc-{uuid.uuid4().hex[:8]}"
    made: list[str] = []
    try:
        created = target.client.call("CreateImage", {"instanceId": instance.instance_id, "imageName": name})
        made.append(created["imageId"])
        final = _wait_done(target, zone, made[0])
        duplicate: dict = {}

        def create_duplicate() -> None:
            made.append(target.client.call("CreateImage", {"instanceId": instance.instance_id, "imageName": name})["imageId"])

        duplicate = outcome(create_duplicate) if target.try_duplicate else {"not_tried": True}
        if "ok" in duplicate:
            _wait_done(target, zone, made[-1])
        renamed = outcome(lambda: target.client.modify_images_attributes([made[0]], image_name=name + "-r"))
        if "ok" in renamed:
            [image] = target.client.list_images(zone, image_ids=[made[0]])
            renamed["name_changed"] = image.image_name == name + "-r"
        deleted = outcome(lambda: target.client.delete_images(list(made)))
        assert "ok" in deleted, deleted
        gone = not target.client.list_images(zone, image_ids=list(made))
        made.clear()
    finally:
        if made:  # never leave an image behind on the account
            try:
                target.client.delete_images(made)
            except APIError:
                pass
    assert final == "AVAILABLE" and gone
    target.check("write_cycle", {"create_fields": sorted(created), "final_status": final, "duplicate_name": duplicate,
                                 "rename": renamed, "deleted": gone}, subset=("create_fields",))

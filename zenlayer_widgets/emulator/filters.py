"""DescribeInstances / DescribeImages filtering and paging, as pure functions over the state records."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from .records import InstanceRecord


def page(items: Sequence, page_num: int, page_size: int) -> list:
    """Page ``page_num`` (1-based) of ``page_size`` items; past the end, empty."""
    start = (page_num - 1) * page_size
    return list(items[start:start + page_size])


def name_matches(pattern: str, name: str) -> bool:
    """``web*`` matches names starting with ``web``; anything else must match exactly."""
    if pattern.endswith("*"):
        return name.startswith(pattern[:-1])
    return name == pattern


def _attribute_is(attr: str, value: object) -> Callable[[InstanceRecord], bool]:
    return lambda record: bool(getattr(record, attr) == value)


def _attribute_meets(attr: str, wanted: set[Any]) -> Callable[[InstanceRecord], bool]:
    return lambda record: bool(wanted.intersection(getattr(record, attr)))


def instance_checks(filters: Mapping[str, Any]) -> list[Callable[[InstanceRecord], bool]]:
    """One predicate per DescribeInstances filter present (wire names); list filters match any value."""
    checks: list[Callable[[InstanceRecord], bool]] = []
    simple = {
        "zoneId": "zone_id", "instanceStatus": "status", "instanceType": "instance_type", "imageId": "image_id",
        "keyId": "key_id", "subnetId": "subnet_id", "resourceGroupId": "resource_group_id",
        "internetChargeType": "internet_charge_type",
    }
    for wire, attr in simple.items():
        if wire in filters:
            value = filters[wire]
            checks.append(_attribute_is(attr, value))
    if "instanceName" in filters:
        pattern = filters["instanceName"]
        checks.append(lambda r: name_matches(pattern, r.instance_name))
    if "securityGroupId" in filters:
        group = filters["securityGroupId"]
        checks.append(lambda r: group in r.security_group_ids)
    for wire, attr in (("publicIpAddresses", "public_ips"), ("privateIpAddresses", "private_ips")):
        if filters.get(wire):
            wanted = set(filters[wire])
            checks.append(_attribute_meets(attr, wanted))
    if filters.get("tagKeys"):
        keys = set(filters["tagKeys"])
        checks.append(lambda r: bool(keys.intersection(k for k, _ in r.tags)))
    if filters.get("tags"):
        pairs = set(filters["tags"])
        checks.append(lambda r: bool(pairs.intersection(r.tags)))
    return checks

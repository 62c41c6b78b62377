"""Typed, frozen views of the API's wire objects; unknown fields are kept in ``extra``, never an error."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from .vocabulary import CUSTOM_IMAGE

T = TypeVar("T")


def _int(value: Any, default: int = 0) -> int:
    """The API sends some numbers as strings (``imageSize: "30"``); read both, default on junk (NaN, infinity too)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return default


class _Wire:
    """Mixin: build a frozen dataclass from a wire dict (lowerCamelCase keys)."""

    #: dataclass field name -> wire key
    _WIRE: dict[str, str] = {}

    @classmethod
    def _known(cls, data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        wire_to_field = _FIELDS_BY_WIRE.get(cls)
        if wire_to_field is None:  # once per class: this runs for every row of every page
            wire_to_field = _FIELDS_BY_WIRE[cls] = {wire: name for name, wire in cls._WIRE.items()}
        known: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, value in data.items():
            name = wire_to_field.get(key)
            if name is None:
                extra[key] = value
            else:
                known[name] = value
        return known, extra


#: Each model's wire key -> field name (the inverse of its ``_WIRE``), built on first use.
_FIELDS_BY_WIRE: dict[type, dict[str, str]] = {}


@dataclass(frozen=True)
class Zone(_Wire):
    """A zone from DescribeZones (whether it takes custom images is a product rule: ``rules.zone_supports_images``)."""

    zone_id: str
    zone_name: str = ""
    support_security_group: bool | None = None
    support_network_type: str | None = None
    support_ipv6: bool | None = None
    support_cpu_pass_through: bool | None = None
    network_line_type: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _WIRE = {
        "zone_id": "zoneId",
        "zone_name": "zoneName",
        "support_security_group": "supportSecurityGroup",
        "support_network_type": "supportNetworkType",
        "support_ipv6": "supportIpv6",
        "support_cpu_pass_through": "supportCpuPassThrough",
        "network_line_type": "networkLineType",
    }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Zone:
        known, extra = cls._known(data)
        known.setdefault("zone_id", "")
        known["zone_name"] = known.get("zone_name") or ""
        return cls(**known, extra=extra)


@dataclass(frozen=True)
class Instance(_Wire):
    """An instance from DescribeInstances (the fields the studio uses, the rest in ``extra``)."""

    instance_id: str
    instance_name: str = ""
    zone_id: str = ""
    instance_status: str = ""
    instance_type: str | None = None
    cpu_count: int | None = None
    memory: int | None = None
    image_id: str | None = None
    image_name: str | None = None
    system_disk_size: int | None = None
    system_disk_id: str | None = None
    system_disk_category: str | None = None
    public_ip_addresses: tuple[str, ...] = ()
    private_ip_addresses: tuple[str, ...] = ()
    create_time: str | None = None
    instance_charge_type: str | None = None
    resource_group_name: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _WIRE = {
        "instance_id": "instanceId",
        "instance_name": "instanceName",
        "zone_id": "zoneId",
        "instance_status": "instanceStatus",
        "instance_type": "instanceType",
        "cpu_count": "cpuCount",
        "memory": "memory",
        "image_id": "imageId",
        "image_name": "imageName",
        "public_ip_addresses": "publicIpAddresses",
        "private_ip_addresses": "privateIpAddresses",
        "create_time": "createTime",
        "instance_charge_type": "instanceChargeType",
        "resource_group_name": "resourceGroupName",
    }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> Instance:
        known, extra = cls._known(data)
        disk = extra.pop("systemDisk", None) or {}
        if isinstance(disk, Mapping):
            known["system_disk_size"] = _int(disk.get("diskSize"), 0) if disk.get("diskSize") is not None else None
            known["system_disk_id"] = disk.get("diskId")
            known["system_disk_category"] = disk.get("diskCategory")
        for key in ("public_ip_addresses", "private_ip_addresses"):
            known[key] = tuple(known.get(key) or ())
        for key in ("instance_name", "zone_id", "instance_status"):
            known[key] = known.get(key) or ""
        known.setdefault("instance_id", "")
        return cls(**known, extra=extra)

    def with_status(self, status: str) -> Instance:
        """A copy with another power state (after DescribeInstancesStatus)."""
        return dataclasses.replace(self, instance_status=status)


@dataclass(frozen=True)
class InstanceStatus(_Wire):
    """One row of DescribeInstancesStatus."""

    instance_id: str
    instance_status: str
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _WIRE = {"instance_id": "instanceId", "instance_status": "instanceStatus"}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> InstanceStatus:
        known, extra = cls._known(data)
        return cls(instance_id=known.get("instance_id") or "", instance_status=known.get("instance_status") or "", extra=extra)


@dataclass(frozen=True)
class Image(_Wire):
    """An image from DescribeImages. ``zone_id`` is not on the wire: the client fills in the zone it asked."""

    image_id: str
    image_name: str = ""
    image_type: str = ""
    image_status: str = ""
    image_size: int | None = None
    image_description: str | None = None
    image_version: str | None = None
    category: str | None = None
    os_type: str | None = None
    zone_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _WIRE = {
        "image_id": "imageId",
        "image_name": "imageName",
        "image_type": "imageType",
        "image_status": "imageStatus",
        "image_size": "imageSize",
        "image_description": "imageDescription",
        "image_version": "imageVersion",
        "category": "category",
        "os_type": "osType",
    }

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], zone_id: str | None = None) -> Image:
        known, extra = cls._known(data)
        size = known.get("image_size")
        known["image_size"] = _int(size) if size not in (None, "") else None
        for key in ("image_name", "image_type", "image_status"):
            known[key] = known.get(key) or ""
        known.setdefault("image_id", "")
        return cls(**known, zone_id=zone_id, extra=extra)

    @property
    def is_custom(self) -> bool:
        return self.image_type == CUSTOM_IMAGE


@dataclass(frozen=True)
class ImageQuota(_Wire):
    """DescribeImageQuota: ``count`` custom images of ``max_count`` in ``zone_id``."""

    zone_id: str
    count: int = 0
    max_count: int = 0
    extra: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    _WIRE = {"zone_id": "zoneId", "count": "count", "max_count": "maxCount"}

    @classmethod
    def from_wire(cls, data: Mapping[str, Any]) -> ImageQuota:
        known, extra = cls._known(data)
        return cls(
            zone_id=known.get("zone_id") or "",
            count=_int(known.get("count")),
            max_count=_int(known.get("max_count")),
            extra=extra,
        )

    @property
    def free(self) -> int:
        return max(self.max_count - self.count, 0)


@dataclass(frozen=True)
class CreateImageResult:
    """CreateImage's answer: the new image's id and the request id."""

    image_id: str
    request_id: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a Describe* answer."""

    items: tuple[T, ...]
    total_count: int
    request_id: str | None = None
    page_num: int = 1
    page_size: int = 20

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

"""Typed, frozen views of the API's wire objects, decoded straight from the response bytes.

Each model is a :class:`msgspec.Struct` whose lowerCamelCase wire names come from its snake_case
field names (``rename="camel"``, declared once on :class:`_Model`). Fields the API adds later are
skipped, never an error (the raw answer stays available through ``client.call(action, payload)``);
numbers sent as strings (``imageSize: "30"``) are read as numbers; ``null`` for a text field reads
as ``""``. A wrong type in a field the models know (a ``cpuCount`` of ``"four"``) is refused: the
client turns that into :class:`~zenlayer_widgets.api.errors.UnexpectedResponse` naming the field.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import msgspec
from msgspec.structs import force_setattr, replace

from .vocabulary import CUSTOM_IMAGE

T = TypeVar("T")
M = TypeVar("M", bound="_Model")

if TYPE_CHECKING:  # what the fields hold once decoded (``__post_init__`` turns a null into "" or ())
    Text = str
    Addresses = tuple[str, ...]
    Size = int | None
else:  # what the wire may send (msgspec reads these annotations)
    Text = str | None
    Addresses = tuple[str, ...] | None
    Size = int | str | None


class _Model(msgspec.Struct, frozen=True, rename="camel", gc=False):
    """Base of the wire models: frozen, lowerCamelCase on the wire, unknown fields skipped.

    ``gc=False``: they hold only text, numbers, tuples and other models, so they cannot be part of
    a reference cycle, and 2,000 rows no longer set off the garbage collector during a load.
    """

    @classmethod
    def from_wire(cls: type[M], data: Mapping[str, Any]) -> M:
        """A model from a wire dict (e.g. from ``client.call``); :class:`msgspec.ValidationError` if it does not fit."""
        return msgspec.convert(data, cls, strict=False)


class SystemDisk(_Model, frozen=True):
    """``systemDisk`` of an instance, as sent (flattened into :class:`Instance`)."""

    disk_id: str | None = None
    disk_size: int | None = None
    disk_category: str | None = None


class Tag(_Model, frozen=True):
    """One ``{key, value}`` tag."""

    key: str
    value: Text = ""


class TagSet(_Model, frozen=True):
    """The wire's ``TagAssociation``: ``{"tags": [{key, value}, ...]}`` (an object, not a bare list)."""

    tags: tuple[Tag, ...] | None = None


class Zone(_Model, frozen=True):
    """A zone from DescribeZones (whether it takes custom images is a product rule: ``rules.zone_supports_images``)."""

    zone_id: str
    zone_name: Text = ""
    support_security_group: bool | None = None
    support_network_type: str | None = None
    support_ipv6: bool | None = None
    support_cpu_pass_through: bool | None = None
    network_line_type: str | None = None

    def __post_init__(self) -> None:
        if self.zone_name is None:  # null on the wire
            force_setattr(self, "zone_name", "")


class Instance(_Model, frozen=True):
    """An instance from DescribeInstances (the fields the studio uses; ``systemDisk`` is flattened)."""

    instance_id: str
    instance_name: Text = ""
    zone_id: Text = ""
    instance_status: Text = ""
    instance_type: str | None = None
    cpu_count: int | None = None
    memory: int | None = None
    image_id: str | None = None
    image_name: str | None = None
    system_disk_size: int | None = None
    system_disk_id: str | None = None
    system_disk_category: str | None = None
    public_ip_addresses: Addresses = ()
    private_ip_addresses: Addresses = ()
    create_time: str | None = None
    instance_charge_type: str | None = None
    resource_group_name: str | None = None
    subnet_id: str | None = None
    security_group_ids: Addresses = ()
    internet_charge_type: str | None = None
    internet_max_bandwidth_out: int | None = None
    key_id: str | None = None
    #: The instance's tags as sent (``TagAssociation``); read them as a dict through :attr:`tags`.
    tag_set: TagSet | None = msgspec.field(default=None, name="tags")
    #: Only on the way in: read into ``system_disk_*`` and then dropped (None on every instance).
    system_disk: SystemDisk | None = None

    @property
    def tags(self) -> dict[str, str]:
        """The instance's tags, key to value."""
        tags = self.tag_set.tags if self.tag_set is not None else None
        return {tag.key: tag.value or "" for tag in tags or ()}

    def __post_init__(self) -> None:  # one call per row: keep it to the cases that need work
        disk = self.system_disk
        if disk is not None:
            force_setattr(self, "system_disk_size", disk.disk_size)
            force_setattr(self, "system_disk_id", disk.disk_id)
            force_setattr(self, "system_disk_category", disk.disk_category)
            force_setattr(self, "system_disk", None)
        if self.instance_name is None or self.zone_id is None or self.instance_status is None:
            for name in ("instance_name", "zone_id", "instance_status"):
                if getattr(self, name) is None:
                    force_setattr(self, name, "")
        if self.public_ip_addresses is None:
            force_setattr(self, "public_ip_addresses", ())
        if self.private_ip_addresses is None:
            force_setattr(self, "private_ip_addresses", ())
        if self.security_group_ids is None:
            force_setattr(self, "security_group_ids", ())


class InstanceStatus(_Model, frozen=True):
    """One row of DescribeInstancesStatus."""

    instance_id: str
    instance_status: Text = ""

    def __post_init__(self) -> None:
        if self.instance_status is None:
            force_setattr(self, "instance_status", "")


class Image(_Model, frozen=True):
    """An image from DescribeImages. ``zone_id`` is not on the wire: the client fills in the zone it asked.

    ``image_size`` is in GB; the API sends it as a string, and one that is not a number reads as None (unknown).
    """

    image_id: str
    image_name: Text = ""
    image_type: Text = ""
    image_status: Text = ""
    image_size: Size = None
    image_description: str | None = None
    image_version: str | None = None
    category: str | None = None
    os_type: str | None = None
    zone_id: str | None = None

    def __post_init__(self) -> None:
        size = self.image_size
        if isinstance(size, str):
            force_setattr(self, "image_size", int(size) if size.strip().isdigit() else None)
        for name in ("image_name", "image_type", "image_status"):
            if getattr(self, name) is None:
                force_setattr(self, name, "")

    @classmethod
    def from_wire(cls, data: Mapping[str, Any], zone_id: str | None = None) -> Image:
        image = msgspec.convert(data, cls, strict=False)
        return image if zone_id is None else replace(image, zone_id=zone_id)

    @property
    def is_custom(self) -> bool:
        return self.image_type == CUSTOM_IMAGE


class ImageQuota(_Model, frozen=True):
    """DescribeImageQuota: ``count`` custom images of ``max_count`` in ``zone_id``."""

    zone_id: str
    count: int = 0
    max_count: int = 0

    @property
    def free(self) -> int:
        return max(self.max_count - self.count, 0)


# -- answers (the inner ``response`` object of each action) -----------------------------------
class Listing(_Model, Generic[T], frozen=True):
    """A ``Describe*`` page: ``dataSet`` and ``totalCount`` (kept as sent; see ``_flows.total``)."""

    data_set: list[T] | None = None
    total_count: Any = None
    request_id: str | None = None


class RawListing(_Model, frozen=True):
    """A ``Describe*`` page with ``dataSet`` left undecoded: its exact bytes, to tell an unchanged page without decoding it."""

    data_set: msgspec.Raw = msgspec.Raw(b"null")
    total_count: Any = None
    request_id: str | None = None


class ZoneSet(_Model, frozen=True):
    """DescribeZones' answer."""

    zone_set: list[Zone] | None = None
    request_id: str | None = None


class QuotaSet(_Model, frozen=True):
    """DescribeImageQuota's answer."""

    images: list[ImageQuota] | None = None
    request_id: str | None = None


class InstanceTypeInfo(_Model, frozen=True):
    """An instance type offered in a zone (DescribeZoneInstanceConfigInfos' ``instanceTypeQuotaSet``)."""

    zone_id: str
    instance_type: str
    cpu_count: int | None = None
    memory: int | None = None
    frequency: str | None = None
    internet_max_bandwidth_out_limit: int | None = None
    instance_type_name: str | None = None
    internet_charge_types: Addresses = ()


class InstanceTypeSet(_Model, frozen=True):
    """DescribeZoneInstanceConfigInfos' answer."""

    instance_type_quota_set: list[InstanceTypeInfo] | None = None
    request_id: str | None = None


class StepPrice(_Model, frozen=True):
    """A price step of a tiered ``Price``."""

    step_start: float | None = None
    step_end: float | None = None
    unit_price: float | None = None
    discount_unit_price: float | None = None


class Price(_Model, frozen=True):
    """A ``Price``: by the unit (``unit_price`` per ``charge_unit`` HOUR, DAY or MONTH; POSTPAID) or in all
    (``original_price`` / ``discount_price``; PREPAID)."""

    original_price: float | None = None
    discount_price: float | None = None
    discount: float | None = None
    unit_price: float | None = None
    discount_unit_price: float | None = None
    charge_unit: str | None = None
    step_prices: tuple[StepPrice, ...] | None = None

    @property
    def hourly(self) -> float | None:
        """What one hour costs (after discount) when priced by the HOUR, else None."""
        if self.charge_unit != "HOUR":
            return None
        return self.discount_unit_price if self.discount_unit_price is not None else self.unit_price


class InstancePrice(_Model, frozen=True):
    """InquiryPriceCreateInstance's answer: the price of each part of a launch."""

    instance_price: Price | None = None
    bandwidth_price: tuple[Price, ...] | None = None
    eip_price: Price | None = None
    system_disk_price: Price | None = None
    data_disk_price: Price | None = None
    request_id: str | None = None

    @property
    def hourly_total(self) -> float | None:
        """The hourly price of instance, bandwidth, EIP and disks together; None if a part is not by the hour."""
        parts = [self.instance_price, *(self.bandwidth_price or ()), self.eip_price, self.system_disk_price, self.data_disk_price]
        hours = [part.hourly for part in parts if part is not None]
        if any(hour is None for hour in hours):
            return None
        return round(sum(hour for hour in hours if hour is not None), 6)


@dataclass(frozen=True)
class CreateInstancesResult:
    """CreateInstances' answer: the new instances' ids, the order number and the request id."""

    instance_ids: tuple[str, ...]
    order_number: str | None = None
    request_id: str | None = None


@dataclass(frozen=True)
class CreateImageResult:
    """CreateImage's answer: the new image's id and the request id."""

    image_id: str
    request_id: str | None = None


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a Describe* answer.

    ``raw`` is the page's ``dataSet`` exactly as sent, when it was asked to be kept (``keep_raw``):
    a later call given this page as ``known`` tells an unchanged page by it and reuses ``items``.
    """

    items: tuple[T, ...]
    total_count: int
    request_id: str | None = None
    page_num: int = 1
    page_size: int = 20
    raw: bytes | None = field(default=None, repr=False, compare=False)

    def __iter__(self) -> Iterator[T]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

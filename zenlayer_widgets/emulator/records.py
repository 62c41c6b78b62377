"""The emulator's state records: plain mutable dataclasses owned (and locked) by the backend."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ZoneRecord:
    """A zone (DescribeZones)."""

    zone_id: str
    zone_name: str
    network_line_type: str = "BGP"
    support_security_group: bool = True
    support_network_type: str = "VPC"
    support_ipv6: bool = True
    support_cpu_pass_through: bool = False


@dataclass(slots=True)  # no __dict__ per record: a page of 1,000 touches fewer cache lines
class InstanceRecord:
    """A VM instance; ``status`` moves on the backend's clock (see ``backend.py``)."""

    instance_id: str
    instance_name: str
    zone_id: str
    status: str
    instance_type: str
    cpu_count: int
    memory: int
    image_id: str
    image_name: str
    system_disk_id: str
    system_disk_size: int
    system_disk_category: str = "SSD"
    public_ips: list[str] = field(default_factory=list)
    private_ips: list[str] = field(default_factory=list)
    subnet_id: str = ""
    security_group_ids: list[str] = field(default_factory=list)
    key_id: str | None = None
    create_time: str = "2025-01-06T08:00:00Z"
    instance_charge_type: str = "POSTPAID"
    internet_charge_type: str = "ByBandwidth"
    internet_max_bandwidth_out: int = 100
    resource_group_id: str = "rg-default"
    resource_group_name: str = "Default Resource Group"
    tags: list[tuple[str, str]] = field(default_factory=list)
    #: ``(diskId, diskSize GB, diskCategory)`` of each data disk.
    data_disks: list[tuple[str, int, str]] = field(default_factory=list)
    public_ipv6: list[str] = field(default_factory=list)
    #: PREPAID instances: months bought, when they expire, whether they renew.
    period: int | None = None
    expired_time: str | None = None
    auto_renew: bool = False
    #: Set by the ``boot_failure`` fault: the launch ends CREATE_FAILED instead of RUNNING.
    boot_failure: bool = False
    #: Bumped on every change of state, so stale lifecycle events are ignored.
    generation: int = 0
    #: The rendered wire JSON (ASCII bytes), kept until the next change of state (fast large pages).
    cached_json: bytes | None = field(default=None, repr=False, compare=False)


@dataclass
class ImageRecord:
    """An image. Public images have ``zone_id=None`` (they exist in every zone)."""

    image_id: str
    image_name: str
    image_type: str
    status: str
    size_gb: int
    category: str
    os_type: str
    image_version: str
    description: str | None = None
    zone_id: str | None = None
    source_instance_id: str | None = None
    #: Set by the ``unavailable`` fault: the status a CREATING image ends in instead of AVAILABLE.
    final_status: str | None = None


@dataclass(frozen=True)
class InstanceTypeRecord:
    """An instance type offered in a zone (DescribeZoneInstanceConfigInfos) and its hourly price."""

    zone_id: str
    instance_type: str
    cpu_count: int
    memory: int
    hourly_price: float
    frequency: str = "2.5GHz"
    internet_max_bandwidth_out_limit: int = 1000


@dataclass
class LaunchSpec:
    """What one CreateInstances asks for, checked for types and ranges (the backend checks the rest)."""

    zone_id: str
    instance_type: str
    image_id: str
    instance_name: str
    instance_count: int = 1
    instance_charge_type: str = "POSTPAID"
    period: int | None = None
    internet_charge_type: str = "ByBandwidth"
    internet_max_bandwidth_out: int = 1
    subnet_id: str | None = None
    security_group_id: str | None = None
    resource_group_id: str | None = None
    key_id: str | None = None
    #: None: the image's size (at least 20 GB).
    system_disk_size: int | None = None
    system_disk_category: str = "SSD"
    #: ``(diskSize GB, diskCategory)`` of each data disk.
    data_disks: list[tuple[int, str]] = field(default_factory=list)
    tags: list[tuple[str, str]] = field(default_factory=list)

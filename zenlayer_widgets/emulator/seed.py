"""Deterministic fleets: the ``demo`` fleet a new user sees, and synthetic fleets of N instances.

The demo fleet (every number below is asserted by tests; the runbook's demo path relies on it):

========  ======================================  =================  ====================
zone      instances                               custom images      note
========  ======================================  =================  ====================
HKG-A     web-hkg-01 RUNNING, build-hkg-01 and    1 of 5             the demo path: stop
          db-hkg-01 STOPPED, cache-hkg-01                            one, image another
          RUNNING
SEL-A     app-sel-01 RUNNING, app-sel-02 STOPPED  4 of 5             one more fills it
FRA-A     api-fra-01 STOPPED, api-fra-02 RUNNING  5 of 5             quota full
SIN-E     edge-sin-01 STOPPED, edge-sin-02        0                  images refused
          RUNNING
LAX-A     media-lax-01 RUNNING, media-lax-02      0                  images refused
          STOPPED
TYO-A     game-tyo-01 RUNNING, game-tyo-02        0 of 5
          STOPPED
NYC-A     ci-nyc-01 STOPPED, old-nyc-01 in the    2 of 5             RECYCLE: start/stop
          recycle bin (RECYCLE)                                      and images refused
========  ======================================  =================  ====================
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .. import rules
from .records import ImageRecord, InstanceRecord, InstanceTypeRecord, ZoneRecord

SEEDS = ("demo", "empty", "states")

_ALPHANUMERIC = string.ascii_letters + string.digits
_BASE_TIME = datetime(2025, 1, 6, 8, 0, tzinfo=timezone.utc)

#: (zone id, name, network line type, IPv6)
ZONES = (
    ("HKG-A", "Hong Kong A", "CN2", True),
    ("SEL-A", "Seoul A", "BGP", True),
    ("FRA-A", "Frankfurt A", "Cogent", True),
    ("SIN-E", "Singapore E", "BGP", False),
    ("LAX-A", "Los Angeles A", "BGP", True),
    ("TYO-A", "Tokyo A", "BGP", True),
    ("NYC-A", "New York A", "Cogent", False),
)
#: Extra zones for synthetic fleets (at least 10 zones in all).
EXTRA_ZONES = (
    ("AMS-A", "Amsterdam A", "Cogent", True),
    ("LON-A", "London A", "BGP", True),
    ("SAO-A", "Sao Paulo A", "BGP", False),
    ("SYD-A", "Sydney A", "BGP", True),
    ("DXB-A", "Dubai A", "Cogent", False),
)

#: (name, category, osType, version, size GB)
PUBLIC_IMAGES = (
    ("Ubuntu Server 22.04 LTS x86 64-bit", "Ubuntu", "linux", "22.04", 20),
    ("Ubuntu Server 20.04 LTS x86 64-bit", "Ubuntu", "linux", "20.04", 20),
    ("Debian 12 x86 64-bit", "Debian", "linux", "12", 20),
    ("CentOS 7.9 x86 64-bit", "CentOS", "linux", "7.9", 20),
    ("Windows Server 2022 Datacenter 64-bit", "Windows", "windows", "2022", 40),
)

#: (name, zone, status, public image index, system disk GB, cpu, memory GiB)
DEMO_INSTANCES = (
    ("web-hkg-01", "HKG-A", rules.RUNNING, 0, 40, 2, 4),
    ("build-hkg-01", "HKG-A", rules.STOPPED, 0, 60, 4, 8),
    ("db-hkg-01", "HKG-A", rules.STOPPED, 2, 100, 4, 16),
    ("cache-hkg-01", "HKG-A", rules.RUNNING, 2, 40, 2, 8),
    ("app-sel-01", "SEL-A", rules.RUNNING, 0, 40, 2, 4),
    ("app-sel-02", "SEL-A", rules.STOPPED, 1, 50, 2, 4),
    ("api-fra-01", "FRA-A", rules.STOPPED, 3, 40, 2, 4),
    ("api-fra-02", "FRA-A", rules.RUNNING, 3, 40, 2, 4),
    ("edge-sin-01", "SIN-E", rules.STOPPED, 2, 30, 1, 2),
    ("edge-sin-02", "SIN-E", rules.RUNNING, 2, 30, 1, 2),
    ("media-lax-01", "LAX-A", rules.RUNNING, 4, 80, 8, 16),
    ("media-lax-02", "LAX-A", rules.STOPPED, 0, 80, 8, 16),
    ("game-tyo-01", "TYO-A", rules.RUNNING, 4, 60, 4, 8),
    ("game-tyo-02", "TYO-A", rules.STOPPED, 0, 60, 4, 8),
    ("ci-nyc-01", "NYC-A", rules.STOPPED, 1, 40, 2, 4),
    ("old-nyc-01", "NYC-A", "RECYCLE", 1, 40, 2, 4),
)

#: (image name, source instance name, description)
DEMO_CUSTOM_IMAGES = (
    ("web-golden-2025", "web-hkg-01", "Nginx + app, hardened"),
    ("app-base-v1", "app-sel-01", None),
    ("app-base-v2", "app-sel-01", None),
    ("app-base-v3", "app-sel-02", "Current base for the Seoul app tier"),
    ("nightly-20250301", "app-sel-02", None),
    ("api-release-1", "api-fra-01", None),
    ("api-release-2", "api-fra-01", None),
    ("api-release-3", "api-fra-02", None),
    ("api-release-4", "api-fra-02", "Rollback target"),
    ("api-release-5", "api-fra-02", "Current release"),
    ("ci-runner-base", "ci-nyc-01", None),
    ("ci-runner-gpu", "ci-nyc-01", None),
)


#: (instance type, cpu, memory GiB, USD per hour in the cheapest zone): every zone offers these
#: (the demo and synthetic fleets use them); a zone's prices are these times its factor below.
INSTANCE_TYPES = (
    ("z2a.c1m2", 1, 2, 0.012),
    ("z2a.c2m4", 2, 4, 0.024),
    ("z2a.c2m8", 2, 8, 0.032),
    ("z2a.c4m8", 4, 8, 0.048),
    ("z2a.c4m16", 4, 16, 0.064),
    ("z2a.c8m16", 8, 16, 0.096),
)
#: Zone price factors (zones not listed: 1.0).
ZONE_PRICE_FACTORS = {"HKG-A": 1.25, "SEL-A": 1.15, "SIN-E": 1.1, "TYO-A": 1.2, "LAX-A": 1.05}
#: Hourly prices of the other parts of a launch: per Mbps of ByBandwidth bandwidth, per GB of disk.
BANDWIDTH_PRICE_PER_MBPS_HOUR = 0.0002
DISK_PRICE_PER_GB_HOUR = 0.0001


def instance_types(zone_id: str) -> list[InstanceTypeRecord]:
    """The instance types a zone offers, priced for that zone."""
    factor = ZONE_PRICE_FACTORS.get(zone_id, 1.0)
    return [InstanceTypeRecord(zone_id, name, cpu, memory, round(price * factor, 4)) for name, cpu, memory, price in INSTANCE_TYPES]


@dataclass
class Fleet:
    """Everything a backend starts with."""

    zones: list[ZoneRecord] = field(default_factory=list)
    public_images: list[ImageRecord] = field(default_factory=list)
    instances: list[InstanceRecord] = field(default_factory=list)
    custom_images: list[ImageRecord] = field(default_factory=list)


class IdFactory:
    """Deterministic resource ids from one seeded RNG (unique within a backend)."""

    @classmethod
    def restored(cls, seed: str, seen: set[str]) -> IdFactory:
        """A factory that never hands out any id of ``seen`` (a reloaded snapshot's ids)."""
        ids = cls(f"{seed}:{len(seen)}")
        ids._seen = set(seen)
        return ids

    @property
    def seen(self) -> frozenset[str]:
        """Every id handed out (or restored) so far."""
        return frozenset(self._seen)

    def __init__(self, seed: str) -> None:
        self._rng = random.Random(f"ids:{seed}")
        self._seen: set[str] = set()

    def _unique(self, make) -> str:  # noqa: ANN001
        while True:
            value = make()
            if value not in self._seen:
                self._seen.add(value)
                return value

    def image_id(self) -> str:
        """``img-`` and 25 letters and digits, like ``img-EVhEsCuXhCN0urZ7Vt77oOr6K``."""
        return self._unique(lambda: "img-" + "".join(self._rng.choices(_ALPHANUMERIC, k=25)))

    def instance_id(self) -> str:
        """A 13-digit number, like the reference's ``1234567654321``."""
        return self._unique(lambda: str(self._rng.randrange(10**12, 10**13)))

    def disk_id(self) -> str:
        return self._unique(lambda: "disk-" + "".join(self._rng.choices(_ALPHANUMERIC, k=12)))

    def order_number(self) -> str:
        """A 13-digit number (CreateInstances' ``orderNumber``)."""
        return self._unique(lambda: str(self._rng.randrange(10**12, 10**13)))


def _zone(spec: tuple[str, str, str, bool]) -> ZoneRecord:
    zone_id, name, line, ipv6 = spec
    return ZoneRecord(zone_id=zone_id, zone_name=name, network_line_type=line, support_ipv6=ipv6)


def _public_images(ids: IdFactory) -> list[ImageRecord]:
    return [
        ImageRecord(
            image_id=ids.image_id(), image_name=name, image_type=rules.PUBLIC_IMAGE, status=rules.AVAILABLE,
            size_gb=size, category=category, os_type=os_type, image_version=version,
        )
        for name, category, os_type, version, size in PUBLIC_IMAGES
    ]


#: The ``states`` seed: the demo fleet plus one instance in each state the demo lacks (TYO-A), and
#: an UNAVAILABLE custom image (a failed CreateImage) of game-tyo-02.
STATE_INSTANCES = (
    ("new-tyo-01", "PENDING"),
    ("reboot-tyo-01", "REBOOT"),
    ("rebuild-tyo-01", "REBUILDING"),
    ("bin-tyo-01", "RECYCLING"),
)


def _varied(record: InstanceRecord, index: int, os_type: str, ipv6: bool) -> InstanceRecord:
    """The fields real instances vary in: data disks, key pairs, IPv6, PREPAID (deterministic by index)."""
    if index % 3 == 1:
        record.data_disks = [(f"{record.system_disk_id}-d1", 100 * (1 + index % 4), "STANDARD")]
    if os_type == "linux" and index % 2 == 0:
        record.key_id = f"key-{record.zone_id.lower()}-ops"
    if ipv6 and index % 2 == 0:
        record.public_ipv6 = [f"2001:db8:{index:x}::1"]
    if index % 4 == 1:
        created = datetime.strptime(record.create_time, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        record.instance_charge_type, record.period, record.auto_renew = "PREPAID", 12, index % 8 == 1
        record.expired_time = (created + timedelta(days=365)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return record


def _instance(ids: IdFactory, index: int, name: str, zone_index: int, zone_id: str, status: str,
              image: ImageRecord, disk: int, cpu: int, memory: int) -> InstanceRecord:
    created = _BASE_TIME + timedelta(minutes=37 * index)
    return InstanceRecord(
        instance_id=ids.instance_id(), instance_name=name, zone_id=zone_id, status=status,
        instance_type=f"z2a.c{cpu}m{memory}", cpu_count=cpu, memory=memory,
        image_id=image.image_id, image_name=image.image_name,
        system_disk_id=ids.disk_id(), system_disk_size=disk,
        public_ips=[f"203.0.{113 + zone_index % 2}.{(index % 250) + 1}"],
        private_ips=[f"10.{zone_index}.{index // 250 % 256}.{index % 250 + 2}"],
        subnet_id=f"subnet-{zone_id.lower()}-default", security_group_ids=[f"sg-{zone_id.lower()}-default"],
        create_time=created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        tags=[("env", "demo" if index % 3 else "prod")],
    )


def custom_image(ids: IdFactory, name: str, source: InstanceRecord, base: ImageRecord | None,
                 description: str | None, status: str) -> ImageRecord:
    """A custom image of ``source``'s system disk (size = disk size, OS from its public image)."""
    return ImageRecord(
        image_id=ids.image_id(), image_name=name, image_type=rules.CUSTOM_IMAGE, status=status,
        size_gb=source.system_disk_size,
        category=base.category if base else "OTHERS", os_type=base.os_type if base else "linux",
        image_version=base.image_version if base else "", description=description,
        zone_id=source.zone_id, source_instance_id=source.instance_id,
    )


def demo_fleet(ids: IdFactory) -> Fleet:
    """The hand-written demo fleet (see the module docstring)."""
    fleet = Fleet(zones=[_zone(z) for z in ZONES], public_images=_public_images(ids))
    zone_index = {z.zone_id: i for i, z in enumerate(fleet.zones)}
    by_name: dict[str, InstanceRecord] = {}
    ipv6 = {z.zone_id: z.support_ipv6 for z in fleet.zones}
    for index, (name, zone_id, status, image, disk, cpu, memory) in enumerate(DEMO_INSTANCES):
        record = _instance(ids, index, name, zone_index[zone_id], zone_id, status, fleet.public_images[image], disk, cpu, memory)
        _varied(record, index, fleet.public_images[image].os_type, ipv6[zone_id])
        fleet.instances.append(record)
        by_name[name] = record
    public = {image.image_id: image for image in fleet.public_images}
    for name, source_name, description in DEMO_CUSTOM_IMAGES:
        source = by_name[source_name]
        fleet.custom_images.append(custom_image(ids, name, source, public.get(source.image_id), description, rules.AVAILABLE))
    return fleet


def states_fleet(ids: IdFactory) -> Fleet:
    """The demo fleet plus PENDING, REBOOT, REBUILDING and RECYCLING instances and an UNAVAILABLE image."""
    fleet = demo_fleet(ids)
    zone_index = [z.zone_id for z in fleet.zones].index("TYO-A")
    for offset, (name, status) in enumerate(STATE_INSTANCES):
        index = len(DEMO_INSTANCES) + offset
        fleet.instances.append(_instance(ids, index, name, zone_index, "TYO-A", status, fleet.public_images[0], 40, 2, 4))
    source = next(i for i in fleet.instances if i.instance_name == "game-tyo-02")
    fleet.custom_images.append(custom_image(ids, "game-broken-1", source, fleet.public_images[0], "A CreateImage that failed",
                                            rules.UNAVAILABLE))
    return fleet


def synthetic_fleet(ids: IdFactory, count: int, seed: str) -> Fleet:
    """``count`` instances spread round-robin over 12 zones, ~70% RUNNING, 0-3 custom images per zone."""
    rng = random.Random(f"fleet:{seed}:{count}")
    fleet = Fleet(zones=[_zone(z) for z in ZONES + EXTRA_ZONES], public_images=_public_images(ids))
    roles = ("web", "api", "db", "cache", "worker", "batch")
    first_in_zone: dict[str, InstanceRecord] = {}
    for index in range(count):
        zone_index = index % len(fleet.zones)
        zone = fleet.zones[zone_index]
        status = rules.RUNNING if rng.random() < 0.7 else rules.STOPPED
        image = fleet.public_images[rng.randrange(len(fleet.public_images))]
        cpu = rng.choice((1, 2, 4, 8))
        record = _instance(ids, index, f"{roles[index % len(roles)]}-{zone.zone_id.lower()}-{index:05d}", zone_index,
                           zone.zone_id, status, image, rng.choice((20, 40, 60, 100)), cpu, cpu * 2)
        fleet.instances.append(record)
        first_in_zone.setdefault(zone.zone_id, record)
    public = {image.image_id: image for image in fleet.public_images}
    for zone in fleet.zones:
        source = first_in_zone.get(zone.zone_id)
        if source is None or not rules.zone_supports_images(zone.zone_id):
            continue
        for number in range(rng.randint(0, 3)):
            name = f"{zone.zone_id.lower()}-image-{number + 1}"
            fleet.custom_images.append(custom_image(ids, name, source, public.get(source.image_id), None, rules.AVAILABLE))
    return fleet


def build_fleet(ids: IdFactory, seed: str = "demo", instances: int | None = None) -> Fleet:
    """The fleet for ``seed`` (``demo`` or ``empty``), or a synthetic one of ``instances`` instances."""
    if instances is not None:
        if instances < 0:
            raise ValueError("instances must be >= 0")
        return synthetic_fleet(ids, instances, seed)
    if seed == "demo":
        return demo_fleet(ids)
    if seed == "states":
        return states_fleet(ids)
    if seed == "empty":
        return Fleet(zones=[_zone(z) for z in ZONES], public_images=_public_images(ids))
    raise ValueError(f"unknown seed {seed!r}; use one of {', '.join(SEEDS)} (or instances=N)")

"""The account's instances, custom images and image quota as pandas DataFrames.

:func:`load_inventory_async` fetches everything in two rounds of concurrent requests, the floor
the API allows: first the zones, the first 1,000 instances and the instance count (a one-row
page, which answers before those rows are downloaded and parsed); then, as soon as the zones
answer, the images of every zone and the quota of all zones, and as soon as the count answers,
every other page of instances. The DataFrame builders are pure functions of the typed models, so
they are tested without any network; an :class:`Inventory` keeps the models and derives its
tables from them.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property

import pandas as pd

from .._runner import run_sync
from ..api.models import Image, ImageQuota, Instance, Page, Zone
from ..api.vocabulary import MAX_PAGE_SIZE
from ..rules import CUSTOM_IMAGE, IMAGE_QUOTA_PER_ZONE, zone_supports_images
from .sync import AnyClient, async_side

INSTANCE_COLUMNS = [
    "instance_id",
    "name",
    "zone",
    "power_state",
    "system_disk_gb",
    "zone_supports_images",
    "instance_type",
    "cpu",
    "memory_gb",
    "public_ip",
    "created",
]
IMAGE_COLUMNS = ["zone", "image_id", "name", "type", "status", "size_gb", "description"]
QUOTA_COLUMNS = ["zone", "used", "max", "free", "supports_images"]


@dataclass(frozen=True, eq=False)
class Inventory:
    """A snapshot of the account: the typed models the API returned, and pandas tables of them.

    ``instance_list``, ``image_list`` (custom images of all zones) and ``quota_list`` are the
    models; ``instances``, ``images`` and ``quota`` are DataFrames derived from them (built once,
    on first use). Snapshots compare by identity: a new load is a new snapshot.
    """

    zones: tuple[Zone, ...]
    instance_list: tuple[Instance, ...] = ()
    image_list: tuple[Image, ...] = ()
    quota_list: tuple[ImageQuota, ...] = ()
    loaded_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    requests: int = 0

    @cached_property
    def instances(self) -> pd.DataFrame:
        """One row per instance (:func:`instances_frame`)."""
        return instances_frame(self.instance_list)

    @cached_property
    def images(self) -> pd.DataFrame:
        """One row per image, tagged with its zone (:func:`images_frame`)."""
        return images_frame(self.image_list)

    @cached_property
    def quota(self) -> pd.DataFrame:
        """Used / max / free per zone, in zone order (:func:`quota_frame`)."""
        return quota_frame(self.quota_list, self.zones)

    @cached_property
    def _instances_by_id(self) -> dict[str, Instance]:
        return {instance.instance_id: instance for instance in self.instance_list}

    @property
    def zone_ids(self) -> list[str]:
        return [zone.zone_id for zone in self.zones]

    def instance(self, instance_id: str) -> Instance | None:
        """The instance with this id, as the API described it (``None`` when it is not listed)."""
        return self._instances_by_id.get(instance_id)

    def images_in(self, zone_id: str) -> pd.DataFrame:
        """The images of one zone (without the zone column), in the order the API listed them."""
        frame = self.images[self.images["zone"] == zone_id]
        return frame.drop(columns=["zone"]).reset_index(drop=True)

    def image_names_in(self, zone_id: str) -> set[str]:
        """The names of the zone's images."""
        return {image.image_name for image in self.image_list if image.zone_id == zone_id}

    def images_by_zone(self) -> dict[str, pd.DataFrame]:
        """Every zone's image table, zones in DescribeZones order (empty tables included)."""
        return {zone_id: self.images_in(zone_id) for zone_id in self.zone_ids}

    def quota_for(self, zone_id: str) -> ImageQuota:
        """The quota of one zone (0 of 5 when the API did not report it)."""
        found = next((quota for quota in self.quota_list if quota.zone_id == zone_id), None)
        return found if found is not None else ImageQuota(zone_id=zone_id, count=0, max_count=IMAGE_QUOTA_PER_ZONE)

    def with_statuses(self, statuses: Mapping[str, str]) -> Inventory:
        """This snapshot with the power states in ``statuses`` (instance id -> state) applied.

        Returns ``self`` when nothing changes; unknown ids and empty states are ignored. Zones,
        images and quota are shared with this snapshot; an instance table already built is
        updated in its one column rather than rebuilt.
        """
        by_id = self._instances_by_id
        changed = {
            instance_id: status
            for instance_id, status in statuses.items()
            if status and instance_id in by_id and by_id[instance_id].instance_status != status
        }
        if not changed:
            return self
        models = tuple(
            replace(i, instance_status=changed[i.instance_id]) if i.instance_id in changed else i for i in self.instance_list
        )
        updated = replace(self, instance_list=models)
        built = self.__dict__
        for name in ("images", "quota"):
            if name in built:
                updated.__dict__[name] = built[name]
        if "instances" in built:
            updated.__dict__["instances"] = built["instances"].assign(power_state=[i.instance_status for i in models])
        return updated


def instances_frame(instances: Iterable[Instance]) -> pd.DataFrame:
    """One row per instance with its power state and whether its zone can hold images."""
    rows = list(instances)
    if not rows:
        return pd.DataFrame(columns=INSTANCE_COLUMNS).astype({"system_disk_gb": "Int64", "cpu": "Int64", "memory_gb": "Int64"})
    supports = {zone: zone_supports_images(zone) for zone in {i.zone_id for i in rows}}
    columns = {  # built column by column: fleets of 10,000 load on every refresh
        "instance_id": [i.instance_id for i in rows],
        "name": [i.instance_name for i in rows],
        "zone": [i.zone_id for i in rows],
        "power_state": [i.instance_status for i in rows],
        "system_disk_gb": pd.array([i.system_disk_size for i in rows], dtype="Int64"),
        "zone_supports_images": [supports[i.zone_id] for i in rows],
        "instance_type": [i.instance_type for i in rows],
        "cpu": pd.array([i.cpu_count for i in rows], dtype="Int64"),
        "memory_gb": pd.array([i.memory for i in rows], dtype="Int64"),
        "public_ip": [", ".join(i.public_ip_addresses) for i in rows],
        "created": [i.create_time for i in rows],
    }
    return pd.DataFrame(columns, columns=INSTANCE_COLUMNS)


def images_frame(images: Iterable[Image]) -> pd.DataFrame:
    """One row per image, tagged with its zone."""
    rows = [
        {
            "zone": image.zone_id,
            "image_id": image.image_id,
            "name": image.image_name,
            "type": image.image_type,
            "status": image.image_status,
            "size_gb": image.image_size,
            "description": image.image_description or "",
        }
        for image in images
    ]
    return pd.DataFrame(rows, columns=IMAGE_COLUMNS).astype({"size_gb": "Int64"})


def quota_frame(quotas: Iterable[ImageQuota], zones: Sequence[Zone]) -> pd.DataFrame:
    """Used / max / free per zone, in zone order; a zone the API did not report shows 0 of 5."""
    by_zone = {quota.zone_id: quota for quota in quotas}
    rows = []
    for zone in zones:
        quota = by_zone.get(zone.zone_id, ImageQuota(zone.zone_id, 0, IMAGE_QUOTA_PER_ZONE))
        rows.append(
            {
                "zone": zone.zone_id,
                "used": quota.count,
                "max": quota.max_count,
                "free": quota.free,
                "supports_images": zone_supports_images(zone.zone_id),
            }
        )
    return pd.DataFrame(rows, columns=QUOTA_COLUMNS)


def _page_count(total: int) -> int:
    return math.ceil(total / MAX_PAGE_SIZE)


async def load_inventory_async(client: AnyClient, *, image_type: str | None = CUSTOM_IMAGE) -> Inventory:
    """Fetch instances, images (custom only, unless ``image_type=None``) and quota in two rounds."""
    client = async_side(client)
    before = client.request_count

    async def zones_images_quota() -> tuple[list[Zone], list[ImageQuota], list[Image]]:
        zones = await client.describe_zones()
        zone_ids = [zone.zone_id for zone in zones]
        quotas, *image_lists = await asyncio.gather(
            client.describe_image_quota(zone_ids), *(client.list_images(z, image_type=image_type) for z in zone_ids)
        )
        return zones, quotas, [image for batch in image_lists for image in batch]

    async def instance_pages(first: int, last: int) -> list[Page[Instance]]:
        pages = (client.describe_instances(page_num=n, page_size=MAX_PAGE_SIZE) for n in range(first, last + 1))
        return list(await asyncio.gather(*pages))

    async def pages_after_count() -> tuple[int, list[Page[Instance]]]:
        counted = _page_count((await client.describe_instances(page_num=1, page_size=1)).total_count)
        return counted, await instance_pages(2, counted)

    async def all_instances() -> list[Instance]:
        # Beside the first 1,000 rows, the count from a one-row page: it answers without waiting for
        # those rows to download and parse, so the other pages go out while they still do.
        first, (counted, rest) = await asyncio.gather(
            client.describe_instances(page_num=1, page_size=MAX_PAGE_SIZE), pages_after_count()
        )
        pages = [first, *rest]
        # the fleet grew between the count and the pages: fetch the pages the count did not cover
        pages += await instance_pages(max(counted, 1) + 1, _page_count(max(page.total_count for page in pages)))
        return [instance for page in pages for instance in page.items]

    (zones, quotas, images), instances = await asyncio.gather(zones_images_quota(), all_instances())
    return Inventory(
        zones=tuple(zones),
        instance_list=tuple(instances),
        image_list=tuple(images),
        quota_list=tuple(quotas),
        requests=client.request_count - before,
    )


def load_inventory(client: AnyClient, *, image_type: str | None = CUSTOM_IMAGE) -> Inventory:
    """:func:`load_inventory_async` for synchronous code (runbooks, scripts, papermill)."""
    return run_sync(load_inventory_async(client, image_type=image_type))


def filter_instances(
    frame: pd.DataFrame, *, zone: str | None = None, state: str | None = None, name: str = ""
) -> pd.DataFrame:
    """The instances in ``zone`` with power ``state`` whose name or id contains ``name`` (case-insensitive)."""
    mask = pd.Series(True, index=frame.index)
    if zone:
        mask &= frame["zone"] == zone
    if state:
        mask &= frame["power_state"] == state
    text = name.strip().lower()
    if text:
        mask &= frame["name"].str.lower().str.contains(text, regex=False) | frame["instance_id"].str.lower().str.contains(
            text, regex=False
        )
    return frame[mask]


def page_of(frame: pd.DataFrame, page: int, size: int) -> tuple[pd.DataFrame, int]:
    """Rows of 0-based ``page`` (clamped) and the number of pages (at least 1)."""
    pages = max(1, math.ceil(len(frame) / size))
    page = min(max(page, 0), pages - 1)
    return frame.iloc[page * size : (page + 1) * size], pages

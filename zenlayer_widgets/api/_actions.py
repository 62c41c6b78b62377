"""Each API action as a flow (see :mod:`._flows`): payload in snake_case, typed models out."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from msgspec.structs import replace

from . import vocabulary as A
from ._flows import (
    Context,
    Flow,
    batched,
    call,
    empty_page,
    id_filter,
    id_list,
    listing,
    page,
    payload,
)
from ._wire import unexpected
from .models import (
    CreateImageResult,
    CreateInstancesResult,
    Image,
    ImageQuota,
    Instance,
    InstancePrice,
    InstanceStatus,
    InstanceTypeInfo,
    InstanceTypeSet,
    Page,
    QuotaSet,
    Zone,
    ZoneSet,
)
from .params import id_arg, tags_arg, text_arg
from .vocabulary import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


def _filters(**values: Any) -> dict[str, str | None]:
    """Optional string filters, each checked (None left out later by ``payload``)."""
    return {name: text_arg(value, name, optional=True, empty=True) for name, value in values.items()}


def describe_zones(ctx: Context, zone_ids: Sequence[str] | None = None) -> Flow[list[Zone]]:
    """Zones (DescribeZones), all of them or those in ``zone_ids``."""
    ids = None if zone_ids is None else id_list(zone_ids, "zone_ids")
    if ids == []:
        return []
    response = yield from call(ctx, A.DESCRIBE_ZONES, payload(zone_ids=ids), into=ZoneSet)
    return list(response.zone_set or ())


#: The DescribeInstances filters besides the named arguments (snake_case of the reference's names).
INSTANCE_FILTERS = (
    "resource_group_id", "instance_type", "internet_charge_type", "image_id", "key_id", "subnet_id",
    "security_group_id", "public_ip_addresses", "private_ip_addresses", "tag_keys", "tags",
)


def _instance_filters(filters: Mapping[str, Any]) -> Mapping[str, Any]:
    """``filters``, once every name is a DescribeInstances filter (a typo would silently filter nothing).

    ``tags`` is a mapping ``{key: value}`` (sent as the flat ``[{key, value}]`` list the API takes);
    ``tag_keys`` a list of keys; ``image_id`` the image instances were built from.
    """
    unknown = set(filters) - set(INSTANCE_FILTERS)
    if unknown:
        raise TypeError(f"unknown instance filter(s) {sorted(unknown)}; the filters are instance_ids, zone_id, "
                        f"instance_status, instance_name, {', '.join(INSTANCE_FILTERS)}")
    checked = dict(filters)
    if checked.get("tags") is not None:
        checked["tags"] = [{"key": key, "value": value} for key, value in tags_arg(checked["tags"], "tags").items()]
    if checked.get("tag_keys") is not None:
        checked["tag_keys"] = id_list(checked["tag_keys"], "tag_keys")
    if checked.get("image_id") is not None:
        checked["image_id"] = id_arg(checked["image_id"], "image_id")
    return checked


def describe_instances(
    ctx: Context,
    /,
    *,
    instance_ids: Sequence[str] | None = None,
    zone_id: str | None = None,
    instance_status: str | None = None,
    instance_name: str | None = None,
    image_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    page_num: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    known: Page[Instance] | None = None,
    keep_raw: bool = False,
    **filters: Any,
) -> Flow[Page[Instance]]:
    """One page of instances (DescribeInstances). ``image_id``: the instances built from (or reset to) an
    image; ``tags``: those carrying any of these ``{key: value}`` pairs. Other filters in snake_case,
    e.g. ``tag_keys=[...]``, ``subnet_id=...``.

    ``instance_name`` ending in ``*`` is a prefix match on the server. At most 100 ``instance_ids``;
    an empty list answers an empty page without a request. ``keep_raw`` keeps the rows as sent in
    ``Page.raw``; ``known`` (an earlier such page of the same listing): if the rows are the same
    bytes again, its instances are returned without decoding them again (and the bytes are kept).
    """
    ids = id_filter(instance_ids, "instance_ids")
    named = _filters(zone_id=zone_id, instance_status=instance_status, instance_name=instance_name)
    if ids == []:
        return empty_page(page_num, page_size)
    fields = payload(instance_ids=ids, **named, **_instance_filters({**filters, "image_id": image_id, "tags": tags}))
    return (yield from page(ctx, A.DESCRIBE_INSTANCES, fields, Instance, page_num, page_size, known=known, keep_raw=keep_raw))


def list_instances(
    ctx: Context,
    /,
    *,
    instance_ids: Sequence[str] | None = None,
    zone_id: str | None = None,
    instance_status: str | None = None,
    instance_name: str | None = None,
    image_id: str | None = None,
    tags: Mapping[str, str] | None = None,
    page_size: int = MAX_PAGE_SIZE,
    **filters: Any,
) -> Flow[list[Instance]]:
    """Every instance matching the filters (all pages; any number of ``instance_ids``, 100 per request);
    the filters are those of :func:`describe_instances`."""
    fields = payload(**_filters(zone_id=zone_id, instance_status=instance_status, instance_name=instance_name),
                     **_instance_filters({**filters, "image_id": image_id, "tags": tags}))
    return (
        yield from listing(ctx, A.DESCRIBE_INSTANCES, fields, Instance, _instance_key, page_size, "instanceIds", instance_ids)
    )


def _instance_key(item: Instance | InstanceStatus) -> str:
    return item.instance_id


def describe_instances_status(
    ctx: Context, instance_ids: Sequence[str] | None = None, page_num: int = 1, page_size: int = DEFAULT_PAGE_SIZE
) -> Flow[Page[InstanceStatus]]:
    """One page of power states (DescribeInstancesStatus); at most 100 ``instance_ids``."""
    ids = id_filter(instance_ids, "instance_ids")
    if ids == []:
        return empty_page(page_num, page_size)
    return (yield from page(ctx, A.DESCRIBE_INSTANCES_STATUS, payload(instance_ids=ids), InstanceStatus, page_num, page_size))


def list_instance_statuses(ctx: Context, instance_ids: Sequence[str] | None = None) -> Flow[list[InstanceStatus]]:
    """Every instance's power state (all pages), or those of ``instance_ids`` (100 per request)."""
    return (
        yield from listing(
            ctx, A.DESCRIBE_INSTANCES_STATUS, {}, InstanceStatus, _instance_key, MAX_PAGE_SIZE, "instanceIds", instance_ids
        )
    )


def start_instances(ctx: Context, instance_ids: Sequence[str]) -> Flow[list[str]]:
    """Power on STOPPED instances (StartInstances); one request id per chunk of 100 ids.

    Not retried on 5xx or timeouts. If a later chunk fails, the earlier ones were still sent.
    """
    return (yield from batched(ctx, A.START_INSTANCES, "instanceIds", instance_ids, {}))


def stop_instances(ctx: Context, instance_ids: Sequence[str], force_shutdown: bool | None = None) -> Flow[list[str]]:
    """Power off RUNNING instances (StopInstances); ``force_shutdown`` left out means the API default.

    One request id per chunk of 100 ids; not retried on 5xx or timeouts.
    """
    return (yield from batched(ctx, A.STOP_INSTANCES, "instanceIds", instance_ids, payload(force_shutdown=force_shutdown)))


#: The DescribeImages filters besides ``zone_id`` and ``image_ids`` (snake_case).
IMAGE_FILTERS = ("image_name", "image_type", "image_status", "category", "os_type")


def _image_fields(zone_id: str, image_ids: list[str] | None, filters: Mapping[str, str | None]) -> dict[str, Any]:
    if zone_id is None or zone_id == "":
        raise ValueError("zone_id is required for images (DescribeImages)")
    zone_id = id_arg(zone_id, "zone_id")
    unknown = set(filters) - set(IMAGE_FILTERS)
    if unknown:
        raise TypeError(f"unknown image filter(s) {sorted(unknown)}; the filters are {', '.join(IMAGE_FILTERS)}")
    return payload(zone_id=zone_id, image_ids=image_ids, **_filters(**filters))


def describe_images(
    ctx: Context,
    zone_id: str,
    *,
    image_ids: Sequence[str] | None = None,
    image_name: str | None = None,
    image_type: str | None = None,
    image_status: str | None = None,
    category: str | None = None,
    os_type: str | None = None,
    page_num: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> Flow[Page[Image]]:
    """One page of a zone's images (DescribeImages); each :class:`Image` carries ``zone_id``.

    ``image_type`` is ``PUBLIC_IMAGE`` or ``CUSTOM_IMAGE``; ``image_status`` ``CREATING``,
    ``AVAILABLE`` or ``UNAVAILABLE``; ``os_type`` ``linux`` or ``windows``.
    """
    ids = id_filter(image_ids, "image_ids")
    filters = {"image_name": image_name, "image_type": image_type, "image_status": image_status, "category": category,
               "os_type": os_type}
    fields = _image_fields(zone_id, ids, filters)
    if ids == []:
        return empty_page(page_num, page_size)
    return (yield from page(ctx, A.DESCRIBE_IMAGES, fields, Image, page_num, page_size, _in_zone(zone_id)))


def list_images(ctx: Context, /, zone_id: str, *, image_ids: Sequence[str] | None = None, **filters: str | None) -> Flow[list[Image]]:
    """Every image of a zone (all pages of 1000; any number of ``image_ids``, 100 per request).

    ``filters`` are those of :meth:`describe_images`: image_name, image_type, image_status,
    category, os_type.
    """
    fields = _image_fields(zone_id, None, filters)
    return (
        yield from listing(
            ctx, A.DESCRIBE_IMAGES, fields, Image, _image_key, MAX_PAGE_SIZE, "imageIds", image_ids, _in_zone(zone_id)
        )
    )


def _in_zone(zone_id: str) -> Callable[[tuple[Image, ...]], tuple[Image, ...]]:
    """The images as asked for in ``zone_id`` (the API does not say the zone of an image)."""
    return lambda images: tuple(replace(image, zone_id=zone_id) for image in images)


def _image_key(image: Image) -> str:
    return image.image_id


def describe_image(ctx: Context, image_id: str) -> Flow[Image]:
    """One image by id (DescribeImage, the Go SDK's singular action that the Terraform provider reads).

    Its fields come beside the ``requestId``; ``zone_id`` is filled when the answer carries ``zoneId``.
    Raises :class:`~.errors.NotFound` for an unknown id.
    """
    if not isinstance(image_id, str) or not image_id:
        raise ValueError("image_id is required")
    response = yield from call(ctx, A.DESCRIBE_IMAGE, payload(image_id=image_id))
    fields = {key: value for key, value in response.items() if key not in ("requestId", "zoneId")}
    if not isinstance(fields.get("imageId"), str):
        raise unexpected(A.DESCRIBE_IMAGE, 200, "no `imageId` in the response", response.get("requestId"))
    zone = response.get("zoneId")
    return Image.from_wire(fields, zone_id=zone if isinstance(zone, str) else None)


def describe_image_quota(ctx: Context, zone_ids: Sequence[str] | None = None) -> Flow[list[ImageQuota]]:
    """Custom-image quota per zone (DescribeImageQuota): ``count`` of ``max_count``."""
    ids = None if zone_ids is None else id_list(zone_ids, "zone_ids")
    if ids == []:
        return []
    response = yield from call(ctx, A.DESCRIBE_IMAGE_QUOTA, payload(zone_ids=ids), into=QuotaSet)
    return list(response.images or ())


def create_image(ctx: Context, instance_id: str, image_name: str, image_description: str | None = None) -> Flow[CreateImageResult]:
    """Image a STOPPED instance's system disk (CreateImage). Never retried but for throttling:
    after a timeout or 5xx the image may exist, so the caller reconciles (see ``operations``)."""
    if instance_id is None or instance_id == "":
        raise ValueError("instance_id is required")
    instance_id = id_arg(instance_id, "instance_id")
    text_arg(image_name, "image_name", empty=True)  # the name rule itself is the server's (and rules.py's)
    text_arg(image_description, "image_description", optional=True, empty=True)
    response = yield from call(
        ctx, A.CREATE_IMAGE, payload(instance_id=instance_id, image_name=image_name, image_description=image_description)
    )
    image_id = response.get("imageId")
    if not isinstance(image_id, str) or not image_id:
        raise unexpected(A.CREATE_IMAGE, 200, "no `imageId` in the response", response.get("requestId"))
    return CreateImageResult(image_id=image_id, request_id=response.get("requestId"))


def delete_images(ctx: Context, image_ids: Sequence[str]) -> Flow[list[str]]:
    """Delete custom images (DeleteImages), 100 per request; one request id per request."""
    return (yield from batched(ctx, A.DELETE_IMAGES, "imageIds", image_ids, {}))


def modify_images_attributes(
    ctx: Context, image_ids: Sequence[str], image_name: str | None = None, image_description: str | None = None
) -> Flow[list[str]]:
    """Give custom images a new name and/or description (ModifyImagesAttributes), 100 per request."""
    if image_name is None and image_description is None:
        raise ValueError("give image_name and/or image_description")
    fields = payload(**_filters(image_name=image_name, image_description=image_description))
    return (yield from batched(ctx, A.MODIFY_IMAGES_ATTRIBUTES, "imageIds", image_ids, fields))


# ------------------------------------------------------------ launching, restoring, the recycle bin
def _count(value: Any, name: str, low: int, high: int | None = None) -> int | None:
    """An optional whole number in ``[low, high]``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be a whole number from {low}{f' to {high}' if high is not None else ''}, not {value!r}")
    return value


def _charge_fields(instance_charge_type: str, period: int | None) -> dict[str, Any]:
    if instance_charge_type not in A.INSTANCE_CHARGE_TYPES:
        raise ValueError(f"instance_charge_type must be one of {', '.join(A.INSTANCE_CHARGE_TYPES)}, not {instance_charge_type!r}")
    if instance_charge_type == A.PREPAID and period is None:
        raise ValueError("a PREPAID instance needs period (months)")
    prepaid = {"period": _count(period, "period", 1)} if period is not None else None
    return payload(instance_charge_type=instance_charge_type, instance_charge_prepaid=prepaid)


def _network_fields(internet_charge_type: str | None, internet_max_bandwidth_out: int | None) -> dict[str, Any]:
    if internet_charge_type is not None and internet_charge_type not in A.INTERNET_CHARGE_TYPES:
        raise ValueError(f"internet_charge_type must be one of {', '.join(A.INTERNET_CHARGE_TYPES)}, not {internet_charge_type!r}")
    return payload(internet_charge_type=internet_charge_type,
                   internet_max_bandwidth_out=_count(internet_max_bandwidth_out, "internet_max_bandwidth_out", 0))


def _disk_fields(system_disk_size: int | None, system_disk_category: str | None) -> dict[str, Any]:
    disk = payload(disk_size=_count(system_disk_size, "system_disk_size", 1), disk_category=text_arg(
        system_disk_category, "system_disk_category", optional=True))
    return {"systemDisk": disk} if disk else {}


def _login_fields(password: str | None, key_id: str | None) -> dict[str, Any]:
    """Exactly one of ``password`` and ``key_id`` (the password never appears in a message)."""
    if (password is None) == (key_id is None):
        raise ValueError("give exactly one of password and key_id")
    if password is not None and (not isinstance(password, str) or not password):
        raise TypeError("password must be a non-empty string")
    return payload(password=password, key_id=None if key_id is None else id_arg(key_id, "key_id"))


def create_instances(
    ctx: Context,
    zone_id: str,
    instance_type: str,
    image_id: str,
    *,
    instance_name: str | None = None,
    instance_count: int = 1,
    password: str | None = None,
    key_id: str | None = None,
    instance_charge_type: str = A.POSTPAID,
    period: int | None = None,
    internet_charge_type: str | None = None,
    internet_max_bandwidth_out: int | None = None,
    subnet_id: str | None = None,
    security_group_id: str | None = None,
    resource_group_id: str | None = None,
    system_disk_size: int | None = None,
    system_disk_category: str | None = None,
    init_script: str | None = None,
    tags: Mapping[str, str] | None = None,
) -> Flow[CreateInstancesResult]:
    """Launch instances from an image (CreateInstances); they are PENDING / DEPLOYING, then RUNNING.

    Exactly one of ``password`` and ``key_id``. ``tags`` ``{key: value}`` (sent in the nested
    ``TagAssociation`` shape). Not idempotent and never retried but for throttling: after a timeout
    or 5xx the instances may exist (and bill), so tag each launch and look for the tag
    (``describe_instances(tags=...)``) before launching again.
    """
    fields = payload(
        zone_id=id_arg(zone_id, "zone_id"), instance_type=id_arg(instance_type, "instance_type"), image_id=id_arg(image_id, "image_id"),
        instance_name=text_arg(instance_name, "instance_name", optional=True),
        instance_count=_count(instance_count, "instance_count", 1, A.MAX_INSTANCE_COUNT),
        subnet_id=text_arg(subnet_id, "subnet_id", optional=True),
        security_group_id=text_arg(security_group_id, "security_group_id", optional=True),
        resource_group_id=text_arg(resource_group_id, "resource_group_id", optional=True),
        init_script=text_arg(init_script, "init_script", optional=True, empty=True),
        tags=None if tags is None else {"tags": [{"key": k, "value": v} for k, v in tags_arg(tags, "tags").items()]},
    )
    fields.update(_charge_fields(instance_charge_type, period), **_network_fields(internet_charge_type, internet_max_bandwidth_out),
                  **_disk_fields(system_disk_size, system_disk_category), **_login_fields(password, key_id))
    response = yield from call(ctx, A.CREATE_INSTANCES, fields)
    ids = response.get("instanceIdSet")
    if not isinstance(ids, list) or not ids or not all(isinstance(i, str) and i for i in ids):
        raise unexpected(A.CREATE_INSTANCES, 200, "no `instanceIdSet` in the response", response.get("requestId"))
    order = response.get("orderNumber")
    return CreateInstancesResult(tuple(ids), order if isinstance(order, str) else None, response.get("requestId"))


def describe_zone_instance_config_infos(
    ctx: Context, zone_id: str | None = None, instance_type: str | None = None, instance_charge_type: str | None = None
) -> Flow[list[InstanceTypeInfo]]:
    """The instance types offered (DescribeZoneInstanceConfigInfos), in a zone or everywhere."""
    fields = payload(**_filters(zone_id=zone_id, instance_type=instance_type, instance_charge_type=instance_charge_type))
    response = yield from call(ctx, A.DESCRIBE_ZONE_INSTANCE_CONFIG_INFOS, fields, into=InstanceTypeSet)
    return list(response.instance_type_quota_set or ())


def inquiry_price_create_instance(
    ctx: Context,
    zone_id: str,
    instance_type: str,
    *,
    instance_charge_type: str = A.POSTPAID,
    period: int | None = None,
    internet_charge_type: str | None = None,
    internet_max_bandwidth_out: int | None = None,
    system_disk_size: int | None = None,
    system_disk_category: str | None = None,
) -> Flow[InstancePrice]:
    """What a launch would cost (InquiryPriceCreateInstance): POSTPAID parts by the hour
    (``result.instance_price.unit_price``, ``result.hourly_total``), PREPAID by the month. Changes nothing."""
    fields = payload(zone_id=id_arg(zone_id, "zone_id"), instance_type=id_arg(instance_type, "instance_type"))
    fields.update(_charge_fields(instance_charge_type, period), **_network_fields(internet_charge_type, internet_max_bandwidth_out),
                  **_disk_fields(system_disk_size, system_disk_category))
    result: InstancePrice = yield from call(ctx, A.INQUIRY_PRICE_CREATE_INSTANCE, fields, into=InstancePrice)
    return result


def reset_instance(
    ctx: Context, instance_id: str, image_id: str | None = None, *, password: str | None = None, key_id: str | None = None,
    instance_name: str | None = None,
) -> Flow[str | None]:
    """Rebuild a STOPPED instance's system disk from ``image_id`` (ResetInstance; default: its current
    image): REBUILDING, then RUNNING. The disk is formatted. Exactly one of ``password`` and ``key_id``.
    Returns the request id; never retried but for throttling."""
    fields = payload(instance_id=id_arg(instance_id, "instance_id"), image_id=None if image_id is None else id_arg(image_id, "image_id"),
                     instance_name=text_arg(instance_name, "instance_name", optional=True))
    fields.update(_login_fields(password, key_id))
    response = yield from call(ctx, A.RESET_INSTANCE, fields)
    request_id: str | None = response.get("requestId")
    return request_id


def terminate_instance(ctx: Context, instance_id: str) -> Flow[str | None]:
    """Move an instance to the recycle bin (TerminateInstance; a POSTPAID one stops billing); returns the request id."""
    response = yield from call(ctx, A.TERMINATE_INSTANCE, payload(instance_id=id_arg(instance_id, "instance_id")))
    request_id: str | None = response.get("requestId")
    return request_id


def release_instances(ctx: Context, instance_ids: Sequence[str]) -> Flow[list[str]]:
    """Remove instances in the recycle bin for good (ReleaseInstances), 100 per request; irreversible."""
    return (yield from batched(ctx, A.RELEASE_INSTANCES, "instanceIds", instance_ids, {}))

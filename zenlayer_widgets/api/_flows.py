"""Every API operation once, as a sans-I/O *flow* that both clients run.

A flow is a generator that yields effects (:class:`Send` a request, :class:`Sleep` before a
retry) and gets back the :class:`httpx.Response` (or has the httpx exception thrown in). The sync
client answers with blocking I/O, the async client with ``await``; request building, response
parsing, error mapping, retries, page walking and id chunking all live here, once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, Union

import httpx

from . import errors
from ._wire import Redactor, build_request, logger, map_transport_error, parse_response, retry_after, unexpected
from .models import CreateImageResult, Image, ImageQuota, Instance, InstanceStatus, Page, Zone
from .retry import RetryPolicy, RetryState

T = TypeVar("T")

#: At most this many ids per request (StartInstances, StopInstances, Describe* filters...).
MAX_IDS_PER_REQUEST = 100
#: The largest pageSize the API accepts.
MAX_PAGE_SIZE = 1000
DEFAULT_PAGE_SIZE = 20


@dataclass(frozen=True)
class Send:
    """Send this request; the flow gets the response back, or the httpx exception thrown in."""

    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before the next attempt."""

    seconds: float


Effect = Union[Send, Sleep]
Flow = Generator[Effect, Any, T]


class Context(Protocol):
    """What a flow needs from its client."""

    endpoint: str
    api_version: str
    retry_policy: RetryPolicy
    redact: Redactor


# --------------------------------------------------------------------------- the core call


def call(ctx: Context, action: str, payload: Mapping[str, Any] | None = None) -> Flow[dict[str, Any]]:
    """Send ``action`` with ``payload`` (wire names) and return the inner ``response`` dict (with ``requestId``).

    Throttling is retried for every action, connection failures (nothing sent) a few times, and
    5xx / timeouts / dropped connections only for read-only ``Describe*`` actions.
    """
    state = RetryState(ctx.retry_policy, action)
    attempt = 0
    while True:
        attempt += 1
        response: httpx.Response | None = None
        cause: BaseException | None = None
        try:
            response = yield Send(build_request(ctx.endpoint, action, ctx.api_version, payload))
            result = parse_response(response, action, ctx.redact)
        except httpx.HTTPError as exc:
            error: errors.ZenlayerError = map_transport_error(exc, action, ctx.endpoint, ctx.redact)
            cause = exc
        except errors.APIError as exc:
            error = exc
        else:
            logger.debug("%s: HTTP %s, request id %s (attempt %d)", action, response.status_code, result.get("requestId"), attempt)
            return result
        decision = state.next_delay(error, retry_after(response))
        if decision is None:
            raise error from cause
        reason, delay = decision
        logger.warning(
            "%s: %s (%s); retry %d of %d in %.2f s",
            action, reason, _summary(error), state.attempts(reason), ctx.retry_policy.limit(reason), delay,
        )
        yield Sleep(delay)


def _summary(error: errors.ZenlayerError) -> str:
    if isinstance(error, errors.APIError):
        request = f", request id {error.request_id}" if error.request_id else ""
        return f"{error.code}, HTTP {error.http_status}{request}"
    return type(error).__name__


# --------------------------------------------------------------------------- payloads, pages, chunks


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def payload(**fields: Any) -> dict[str, Any]:
    """Wire payload from snake_case keyword arguments; None values are left out."""
    return {_camel(key): value for key, value in fields.items() if value is not None}


def id_list(ids: Sequence[str], what: str = "ids") -> list[str]:
    """``ids`` as a list without duplicates (first occurrence kept); TypeError for a bare string."""
    if isinstance(ids, (str, bytes)):
        raise TypeError(f"{what} must be a list of strings, not a single string: {ids!r}")
    unique = list(dict.fromkeys(ids))
    if not all(isinstance(item, str) and item for item in unique):
        raise TypeError(f"{what} must be non-empty strings")
    return unique


def id_chunks(ids: Sequence[str], size: int = MAX_IDS_PER_REQUEST, what: str = "ids") -> list[list[str]]:
    """``ids`` (deduplicated) in consecutive chunks of at most ``size``."""
    unique = id_list(ids, what)
    return [unique[start : start + size] for start in range(0, len(unique), size)]


def _id_filter(ids: Sequence[str] | None, what: str) -> list[str] | None:
    if ids is None:
        return None
    unique = id_list(ids, what)
    if len(unique) > MAX_IDS_PER_REQUEST:
        raise ValueError(f"at most {MAX_IDS_PER_REQUEST} {what} per request; the list_* helpers split longer lists")
    return unique


def _check_paging(page_num: int, page_size: int) -> None:
    if not isinstance(page_num, int) or page_num < 1:
        raise ValueError(f"page_num must be an integer >= 1, not {page_num!r}")
    if not isinstance(page_size, int) or not 1 <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be an integer from 1 to {MAX_PAGE_SIZE}, not {page_size!r}")


def records(response: Mapping[str, Any], key: str, action: str) -> list[Mapping[str, Any]]:
    """``response[key]`` as a list of objects (missing or null: empty), else :class:`UnexpectedResponse`."""
    value = response.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, Mapping) for item in value):
        raise unexpected(action, 200, f"`{key}` that is not a list of objects", response.get("requestId"))
    return value


def _total(response: Mapping[str, Any]) -> int | None:
    value = response.get("totalCount")
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _fetch(
    ctx: Context, action: str, fields: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T], page_num: int, page_size: int
) -> Flow[tuple[Page[T], int | None]]:
    _check_paging(page_num, page_size)
    response = yield from call(ctx, action, {**fields, "pageNum": page_num, "pageSize": page_size})
    items = tuple(parse(item) for item in records(response, "dataSet", action))
    total = _total(response)
    return Page(items, len(items) if total is None else total, response.get("requestId"), page_num, page_size), total


def page(
    ctx: Context, action: str, fields: Mapping[str, Any], parse: Callable[[Mapping[str, Any]], T], page_num: int, page_size: int
) -> Flow[Page[T]]:
    """One page of a ``Describe*`` listing (``dataSet`` + ``totalCount``)."""
    current, _ = yield from _fetch(ctx, action, fields, parse, page_num, page_size)
    return current


def every_page(
    ctx: Context,
    action: str,
    fields: Mapping[str, Any],
    parse: Callable[[Mapping[str, Any]], T],
    key: Callable[[T], Hashable],
    page_size: int = MAX_PAGE_SIZE,
) -> Flow[list[T]]:
    """Every item of a listing, page after page, deduplicated by ``key`` (first seen kept).

    Stops at an empty page, when ``totalCount`` items have been fetched (or, without a
    ``totalCount``, at a short page), or when a page brings nothing new.
    """
    found: dict[Hashable, T] = {}
    fetched = 0
    page_num = 1
    while True:
        current, total = yield from _fetch(ctx, action, fields, parse, page_num, page_size)
        before = len(found)
        for item in current.items:
            found.setdefault(key(item), item)
        fetched += len(current.items)
        if (
            not current.items
            or len(found) == before
            or (fetched >= total if total is not None else len(current.items) < page_size)
        ):
            return list(found.values())
        page_num += 1


def listing(
    ctx: Context,
    action: str,
    fields: Mapping[str, Any],
    parse: Callable[[Mapping[str, Any]], T],
    key: Callable[[T], Hashable],
    page_size: int,
    ids_field: str,
    ids: Sequence[str] | None,
) -> Flow[list[T]]:
    """Every item of a listing; with ``ids``, one walk per chunk of 100 ids, results concatenated."""
    if ids is None:
        return (yield from every_page(ctx, action, fields, parse, key, page_size))
    found: dict[Hashable, T] = {}
    for chunk in id_chunks(ids, what=ids_field):
        for item in (yield from every_page(ctx, action, {**fields, ids_field: chunk}, parse, key, page_size)):
            found.setdefault(key(item), item)
    return list(found.values())


def batched(ctx: Context, action: str, ids_field: str, ids: Sequence[str], fields: Mapping[str, Any]) -> Flow[list[str]]:
    """``action`` once per chunk of 100 ids; the request ids, one per chunk (no request for no ids)."""
    request_ids = []
    for chunk in id_chunks(ids, what=ids_field):
        response = yield from call(ctx, action, {ids_field: chunk, **fields})
        request_ids.append(str(response.get("requestId") or ""))
    return request_ids


def _empty_page(page_num: int, page_size: int) -> Page[Any]:
    _check_paging(page_num, page_size)
    return Page((), 0, None, page_num, page_size)


# --------------------------------------------------------------------------- one flow per action


def describe_zones(ctx: Context, zone_ids: Sequence[str] | None = None) -> Flow[list[Zone]]:
    """Zones (DescribeZones), all of them or those in ``zone_ids``."""
    ids = None if zone_ids is None else id_list(zone_ids, "zone_ids")
    if ids == []:
        return []
    response = yield from call(ctx, "DescribeZones", payload(zone_ids=ids))
    return [Zone.from_wire(item) for item in records(response, "zoneSet", "DescribeZones")]


def describe_instances(
    ctx: Context,
    *,
    instance_ids: Sequence[str] | None = None,
    zone_id: str | None = None,
    instance_status: str | None = None,
    instance_name: str | None = None,
    page_num: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    **filters: Any,
) -> Flow[Page[Instance]]:
    """One page of instances (DescribeInstances). Other filters in snake_case, e.g. ``image_id=...``.

    ``instance_name`` ending in ``*`` is a prefix match on the server. At most 100 ``instance_ids``;
    an empty list answers an empty page without a request.
    """
    ids = _id_filter(instance_ids, "instance_ids")
    if ids == []:
        return _empty_page(page_num, page_size)
    fields = payload(instance_ids=ids, zone_id=zone_id, instance_status=instance_status, instance_name=instance_name, **filters)
    return (yield from page(ctx, "DescribeInstances", fields, Instance.from_wire, page_num, page_size))


def list_instances(
    ctx: Context,
    *,
    instance_ids: Sequence[str] | None = None,
    zone_id: str | None = None,
    instance_status: str | None = None,
    instance_name: str | None = None,
    page_size: int = MAX_PAGE_SIZE,
    **filters: Any,
) -> Flow[list[Instance]]:
    """Every instance matching the filters (all pages; any number of ``instance_ids``, 100 per request)."""
    fields = payload(zone_id=zone_id, instance_status=instance_status, instance_name=instance_name, **filters)
    return (
        yield from listing(ctx, "DescribeInstances", fields, Instance.from_wire, _instance_key, page_size, "instanceIds", instance_ids)
    )


def _instance_key(item: Instance | InstanceStatus) -> str:
    return item.instance_id


def describe_instances_status(
    ctx: Context, instance_ids: Sequence[str] | None = None, page_num: int = 1, page_size: int = DEFAULT_PAGE_SIZE
) -> Flow[Page[InstanceStatus]]:
    """One page of power states (DescribeInstancesStatus); at most 100 ``instance_ids``."""
    ids = _id_filter(instance_ids, "instance_ids")
    if ids == []:
        return _empty_page(page_num, page_size)
    return (yield from page(ctx, "DescribeInstancesStatus", payload(instance_ids=ids), InstanceStatus.from_wire, page_num, page_size))


def list_instance_statuses(ctx: Context, instance_ids: Sequence[str] | None = None) -> Flow[list[InstanceStatus]]:
    """Every instance's power state (all pages), or those of ``instance_ids`` (100 per request)."""
    return (
        yield from listing(
            ctx, "DescribeInstancesStatus", {}, InstanceStatus.from_wire, _instance_key, MAX_PAGE_SIZE, "instanceIds", instance_ids
        )
    )


def start_instances(ctx: Context, instance_ids: Sequence[str]) -> Flow[list[str]]:
    """Power on STOPPED instances (StartInstances); one request id per chunk of 100 ids.

    Not retried on 5xx or timeouts. If a later chunk fails, the earlier ones were still sent.
    """
    return (yield from batched(ctx, "StartInstances", "instanceIds", instance_ids, {}))


def stop_instances(ctx: Context, instance_ids: Sequence[str], force_shutdown: bool | None = None) -> Flow[list[str]]:
    """Power off RUNNING instances (StopInstances); ``force_shutdown`` left out means the API default.

    One request id per chunk of 100 ids; not retried on 5xx or timeouts.
    """
    return (yield from batched(ctx, "StopInstances", "instanceIds", instance_ids, payload(force_shutdown=force_shutdown)))


#: The DescribeImages filters besides ``zone_id`` and ``image_ids`` (snake_case).
IMAGE_FILTERS = ("image_name", "image_type", "image_status", "category", "os_type")


def _image_fields(zone_id: str, image_ids: list[str] | None, filters: Mapping[str, str | None]) -> dict[str, Any]:
    if not isinstance(zone_id, str) or not zone_id:
        raise ValueError("zone_id is required for images (DescribeImages)")
    unknown = set(filters) - set(IMAGE_FILTERS)
    if unknown:
        raise TypeError(f"unknown image filter(s) {sorted(unknown)}; the filters are {', '.join(IMAGE_FILTERS)}")
    return payload(zone_id=zone_id, image_ids=image_ids, **filters)


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
    ids = _id_filter(image_ids, "image_ids")
    filters = {"image_name": image_name, "image_type": image_type, "image_status": image_status, "category": category,
               "os_type": os_type}
    fields = _image_fields(zone_id, ids, filters)
    if ids == []:
        return _empty_page(page_num, page_size)
    return (yield from page(ctx, "DescribeImages", fields, _image_parser(zone_id), page_num, page_size))


def list_images(ctx: Context, zone_id: str, *, image_ids: Sequence[str] | None = None, **filters: str | None) -> Flow[list[Image]]:
    """Every image of a zone (all pages of 1000; any number of ``image_ids``, 100 per request).

    ``filters`` are those of :meth:`describe_images`: image_name, image_type, image_status,
    category, os_type.
    """
    fields = _image_fields(zone_id, None, filters)
    return (
        yield from listing(ctx, "DescribeImages", fields, _image_parser(zone_id), _image_key, MAX_PAGE_SIZE, "imageIds", image_ids)
    )


def _image_parser(zone_id: str) -> Callable[[Mapping[str, Any]], Image]:
    return lambda item: Image.from_wire(item, zone_id=zone_id)


def _image_key(image: Image) -> str:
    return image.image_id


def describe_image_quota(ctx: Context, zone_ids: Sequence[str] | None = None) -> Flow[list[ImageQuota]]:
    """Custom-image quota per zone (DescribeImageQuota): ``count`` of ``max_count``."""
    ids = None if zone_ids is None else id_list(zone_ids, "zone_ids")
    if ids == []:
        return []
    response = yield from call(ctx, "DescribeImageQuota", payload(zone_ids=ids))
    return [ImageQuota.from_wire(item) for item in records(response, "images", "DescribeImageQuota")]


def create_image(ctx: Context, instance_id: str, image_name: str, image_description: str | None = None) -> Flow[CreateImageResult]:
    """Image a STOPPED instance's system disk (CreateImage). Never retried but for throttling:
    after a timeout or 5xx the image may exist, so the caller reconciles (see ``operations``)."""
    if not instance_id or not isinstance(instance_id, str):
        raise ValueError("instance_id is required")
    response = yield from call(
        ctx, "CreateImage", payload(instance_id=instance_id, image_name=image_name, image_description=image_description)
    )
    image_id = response.get("imageId")
    if not isinstance(image_id, str) or not image_id:
        raise unexpected("CreateImage", 200, "no `imageId` in the response", response.get("requestId"))
    return CreateImageResult(image_id=image_id, request_id=response.get("requestId"))


def delete_images(ctx: Context, image_ids: Sequence[str]) -> Flow[list[str]]:
    """Delete custom images (DeleteImages), 100 per request; one request id per request."""
    return (yield from batched(ctx, "DeleteImages", "imageIds", image_ids, {}))


def modify_images_attributes(
    ctx: Context, image_ids: Sequence[str], image_name: str | None = None, image_description: str | None = None
) -> Flow[list[str]]:
    """Give custom images a new name and/or description (ModifyImagesAttributes), 100 per request."""
    if image_name is None and image_description is None:
        raise ValueError("give image_name and/or image_description")
    fields = payload(image_name=image_name, image_description=image_description)
    return (yield from batched(ctx, "ModifyImagesAttributes", "imageIds", image_ids, fields))

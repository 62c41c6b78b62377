"""Sans-I/O *flows*: the one implementation of every operation that both clients run.

A flow is a generator that yields effects (:class:`Send` a request, :class:`Sleep` before a
retry) and gets back the :class:`httpx.Response` (or has the httpx exception thrown in). The sync
client answers with blocking I/O, the async client with ``await``. This module holds the core
call (request, parsing, error mapping, retries), page walking and id chunking; the actions built
on them are in :mod:`._actions`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Generator, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import httpx

from . import errors
from ._wire import Redactor, build_request, decode_rows, logger, map_transport_error, parse_response, retry_after, server_time, unexpected
from .models import Listing, Page, RawListing
from .params import id_list_arg
from .retry import RetryPolicy, RetryState
from .vocabulary import DEFAULT_PAGE_SIZE as DEFAULT_PAGE_SIZE
from .vocabulary import MAX_IDS_PER_REQUEST, MAX_PAGE_SIZE, READ_ACTION_PREFIXES

T = TypeVar("T")

#: The list_* helpers walk at most this many pages per listing (a client's ``max_pages``).
DEFAULT_MAX_PAGES = 1000
#: ... and at most this many (decoded) bytes of answers per listing (a client's ``max_listing_bytes``).
DEFAULT_MAX_LISTING_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class Send:
    """Send this request; the flow gets the response back, or the httpx exception thrown in."""

    request: httpx.Request


@dataclass(frozen=True)
class Sleep:
    """Wait this many seconds before the next attempt."""

    seconds: float


Effect = Send | Sleep
Flow = Generator[Effect, Any, T]


class Context(Protocol):
    """What a flow needs from its client."""

    endpoint: str
    api_version: str
    retry_policy: RetryPolicy
    redact: Redactor
    max_pages: int
    max_listing_bytes: int
    #: Unix seconds (injectable); requests are signed at ``clock() + clock_offset``.
    clock: Callable[[], float]
    clock_offset: float
    #: Only read actions may be sent (:func:`check_writable`).
    read_only: bool


#: A clock this many seconds off the server's ``Date`` (which has whole seconds) counts as skewed.
SKEW_TOLERANCE_SECONDS = 2.0


# --------------------------------------------------------------------------- the core call


def call(ctx: Context, action: str, payload: Mapping[str, Any] | None = None, into: Any = None) -> Flow[Any]:
    """:func:`sized_call`'s answer alone."""
    result, _ = yield from sized_call(ctx, action, payload, into)
    return result


def sized_call(ctx: Context, action: str, payload: Mapping[str, Any] | None = None, into: Any = None) -> Flow[tuple[Any, int]]:
    """``(answer, its size in bytes)``: send ``action`` with ``payload`` (wire names) and return the inner ``response`` dict (with ``requestId``),
    or, with ``into`` a model type (``Listing[Instance]``, ``ZoneSet``...), the answer decoded straight into it.

    Throttling is retried for every action, connection failures (nothing sent) a few times, and
    5xx / timeouts / dropped connections only for read-only ``Describe*`` actions. A request refused
    as expired is signed again, once, with the clock corrected by the server's ``Date`` header.
    A read-only client refuses a write action here, before anything is sent.
    """
    check_writable(ctx, action)
    state = RetryState(ctx.retry_policy, action)
    attempt = 0
    resigned = False
    while True:
        attempt += 1
        response: httpx.Response | None = None
        try:
            response = yield Send(build_request(ctx.endpoint, action, ctx.api_version, payload))
            result = parse_response(response, action, ctx.redact, into)
        except httpx.HTTPError as exc:
            # Mapped to a message that says what failed, secrets redacted; the httpx exception is not
            # chained (``from None`` below): its text may quote a header value, i.e. a credential.
            error: errors.ZenlayerError = map_transport_error(exc, action, ctx.endpoint, ctx.redact)
        except errors.APIError as exc:
            error = exc
            if exc.code == errors.AUTH_FAILURE_EXPIRED:
                error, resign = _clock_skew(ctx, exc, response, resigned)
                if resign:
                    resigned = True
                    continue  # the server refused it before doing anything: safe to send again, once
        else:
            if logger.isEnabledFor(logging.DEBUG):
                request_id = result.get("requestId") if isinstance(result, dict) else getattr(result, "request_id", None)
                logger.debug("%s: HTTP %s, request id %s (attempt %d)", action, response.status_code, request_id, attempt)
            return result, len(response.content)
        decision = state.next_delay(error, retry_after(response))
        if decision is None:
            raise error from None
        reason, delay = decision
        logger.warning(
            "%s: %s (%s); retry %d of %d in %.2f s",
            action, reason, _summary(error), state.attempts(reason), ctx.retry_policy.limit(reason), delay,
        )
        yield Sleep(delay)


def is_read_action(action: str) -> bool:
    """True for an action that only reads (``Describe*``, ``Inquiry*``): the one rule of read-only mode."""
    return isinstance(action, str) and action.startswith(READ_ACTION_PREFIXES)


def check_writable(ctx: Context, action: str) -> None:
    """:class:`~.errors.ReadOnlyError` for a write action of a read-only client: every action of both clients
    passes here before its request is built, so this is the one place read-only mode is enforced."""
    if ctx.read_only and not is_read_action(action):
        raise errors.ReadOnlyError(str(action))


def _clock_skew(
    ctx: Context, error: errors.APIError, response: httpx.Response | None, resigned: bool
) -> tuple[errors.APIError, bool]:
    """After an "expired" refusal: ``(error to raise, whether to sign again)``, as AWS SDKs do.

    The server's ``Date`` says how far this computer's clock is off; once per call the offset is
    corrected (for every later request of the client too) and the request re-signed. The error
    raised otherwise says how far off the clock is, or that there was no ``Date`` to compare with.
    """
    now = server_time(response)
    if now is None:
        note = "the server sent no Date header to compare this computer's clock with; check that it is set right"
        return _with_note(error, note), False
    offset = now - ctx.clock()
    off_by = round(abs(offset))
    direction = "behind" if offset > 0 else "ahead of"
    said = f"your clock is {off_by} s off ({direction} the server's Date header)"
    if abs(offset - ctx.clock_offset) >= SKEW_TOLERANCE_SECONDS and not resigned:
        logger.warning("%s: refused as expired; %s. Signing with the server's time from now on, and retrying once.", error.action, said)
        ctx.clock_offset = offset
        return error, True
    if abs(offset) < SKEW_TOLERANCE_SECONDS:
        return _with_note(error, f"your clock agrees with the server's Date header (within {SKEW_TOLERANCE_SECONDS:g} s)"), False
    return _with_note(error, f"{said}; refused again after signing with the server's time. Set this computer's clock right"), False


def _with_note(error: errors.APIError, note: str) -> errors.APIError:
    message = f"{error.message.rstrip('. ')}; {note}." if error.message else f"{note}."
    return errors.api_error(error.code, message, error.request_id, error.http_status, action=error.action)


def _summary(error: errors.ZenlayerError) -> str:
    if isinstance(error, errors.APIError):
        request = f", request id {error.request_id}" if error.request_id else ""
        return f"{error.code}, HTTP {error.http_status}{request}"
    return type(error).__name__


# --------------------------------------------------------------------------- payloads, pages, chunks


def _camel(name: str) -> str:
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), name)


def _snake(name: str) -> str:
    """``instanceIds`` -> ``instance_ids``: the Python parameter a wire field came from (for messages)."""
    return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), name)


def payload(**fields: Any) -> dict[str, Any]:
    """Wire payload from snake_case keyword arguments; None values are left out."""
    return {_camel(key): value for key, value in fields.items() if value is not None}


def id_list(ids: Sequence[str], what: str = "ids") -> list[str]:
    """``ids`` as a list without duplicates (first occurrence kept); TypeError for a bare string, None, bytes..."""
    return id_list_arg(ids, what)


def id_chunks(ids: Sequence[str], size: int = MAX_IDS_PER_REQUEST, what: str = "ids") -> list[list[str]]:
    """``ids`` (deduplicated) in consecutive chunks of at most ``size``."""
    unique = id_list(ids, what)
    return [unique[start : start + size] for start in range(0, len(unique), size)]


def id_filter(ids: Sequence[str] | None, what: str) -> list[str] | None:
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


def total(value: Any) -> int | None:
    """A ``totalCount`` as an int; None when it is missing or not a count (then pages are walked by their length)."""
    if isinstance(value, bool):
        return None
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


#: What becomes of a page's items before they are returned (e.g. images get the zone asked for).
Finish = Callable[[tuple[Any, ...]], tuple[Any, ...]]


def _fetch(
    ctx: Context, action: str, fields: Mapping[str, Any], item: type[T], page_num: int, page_size: int, finish: Finish | None,
    known: Page[T] | None = None, keep_raw: bool = False,
) -> Flow[tuple[Page[T], int | None, int]]:
    _check_paging(page_num, page_size)
    body = {**fields, "pageNum": page_num, "pageSize": page_size}
    raw: bytes | None = None
    if keep_raw or known is not None:
        rows, size = yield from sized_call(ctx, action, body, into=RawListing)
        raw = bytes(rows.data_set)
        if known is not None and known.raw == raw and finish is None:
            items, raw = known.items, known.raw  # the same bytes as last time: the same rows, not decoded again
        else:
            items = tuple(decode_rows(raw, item, action, ctx.redact, rows.request_id))
        response: Any = rows
    else:
        response, size = yield from sized_call(ctx, action, body, into=Listing[item])  # type: ignore[valid-type]
        items = tuple(response.data_set or ())
    if finish is not None:
        items = finish(items)
    count = total(response.total_count)
    if count is not None and count < len(items):  # a count below what came back (totalCount: 0): not a count
        count = None
    return Page(items, len(items) if count is None else count, response.request_id, page_num, page_size, raw), count, size


def page(
    ctx: Context, action: str, fields: Mapping[str, Any], item: type[T], page_num: int, page_size: int, finish: Finish | None = None,
    *, known: Page[T] | None = None, keep_raw: bool = False,
) -> Flow[Page[T]]:
    """One page of a ``Describe*`` listing (``dataSet`` + ``totalCount``), rows decoded as ``item``.

    ``keep_raw`` keeps the rows' bytes as sent (``Page.raw``); given ``known``, an earlier page of the same
    listing, rows that are the same bytes are not decoded again: ``known.items`` are returned.
    """
    current, _, _ = yield from _fetch(ctx, action, fields, item, page_num, page_size, finish, known, keep_raw)
    return current


def every_page(
    ctx: Context,
    action: str,
    fields: Mapping[str, Any],
    item: type[T],
    key: Callable[[T], Hashable],
    page_size: int = MAX_PAGE_SIZE,
    finish: Finish | None = None,
) -> Flow[list[T]]:
    """Every item of a listing, page after page, deduplicated by ``key`` (first seen kept).

    Stops at an empty page, when ``totalCount`` items have been fetched (or, without a usable
    ``totalCount``, at a short page), or when a page brings nothing new. A ``totalCount`` below
    what has already come back (``0`` beside a full page) is ignored. A listing that has not
    ended after ``ctx.max_pages`` pages, or ``ctx.max_listing_bytes`` bytes of answers, is
    :class:`~errors.UnexpectedResponse`, not an endless walk.
    """
    found: dict[Hashable, T] = {}
    fetched = 0
    walked = 0
    page_num = 1
    while True:
        current, count, size = yield from _fetch(ctx, action, fields, item, page_num, page_size, finish)
        walked += size
        before = len(found)
        for row in current.items:
            found.setdefault(key(row), row)
        fetched += len(current.items)
        if (
            not current.items
            or len(found) == before
            or (fetched >= count if count is not None else len(current.items) < page_size)
        ):
            return list(found.values())
        if page_num >= ctx.max_pages:
            message = (
                f"the listing has not ended after {page_num} pages ({len(found)} items, totalCount "
                f"{count if count is not None else 'absent'}); stopped there. Narrow the filters or raise the client's max_pages."
            )
            raise errors.api_error(errors.UNEXPECTED_RESPONSE, message, current.request_id, 200, action=action)
        if walked > ctx.max_listing_bytes:
            message = (
                f"the listing has not ended after {walked} bytes in {page_num} pages ({len(found)} items), over the limit "
                f"of {ctx.max_listing_bytes} bytes; stopped there. Narrow the filters or raise the client's max_listing_bytes."
            )
            raise errors.api_error(errors.UNEXPECTED_RESPONSE, message, current.request_id, 200, action=action)
        page_num += 1


def listing(
    ctx: Context,
    action: str,
    fields: Mapping[str, Any],
    item: type[T],
    key: Callable[[T], Hashable],
    page_size: int,
    ids_field: str,
    ids: Sequence[str] | None,
    finish: Finish | None = None,
) -> Flow[list[T]]:
    """Every item of a listing; with ``ids``, one walk per chunk of 100 ids, results concatenated."""
    if ids is None:
        return (yield from every_page(ctx, action, fields, item, key, page_size, finish))
    found: dict[Hashable, T] = {}
    for chunk in id_chunks(ids, what=_snake(ids_field)):
        for row in (yield from every_page(ctx, action, {**fields, ids_field: chunk}, item, key, page_size, finish)):
            found.setdefault(key(row), row)
    return list(found.values())


def batched(ctx: Context, action: str, ids_field: str, ids: Sequence[str], fields: Mapping[str, Any]) -> Flow[list[str]]:
    """``action`` once per chunk of 100 ids; the request ids, one per chunk (no request for no ids)."""
    request_ids = []
    for chunk in id_chunks(ids, what=_snake(ids_field)):
        response = yield from call(ctx, action, {ids_field: chunk, **fields})
        request_ids.append(str(response.get("requestId") or ""))
    return request_ids


def empty_page(page_num: int, page_size: int) -> Page[Any]:
    _check_paging(page_num, page_size)
    return Page((), 0, None, page_num, page_size)

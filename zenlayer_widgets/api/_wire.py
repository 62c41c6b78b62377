"""The wire format, without I/O: request building, response parsing and error mapping.

Shared by :class:`~zenlayer_widgets.api.client.ZenlayerClient` and ``AsyncZenlayerClient``. A response's
status and content type are checked before any JSON is parsed, so a gateway's HTML page, an
empty body or a malformed envelope becomes :class:`UnexpectedResponse` (with the HTTP status and
a short, redacted excerpt), never a ``JSONDecodeError`` or ``KeyError``.
"""

from __future__ import annotations

import email.utils
import functools
import json
import logging
import re
import zlib
from collections.abc import Iterable, Mapping
from datetime import timezone
from typing import Any, Generic, TypeVar

import httpx
import msgspec

from .._version import __version__
from . import errors
from ._network import certificate_failure, certificate_help
from .auth import JSON_CONTENT_TYPE
from .vocabulary import API_VERSIONS as API_VERSIONS
from .vocabulary import DEFAULT_API_VERSION as DEFAULT_API_VERSION
from .vocabulary import SERVICE
from .vocabulary import SERVICE_PATH as SERVICE_PATH

logger = logging.getLogger("zenlayer_widgets.api")

T = TypeVar("T")
USER_AGENT = f"zenlayer-widgets/{__version__} httpx/{httpx.__version__}"
EXCERPT_LIMIT = 160
#: The largest answer the clients read (decoded); a larger one is refused, not buffered.
DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024

#: httpx errors raised before any byte of the request left: nothing can have changed.
_NOTHING_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError, httpx.UnsupportedProtocol)


_BEARER = re.compile(r"(?i)\b(bearer)\s+[^\s\"'<>,;]+")


class Redactor:
    """Replaces known secrets, and anything shaped like a bearer token, in text bound for an error or a log."""

    def __init__(self, secrets: Iterable[str | None]) -> None:
        # Each secret also as the escaped forms an error message may quote it in (repr of str or bytes, JSON).
        forms = {form for s in secrets if s for form in (s, repr(s)[1:-1], repr(s.encode("utf-8", "replace"))[2:-1],
                                                          json.dumps(s)[1:-1])}
        self._secrets = sorted(forms, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return _BEARER.sub(r"\1 <redacted>", text)

    def __repr__(self) -> str:
        return "Redactor(<secrets hidden>)"


def encode_body(payload: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON (what the Go SDK sends); the signature covers exactly these bytes.

    A string UTF-8 cannot carry (a lone surrogate) is refused here, before anything is sent: escaped,
    a surrogate pair would reach the server as another character than the one the caller holds.
    """
    try:
        return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
    except UnicodeEncodeError as error:
        bad = error.object[error.start]
        raise UnencodableText(
            f"A parameter contains U+{ord(bad):04X}, a lone surrogate UTF-8 cannot carry; nothing was sent."
        ) from None


class UnencodableText(ValueError):
    """A parameter holds text UTF-8 cannot encode (a lone surrogate); the request was not sent."""


def build_request(url: str, action: str, api_version: str, payload: Mapping[str, Any] | None) -> httpx.Request:
    """The POST for ``action``; authentication is added by the client's :class:`httpx.Auth` when it is sent."""
    headers = {
        "Content-Type": JSON_CONTENT_TYPE,
        "Accept": JSON_CONTENT_TYPE,
        "X-ZC-Action": action,
        "X-ZC-Version": api_version,
        "X-ZC-Service": SERVICE,
        "User-Agent": USER_AGENT,
        "Accept-Encoding": ACCEPT_ENCODING,
    }
    return httpx.Request("POST", _parsed(url), headers=headers, content=encode_body(payload or {}))


@functools.lru_cache(maxsize=64)
def _parsed(url: str) -> httpx.URL:
    """``url`` parsed once per endpoint (httpx parses a string URL anew for every request: 20 us each)."""
    return httpx.URL(url)


def excerpt(body: bytes, redact: Redactor, limit: int = EXCERPT_LIMIT) -> str:
    """The start of a body as one printable line, secrets redacted, at most ``limit`` characters."""
    text = redact(body[: limit * 4].decode("utf-8", "replace"))
    text = redact(" ".join("".join(ch if ch.isprintable() else " " for ch in text).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"


class _NotApiJson(Exception):
    """The body is not a JSON object; the argument says what it is instead."""


#: The longest integer literal accepted in an answer (ids are strings; counts and sizes are small).
MAX_INT_DIGITS = 30


class _BadNumber(ValueError):
    """A number in an answer that JSON, or a sane API, does not send."""


def _refuse_constant(name: str) -> float:
    raise _BadNumber(f"{name}, which is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise _BadNumber(f"the number {text[:40]} out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(f"an integer of {len(text.lstrip('-'))} digits (at most {MAX_INT_DIGITS} are accepted)")
    return int(text)


def strict_json(content: bytes | str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity``, numbers that overflow a float and overlong integers."""
    return json.loads(content, parse_constant=_refuse_constant, parse_float=_finite_float, parse_int=_bounded_int)


def _media_type(response: httpx.Response) -> str:
    return str(response.headers.get("content-type", "")).split(";", 1)[0].strip().lower()


class _Envelope(msgspec.Struct, Generic[T], rename="camel"):
    """A 200's body: the inner ``response`` (decoded as ``T``) and the outer request id."""

    response: T
    request_id: Any = None


#: Bodies of unknown shape (errors, ``client.call``): any JSON; NaN and Infinity are refused, as JSON says.
_ANY_JSON = msgspec.json.Decoder()


@functools.cache
def _decoder(into: Any) -> msgspec.json.Decoder[Any]:
    """One decoder per answer type (built once): straight from bytes to typed models, numbers in strings read."""
    return msgspec.json.Decoder(_Envelope[into], strict=False)


def _json_body(response: httpx.Response, redact: Redactor, decoder: msgspec.json.Decoder[Any]) -> Any:
    """The body decoded by ``decoder``, after the checks that say it is JSON at all."""
    content = response.content
    if not content.strip():
        raise _NotApiJson("an empty body")
    media_type = _media_type(response)

    def shown() -> str:  # only for errors: every answer goes through here
        return f"({len(content)} bytes): {excerpt(content, redact)!r}"

    if media_type and media_type != JSON_CONTENT_TYPE and not media_type.endswith("+json"):
        raise _NotApiJson(f"a {media_type} body {shown()}")
    try:
        return decoder.decode(content)
    except msgspec.ValidationError:
        raise
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise _NotApiJson(f"a body that is not valid JSON {shown()}") from None


def _json_object(response: httpx.Response, redact: Redactor) -> dict[str, Any]:
    try:
        data = _json_body(response, redact, _ANY_JSON)
    except msgspec.ValidationError as problem:  # untyped, only a number beyond a float's range gets here
        raise _NotApiJson(f"JSON with {str(problem).split(' - ', 1)[0].lower()}") from None
    if not isinstance(data, dict):
        raise _NotApiJson(f"JSON that is not an object ({len(response.content)} bytes): {excerpt(response.content, redact)!r}")
    return data


def unexpected(action: str, status: int, what: str, request_id: str | None = None) -> errors.APIError:
    message = f"not the Zenlayer API's JSON envelope: {what}"
    return errors.api_error(errors.UNEXPECTED_RESPONSE, message, request_id, status, action=action)


def parse_response(response: httpx.Response, action: str, redact: Redactor, into: Any = None) -> Any:
    """The inner ``response`` object of a 200, else raise the matching :class:`~errors.APIError`.

    ``into`` None gives the inner object as a dict; a model type (e.g. ``Listing[Instance]``) decodes
    it straight into that type, and a body that does not fit it is :class:`UnexpectedResponse`.
    """
    status = response.status_code
    if status == 403 and response.headers.get("cf-mitigated", "").lower() == "challenge":
        raise errors.api_error(errors.SECURITY_CHALLENGE, "HTTP 403 security challenge from the network in front of the API",
                               None, status, action=action)
    if status == 451:
        raise errors.api_error(errors.REQUEST_BLOCKED, "HTTP 451: blocked by a security policy in front of the API",
                               None, status, action=action)
    if status == 200 and into is not None:
        return _typed(response, action, redact, into)
    try:
        body = _json_object(response, redact)
    except _NotApiJson as problem:
        if status == 429:  # throttled by something in front of the API: still nothing was applied
            message = f"throttled, with {problem} instead of the API's error body"
            raise errors.api_error(errors.REQUEST_LIMIT_EXCEEDED, message, None, status, action=action) from None
        raise unexpected(action, status, str(problem)) from None
    request_id = body.get("requestId") if isinstance(body.get("requestId"), str) else None
    if status == 200:
        inner = body.get("response")
        if not isinstance(inner, dict):
            raise unexpected(action, status, f"no `response` object: {excerpt(response.content, redact)!r}", request_id)
        if request_id and not isinstance(inner.get("requestId"), str):  # the outer requestId stands in
            inner = {**inner, "requestId": request_id}
        return inner
    code = body.get("code")
    if not isinstance(code, str) or not code.strip():
        raise unexpected(action, status, f"an error body without a `code`: {excerpt(response.content, redact)!r}", request_id)
    said = body.get("message")
    text = redact(said if isinstance(said, str) else json.dumps(said, ensure_ascii=False)) if said is not None else ""
    raise errors.api_error(code.strip(), text, request_id, status, action=action)


class UnreadableAnswer(httpx.HTTPError):
    """An answer the client stopped reading: an encoding it did not ask for or that does not decode."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class ResponseTooLarge(UnreadableAnswer):
    """The answer is larger than the client's ``max_response_bytes``; reading it stopped there."""


#: The encodings the clients ask for (and decode themselves, bounded): httpx would also offer br/zstd when installed.
ACCEPT_ENCODING = "gzip, deflate"


class _Inflater:
    """One ``Content-Encoding`` (gzip or deflate; identity passes) decoded as the raw bytes arrive, never
    producing more than it is allowed to: a small compressed chunk cannot turn into gigabytes in memory."""

    def __init__(self, encoding: str, status: int) -> None:
        names = [name.strip().lower() for name in encoding.split(",") if name.strip().lower() not in ("", "identity")]
        self.status = status
        if len(names) > 1 or names and names[0] not in ("gzip", "x-gzip", "deflate"):
            raise UnreadableAnswer(f"an answer in the content encoding {encoding[:40]!r}, which was not asked for", status)
        self.name = names[0] if names else ""
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS if self.name in ("gzip", "x-gzip") else zlib.MAX_WBITS)
        self._first = True

    def decode(self, raw: bytes, room: int) -> bytes | None:
        """``raw`` decoded, or None once it would give more than ``room`` bytes (decoding stopped there)."""
        if not self.name:
            return raw if len(raw) <= room else None
        try:
            if self._first and self.name == "deflate" and raw and raw[0] & 0x0F != 8:  # raw deflate, no zlib header
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
            self._first = False
            decoded = self._zlib.decompress(raw, room + 1)
        except zlib.error as error:
            raise UnreadableAnswer(f"a {self.name} answer that does not decode ({error})", self.status) from None
        return None if len(decoded) > room or self._zlib.unconsumed_tail else decoded


class BodyReader:
    """Collects an answer's chunks as they arrive (raw, decoded here) up to ``limit`` decoded bytes;
    :class:`ResponseTooLarge` past it, before the excess is ever decoded into memory."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.limit = limit
        self._chunks: list[bytes] = []
        self._size = 0
        self._inflater = _Inflater(response.headers.get("content-encoding", ""), response.status_code)
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(f"announces {int(declared)} bytes")

    def _too_large(self, what: str) -> ResponseTooLarge:
        message = f"an answer that {what}, over the limit of {self.limit} bytes (max_response_bytes); reading stopped"
        return ResponseTooLarge(message, self.response.status_code)

    @property
    def size(self) -> int:
        """Decoded bytes so far."""
        return self._size

    def in_memory(self) -> bool:
        """Whether httpx already holds the whole body, decoded (an answer built in memory, by a mock transport
        say): then it is taken as it is, and True; else the caller :meth:`add` s the chunks as they arrive."""
        if not self.response.is_stream_consumed:
            return False
        self._inflater = _Inflater("", self.response.status_code)
        self.add(self.response.content)
        return True

    def add(self, raw: bytes) -> None:
        """A chunk as it came off the connection (still encoded)."""
        chunk = self._inflater.decode(raw, self.limit - self._size)
        if chunk is None:
            raise self._too_large(f"has more than {self.limit} bytes" + (f" once {self._inflater.name}-decoded"
                                                                          if self._inflater.name else ""))
        self._size += len(chunk)
        self._chunks.append(chunk)

    def complete(self) -> httpx.Response:
        """The answer with its whole (decoded) body."""
        dropped = ("content-encoding", "content-length", "transfer-encoding")
        headers = [(key, value) for key, value in self.response.headers.multi_items() if key.lower() not in dropped]
        return httpx.Response(self.response.status_code, headers=headers, content=b"".join(self._chunks),
                              request=self.response.request)


def past_deadline(error: httpx.TimeoutException, seconds: float) -> httpx.TimeoutException:
    """The same kind of timeout (a connect timeout still means nothing was sent), saying the deadline passed."""
    return type(error)(f"the whole exchange took longer than its deadline of {seconds:g} s")
def _typed(response: httpx.Response, action: str, redact: Redactor, into: Any) -> Any:
    """A 200's inner ``response`` decoded as ``into``; what does not fit says where (msgspec's path, no values)."""
    try:
        return _json_body(response, redact, _decoder(into)).response
    except _NotApiJson as problem:
        raise unexpected(action, 200, str(problem)) from None
    except msgspec.ValidationError as problem:
        try:  # the error path only: the request id for the message, if the body has one
            outer = _ANY_JSON.decode(response.content)
        except (msgspec.DecodeError, ValueError, RecursionError):
            outer = None
        request_id = outer.get("requestId") if isinstance(outer, dict) else None
        what = redact(str(problem)).replace("`$.response.", "`")
        raise unexpected(action, 200, what, request_id if isinstance(request_id, str) else None) from None


@functools.cache
def _rows_decoder(item: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(list[item] | None, strict=False)


def decode_rows(raw: bytes, item: Any, action: str, redact: Redactor, request_id: str | None = None) -> list[Any]:
    """A page's ``dataSet`` bytes (kept apart by :class:`~.models.RawListing`) decoded as ``item`` rows; what does not
    fit is :class:`UnexpectedResponse` naming the place as a whole answer's decoding would (``dataSet[3].cpuCount``)."""
    try:
        return _rows_decoder(item).decode(raw) or []
    except msgspec.ValidationError as problem:
        text = redact(str(problem))
        what = text.replace("`$", "`dataSet", 1) if " - at `$" in text else f"{text} - at `dataSet`"
        raise unexpected(action, 200, what, request_id) from None
    except (msgspec.DecodeError, ValueError, RecursionError):
        raise unexpected(action, 200, "a `dataSet` that is not valid JSON", request_id) from None


def nothing_sent(error: httpx.HTTPError) -> bool:
    """True when httpx failed before any byte of the request was sent."""
    return isinstance(error, _NOTHING_SENT)


def map_transport_error(error: httpx.HTTPError, action: str, url: str, redact: Redactor) -> errors.ZenlayerError:
    """httpx's exception as :class:`~errors.ConnectError` (nothing sent) or :class:`~errors.OutcomeUnknown`
    (an oversized answer: :class:`~errors.UnexpectedResponse`)."""
    if isinstance(error, UnreadableAnswer):
        return unexpected(action, error.status, str(error))
    if isinstance(error, httpx.LocalProtocolError):  # h11 quotes the offending header, i.e. maybe a credential
        detail = "LocalProtocolError: httpx refused to write the request (a header name or value HTTP cannot carry; not shown)"
    else:
        detail = redact(f"{type(error).__name__}: {error}" if str(error) else type(error).__name__)
    if nothing_sent(error) and (refused := certificate_failure(error)) is not None:
        return errors.CertificateError(f"{action}: could not connect to {url}: {certificate_help(refused)}", action=action)
    if nothing_sent(error):
        return errors.ConnectError(f"{action}: could not connect to {url}; nothing was sent ({detail})", action=action)
    if isinstance(error, httpx.TimeoutException):
        what = "no answer in time"
    else:
        what = "the connection failed before a complete answer"
    return errors.OutcomeUnknown(
        f"{action}: {what} from {url}; the request may or may not have been applied ({detail})", action=action
    )


def retry_after(response: httpx.Response | None) -> float | None:
    """A numeric ``Retry-After`` header in seconds (undocumented for Zenlayer, honoured if present)."""
    value = response.headers.get("retry-after") if response is not None else None
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and 0 <= seconds < 3600 else None


def server_time(response: httpx.Response | None) -> float | None:
    """The server's clock from its ``Date`` header, in Unix seconds (the middle of that whole second), or None."""
    value = response.headers.get("date") if response is not None else None
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # an HTTP date is GMT; a zone-less one is taken as such
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.timestamp() + 0.5

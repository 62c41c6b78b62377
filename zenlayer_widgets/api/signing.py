"""ZC2-HMAC-SHA256 as pure functions: the client signs with them, the emulator verifies with them.

The algorithm (reference section 1.3): a canonical request over ``POST``, the fixed URI ``/``, an
empty query, the lower-cased ``content-type`` and ``host`` headers, and the SHA-256 of the exact
body bytes; a string to sign of the method name, the timestamp and the canonical request's hash;
an HMAC-SHA256 keyed with the access key password. No date scope, no key derivation.
"""

from __future__ import annotations

import hashlib
import hmac
import re

SIGNATURE_METHOD = "ZC2-HMAC-SHA256"
SIGNED_HEADERS = "content-type;host"

_AUTHORIZATION = re.compile(
    r"^ZC2-HMAC-SHA256\s+Credential=(?P<key>[^,\s]*),\s*SignedHeaders=(?P<headers>[^,\s]*),\s*Signature=(?P<sig>[0-9a-fA-F]*)\s*$"
)


def canonical_request(content_type: str, host: str, body: bytes, *, normalize: bool = True) -> str:
    """The canonical request for a POST with these two signed headers and this raw body.

    ``normalize`` lower-cases and trims the header values as the sign page says; the official
    Python SDK signs them verbatim (identical for ``application/json`` and lower-case hosts), so a
    verifier may accept either form.
    """
    if normalize:
        content_type, host = content_type.strip().lower(), host.strip().lower()
    headers = f"content-type:{content_type}\nhost:{host}\n"
    payload_hash = hashlib.sha256(body).hexdigest()
    return "\n".join(["POST", "/", "", headers, SIGNED_HEADERS, payload_hash])


def string_to_sign(timestamp: str, content_type: str, host: str, body: bytes, *, normalize: bool = True) -> str:
    """``ZC2-HMAC-SHA256\\n<timestamp>\\n<hex sha256 of the canonical request>``."""
    canonical = canonical_request(content_type, host, body, normalize=normalize)
    hashed = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{SIGNATURE_METHOD}\n{timestamp}\n{hashed}"


def signature(
    secret: str, timestamp: str, content_type: str, host: str, body: bytes, *, normalize: bool = True
) -> str:
    """The lower-case hex signature of a request."""
    message = string_to_sign(timestamp, content_type, host, body, normalize=normalize).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def authorization_header(access_key_id: str, sig: str) -> str:
    """The ``Authorization`` value: ``ZC2-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    return f"{SIGNATURE_METHOD} Credential={access_key_id}, SignedHeaders={SIGNED_HEADERS}, Signature={sig}"


def parse_authorization(value: str) -> tuple[str, str, str] | None:
    """Split an ``Authorization`` value into (access key id, signed headers, signature), or None."""
    match = _AUTHORIZATION.match(value or "")
    if match is None:
        return None
    return match.group("key"), match.group("headers"), match.group("sig").lower()


def signatures_match(expected: str, received: str) -> bool:
    """Constant-time comparison of two hex signatures."""
    return hmac.compare_digest(expected.encode("ascii", "replace"), received.encode("ascii", "replace"))

"""Errors in words an operator understands: what happened, the API code and the request id."""

from __future__ import annotations

from dataclasses import dataclass

from ..api import errors as E

_ADVICE: dict[type[BaseException], str] = {
    E.RateLimited: "Zenlayer is throttling requests; wait a moment and try again.",
    E.AuthError: "The credentials were refused: check the access key id and password (or token), and the clock.",
    E.NotFound: "It no longer exists (or never did): refresh the list.",
    E.QuotaExceeded: "The zone's image quota is full: delete an image there first.",
    E.InvalidState: "It is not in a state that allows this: refresh and check its state.",
    E.InvalidParameter: "A value was refused: check it and try again.",
    E.ServerError: "Zenlayer had an internal error; the change may or may not have happened. Refresh before retrying.",
    E.UnexpectedResponse: "Something between you and Zenlayer (a proxy or gateway) answered instead of the API.",
    E.CertificateError: "The server's TLS certificate was not trusted: behind a TLS-inspecting proxy, trust its CA "
                        "(zw.connect(verify='/path/ca.pem'), \"verify\" in the profile, or SSL_CERT_FILE).",
    E.ConnectError: "The Zenlayer API could not be reached: check the network and ZENLAYER_BASE_URL.",
    E.OutcomeUnknown: "The connection dropped before the answer arrived; the change may or may not have happened.",
    E.CredentialsError: "Run `zeno configure`, or set ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET (or ZENLAYER_TOKEN), or use the sandbox.",
}


@dataclass(frozen=True)
class Explanation:
    """An error for the screen: a headline, the advice, and the technical details (code, request id)."""

    headline: str
    advice: str = ""
    code: str | None = None
    request_id: str | None = None
    http_status: int | None = None

    def text(self) -> str:
        parts = [self.headline]
        if self.advice:
            parts.append(self.advice)
        details = []
        if self.code:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        if self.request_id:
            details.append(f"request id {self.request_id}")
        if details:
            parts.append("(" + ", ".join(details) + ")")
        return " ".join(parts)


def _advice_for(error: BaseException) -> str:
    for cls in type(error).__mro__:
        if cls in _ADVICE:
            return _ADVICE[cls]
    return ""


def explain(error: BaseException, doing: str | None = None) -> Explanation:
    """Turn any exception into an :class:`Explanation`; ``doing`` says what was being attempted."""
    prefix = f"{doing} failed: " if doing else ""
    if isinstance(error, E.APIError):
        return Explanation(
            headline=f"{prefix}{error.message}",
            advice=_advice_for(error),
            code=error.code,
            request_id=error.request_id,
            http_status=error.http_status,
        )
    if isinstance(error, E.ZenlayerError):
        return Explanation(headline=f"{prefix}{error}", advice=_advice_for(error))
    if isinstance(error, TimeoutError):
        return Explanation(headline=f"{prefix}{error}")
    return Explanation(headline=f"{prefix}unexpected {type(error).__name__}: {error}")

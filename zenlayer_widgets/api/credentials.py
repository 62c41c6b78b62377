"""Zenlayer credentials: an access key pair (signed requests) or a bearer token.

Found, in this order, by :meth:`Credentials.discover`:

1. the environment: ``ZENLAYER_ACCESS_KEY_ID`` + ``ZENLAYER_ACCESS_KEY_PASSWORD``, or ``ZENLAYER_TOKEN``;
2. a profile in an INI file: ``ZENLAYER_CREDENTIALS_FILE`` or ``~/.zenlayer/credentials``,
   section ``ZENLAYER_PROFILE`` (default ``default``), keys ``access_key_id``,
   ``access_key_password`` and ``token``.

The password and the token never appear in ``repr``/``str`` or in an error message.
"""

from __future__ import annotations

import configparser
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from .errors import CredentialsError

ENV_ACCESS_KEY_ID = "ZENLAYER_ACCESS_KEY_ID"
ENV_ACCESS_KEY_PASSWORD = "ZENLAYER_ACCESS_KEY_PASSWORD"
ENV_TOKEN = "ZENLAYER_TOKEN"
ENV_CREDENTIALS_FILE = "ZENLAYER_CREDENTIALS_FILE"
ENV_PROFILE = "ZENLAYER_PROFILE"
DEFAULT_PROFILE = "default"


def default_credentials_path() -> Path:
    """``~/.zenlayer/credentials``."""
    return Path.home() / ".zenlayer" / "credentials"


@dataclass(frozen=True, repr=False)
class Credentials:
    """An access key pair, or a bearer token. A complete key pair wins over a token.

    Raises :class:`CredentialsError` when neither a complete key pair nor a token is given.
    """

    access_key_id: str | None = None
    access_key_password: str | None = None
    token: str | None = None

    def __post_init__(self) -> None:
        has_id, has_password = bool(self.access_key_id), bool(self.access_key_password)
        if has_id and has_password or self.token:
            return
        if has_id:
            raise CredentialsError(f"The access key {self.access_key_id!r} has no access key password (and no token is set).")
        if has_password:
            raise CredentialsError("An access key password was given without its access key id (and no token is set).")
        raise CredentialsError("Empty credentials: give an access key id and password, or a token.")

    @property
    def kind(self) -> Literal["access_key", "token"]:
        """``"access_key"`` (ZC2-HMAC-SHA256 signatures) or ``"token"`` (``Authorization: Bearer``)."""
        return "access_key" if self.access_key_id and self.access_key_password else "token"

    def auth(self) -> httpx.Auth:
        """The :class:`httpx.Auth` that applies these credentials to a request."""
        from .auth import BearerAuth, ZC2Auth

        if self.kind == "access_key":
            return ZC2Auth(self.access_key_id or "", self.access_key_password or "")
        return BearerAuth(self.token or "")

    def __repr__(self) -> str:
        if self.kind == "access_key":
            return f"Credentials(access_key_id={self.access_key_id!r})"
        return "Credentials(token=<hidden>)"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """From ``ZENLAYER_ACCESS_KEY_ID`` + ``ZENLAYER_ACCESS_KEY_PASSWORD`` or ``ZENLAYER_TOKEN``.

        None when none of them is set; :class:`CredentialsError` when only half a key pair is set
        and there is no token.
        """
        key_id = environ.get(ENV_ACCESS_KEY_ID, "").strip()
        password = environ.get(ENV_ACCESS_KEY_PASSWORD, "").strip()
        token = environ.get(ENV_TOKEN, "").strip()
        if not (key_id or password or token):
            return None
        if not token and not (key_id and password):
            missing = ENV_ACCESS_KEY_PASSWORD if key_id else ENV_ACCESS_KEY_ID
            present = ENV_ACCESS_KEY_ID if key_id else ENV_ACCESS_KEY_PASSWORD
            raise CredentialsError(f"{present} is set but {missing} is not (or set {ENV_TOKEN} instead).")
        return cls._complete(key_id, password, token)

    @classmethod
    def from_profile(
        cls,
        path: str | os.PathLike[str] | None = None,
        profile: str = DEFAULT_PROFILE,
        *,
        environ: Mapping[str, str] = os.environ,
    ) -> Credentials | None:
        """From a profile in an INI file (``path``, else ``ZENLAYER_CREDENTIALS_FILE``, else the default).

        None when the default file is absent or has no ``default`` section. A file or profile
        that was asked for by name (argument or environment variable) must exist; an unreadable
        or incomplete one raises :class:`CredentialsError`.
        """
        named_file = path if path is not None else environ.get(ENV_CREDENTIALS_FILE) or None
        file = Path(named_file).expanduser() if named_file else default_credentials_path()
        if not file.is_file():
            if named_file:
                raise CredentialsError(f"The credentials file {str(file)!r} does not exist.")
            return None
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(file, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError) as error:
            # The parser's own message may quote a line of the file, i.e. a secret: name only the type.
            raise CredentialsError(f"The credentials file {str(file)!r} cannot be read ({type(error).__name__}).") from None
        if not parser.has_section(profile):
            if named_file or profile != DEFAULT_PROFILE:
                raise CredentialsError(f"The credentials file {str(file)!r} has no profile [{profile}].")
            return None
        section = parser[profile]
        key_id, password, token = (section.get(key, "").strip() for key in ("access_key_id", "access_key_password", "token"))
        if not token and not (key_id and password):
            raise CredentialsError(
                f"Profile [{profile}] in {str(file)!r} needs access_key_id and access_key_password, or token."
            )
        return cls._complete(key_id, password, token)

    @classmethod
    def discover(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """The environment's credentials, else the profile ``ZENLAYER_PROFILE`` (or ``default``), else None."""
        found = cls.from_env(environ)
        if found is not None:
            return found
        return cls.from_profile(profile=environ.get(ENV_PROFILE) or DEFAULT_PROFILE, environ=environ)

    @classmethod
    def _complete(cls, key_id: str, password: str, token: str) -> Credentials:
        if key_id and password:
            return cls(access_key_id=key_id, access_key_password=password)
        return cls(token=token)

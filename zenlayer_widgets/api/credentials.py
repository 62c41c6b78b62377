"""Zenlayer credentials: an access key pair (signed requests) or a bearer token, and the chain that finds them.

:meth:`Credentials.discover` looks in this order and stops at the first source that has any:

1. a profile asked for by name (``discover(profile="prod")``, i.e. ``zw.connect(profile="prod")``);
2. the environment, in each ecosystem's spelling (the first complete pair wins):
   ``ZENLAYER_ACCESS_KEY_ID`` + ``ZENLAYER_ACCESS_KEY_SECRET`` (the ``zeno`` CLI) or
   ``ZENLAYER_ACCESS_KEY_PASSWORD`` (ours, the SDKs' word); then
   ``ZENLAYERCLOUD_ACCESS_KEY_ID`` + ``ZENLAYERCLOUD_ACCESS_KEY_PASSWORD`` (the Terraform provider);
   then ``ZENLAYER_TOKEN``;
3. zeno's profile files (:mod:`.profiles`): ``~/.zenlayer/credentials.json``, the profile
   ``ZENLAYER_PROFILE``, else ``current_profile`` of ``~/.zenlayer/config.json``, else ``default``.

Explicit arguments (``Credentials(...)`` handed to the client or to ``connect``) come before all of
these. Half a key pair, or a profile that is named but missing, is a :class:`CredentialsError`
naming what is missing. Every value is refused at load time if it holds a control character.
The password and the token never appear in ``repr``/``str`` or in an error message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import httpx

from .errors import CredentialsError
from .profiles import DEFAULT_PROFILE as DEFAULT_PROFILE
from .profiles import ENV_PROFILE as ENV_PROFILE
from .profiles import check_named_profile, load_profile
from .text import has_control_character

ENV_ACCESS_KEY_ID = "ZENLAYER_ACCESS_KEY_ID"
ENV_ACCESS_KEY_PASSWORD = "ZENLAYER_ACCESS_KEY_PASSWORD"
#: zeno's spelling of the secret.
ENV_ACCESS_KEY_SECRET = "ZENLAYER_ACCESS_KEY_SECRET"
#: The Terraform provider's spelling.
ENV_TF_ACCESS_KEY_ID = "ZENLAYERCLOUD_ACCESS_KEY_ID"
ENV_TF_ACCESS_KEY_PASSWORD = "ZENLAYERCLOUD_ACCESS_KEY_PASSWORD"
ENV_TOKEN = "ZENLAYER_TOKEN"

_FIELD_WORDS = {"access_key_id": "access key id", "access_key_password": "access key password", "token": "token"}


@dataclass(frozen=True, repr=False)
class Credentials:
    """An access key pair, or a bearer token. A complete key pair wins over a token.

    ``source`` says where they came from (``"arguments"``, ``"environment (ZENLAYER_ACCESS_KEY_ID +
    ZENLAYER_ACCESS_KEY_SECRET)"``, ``"profile 'prod' in ~/.zenlayer/credentials.json"``) and
    ``profile`` the profile name, if any: both are for the screen and never hold a secret.
    Raises :class:`CredentialsError` when neither a complete key pair nor a token is given, or
    when a value holds a control character (a pasted newline, an escape sequence).
    """

    access_key_id: str | None = None
    access_key_password: str | None = None
    token: str | None = None
    source: str = field(default="arguments", compare=False)
    profile: str | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        where = f" ({self.source})" if self.source != "arguments" else ""
        for name in ("access_key_id", "access_key_password", "token"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise CredentialsError(f"The {_FIELD_WORDS[name]}{where} must be text, not {type(value).__name__}.")
            if value and has_control_character(value):
                raise CredentialsError(
                    f"The {_FIELD_WORDS[name]}{where} contains a control character (a newline, tab or escape "
                    "pasted with it?); copy it again from the Zenlayer console. The value is not shown."
                )
        has_id, has_password = bool(self.access_key_id), bool(self.access_key_password)
        if has_id and has_password or self.token:
            return
        if has_id:
            raise CredentialsError(f"The access key {self.access_key_id!r}{where} has no access key password (and no token is set).")
        if has_password:
            raise CredentialsError(f"An access key password was given without its access key id{where} (and no token is set).")
        raise CredentialsError(f"Empty credentials{where}: give an access key id and password, or a token.")

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

    def describe(self) -> str:
        """Where these credentials came from, for the screen: source, profile, key id; never a secret."""
        what = f"access key {self.access_key_id}" if self.kind == "access_key" else "a token"
        return f"{what} from {self.source}"

    def __repr__(self) -> str:
        if self.kind == "access_key":
            return f"Credentials(access_key_id={self.access_key_id!r})"
        return "Credentials(token=<hidden>)"

    __str__ = __repr__

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Credentials | None:
        """From the environment (see the module docstring for the spellings and their order).

        None when none of the variables is set; :class:`CredentialsError` naming the missing
        variable when only half a key pair is set and there is no token, or when zeno's
        ``..._SECRET`` and our ``..._PASSWORD`` are both set to different values.
        """
        get = {name: environ.get(name, "").strip() for name in (
            ENV_ACCESS_KEY_ID, ENV_ACCESS_KEY_SECRET, ENV_ACCESS_KEY_PASSWORD, ENV_TF_ACCESS_KEY_ID,
            ENV_TF_ACCESS_KEY_PASSWORD, ENV_TOKEN)}.__getitem__
        secret, password = get(ENV_ACCESS_KEY_SECRET), get(ENV_ACCESS_KEY_PASSWORD)
        if secret and password and secret != password:
            raise CredentialsError(f"{ENV_ACCESS_KEY_SECRET} and {ENV_ACCESS_KEY_PASSWORD} are both set, to different "
                                   "values; unset one of them.")
        ours_secret_name = (ENV_ACCESS_KEY_SECRET if secret else ENV_ACCESS_KEY_PASSWORD if password
                            else f"{ENV_ACCESS_KEY_SECRET} (or {ENV_ACCESS_KEY_PASSWORD})")
        pairs = (
            (ENV_ACCESS_KEY_ID, get(ENV_ACCESS_KEY_ID), ours_secret_name, secret or password),
            (ENV_TF_ACCESS_KEY_ID, get(ENV_TF_ACCESS_KEY_ID), ENV_TF_ACCESS_KEY_PASSWORD, get(ENV_TF_ACCESS_KEY_PASSWORD)),
        )
        for id_name, key_id, secret_name, value in pairs:
            if key_id and value:
                return cls(key_id, value, source=f"environment ({id_name} + {secret_name})")
        token = get(ENV_TOKEN)
        if token:
            return cls(token=token, source=f"environment ({ENV_TOKEN})")
        for id_name, key_id, secret_name, value in pairs:
            if key_id or value:
                missing, present = (secret_name, id_name) if key_id else (id_name, secret_name)
                raise CredentialsError(f"{present} is set but {missing} is not (or set {ENV_TOKEN} instead); "
                                       "refusing to fall back to the sandbox.")
        return None

    @classmethod
    def from_profile(
        cls,
        profile: str | None = None,
        *,
        environ: Mapping[str, str] = os.environ,
    ) -> Credentials | None:
        """From zeno's profile files (see :mod:`.profiles`); None when there are none and none was asked for."""
        entry = load_profile(profile, environ)
        if entry is None:
            return None
        if entry.kind == "access_key":
            return cls(entry.access_key_id, entry.access_key_secret, source=entry.source, profile=entry.name)
        return cls(token=entry.token, source=entry.source, profile=entry.name)

    @classmethod
    def discover(cls, environ: Mapping[str, str] = os.environ, *, profile: str | None = None) -> Credentials | None:
        """The first source of the chain that has credentials (module docstring), else None.

        ``profile`` names a profile of the files, which then must exist (the environment is not read).
        """
        if profile is not None:
            return cls.from_profile(profile, environ=environ)
        check_named_profile(environ)  # ZENLAYER_PROFILE naming no profile is an error, even with keys set
        found = cls.from_env(environ)
        if found is not None:
            return found
        return cls.from_profile(environ=environ)


def credentials_key(credentials: Credentials) -> str:
    """``key=<access key id>`` or ``token=<digest>``: which credentials, never a secret (the ledger's accounts and the
    process's shared rate limiters are keyed by it)."""
    if credentials.kind == "access_key":
        return f"key={credentials.access_key_id}"
    digest = hashlib.sha256(b"zenlayer-widgets ledger account\n" + (credentials.token or "").encode("utf-8"))
    return f"token={digest.hexdigest()[:16]}"

"""Profiles the way the ``zeno`` CLI keeps them (zenlayer/zenlayercloud-cli, ``internal/config``).

* ``~/.zenlayer/credentials.json``: ``{"<profile>": {"access_key_id", "access_key_secret", "token"}}``
  (zeno writes it with mode 0600; a file others can read gets a :class:`CredentialsFileWarning`).
  ``ZENLAYER_CREDENTIALS_FILE`` points at another file of the same format.
* ``~/.zenlayer/config.json``: ``{"current_profile": "<profile>", "profiles": {...}}``.
* The profile used: the one asked for by name, else ``ZENLAYER_PROFILE``, else ``current_profile``,
  else ``default``. A profile that is named (argument, ``ZENLAYER_PROFILE`` or a non-default
  ``current_profile``) must exist, as in zeno ("profile 'x' does not exist").

Our old INI file ``~/.zenlayer/credentials`` (``[profile]`` with ``access_key_id``,
``access_key_password``, ``token``) is imported once: its profiles are added to
``credentials.json`` (zeno's entries win on a clash), the old file is renamed
``credentials.imported`` (mode 0600), and a :class:`LegacyCredentialsImported` warning says so.
"""

from __future__ import annotations

import configparser
import json
import os
import stat
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import CredentialsError
from .text import has_control_character

ENV_CREDENTIALS_FILE = "ZENLAYER_CREDENTIALS_FILE"
ENV_PROFILE = "ZENLAYER_PROFILE"
DEFAULT_PROFILE = "default"
CREDENTIALS_FILE = "credentials.json"
CONFIG_FILE = "config.json"
LEGACY_FILE = "credentials"
LEGACY_IMPORTED = "credentials.imported"


class CredentialsFileWarning(UserWarning):
    """A credentials file other users can read (or change)."""


class LegacyCredentialsImported(UserWarning):
    """The old INI ``~/.zenlayer/credentials`` was imported into ``credentials.json``."""


def zenlayer_dir() -> Path:
    """``~/.zenlayer`` (zeno's configuration directory)."""
    return Path.home() / ".zenlayer"


def shown(path: Path) -> str:
    """A path for messages, with the home directory as ``~``."""
    try:
        return "~/" + str(path.relative_to(Path.home()))
    except ValueError:
        return str(path)


def credentials_path(environ: Mapping[str, str] = os.environ) -> Path:
    named = environ.get(ENV_CREDENTIALS_FILE, "").strip()
    return Path(named).expanduser() if named else zenlayer_dir() / CREDENTIALS_FILE


def warn_if_open(path: Path) -> None:
    """Warn (naming the file and the fix) when group or others may read or change ``path``."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        warnings.warn(
            f"{shown(path)} holds Zenlayer secrets and other users can read or change it "
            f"(mode {stat.S_IMODE(mode):04o}); fix it with: chmod 600 {path}",
            CredentialsFileWarning,
            stacklevel=4,
        )


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
    except (OSError, UnicodeDecodeError, ValueError) as error:
        # json's message may quote the file (a secret): name only the kind of failure.
        hint = ""
        if isinstance(error, ValueError) and not isinstance(error, UnicodeDecodeError) and text.lstrip().startswith("["):
            hint = (f"; it looks like our old INI format, which is no longer read here: move it to "
                    f"{shown(zenlayer_dir() / LEGACY_FILE)} to have it imported")
        raise CredentialsError(f"The {what} {shown(path)} cannot be read ({type(error).__name__}){hint}.") from None
    if not isinstance(data, dict):
        raise CredentialsError(f"The {what} {shown(path)} must hold a JSON object.")
    return data


def _write_private(path: Path, data: Mapping[str, Any]) -> None:
    """Write JSON with mode 0600 (atomically: a temporary file, then a rename)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    os.replace(temporary, path)


def import_legacy(environ: Mapping[str, str] = os.environ) -> list[str]:
    """Import the old INI file into ``credentials.json`` once; the imported profile names."""
    legacy = zenlayer_dir() / LEGACY_FILE
    if environ.get(ENV_CREDENTIALS_FILE, "").strip() or not legacy.is_file():
        return []
    from filelock import FileLock

    target = zenlayer_dir() / CREDENTIALS_FILE
    with FileLock(str(zenlayer_dir() / ".credentials.lock"), timeout=30):
        if not legacy.is_file():  # another kernel imported it meanwhile
            return []
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(legacy, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError, OSError) as error:
            raise CredentialsError(f"The old credentials file {shown(legacy)} cannot be read ({type(error).__name__}); "
                                   f"fix it or move it away, then retry.") from None
        existing = _read_json(target, "credentials file") if target.is_file() else {}
        added, clashes = [], []
        for name in parser.sections():
            if name in existing:
                clashes.append(name)
                continue
            section = parser[name]
            entry = {"access_key_id": section.get("access_key_id", "").strip(),
                     "access_key_secret": section.get("access_key_password", "").strip(),
                     "token": section.get("token", "").strip()}
            existing[name] = {key: value for key, value in entry.items() if value}
            added.append(name)
        _write_private(target, existing)
        imported = legacy.with_name(LEGACY_IMPORTED)
        legacy.rename(imported)
        imported.chmod(0o600)  # it still holds the secrets
    kept = f"; kept zeno's own [{', '.join(clashes)}]" if clashes else ""
    warnings.warn(
        f"Imported profiles [{', '.join(added)}] from the old {shown(legacy)} (INI) into {shown(target)}{kept}, and "
        f"renamed the old file to {LEGACY_IMPORTED} (mode 0600; delete it once you have checked).",
        LegacyCredentialsImported,
        stacklevel=4,
    )
    return added


def read_profiles(environ: Mapping[str, str] = os.environ) -> tuple[Path, dict[str, Any] | None]:
    """``(path, profiles)`` of the credentials file; ``None`` when the file does not exist."""
    import_legacy(environ)
    path = credentials_path(environ)
    if not path.is_file():
        if environ.get(ENV_CREDENTIALS_FILE, "").strip():
            raise CredentialsError(f"{ENV_CREDENTIALS_FILE} names {shown(path)}, which does not exist.")
        return path, None
    warn_if_open(path)
    return path, _read_json(path, "credentials file")


def current_profile(environ: Mapping[str, str] = os.environ) -> tuple[str, str | None]:
    """``(name, why)``: ``ZENLAYER_PROFILE``, else config.json's ``current_profile``, else ``default`` (why None)."""
    named = environ.get(ENV_PROFILE, "").strip()
    if named:
        return named, ENV_PROFILE
    config = zenlayer_dir() / CONFIG_FILE
    if config.is_file():
        value = _read_json(config, "zeno configuration").get("current_profile")
        if isinstance(value, str) and value.strip() and value.strip() != DEFAULT_PROFILE:
            return value.strip(), f"current_profile in {shown(config)}"
    return DEFAULT_PROFILE, None


def _missing(name: str, why: str | None, path: Path, profiles: Mapping[str, Any] | None) -> CredentialsError:
    asked = f" (asked for by {why})" if why else ""
    if profiles is None:
        where = f"{shown(path)} does not exist"
    else:
        where = f"{shown(path)} has " + (f"only: {', '.join(sorted(profiles))}" if profiles else "no profiles")
    return CredentialsError(f"No Zenlayer profile '{name}'{asked}: {where}. Create it with `zeno configure`, pick "
                            "another one, or use the sandbox explicitly (ZENLAYER_SANDBOX=1 / connect(sandbox=True)).")


def check_named_profile(environ: Mapping[str, str] = os.environ) -> None:
    """A profile named by ``ZENLAYER_PROFILE`` must exist (zeno checks this before anything else)."""
    name = environ.get(ENV_PROFILE, "").strip()
    if name:
        path, profiles = read_profiles(environ)
        if profiles is None or name not in profiles:
            raise _missing(name, ENV_PROFILE, path, profiles)


@dataclass(frozen=True, repr=False)
class ProfileEntry:
    """One profile's credentials as the file holds them (checked for shape; :class:`.Credentials` is built from it).
    ``source`` says where it lives, for the screen; ``repr`` never shows the secret or the token."""

    name: str
    source: str
    access_key_id: str = ""
    access_key_secret: str = ""
    token: str = ""

    @property
    def kind(self) -> Literal["access_key", "token"]:
        return "access_key" if self.access_key_id and self.access_key_secret else "token"

    def values(self) -> tuple[str, ...]:
        """The values a :class:`.Credentials` is built from (the key pair, else the token)."""
        return (self.access_key_id, self.access_key_secret) if self.kind == "access_key" else (self.token,)

    def __repr__(self) -> str:
        return f"ProfileEntry(name={self.name!r}, source={self.source!r}, kind={self.kind!r})"


def _entry(name: str, entry: Any, path: Path) -> ProfileEntry:
    where = f"profile '{name}' in {shown(path)}"
    if not isinstance(entry, Mapping):
        raise CredentialsError(f"The {where} must be an object with access_key_id and access_key_secret, or token.")
    values = {}
    for key in ("access_key_id", "access_key_secret", "token"):
        value = entry.get(key)
        if value is not None and not isinstance(value, str):
            raise CredentialsError(f"{key} of the {where} must be text.")
        values[key] = (value or "").strip()
    key_id, secret, token = values["access_key_id"], values["access_key_secret"], values["token"]
    if not token and not (key_id and secret):
        missing = "access_key_secret" if key_id else "access_key_id" if secret else "access_key_id and access_key_secret (or token)"
        raise CredentialsError(f"The {where} has no {missing}.")
    if key_id and secret:
        return ProfileEntry(name, where, access_key_id=key_id, access_key_secret=secret)
    return ProfileEntry(name, where, token=token)


def load_profile(profile: str | None = None, environ: Mapping[str, str] = os.environ) -> ProfileEntry | None:
    """The credentials entry of ``profile`` (else the current one); None when no file exists and none was named."""
    name: str | None
    why: str | None
    if profile is not None:
        if not isinstance(profile, str) or not profile.strip():
            raise CredentialsError("profile must be a non-empty profile name.")
        name, why = profile.strip(), "name"
    else:
        name, why = current_profile(environ)
    path, profiles = read_profiles(environ)
    if profiles is None and why is None:
        return None
    if profiles is None or name not in profiles:
        raise _missing(name, None if why == "name" else why, path, profiles)
    return _entry(name, profiles[name], path)


#: What a profile may say about the way to the API besides its credentials (as ``connect()``'s options).
NETWORK_OPTIONS = ("proxy", "verify")


def profile_network(name: str, environ: Mapping[str, str] = os.environ) -> dict[str, Any]:
    """The ``proxy`` (a URL) and ``verify`` (true, false or a CA file) profile ``name`` sets; {} when it sets none."""
    path, profiles = read_profiles(environ)
    entry = (profiles or {}).get(name)
    if not isinstance(entry, Mapping):
        return {}
    found: dict[str, Any] = {}
    for key in NETWORK_OPTIONS:
        value = entry.get(key)
        if value is None:
            continue
        if key == "proxy" and not isinstance(value, str) or key == "verify" and not isinstance(value, (bool, str)):
            kinds = "a URL" if key == "proxy" else "true, false or the path of a CA file"
            raise CredentialsError(f"{key} of the profile '{name}' in {shown(path)} must be {kinds}.")
        found[key] = os.path.expanduser(value) if key == "verify" and isinstance(value, str) else value
    return found


@dataclass(frozen=True)
class ProfileInfo:
    """One profile as :func:`list_profiles` shows it: no secret, just what it is and where it lives."""

    name: str
    source: str
    kind: Literal["access_key", "token", "incomplete"]
    access_key_id: str | None = None
    current: bool = False

    def __str__(self) -> str:
        key = f" {self.access_key_id}" if self.access_key_id else ""
        mark = " (current)" if self.current else ""
        return f"{self.name}{mark}: {self.kind.replace('_', ' ')}{key}, from {self.source}"


def list_profiles(environ: Mapping[str, str] = os.environ) -> list[ProfileInfo]:
    """Every profile of the credentials file, with where it came from; the current one marked."""
    path, profiles = read_profiles(environ)
    if not profiles:
        return []
    current, _ = current_profile(environ)
    found = []
    for name, entry in profiles.items():
        try:
            credentials = _entry(name, entry, path)
        except CredentialsError:
            credentials = None
        if credentials is None or any(map(has_control_character, credentials.values())):  # Credentials would refuse it
            found.append(ProfileInfo(name, shown(path), "incomplete", current=name == current))
            continue
        found.append(ProfileInfo(name, shown(path), credentials.kind,
                                 credentials.access_key_id if credentials.kind == "access_key" else None, name == current))
    return found


def profile_option(profile: str | None, key: str, environ: Mapping[str, str] = os.environ) -> Any:
    """A non-credential setting of a profile (``read_only``, ``alert_urls``), None when the profile, the file or the
    key is missing. ``profile`` None: the current profile (``ZENLAYER_PROFILE``, config.json, ``default``)."""
    name = profile if profile is not None else current_profile(environ)[0]
    _, profiles = read_profiles(environ)
    entry = (profiles or {}).get(name)
    return entry.get(key) if isinstance(entry, Mapping) else None

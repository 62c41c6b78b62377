"""Read-only mode: whether a client may send write actions (argument, ``ZENLAYER_READ_ONLY``, profile flag).

The refusal itself happens in one place, :func:`._flows.check_writable`, which every action of the
sync and async clients passes before its request is built.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .credentials import Credentials
from .errors import CredentialsError
from .params import yes_no

#: Environment variable: ``1`` makes every client read-only (``0`` turns a profile's flag off).
ENV_READ_ONLY = "ZENLAYER_READ_ONLY"
#: The key of a profile in ``~/.zenlayer/credentials.json`` that makes its clients read-only.
PROFILE_KEY = "read_only"


def _flag(value: object, where: str) -> bool:
    answer = yes_no(value)
    if answer is None:
        raise ValueError(f"{where} must be 1 or 0 (true/false, yes/no, on/off), not {value!r}")
    return answer


def resolve_read_only(read_only: bool | None, credentials: Credentials,
                      environ: Mapping[str, str] = os.environ) -> bool:
    """``read_only`` when given (True/False); else ``ZENLAYER_READ_ONLY`` when set; else the ``read_only`` flag of
    the profile the credentials came from; else False. A value that is not a yes/no is a ValueError."""
    if read_only is not None:
        if not isinstance(read_only, bool):
            raise TypeError(f"read_only must be True, False or None, not {read_only!r}")
        return read_only
    setting = environ.get(ENV_READ_ONLY, "").strip()
    if setting:
        return _flag(setting, ENV_READ_ONLY)
    if credentials.profile is None:
        return False
    from .profiles import profile_option

    try:
        value = profile_option(credentials.profile, PROFILE_KEY, environ)
    except CredentialsError:
        return False
    return False if value is None else _flag(value, f"{PROFILE_KEY} of profile '{credentials.profile}'")

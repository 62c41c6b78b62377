"""What the contract checks run against, and their snapshots (LocalStack's parity-snapshot idea).

* Default: the emulator (in this process, demo fleet). Every check compares its answer with the
  snapshot of the same name in the snapshot directory, when there is one.
* ``ZENLAYER_CONTRACT_LIVE=1``: the real API, with the caller's credentials (the usual chain:
  zeno's files, ``ZENLAYER_ACCESS_KEY_ID`` + ``..._SECRET``, Terraform's variables, a token) and
  base URL; every answer is written as a snapshot instead. Snapshots hold codes, HTTP statuses,
  field names and booleans only: no ids, names or secrets.
* ``ZENLAYER_CONTRACT_WRITE=1`` adds the write cycle (live: in ``ZENLAYER_CONTRACT_INSTANCE``,
  a STOPPED instance of ``ZENLAYER_CONTRACT_ZONE``): create, rename and delete one image.
  ``ZENLAYER_CONTRACT_DUPLICATE=1`` also tries its name a second time (name uniqueness); if the
  API accepts it, that second image is deleted too. Against the emulator both always run.
* ``ZENLAYER_CONTRACT_SNAPSHOTS``: another snapshot directory (default tests/contract/snapshots).

The settings are read from the environment the test run was started with (tests/conftest.py
hides ZENLAYER_* from the tests themselves).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from unittest import mock

from zenlayer_widgets.api import APIError, Credentials, CredentialsError, ZenlayerClient
from zenlayer_widgets.api.endpoint import DEFAULT_BASE_URL, env_base_url

SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
LIVE_ENV = "ZENLAYER_CONTRACT_LIVE"
WRITE_ENV = "ZENLAYER_CONTRACT_WRITE"
INSTANCE_ENV = "ZENLAYER_CONTRACT_INSTANCE"
ZONE_ENV = "ZENLAYER_CONTRACT_ZONE"
SNAPSHOTS_ENV = "ZENLAYER_CONTRACT_SNAPSHOTS"
TIMEOUT_ENV = "ZENLAYER_CONTRACT_TIMEOUT"
#: Live: also try the image's name a second time (may make a second image, deleted at once).
DUPLICATE_ENV = "ZENLAYER_CONTRACT_DUPLICATE"


def on(environ: Mapping[str, str], name: str) -> bool:
    return environ.get(name, "").strip().lower() in {"1", "true", "yes"}


def outcome(action: Callable[[], Any]) -> dict[str, Any]:
    """``{"ok": True}``, or the API error's ``{"code", "http_status"}`` (what a snapshot keeps)."""
    try:
        action()
    except APIError as error:
        return {"code": error.code, "http_status": error.http_status}
    return {"ok": True}


@dataclass
class Target:
    """A client for the API under test, whether it is the live one, and the snapshot store."""

    client: ZenlayerClient
    live: bool
    snapshots: Path
    write_instance: str | None = None
    write_zone: str | None = None
    timeout: float = 60.0
    try_duplicate: bool = True
    bad_client: Callable[[], ZenlayerClient] = field(default=lambda: None, repr=False)  # type: ignore[assignment,return-value]

    def check(self, name: str, answer: dict[str, Any], *, subset: tuple[str, ...] = ()) -> None:
        """Live: record ``answer`` as snapshot ``name``. Emulator: compare with the snapshot, if any.

        Keys in ``subset`` hold field-name lists: the emulator must carry every name the live
        API sent (it may carry more); every other key must be equal.
        """
        path = self.snapshots / f"{name}.json"
        if self.live:
            self.snapshots.mkdir(parents=True, exist_ok=True)
            document = {"check": name, "recorded": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
                        "api": self.client.base_url, "answer": answer}
            path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
            return
        if not path.exists():
            return
        recorded = json.loads(path.read_text(encoding="utf-8"))["answer"]
        problems = []
        for key, value in recorded.items():
            if value == {"not_tried": True}:  # the live run left this part out
                continue
            if key in subset:
                missing = sorted(set(value) - set(answer.get(key, ())))
                if missing:
                    problems.append(f"{key}: the emulator lacks {missing}")
            elif answer.get(key) != value:
                problems.append(f"{key}: the live API answered {value!r}, the emulator {answer.get(key)!r}")
        assert not problems, f"{path.name} (recorded from {json.loads(path.read_text())['api']}): " + "; ".join(problems)


def live_client(environ: Mapping[str, str]) -> tuple[ZenlayerClient, Callable[[], ZenlayerClient]]:
    """The caller's own client (their credentials chain, their HOME), and one with a wrong secret."""
    with mock.patch.dict(os.environ, {"HOME": environ.get("HOME", os.environ["HOME"])}):
        credentials = Credentials.discover(environ)
    if credentials is None:
        raise CredentialsError(f"{LIVE_ENV}=1 needs credentials: run `zeno configure` or set ZENLAYER_ACCESS_KEY_ID "
                               "and ZENLAYER_ACCESS_KEY_SECRET (or ZENLAYER_TOKEN)")
    base_url = (env_base_url(environ) or (DEFAULT_BASE_URL,))[0]
    key_id = credentials.access_key_id or "AKID-CONTRACT-CHECK"

    def bad() -> ZenlayerClient:
        return ZenlayerClient(Credentials(key_id, "not-the-secret-" + os.urandom(6).hex()), base_url=base_url,
                              max_throttle_retries=2)

    return ZenlayerClient(credentials, base_url=base_url, max_throttle_retries=5), bad

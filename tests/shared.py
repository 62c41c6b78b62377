"""Helpers every test folder may import (``from shared import ids_by_name``); the shared fixtures
themselves are in tests/conftest.py. Plain functions only: no fixtures, nothing pytest runs."""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager

from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.emulator import RunningEmulator


def credentials_for(emulator: RunningEmulator, password: str | None = None) -> Credentials:
    """The emulator's key pair (or its key id with ``password`` instead, to provoke a refusal)."""
    return Credentials(access_key_id=emulator.access_key_id, access_key_password=password or emulator.access_key_password)


def account_for(emulator: RunningEmulator) -> str:
    """The ledger account a client of ``emulator`` with its key pair files rows under (endpoint + key id)."""
    from zenlayer_widgets.core.ledger.accounts import account_name

    return account_name(emulator.url, credentials_for(emulator))


def ids_by_name(emulator: RunningEmulator) -> dict[str, str]:
    """Instance name -> instance id in the emulator's fleet (the demo fleet's names are stable)."""
    return {record.instance_name: record.instance_id for record in emulator.backend.instances.values()}


def held_rotation_run(ledger, account: str, *, host: str, pid: int, heartbeat: str, process: str | None = None,
                      run_id: str = "a" * 32, who: str = "colleague@elsewhere") -> str:
    """An unfinished run of policy "nightly" (stamp 20261201T0000) held by owner ``b``*32 on ``host``/``pid`` with
    its last heartbeat at ``heartbeat``, as another apply's claim writes it (its ``rotation`` operation); its id."""
    from zenlayer_widgets.core.ledger import schema

    ledger._write(schema.operations.insert().values(
        operation_id=run_id, kind="rotation", key="rotation:nightly", account=account,
        params={"policy": "nightly", "name_prefix": "nightly", "stamp": "20261201T0000"}, facts={}, who=who,
        owner="b" * 32, owner_host=host, owner_pid=pid, owner_process=process, heartbeat_at=heartbeat,
        started_at=heartbeat, updated_at=heartbeat))
    return run_id


async def fast(seconds: float) -> None:
    """A workflow's waits (polling, backoff) cut to at most 10 ms."""
    await asyncio.sleep(min(seconds, 0.01))


#: A rotation apply (argv: the emulator's URL, the ledger URL, the instance id) that SIGKILLs itself once its new
#: image is CREATING and nothing is deleted yet (tests of a resumed or taken-over run).
KILLED_WHILE_CREATING = textwrap.dedent("""
    import os, signal, sys
    import zenlayer_widgets as zw
    from zenlayer_widgets.api.client import ZenlayerClient
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.core.ledger import Ledger

    credentials = Credentials(access_key_id=os.environ["ZW_TEST_KEY_ID"], access_key_password=os.environ["ZW_TEST_PASSWORD"])
    def kill(instance_id, phase):
        if phase == "submitted":  # CreateImage answered, the new image CREATING, nothing deleted yet
            os.kill(os.getpid(), signal.SIGKILL)
    with ZenlayerClient(credentials, base_url=sys.argv[1]) as client:
        policy = zw.Policy("nightly", keep=1, instance_ids=(sys.argv[3],))
        zw.apply_rotation(client, policy, Ledger(sys.argv[2]), on_step=kill, poll_interval=0.1)
    print("not killed")
""")


def custom_images(emulator: RunningEmulator, zone: str) -> dict[str, tuple[str, str]]:
    """Image id -> (name, status) of a zone's custom images."""
    return {i: (r.image_name, r.status) for i, r in emulator.backend.images.items() if r.zone_id == zone}


@contextmanager
def images_finish_when_polled(backend) -> Iterator[None]:  # noqa: ANN001
    """Images stay CREATING (hour-long transitions) until someone follows one by id: then the clock moves an hour
    (a zone listing alone moves nothing)."""
    original = backend.describe_images

    def describe_images(zone_id, filters=None, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        followed = set((filters or {}).get("imageIds") or ())
        if any(backend.images[i].status == "CREATING" for i in followed if i in backend.images):
            backend.advance(3600)
        return original(zone_id, filters, *args, **kwargs)

    backend.describe_images = describe_images
    try:
        yield
    finally:
        backend.describe_images = original

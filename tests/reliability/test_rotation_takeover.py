"""A rotation run on the durable-operation engine, SIGKILLed mid-way (its new image CREATING, the old one not deleted
yet), is taken over by the next apply: the same run, the image the killed process made (recorded by id when
CreateImage answered) followed to its end, no second image, and only then the old one deleted. Both ledgers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import zenlayer_widgets as zw
from shared import credentials_for
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.operations import SENT, SUCCEEDED
from zenlayer_widgets.core.policy import owned_images, runs
from zenlayer_widgets.core.policy.records import operations_of

FAST = 0.1

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


def custom(emulator, zone: str) -> dict[str, tuple[str, str]]:
    """Image id -> (name, status) of a zone's custom images."""
    return {i: (r.image_name, r.status) for i, r in emulator.backend.images.items() if r.zone_id == zone}


def test_a_run_killed_mid_way_is_taken_over_by_the_next_apply_without_a_second_image(slow_emulator, ledger_url):
    backend = slow_emulator.backend
    build = backend.instance_named("build-hkg-01").instance_id
    policy = zw.Policy("nightly", keep=1, instance_ids=(build,))
    with ZenlayerClient(credentials_for(slow_emulator), base_url=slow_emulator.url) as client:
        account = account_of(client)
        env = {**os.environ, "ZW_TEST_KEY_ID": slow_emulator.access_key_id,
               "ZW_TEST_PASSWORD": slow_emulator.access_key_password}
        # a first run, finished: the instance has one good image of the policy
        ledger = Ledger(ledger_url)
        first = _apply_finishing(client, policy, ledger, backend)
        good = first.results[0].image_id
        before = set(custom(slow_emulator, "HKG-A"))
        # the second run is killed while its new image is CREATING
        killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATING, slow_emulator.url, ledger_url, build],
                                env=env, capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        [creating] = [i for i, (_, status) in custom(slow_emulator, "HKG-A").items() if status == "CREATING"]
        [unfinished] = [r for r in runs(ledger, account, "nightly") if r.finished_at is None]
        [operation] = operations_of(ledger, unfinished.run_id).values()
        assert operation.image_id == creating  # recorded when CreateImage answered: the policy owns it by id
        assert operation.step("rotate_image").state == SENT and operation.step("rotate_delete").state == "planned"
        assert creating in owned_images(ledger, account, "nightly")
        # the next apply (another process's run, its owner gone) takes the run over and finishes it
        again = _apply_finishing(client, policy, ledger, backend)
        assert again.resumed and again.ok and again.run_id == unfinished.run_id, again.frame()
        assert again.results[0].image_id == creating and again.results[0].deleted == (good,)
        after = custom(slow_emulator, "HKG-A")
        assert set(after) - before == {creating}  # exactly one image made by the killed run and its take-over
        assert after[creating][1] == "AVAILABLE"
        [done] = operations_of(ledger, unfinished.run_id).values()
        assert done.outcome == SUCCEEDED and done.operation_id == operation.operation_id  # the same operation
        assert len(ledger.entries()) == 2  # two creates in all: nothing sent twice
        ledger.close()


def _apply_finishing(client, policy, ledger, backend):
    """An apply during which images finish as soon as they are followed (transitions otherwise take an hour)."""
    original = backend.describe_images

    def describe_images(zone_id, filters=None, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        followed = set((filters or {}).get("imageIds") or ())
        if any(backend.images[i].status == "CREATING" for i in followed if i in backend.images):
            backend.advance(3600)
        return original(zone_id, filters, *args, **kwargs)

    backend.describe_images = describe_images
    try:
        return zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    finally:
        backend.describe_images = original

"""A rotation run on the durable-operation engine, SIGKILLed mid-way (its new image CREATING, the old one not deleted
yet), is taken over by the next apply: the same run, the image the killed process made (recorded by id when
CreateImage answered) followed to its end, no second image, and only then the old one deleted. Both ledgers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import zenlayer_widgets as zw
from shared import KILLED_WHILE_CREATING, credentials_for, custom_images, images_finish_when_polled
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.operations import SENT, SUCCEEDED
from zenlayer_widgets.core.policy import owned_images, runs
from zenlayer_widgets.core.policy.records import operations_of

FAST = 0.1



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
        before = set(custom_images(slow_emulator, "HKG-A"))
        # the second run is killed while its new image is CREATING
        killed = subprocess.run([sys.executable, "-c", KILLED_WHILE_CREATING, slow_emulator.url, ledger_url, build],
                                env=env, capture_output=True, text=True, timeout=120)
        assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
        [creating] = [i for i, (_, status) in custom_images(slow_emulator, "HKG-A").items() if status == "CREATING"]
        [unfinished] = [r for r in runs(ledger, account, "nightly") if r.finished_at is None]
        [operation] = operations_of(ledger, unfinished.run_id).values()
        assert operation.image_id == creating  # recorded when CreateImage answered: the policy owns it by id
        assert operation.step("rotate_image").state == SENT and operation.step("rotate_delete").state == "planned"
        assert creating in owned_images(ledger, account, "nightly")
        # the next apply (another process's run, its owner gone) takes the run over and finishes it
        again = _apply_finishing(client, policy, ledger, backend)
        assert again.resumed and again.ok and again.run_id == unfinished.run_id, again.frame()
        assert again.results[0].image_id == creating and again.results[0].deleted == (good,)
        after = custom_images(slow_emulator, "HKG-A")
        assert set(after) - before == {creating}  # exactly one image made by the killed run and its take-over
        assert after[creating][1] == "AVAILABLE"
        [done] = operations_of(ledger, unfinished.run_id).values()
        assert done.outcome == SUCCEEDED and done.operation_id == operation.operation_id  # the same operation
        assert len(ledger.entries()) == 2  # two creates in all: nothing sent twice
        ledger.close()


def _apply_finishing(client, policy, ledger, backend):
    """An apply during which images finish as soon as they are followed (transitions otherwise take an hour)."""
    with images_finish_when_polled(backend):
        return zw.apply_rotation(client, policy, ledger, poll_interval=FAST)

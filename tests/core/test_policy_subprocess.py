"""A rotation run SIGKILLed between its create and its delete, against the emulator as a subprocess with a real key
pair: the next run finishes it, with no second image and nothing foreign touched."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import zenlayer_widgets as zw
from security.leaks import CliEmulator, Secrets
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core.ledger import Ledger, account_of
from zenlayer_widgets.core.policy import owned_images
from zenlayer_widgets.emulator import EmulatorBackend

SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import zenlayer_widgets as zw
    from zenlayer_widgets.api.client import ZenlayerClient
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.core.ledger import Ledger

    credentials = Credentials(access_key_id=os.environ["ZW_TEST_KEY_ID"], access_key_password=os.environ["ZW_TEST_PASSWORD"])
    def kill(instance_id, phase):
        if phase == "created":  # AVAILABLE, the old image not deleted yet
            os.kill(os.getpid(), signal.SIGKILL)
    with ZenlayerClient(credentials, base_url=sys.argv[1]) as client:
        policy = zw.Policy("nightly", keep=1, instance_ids=tuple(sys.argv[3:]))
        zw.apply_rotation(client, policy, Ledger(Path(sys.argv[2])), on_step=kill, poll_interval=0.1)
    print("not killed")
""")


def test_a_sigkilled_run_is_finished_by_the_next_one(tmp_path):
    secrets = Secrets.generate()
    emulator = CliEmulator(secrets, tmp_path / "emulator.log")
    try:
        demo = EmulatorBackend()
        chosen = tuple(demo.instance_named(name).instance_id for name in ("build-hkg-01", "ci-nyc-01"))
        path = tmp_path / "ledger.sqlite3"
        credentials = Credentials(access_key_id=secrets.key_id, access_key_password=secrets.password)
        with ZenlayerClient(credentials, base_url=emulator.url) as client:
            def images() -> dict[str, str]:
                return {i.image_id: i.image_name for zone in ("HKG-A", "NYC-A")
                        for i in client.list_images(zone, image_type="CUSTOM_IMAGE")}

            foreign = images()
            policy = zw.Policy("nightly", keep=1, instance_ids=chosen)
            first = zw.apply_rotation(client, policy, Ledger(path), poll_interval=0.1)
            assert first.ok
            env = {**os.environ, "ZW_TEST_KEY_ID": secrets.key_id, "ZW_TEST_PASSWORD": secrets.password}
            killed = subprocess.run([sys.executable, "-c", SCRIPT, emulator.url, str(path), *chosen], env=env,
                                    capture_output=True, text=True, timeout=120)
            assert killed.returncode == -signal.SIGKILL, killed.stderr
            assert len(images()) > len(foreign) + 2  # a new image made, the old one still there
            ledger = Ledger(path)
            again = zw.apply_rotation(client, policy, ledger, poll_interval=0.1)
            assert again.resumed and again.ok, again.frame()
            now = images()
            assert foreign.items() <= now.items()
            owned = owned_images(ledger, account_of(client), "nightly")
            assert len([i for i in now if i in owned]) == 2 == len(now) - len(foreign)  # one per instance
            assert len(ledger.entries()) == 4  # two runs, two instances: nothing was created twice
            assert secrets.password not in killed.stdout + killed.stderr
    finally:
        emulator.stop()

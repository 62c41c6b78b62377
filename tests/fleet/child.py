"""A fleet worker in its own process: ``python child.py <emulator url> <ledger url> <max_parallel> <rate or 0> ids...``.

Signs in with the emulator's demo key pair (given in the environment, never on the command line), works the
``nightly`` policy's shared run (stop-image-start) and prints its summary.
"""

from __future__ import annotations

import os
import sys

import zenlayer_widgets as zw
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core.ledger import Ledger

POLL = 0.1


def main(url: str, ledger_url: str, max_parallel: str, rate: str, *ids: str) -> None:
    credentials = Credentials(access_key_id=os.environ["ZW_TEST_KEY_ID"], access_key_password=os.environ["ZW_TEST_PASSWORD"])
    with ZenlayerClient(credentials, base_url=url) as client:
        policy = zw.Policy("nightly", keep=1, instance_ids=ids, stop_if_running=True)
        outcome = zw.work_units(client, policy, Ledger(ledger_url), max_parallel=int(max_parallel),
                                rate_limit=float(rate) or None, poll_interval=POLL)
    print(outcome.summary(), flush=True)
    sys.exit(0 if outcome.ok else 1)


if __name__ == "__main__":
    main(*sys.argv[1:])

"""Run one verify, launch or restore in a process of its own (the kill tests SIGKILL it mid-way).

``python child.py <emulator url> <key id> <key password> <ledger url> <json of the call>``; the call's
``probe_file``: a probe that creates that file, then hangs (so the test can kill the process while probing).
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

import zenlayer_widgets as zw
from zenlayer_widgets.api.client import AsyncZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core.ledger import Ledger


async def main() -> None:
    url, key_id, password, ledger_url, call = sys.argv[1:6]
    spec = json.loads(call)
    what = spec.pop("what")
    options = {"ledger": Ledger(ledger_url), "poll_interval": 0.1, **spec.pop("options", {})}
    probe_file = spec.pop("probe_file", None)
    if probe_file:
        def probe(_instance: object) -> bool:
            Path(probe_file).touch()
            time.sleep(120)
            return True
        options["probe"] = probe
    async with AsyncZenlayerClient(Credentials(access_key_id=key_id, access_key_password=password), base_url=url) as client:
        if what == "verify":
            await zw.verify_image_async(client, spec["image_id"], **options)
        elif what == "launch":
            await zw.launch_from_image_async(client, spec["image_id"], like=spec["like"], name=spec["name"], **options)
        else:
            await zw.restore_instance_async(client, spec["instance_id"], spec["image_id"], confirm=spec["confirm"],
                                            **options)


asyncio.run(main())

"""The decoy IMAGING: our lost create is never settled by a colleague's same-named image just because our
instance happens to be IMAGING for another create (the in-process emulator: the timeout is injected; images take a
minute)."""

from __future__ import annotations

import httpx
import pytest

from shared import ids_by_name
from zenlayer_widgets.core import reconcile
from zenlayer_widgets.core.create import CreateOutcomeUnknown, create_image_async
from zenlayer_widgets.core.ledger import UNKNOWN, Ledger
from zenlayer_widgets.emulator import mock_zenlayer

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep

CLIENT_TIMEOUT = 0.5


class LostWhileOthersWork(RecordingTransport):
    """Our CreateImage never arrives (a client timeout); meanwhile a colleague makes the same name from another
    instance, and our instance starts imaging for a create that is not ours."""

    def __init__(self, meanwhile) -> None:  # noqa: ANN001
        super().__init__()
        self.meanwhile = meanwhile

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-zc-action") == "CreateImage" and self.meanwhile is not None:
            meanwhile, self.meanwhile = self.meanwhile, None
            self.log.append(("CreateImage", "ReadTimeout"))
            meanwhile()
            raise httpx.ReadTimeout("timed out (injected; the request never arrived)", request=request)
        return await super().handle_async_request(request)


@pytest.fixture(autouse=True)
def short_settle(monkeypatch):
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.3)


@pytest.mark.parametrize("decoy", ["unexplained-image", "open-intent"])
async def test_imaging_for_another_create_is_no_evidence(ledger_url, decoy):
    with mock_zenlayer(transition_seconds=60) as emulator:
        ids = ids_by_name(emulator)
        ours, colleagues = ids["db-hkg-01"], ids["build-hkg-01"]  # HKG-A; the colleague's disk is the smaller
        ledger = Ledger(ledger_url)  # SQLite and PostgreSQL
        made: dict[str, str] = {}

        def meanwhile() -> None:
            made["colleague"] = emulator.backend.create_image(colleagues, "shared-name", "nightly").image_id
            if decoy == "open-intent":  # another key of the team, on the same ledger, imaging our instance
                ledger.begin("https://console.example/other-key", ours, "HKG-A", "other-work", None)
            made["decoy"] = emulator.backend.create_image(ours, "other-work").image_id  # ours is IMAGING now

        transport = LostWhileOthersWork(meanwhile)
        async with async_client(emulator, transport, timeout=CLIENT_TIMEOUT) as client:
            with pytest.raises(CreateOutcomeUnknown) as unknown:
                await create_image_async(client, ours, "shared-name", "nightly", wait=False, sleep=fast_sleep,
                                         ledger=ledger)
        assert emulator.backend.instances[ours].status == "IMAGING"
        assert custom_images_named(emulator.backend, "shared-name") == [made["colleague"]]
    said = str(unknown.value)
    assert [c.image_id for c in unknown.value.candidates] == [made["colleague"]]  # named, never adopted
    assert made["colleague"] in said and "could account for that" in said
    assert made["decoy"] in said or "other-work" in said
    entry = next(e for e in ledger.entries() if e.image_name == "shared-name")
    assert (entry.outcome, entry.open, entry.image_id) == (UNKNOWN, True, None)
    assert [a for a, _ in transport.log].count("CreateImage") == 1

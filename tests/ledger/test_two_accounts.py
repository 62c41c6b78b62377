"""Two real accounts behind one endpoint (every account is at console.zenlayer.com) on one ledger: their intents,
histories and policy leases never mix, and one account's create never records an outcome for the other's intent.

Two in-process emulators (two accounts with the same demo fleet, so the same instance ids) answer at one base URL;
which one answers a request is decided by its access key id, as the real API does."""

from __future__ import annotations

import re

import httpx
import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.core.ledger import AVAILABLE_OUTCOME, GONE, SUBMITTED, ForeignIntent, Ledger, account_of
from zenlayer_widgets.core.ledger.ownership import live_owners
from zenlayer_widgets.core.policy import lease
from zenlayer_widgets.core.progress import ImageProgress
from zenlayer_widgets.emulator import mock_zenlayer
from zenlayer_widgets.emulator.transport import EmulatorTransport

ENDPOINT = "https://console.zenlayer.test"
FAST = 0.1


class ByAccessKey(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """One endpoint, several accounts: the request goes to the emulator of its ``Credential=`` key id."""

    def __init__(self, accounts: dict[str, EmulatorTransport]) -> None:
        self.accounts = accounts

    def _for(self, request: httpx.Request) -> EmulatorTransport:
        match = re.search(r"Credential=([^,]+)", request.headers.get("Authorization", ""))
        assert match is not None, "every request is signed with a key pair here"
        return self.accounts[match.group(1)]

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self._for(request).handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self._for(request).handle_async_request(request)


@pytest.fixture
def accounts():
    """(prod client, lab client, prod emulator): two accounts at one endpoint; prod's images stay CREATING for an hour."""
    with mock_zenlayer(access_key_id="AKPROD", transition_seconds=3600) as prod, \
            mock_zenlayer(access_key_id="AKLAB", transition_seconds=0.2) as lab:
        router = ByAccessKey({"AKPROD": prod.transport, "AKLAB": lab.transport})
        with ZenlayerClient(Credentials("AKPROD", prod.access_key_password), base_url=ENDPOINT, transport=router) as on_prod, \
                ZenlayerClient(Credentials("AKLAB", lab.access_key_password), base_url=ENDPOINT, transport=router) as on_lab:
            yield on_prod, on_lab, prod


def test_a_lab_create_never_closes_prods_open_intent_and_histories_stay_apart(accounts, ledger_url):
    prod_client, lab_client, prod = accounts
    ledger = Ledger(ledger_url)
    build = next(r.instance_id for r in prod.backend.instances.values() if r.instance_name == "build-hkg-01")
    made = zw.create_image(prod_client, build, "nightly-1", ledger=ledger, wait=False)
    assert made.status == "CREATING"
    # lab: the same instance id and image name in its own account (where prod's image does not exist)
    lab_made = zw.create_image(lab_client, build, "nightly-1", ledger=ledger, poll_interval=FAST)
    assert lab_made.status == "AVAILABLE" and lab_made.intent_id != made.intent_id
    [prod_intent] = ledger.entries(account_of(prod_client))
    assert prod_intent.is_open and prod_intent.outcome == SUBMITTED and prod_intent.image_id == made.image_id
    assert prod.backend.images[made.image_id].status == "CREATING"  # (prod's image is still being made)
    [lab_intent] = ledger.entries(account_of(lab_client))
    assert lab_intent.intent_id == lab_made.intent_id and not lab_intent.is_open
    assert {a.intent_id for a in ledger.history(account_of(prod_client))} == {made.intent_id}
    assert {a.intent_id for a in ledger.history(account_of(lab_client))} == {lab_made.intent_id}
    ledger.close()


def test_policy_leases_of_two_accounts_do_not_block_each_other(accounts, ledger_url):
    prod_client, lab_client, _ = accounts
    ledger = Ledger(ledger_url)
    prod_run, _ = lease.claim_run(ledger, account_of(prod_client), "nightly", "nightly", "20261201T0000")
    try:
        lab_run, resumed = lease.claim_run(ledger, account_of(lab_client), "nightly", "nightly", "20261201T0000")
        assert not resumed and lab_run.run_id != prod_run.run_id and lab_run.account == account_of(lab_client)
        live_owners.discard(lab_run.owner)
        with pytest.raises(zw.PolicyBusy):  # within one account the lease still holds
            lease.claim_run(ledger, account_of(prod_client), "nightly", "nightly", "20261201T0000")
    finally:
        live_owners.discard(prod_run.owner)
    ledger.close()


def test_rows_from_before_accounts_had_keys_are_shown_but_never_acted_on(accounts, ledger_url):
    """An intent left open under the bare endpoint (written before version 5) cannot be attributed to a key: no
    account's create resumes, adopts or closes it, and the activity (``with_unattributed``) still shows its actions."""
    prod_client, _, prod = accounts
    ledger = Ledger(ledger_url)
    build = next(r.instance_id for r in prod.backend.instances.values() if r.instance_name == "build-hkg-01")
    old = ledger.begin(ENDPOINT, build, "HKG-A", "nightly-1", None, settle_seconds=0.0)
    ledger.mark_sent(old.intent_id, old.owner)
    ledger.record_action("stop", account=ENDPOINT, outcome="ok", instance_id=build)
    made = zw.create_image(prod_client, build, "nightly-1", ledger=ledger, wait=False)
    kept = ledger.get(old.intent_id)
    assert kept is not None and kept.is_open and kept.outcome is None and made.intent_id != old.intent_id
    shown = ledger.history(account_of(prod_client), with_unattributed=True)
    assert {a.kind for a in shown if a.account == ENDPOINT} == {"stop"}
    assert all(a.account != ENDPOINT for a in ledger.history(account_of(prod_client)))
    ledger.close()


def test_the_store_refuses_an_outcome_or_a_take_over_for_another_accounts_intent(accounts, ledger_url):
    """The guard is the ledger's own, not only each lookup's filter: lab cannot close, adopt into or take over prod's
    open intent even when handed its id; the row and the history stay as prod left them, and prod still records."""
    prod_client, lab_client, _ = accounts
    prod, lab = account_of(prod_client), account_of(lab_client)
    ledger = Ledger(ledger_url)
    entry = ledger.begin(prod, "i-1", "HKG-A", "nightly-1", None, owner="a" * 32)
    ledger.mark_sent(entry.intent_id, "a" * 32)
    ledger.record(entry.intent_id, SUBMITTED, account=prod, image_id="img-prod", status="CREATING")
    before, history = ledger.get(entry.intent_id), ledger.history()
    lab_sees = ImageProgress("done", "i-1", "HKG-A", "nightly-1", image_id="img-lab", status="AVAILABLE")
    with pytest.raises(ForeignIntent, match=f"belongs to account {re.escape(prod)}, not {re.escape(lab)}"):
        ledger.record(entry.intent_id, GONE, account=lab)
    with pytest.raises(ForeignIntent):
        ledger.record_progress(entry.intent_id, lab_sees, account=lab)
    with pytest.raises(ForeignIntent):
        ledger.take_over(before, "b" * 32, account=lab)
    assert ledger.get(entry.intent_id) == before  # still open, SUBMITTED, prod's image and owner
    assert before.is_open and before.image_id == "img-prod" and before.owner == "a" * 32
    assert ledger.history() == history  # no action appended for lab
    ledger.record(entry.intent_id, AVAILABLE_OUTCOME, account=prod, image_id="img-prod", status="AVAILABLE")
    assert not ledger.get(entry.intent_id).is_open
    ledger.close()

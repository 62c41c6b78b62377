"""The ledger failing while CreateImage is in flight: PostgreSQL stopped (a cluster of this test's own, its
server stopped with ``pg_ctl -m immediate``) and a SQLite file made read-only. The create is not lost to
bookkeeping: a 200 is a success with its image id, a lost answer ends adopted or in ``CreateOutcomeUnknown``
naming the image, every ledger failure is a warning, and no raw SQLAlchemy error reaches the caller."""

from __future__ import annotations

import shutil
import warnings
from collections.abc import Callable, Iterator

import httpx
import pg_cluster
import pytest
import sqlalchemy as sa
from sqlalchemy import event

from shared import ids_by_name
from zenlayer_widgets.core import reconcile
from zenlayer_widgets.core.create import CreateOutcomeUnknown, create_image_async
from zenlayer_widgets.core.ledger import Ledger, LedgerError
from zenlayer_widgets.emulator import start_emulator

from .helpers import RecordingTransport, async_client, custom_images_named, fast_sleep

BROKEN = ["postgresql-stopped", "sqlite-read-only"]


class BreaksLedgerOnCreate(RecordingTransport):
    """``breaker`` runs as CreateImage leaves: the ledger fails while the request is in flight."""

    def __init__(self, breaker: Callable[[], None]) -> None:
        super().__init__()
        self.breaker: Callable[[], None] | None = breaker

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.headers.get("x-zc-action") == "CreateImage" and self.breaker is not None:
            breaker, self.breaker = self.breaker, None
            breaker()
        return await super().handle_async_request(request)


def stop_server(cluster: pg_cluster.Cluster) -> None:
    cluster._run(str(cluster.bindir / "pg_ctl"), "-D", str(cluster.root / "data"), "-m", "immediate", "-w", "stop")


def read_only(ledger: Ledger) -> None:
    """Every new connection refuses writes ("attempt to write a readonly database"), as a file made read-only
    does for a non-root user (root ignores file modes)."""

    @event.listens_for(ledger.engine, "connect")
    def _query_only(dbapi_connection, _record) -> None:  # noqa: ANN001
        dbapi_connection.execute("PRAGMA query_only = ON")

    ledger.engine.dispose()


@pytest.fixture(params=BROKEN)
def broken(request, tmp_path) -> Iterator[tuple[Ledger, Callable[[], None]]]:
    """A ledger and what breaks it."""
    if request.param == "sqlite-read-only":
        ledger = Ledger(tmp_path / "ledger.sqlite3")
        yield ledger, lambda: read_only(ledger)
        return
    try:
        cluster = pg_cluster.start_cluster()
    except (RuntimeError, OSError) as error:
        pytest.fail(f"No PostgreSQL for this test: {error}", pytrace=False)
    ledger = Ledger(cluster.url)
    try:
        yield ledger, lambda: stop_server(cluster)
    finally:
        ledger.close()
        try:
            cluster.stop()
        except RuntimeError:  # stopped by the test already
            shutil.rmtree(cluster.root, ignore_errors=True)


def ledger_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "ledger" in str(w.message).lower()]


async def test_a_200_while_the_ledger_is_down_is_a_success_with_its_image_id(mock_emulator, broken):
    ledger, breaker = broken
    transport = BreaksLedgerOnCreate(breaker)
    async with async_client(mock_emulator, transport) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = await create_image_async(client, ids_by_name(mock_emulator)["build-hkg-01"], "ledger-down",
                                              sleep=fast_sleep, poll_interval=0.1, ledger=ledger)
    assert (result.status, result.phase) == ("AVAILABLE", "done")
    assert custom_images_named(mock_emulator.backend, "ledger-down") == [result.image_id]
    assert ledger_warnings(caught)  # said, not raised
    assert [a for a, _ in transport.log].count("CreateImage") == 1


async def test_a_lost_answer_while_the_ledger_is_down_names_the_image(broken, monkeypatch):
    """The request was applied but its answer lost, and the ledger fails meanwhile (SQLite's immediate
    transactions fail read-only too): whose the new images are cannot be read, so nothing is proven: the
    outcome is unknown with the image named; never a raw error, never a second send."""
    monkeypatch.setattr(reconcile, "SETTLE_MARGIN_SECONDS", 0.3)
    ledger, breaker = broken
    with start_emulator(transition_seconds=60, faults=["CreateImage:lost_response:1"]) as emulator:
        transport = BreaksLedgerOnCreate(breaker)
        async with async_client(emulator, transport, timeout=0.5) as client:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")
                with pytest.raises(CreateOutcomeUnknown) as unknown:
                    await create_image_async(client, ids_by_name(emulator)["build-hkg-01"], "lost-and-down",
                                             wait=False, sleep=fast_sleep, ledger=ledger)
        [made] = custom_images_named(emulator.backend, "lost-and-down")
    assert [c.image_id for c in unknown.value.candidates] == [made] and made in str(unknown.value)
    assert "cannot be read" in str(unknown.value)
    assert [a for a, _ in transport.log].count("CreateImage") == 1


async def test_postgresql_gone_before_the_send_is_a_clear_error_and_nothing_is_sent(mock_emulator, broken):
    ledger, breaker = broken
    breaker()
    transport = RecordingTransport()
    async with async_client(mock_emulator, transport) as client:
        with pytest.raises(LedgerError) as caught:
            await create_image_async(client, ids_by_name(mock_emulator)["build-hkg-01"], "never-sent", sleep=fast_sleep,
                                     poll_interval=0.1, ledger=ledger)
    assert not isinstance(caught.value, sa.exc.SQLAlchemyError) and caught.value.__cause__ is None
    assert "Nothing was sent" in str(caught.value) or "cannot be read" in str(caught.value)
    assert "CreateImage" not in [a for a, _ in transport.log]
    assert custom_images_named(mock_emulator.backend, "never-sent") == []

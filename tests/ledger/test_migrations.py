"""Frozen migrations: a ledger migrated from every earlier version equals a new one and what schema.py declares
(tables, columns with types and nullability, primary keys, indexes with their columns, UNIQUE and predicates),
on SQLite and on PostgreSQL; each version builds what it shipped, not today's tables."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from zenlayer_widgets.core.ledger import Ledger, migrations, schema
from zenlayer_widgets.core.ledger.engine import make_engine

from .helpers import index_columns, schema_shape

EARLIER = [0] + sorted(number for number, _, _ in migrations.MIGRATIONS if number < migrations.LATEST)


def declared(url: str) -> dict:
    """The shape of ``schema.py``'s tables, created as they are declared in an empty database."""
    engine = make_engine(url)
    schema.metadata.create_all(engine)
    engine.dispose()
    return schema_shape(url)


@pytest.mark.parametrize("version", EARLIER)
def test_a_ledger_migrated_from_an_earlier_version_equals_a_new_one_and_the_declared_schema(ledger_url, fresh_url, version):
    engine = make_engine(ledger_url)
    assert migrations.migrate(engine, up_to=version) == version
    engine.dispose()
    Ledger(ledger_url).close()  # opens and migrates to the latest
    migrated = schema_shape(ledger_url)
    new_url = fresh_url("new")
    Ledger(new_url).close()
    assert migrated == schema_shape(new_url)
    assert migrated == declared(fresh_url("declared"))
    assert index_columns(migrated, "zw_intents_image") == ["image_id"]  # the index 5ed285b changed, now migrated
    assert "WHERE" in migrated["indexes"]["zw_one_open_per_name"] and "UNIQUE" in migrated["indexes"]["zw_one_open_per_name"]


def test_each_version_builds_what_it_shipped_not_todays_tables(ledger_url):
    """Version 1 is 278939b's schema (the image index on account, zone and image; no run column), version 2 adds
    runs without a lease; so an upgrade from them has real work to do, which the test above proves it does."""
    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=1)
    engine.dispose()
    first = schema_shape(ledger_url)
    assert index_columns(first, "zw_intents_image") == ["account", "zone_id", "image_id"]
    assert "run_id" not in first["tables"]["zw_actions"]["columns"]
    assert "owner_process" not in first["tables"]["zw_intents"]["columns"]
    assert set(first["tables"]) == {"zw_schema_version", "zw_intents", "zw_actions", "zw_legacy_imports"}
    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=2)
    engine.dispose()
    second = schema_shape(ledger_url)
    assert "owner" not in second["tables"]["zw_policy_runs"]["columns"] and "zw_one_unfinished_run" not in second["indexes"]


def test_version_10_adds_the_fleet_tables_as_shipped(ledger_url):
    """Version 10 (fleet runs, units, the shared token buckets) on a version-7 ledger: its three tables, the one-run-per-
    key unique index, and nothing of the earlier tables changed."""
    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=7)
    engine.dispose()
    seventh = schema_shape(ledger_url)
    assert not {"zw_fleet_runs", "zw_fleet_units", "zw_rate_buckets"} & set(seventh["tables"])
    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=10)
    engine.dispose()
    tenth = schema_shape(ledger_url)
    assert {name: tenth["tables"][name] for name in seventh["tables"] if name != "zw_schema_version"} == {
        name: table for name, table in seventh["tables"].items() if name != "zw_schema_version"}
    assert tenth["tables"]["zw_fleet_units"]["primary_key"] == ["fleet_id", "zone_id"]
    assert tenth["tables"]["zw_rate_buckets"]["primary_key"] == ["account"]
    assert index_columns(tenth, "zw_one_fleet_run_per_key") == ["account", "policy", "run_key"]
    assert "UNIQUE" in tenth["indexes"]["zw_one_fleet_run_per_key"]


def test_version_numbers_are_unique_and_a_newer_ledger_is_refused(ledger_url):
    numbers = [number for number, _, _ in migrations.MIGRATIONS]
    assert len(numbers) == len(set(numbers)) and migrations.LATEST == max(numbers)
    Ledger(ledger_url).close()
    engine = make_engine(ledger_url)
    with engine.begin() as connection:
        connection.execute(schema.schema_version.insert().values(version=migrations.LATEST + 1, name="future", applied_at="x"))
    engine.dispose()
    with pytest.raises(Exception, match="newer than this package knows"):
        Ledger(ledger_url)


def test_version_5_keeps_every_row(ledger_url):
    """Rows written at version 3 (by the frozen migrations) are all there after the upgrade, the new column empty."""
    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=3)
    intents = sa.table("zw_intents", *[sa.column(c) for c in (
        "intent_id", "account", "zone_id", "instance_id", "image_name", "is_open", "adopted", "who", "owner", "started_at",
        "updated_at", "heartbeat_at", "attempts", "image_id")])
    with engine.begin() as connection:
        connection.execute(intents.insert().values(
            intent_id="i" * 32, account="https://e", zone_id="z", instance_id="in", image_name="n", is_open=True,
            adopted=False, who="me", owner="o" * 32, started_at="t", updated_at="t", heartbeat_at="t", attempts=1,
            image_id="img-1"))
    engine.dispose()
    ledger = Ledger(ledger_url)
    [entry] = ledger.entries()
    assert (entry.intent_id, entry.image_id, entry.is_open, entry.owner_process) == ("i" * 32, "img-1", True, None)
    ledger.close()


def test_a_version_number_a_ledger_skipped_is_applied_later(ledger_url, fresh_url, monkeypatch):
    """Branches reserve numbers: a ledger migrated by a build that lacked version 3 (but had the later ones) gets
    version 3 from a build that has it, and ends equal to a new ledger."""
    everything = migrations.MIGRATIONS
    monkeypatch.setattr(migrations, "MIGRATIONS", [m for m in everything if m[0] != 3])
    Ledger(ledger_url).close()
    assert "owner" not in schema_shape(ledger_url)["tables"]["zw_policy_runs"]["columns"]
    monkeypatch.setattr(migrations, "MIGRATIONS", everything)
    ledger = Ledger(ledger_url)
    assert ledger.version == migrations.LATEST
    new_url = fresh_url("new")
    Ledger(new_url).close()
    assert schema_shape(ledger_url) == schema_shape(new_url)
    ledger.close()


def test_version_8_makes_each_start_owed_in_the_old_form_an_unfinished_create_operation(ledger_url):
    """At version 7 an owed start was an instance's newest ``start`` action being ``planned``. After the upgrade each
    is an unfinished create operation owing the start (its stop time kept); a start planned and since made is not;
    every action row is still there (the Activity's history)."""
    from zenlayer_widgets.core.owed_start import owed_instances

    engine = make_engine(ledger_url)
    migrations.migrate(engine, up_to=7)
    actions = sa.table("zw_actions", *[sa.column(c) for c in (
        "at", "kind", "account", "zone_id", "instance_id", "image_name", "outcome", "who", "detail")])
    rows = [("2026-01-01T00:00:00+00:00", "i-owed", "nightly", "planned", "stopped at 2026-01-01T00:00:01+00:00"),
            ("2026-01-01T00:00:00+00:00", "i-started", "weekly", "planned", None),
            ("2026-01-01T00:05:00+00:00", "i-started", None, "done", "stopped at 2026-01-01T00:00:01+00:00"),
            ("2026-01-01T00:00:00+00:00", "i-unnamed", None, "planned", None)]
    with engine.begin() as connection:
        for at, instance, name, outcome, detail in rows:
            connection.execute(actions.insert().values(at=at, kind="start", account="acct", zone_id="HKG-A",
                                                       instance_id=instance, image_name=name, outcome=outcome,
                                                       who="an older release", detail=detail))
    engine.dispose()
    ledger = Ledger(ledger_url)
    assert owed_instances(ledger, "acct") == ["i-owed", "i-unnamed"]
    [owed] = [op for op in store_operations(ledger) if op.instance_id == "i-owed"]
    assert (owed.kind, owed.key, owed.finished, owed.facts) == (
        "create", "create:i-owed:nightly", False, {"stopped_at": "2026-01-01T00:00:01+00:00"})
    assert [(s.kind, s.state, s.always) for s in owed.steps] == [
        ("make_image", "planned", False), ("follow_image", "planned", False), ("start_owed", "planned", True)]
    assert len(ledger.history("acct", kinds=["start"])) == 4  # the old rows are kept as they were
    ledger.close()
    Ledger(ledger_url).close()  # opening again migrates nothing twice
    ledger = Ledger(ledger_url)
    assert len(store_operations(ledger)) == 2
    ledger.close()


def store_operations(ledger: Ledger) -> list:
    from zenlayer_widgets.core.operations import store

    return store.operations(ledger, "acct", kind="create")

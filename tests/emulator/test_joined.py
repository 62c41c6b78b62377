"""Pages of rendered rows joined once while their rows stay the very same objects (emulator/joined.py)."""

from __future__ import annotations

import json

from zenlayer_widgets.emulator import mock_zenlayer
from zenlayer_widgets.emulator.joined import JoinedRows


def test_the_same_row_objects_are_joined_once_and_any_new_row_joins_again() -> None:
    pages = JoinedRows()
    rows = [b'{"a":1}', b'{"a":2}', b'{"a":3}']
    first = pages.join(rows)
    assert first == b'{"a":1},{"a":2},{"a":3}' and pages.join(list(rows)) is first  # the same objects: not joined again
    changed = [rows[0], b'{"a":' + b"22}", rows[2]]  # one row rendered anew (a change of state)
    assert pages.join(changed) == b'{"a":1},{"a":22},{"a":3}'
    equal_but_new = [bytes(bytearray(row)) for row in rows]  # equal bytes, other objects: joined anew, still right
    again = pages.join(equal_but_new)
    assert again == first and again is not first and pages.join(equal_but_new) is again
    assert pages.join([]) == b"" and pages.join([rows[0]]) == rows[0]


def test_the_oldest_pages_go_first_past_the_size_limit() -> None:
    pages = JoinedRows(max_bytes=30)
    a, b = [b"x" * 10, b"y" * 10], [b"z" * 10, b"w" * 10]
    pages.join(a)
    pages.join(b)  # 42 bytes in all: the first page is dropped
    assert len(pages) == 1 and pages.join(b) == b"z" * 10 + b"," + b"w" * 10


def test_a_page_served_again_after_a_stop_shows_the_new_state() -> None:
    with mock_zenlayer(instances=30, transition_seconds=60) as emulator, emulator.client() as client:
        first = client.describe_instances(page_size=20)
        running = next(i for i in first.items if i.instance_status == "RUNNING")
        assert client.describe_instances(page_size=20).items == first.items  # served from the joined page
        client.stop_instances([running.instance_id])
        again = {i.instance_id: i.instance_status for i in client.describe_instances(page_size=20).items}
        assert again[running.instance_id] == "STOPPING"
        raw = client.call("DescribeInstances", {"pageSize": 20})
        assert json.dumps(raw).count('"instanceId"') == 20

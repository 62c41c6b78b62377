"""The sync forms that pass ``**options`` on show the parameters the issues name (``help(zw.verify_image)``, Tab
completion in a notebook), not ``**options``."""

from __future__ import annotations

import inspect

import pytest

import zenlayer_widgets as zw


@pytest.mark.parametrize(("name", "keywords"), [
    ("verify_image", {"probe", "timeout", "max_price"}),
    ("launch_from_image", {"like", "name"}),
    ("restore_instance", {"confirm", "stop"}),
    ("delete_image", {"force", "reason"}),
    ("rename_image", {"zone_id"}),
])
def test_a_sync_form_shows_its_keyword_parameters(name: str, keywords: set[str]) -> None:
    parameters = inspect.signature(getattr(zw, name)).parameters
    assert keywords <= set(parameters)
    assert not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())

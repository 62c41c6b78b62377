"""Hostile input, property-based: any Unicode as an image name or description, any JSON as a body.

The client's verdict (``zenlayer_widgets.rules``) must equal the emulator's for every string the
wire can carry, the emulator never answers 5xx, a refused request changes nothing, and the
state stays consistent whatever was accepted.
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from zenlayer_widgets.api import errors
from zenlayer_widgets.api.client import ZenlayerClient
from zenlayer_widgets.api.credentials import Credentials
from zenlayer_widgets.emulator import API_PATH, start_emulator
from zenlayer_widgets.emulator.faults import ACTIONS
from zenlayer_widgets.rules import IMAGE_NAME_PATTERN, IMAGE_QUOTA_PER_ZONE, validate_image_description, validate_image_name

MISSING_INSTANCE = "0000000000000"
MISSING_IMAGE = "img-0000000000000000000000000"
#: Characters that break naive validators: combining marks, zero-width and bidi controls, emoji
#: sequences, NUL and other controls, CJK inside and outside U+4E00..U+9FFF, full-width and
#: non-ASCII digits and letters, quotes and escapes.
TRICKY = [
    "\u0301", "\u0308", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u200e", "\u200f", "\u202e", "\u2066",
    "\u0627", "\u05d0", "😀", "👩\u200d💻", "🇨🇳", "\x00", "\x1f", "\x7f", "\x85", "\t", "\n", "\r", " ", "\u3000",
    "镜", "像", "\u4e00", "\u9fff", "\u3400", "\U00020000", "\uff21", "\u0663", "ß", "İ", "ﬁ",
    "-", "_", "a", "Z", "0", "9", "*", "'", '"', "\\", "<", "%", "/", ".", "\u2028",
]
characters = st.one_of(
    st.sampled_from(TRICKY),
    st.characters(),
    st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates: JSON can carry them escaped
)
texts = st.one_of(
    st.lists(characters, max_size=30).map("".join),
    st.builds(lambda char, count: char * count, characters, st.integers(20, 10_000)),
    st.builds(lambda head, count: head + "a" * count, st.text(max_size=3), st.integers(1, 30)),
)
EXAMPLES = 120


@pytest.fixture(scope="module")
def shared():
    with start_emulator(transition_seconds=3600) as running:
        yield running


@pytest.fixture(scope="module")
def http():
    with httpx.Client(timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def client(shared):
    credentials = Credentials(access_key_id=shared.access_key_id, access_key_password=shared.access_key_password)
    with ZenlayerClient(credentials, base_url=shared.url) as ours:
        yield ours


@pytest.fixture(scope="module")
def golden(shared) -> str:
    """The only custom image in HKG-A: renaming it can never clash with another name."""
    return next(i.image_id for i in shared.backend.images.values() if i.image_name == "web-golden-2025")


def post(emulator, http: httpx.Client, action: str, body: dict) -> tuple[int, dict]:
    """A bearer-token POST with Python's default JSON (lone surrogates escaped as \\udXXX)."""
    response = http.post(emulator.url + API_PATH, content=json.dumps(body).encode(), headers={
        "Authorization": f"Bearer {emulator.token}", "X-ZC-Action": action, "Content-Type": "application/json"})
    assert response.status_code < 500, response.text
    return response.status_code, response.json()


def on_the_wire(text: str) -> str:
    """The string the emulator receives for ``text`` in JSON: an escaped surrogate pair arrives as one
    character (``"\\ud800\\udc00"`` is U+10000), so that is what its verdict is about."""
    return json.loads(json.dumps(text))


def utf8_can_carry(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


settings_ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings_
@given(name=texts)
@example(name="\ud800\udc00")  # a surrogate pair in a str: one character (U+10000) once it is JSON
@example(name="镜\u0301像")
def test_image_names_get_the_same_verdict_from_the_client_and_the_emulator(shared, http, client, golden, name):
    accepted = validate_image_name(on_the_wire(name)).ok
    for action, body in (("CreateImage", {"instanceId": MISSING_INSTANCE, "imageName": name}),
                         ("ModifyImagesAttributes", {"imageIds": [MISSING_IMAGE], "imageName": name})):
        status, answer = post(shared, http, action, body)
        assert answer.get("code") != errors.INVALID_IMAGE_NAME if accepted else answer["code"] == errors.INVALID_IMAGE_NAME
    sent = client.request_count
    if not utf8_can_carry(name):  # a lone surrogate: our client refuses before anything is sent
        with pytest.raises(ValueError):
            client.create_image(MISSING_INSTANCE, name)
        assert client.request_count == sent and not validate_image_name(name).ok
    elif accepted:  # through our client too, and the name comes back exactly as sent
        client.modify_images_attributes([golden], image_name=name)
        [image] = client.describe_images("HKG-A", image_ids=[golden]).items
        assert image.image_name == name
    else:
        with pytest.raises(errors.InvalidParameter) as refused:
            client.create_image(MISSING_INSTANCE, name)
        assert refused.value.code == errors.INVALID_IMAGE_NAME and refused.value.http_status == 400


@settings_
@given(description=texts)
@example(description="\ud800\udc00")
@example(description="\x00" * 10_000)
def test_descriptions_get_the_same_verdict_from_the_client_and_the_emulator(shared, http, client, golden, description):
    accepted = validate_image_description(on_the_wire(description)).ok
    status, answer = post(shared, http, "CreateImage",
                          {"instanceId": MISSING_INSTANCE, "imageName": "ok-name", "imageDescription": description})
    assert (answer.get("code") != errors.INVALID_IMAGE_DESCRIPTION) == accepted, answer
    status, answer = post(shared, http, "ModifyImagesAttributes", {"imageIds": [golden], "imageDescription": description})
    assert (status == 200) == accepted, answer
    if accepted:
        [image] = client.describe_images("HKG-A", image_ids=[golden]).items
        assert (image.image_description or "") == on_the_wire(description)


# ---------------------------------------------------------------------------- random bodies

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
PARAMETERS = ["instanceIds", "instanceId", "imageIds", "imageName", "imageDescription", "zoneId", "zoneIds",
              "pageSize", "pageNum", "instanceName", "instanceStatus", "imageType", "imageStatus", "tags", "tagKeys",
              "forceShutdown", "osType", "category"]


def snapshot(backend) -> tuple:
    instances = tuple(sorted((i.instance_id, i.status, i.instance_name) for i in backend.instances.values()))
    images = tuple(sorted((i.image_id, i.image_name, i.status, i.description, i.zone_id) for i in backend.images.values()))
    return instances, images


#: Every state the emulator's instances pass through (emulator/backend.py): power, imaging, launch, rebuild, recycle bin.
EMULATED_INSTANCE_STATES = {"RUNNING", "STOPPED", "STOPPING", "BOOTING", "IMAGING", "PENDING", "DEPLOYING", "CREATE_FAILED",
                            "REBUILDING", "RECYCLING", "RECYCLE"}


def assert_consistent(backend) -> None:
    """What must hold whatever was accepted: quota, unique names, imaging bookkeeping, known states."""
    instances = backend.instances
    custom = [i for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE"]
    per_zone = Counter(i.zone_id for i in custom)
    assert all(count <= IMAGE_QUOTA_PER_ZONE for count in per_zone.values()), per_zone
    assert len({(i.zone_id, i.image_name) for i in custom}) == len(custom), "a name twice in one zone"
    creating = {i.source_instance_id for i in custom if i.status == "CREATING"}
    imaging = {i.instance_id for i in instances.values() if i.status == "IMAGING"}
    assert creating == imaging
    for image in custom:
        source = instances.get(image.source_instance_id or "")
        assert source is None or source.zone_id == image.zone_id
        assert image.status in ("CREATING", "AVAILABLE", "UNAVAILABLE") and image.zone_id not in ("SIN-E", "LAX-A")
    assert {i.status for i in instances.values()} <= EMULATED_INSTANCE_STATES


INSTANCE, IMAGE = "\x00@instance:", "\x00@image:"
#: Stand-ins for real ids, resolved against the state at request time (the strategies stay fixed).
instance_ref = st.integers(0, 99).map(lambda n: f"{INSTANCE}{n}")
image_ref = st.integers(0, 99).map(lambda n: f"{IMAGE}{n}")
ZONES = ["HKG-A", "SEL-A", "FRA-A", "SIN-E", "LAX-A", "TYO-A", "NYC-A", "XXX-Z"]


def resolve(value, backend):  # noqa: ANN001, ANN201
    """``value`` with every stand-in replaced by a real instance id, or an image id (custom ones, and
    one public image)."""
    if isinstance(value, list):
        return [resolve(item, backend) for item in value]
    if isinstance(value, dict):
        return {key: resolve(item, backend) for key, item in value.items()}
    if isinstance(value, str) and value.startswith((INSTANCE, IMAGE)):
        images = backend.images
        pool = sorted(backend.instances) if value.startswith(INSTANCE) else (
            sorted(i for i, r in images.items() if r.zone_id) + sorted(i for i, r in images.items() if not r.zone_id)[:1])
        return pool[int(value.rsplit(":", 1)[1]) % len(pool)]
    return value


names = st.one_of(st.from_regex(IMAGE_NAME_PATTERN, fullmatch=True), st.sampled_from(["镜像-1", "a" * 25, "x y"]), texts)
ids_of = {"instance": st.lists(instance_ref, min_size=1, max_size=3), "image": st.lists(image_ref, min_size=1, max_size=3)}
#: Per action, a body close to one it would accept: real ids, names that may pass the rule.
PLAUSIBLE = {
    "StopInstances": st.fixed_dictionaries({"instanceIds": ids_of["instance"]}, optional={"forceShutdown": st.booleans()}),
    "StartInstances": st.fixed_dictionaries({"instanceIds": ids_of["instance"]}),
    "CreateImage": st.fixed_dictionaries({"instanceId": instance_ref, "imageName": names}, optional={"imageDescription": texts}),
    "DeleteImages": st.fixed_dictionaries({"imageIds": ids_of["image"]}),
    "ModifyImagesAttributes": st.fixed_dictionaries({"imageIds": ids_of["image"]},
                                                    optional={"imageName": names, "imageDescription": texts}),
}
DESCRIBE = st.fixed_dictionaries({}, optional={
    "zoneId": st.sampled_from(ZONES), "zoneIds": st.lists(st.sampled_from(ZONES)), "instanceIds": ids_of["instance"],
    "imageIds": ids_of["image"], "pageSize": st.integers(-1, 1001), "pageNum": st.integers(-1, 3)})
any_value = st.one_of(json_values, instance_ref, image_ref, st.sampled_from(ZONES), ids_of["instance"], ids_of["image"])
junk = st.dictionaries(st.sampled_from(PARAMETERS), any_value, max_size=4)


def bodies(action: str) -> st.SearchStrategy[dict]:
    plausible = PLAUSIBLE.get(action, DESCRIBE)
    return st.one_of(plausible, junk, st.builds(lambda a, b: {**a, **b}, plausible, junk))


@pytest.fixture(scope="module")
def fuzzed():
    with start_emulator(transition_seconds=3600) as running:
        yield running


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), action=st.sampled_from(ACTIONS), advance=st.sampled_from([0, 0, 0, 3600]))
def test_random_bodies_for_every_action_are_4xx_or_200_and_leave_a_consistent_state(fuzzed, http, data, action, advance):
    backend = fuzzed.backend
    body = resolve(data.draw(bodies(action), label="body"), backend)
    backend.advance(advance)
    before = snapshot(backend)
    status, answer = post(fuzzed, http, action, body)
    event(f"{action} {status}")  # pytest --hypothesis-show-statistics: accepted changes do occur
    if status != 200 or action.startswith("Describe"):
        assert snapshot(backend) == before, (status, answer)
    if status != 200:
        assert set(answer) == {"requestId", "code", "message"} and 400 <= status < 500
    assert_consistent(backend)

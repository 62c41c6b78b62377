"""The Password-widget path: a typed secret reaches the kernel once, the box empties at once, the
secret is never echoed back to the browser, never in the widget state, never in a repr or message."""

from __future__ import annotations

import ipywidgets as W

from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.widgets.credentials_form import CredentialsForm, SecretField

SECRET = "typed-secret-Zm9yLXRoZS1mb3Jt"


def typed(widget: W.Password, value: str) -> list[dict]:
    """Deliver ``value`` to the kernel as the browser does when the box is left (a state update);
    returns every message the widget sent back to the browser meanwhile."""
    sent: list[dict] = []
    widget.comm.send = lambda data=None, metadata=None, buffers=None: sent.append(data)
    widget.set_state({"value": value})
    return sent


def test_a_stock_password_widget_echoes_and_keeps_the_secret():
    """Why SecretField exists (and proof that the checks below can fail)."""
    stock = W.Password()
    sent = typed(stock, SECRET)
    assert any(SECRET in str(message) for message in sent)  # echo_update back to the browser
    assert stock.get_state()["value"] == SECRET  # and in the state a notebook saves
    stock.close()


def test_a_secret_field_sends_no_echo():
    field = SecretField()
    received = []
    field.observe(lambda change: received.append(change["new"]), "value")
    sent = typed(field, SECRET)
    assert received == [SECRET]  # the kernel has it (CredentialsForm then empties the box)
    assert not any(SECRET in str(message) for message in sent)
    field.close()
    assert field.continuous_update is False  # synced on Enter or blur, not per keystroke


def test_the_form_takes_the_secrets_out_of_its_widgets():
    form = CredentialsForm(base_url="http://127.0.0.1:9")
    form.key_id.value = "KEY-ID"
    comms = [typed(form.password, SECRET), typed(form.token, SECRET + "-token")]
    assert form.password.value == form.token.value == ""
    assert "password and token" in form.status.value and SECRET not in form.status.value
    for sent in comms:
        assert not any(SECRET in str(message) for message in sent)
        assert {"method": "update", "state": {"value": ""}, "buffer_paths": []} in sent  # the box empties
    state = W.Widget.get_manager_state()  # what "save widget state" writes into the notebook
    assert form.password.model_id in state["state"]
    assert SECRET not in str(state) and SECRET not in repr(form) and SECRET not in str(vars(form.password))
    credentials = form.credentials()
    assert (credentials.kind, credentials.access_key_id, credentials.access_key_password) == ("access_key", "KEY-ID", SECRET)
    assert form._typed == {}  # forgotten once used


async def test_connect_checks_the_credentials_and_hands_over_a_client():
    with start_emulator() as emulator:
        built = []
        form = CredentialsForm(base_url=emulator.url, then=lambda client: built.append(client) or W.Label("next"))
        form.key_id.value = emulator.access_key_id
        typed(form.password, emulator.access_key_password)
        await form.connect()
        assert form.client is not None and built == [form.client]
        assert "Connected to" in form.status.value and form.children[1].value == "next"
        assert len(form.client.describe_zones()) >= 5
        form.client.close()


async def test_refused_or_incomplete_credentials_are_explained_without_the_secret():
    with start_emulator() as emulator:
        form = CredentialsForm(base_url=emulator.url)
        form.key_id.value = emulator.access_key_id
        typed(form.password, SECRET)
        await form.connect()
        assert form.client is None and not form.connect_button.disabled
        assert "credentials were refused" in form.status.value and "AUTH_FAILURE_SIGNATURE_MISMATCH" in form.status.value
        assert SECRET not in form.status.value
        assert form.connect() is None  # the secret was used up: the form asks for it again
        assert "Empty credentials" in form.status.value or "no access key password" in form.status.value


def test_nothing_typed_nothing_sent():
    form = CredentialsForm(base_url="http://127.0.0.1:9")
    assert form.connect() is None and form.client is None
    assert "Empty credentials" in form.status.value
    form.key_id.value = "KEY-ONLY"
    assert form.connect() is None and "has no access key password" in form.status.value

"""No credential reaches a traceback: not through a header httpx refuses, not through a chained httpx error.

A token with an embedded newline used to travel to h11, whose ``LocalProtocolError`` quoted the
whole header (escaped, so the redactor missed it) and was chained under our error: every
traceback and papermill output showed it.
"""

from __future__ import annotations

import traceback

import httpx
import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, BearerAuth, Credentials, CredentialsError, OutcomeUnknown, ZC2Auth, ZenlayerClient
from zenlayer_widgets.api._wire import Redactor
from zenlayer_widgets.emulator import start_emulator

from .stub import KEY_ID, PASSWORD, TOKEN, boom


def everything_shown(error: BaseException) -> str:
    """What a user can see of an error: its text, repr and the whole traceback with every chained exception."""
    return "\n".join([str(error), repr(error), "".join(traceback.format_exception(error))])


BROKEN_CREDENTIALS = [
    pytest.param(lambda: Credentials(token=f"{TOKEN}\nX-Injected: 1"), "bearer token", "U+000A", TOKEN, id="token-newline"),
    pytest.param(lambda: Credentials(token=f"{TOKEN}\r"), "bearer token", "U+000D", TOKEN, id="token-cr"),
    pytest.param(lambda: Credentials(token=f"\x00{TOKEN}"), "bearer token", "U+0000", TOKEN, id="token-nul"),
    pytest.param(lambda: Credentials(token=f"{TOKEN}é"), "bearer token", "U+00E9", TOKEN, id="token-non-ascii"),
    pytest.param(lambda: Credentials(f"{KEY_ID}\nX", PASSWORD), "access key id", "U+000A", PASSWORD, id="key-id-newline"),
]


@pytest.mark.parametrize(("make_credentials", "what", "code_point", "secret"), BROKEN_CREDENTIALS)
@pytest.mark.parametrize("cls", [ZenlayerClient, AsyncZenlayerClient])
async def test_a_credential_no_header_can_carry_is_refused_before_sending(cls, make_credentials, what, code_point, secret) -> None:
    """Against the real emulator over loopback (h11 underneath): a clear refusal, no request, no secret anywhere.

    (Credentials may already refuse such a value when loaded; either refusal is a CredentialsError.)
    """
    with start_emulator() as emulator:
        with pytest.raises(CredentialsError) as caught:
            client = cls(make_credentials(), base_url=emulator.url, timeout=3)
            result = client.describe_zones()
            if cls is AsyncZenlayerClient:
                await result
    shown = everything_shown(caught.value)
    assert secret not in shown and repr(secret)[1:-1] not in shown
    assert "LocalProtocolError" not in shown
    if "Credentials(" not in "".join(traceback.format_tb(caught.value.__traceback__)):  # refused by the client, not at load
        assert what in str(caught.value) and code_point in str(caught.value) and "nothing was sent" in str(caught.value)


@pytest.mark.parametrize(
    ("auth", "secret"),
    [(lambda: BearerAuth(f"{TOKEN}\n"), TOKEN), (lambda: ZC2Auth(f"{KEY_ID}\x7f", PASSWORD), KEY_ID)],
    ids=["bearer", "zc2"],
)
def test_the_auth_classes_refuse_control_characters_without_quoting_them(auth, secret) -> None:
    with pytest.raises(CredentialsError) as caught:
        auth()
    assert secret not in everything_shown(caught.value)


def test_any_header_with_a_control_character_is_refused_by_name_not_value() -> None:
    request = httpx.Request("POST", "https://api.test/api/v2/vm", content=b"{}", headers={"X-Trace": f"abc\n{PASSWORD}"})
    for auth in (BearerAuth(TOKEN), ZC2Auth(KEY_ID, PASSWORD)):
        with pytest.raises(CredentialsError) as caught:
            next(auth.sync_auth_flow(request))
        assert "x-trace header" in str(caught.value).lower() and PASSWORD not in everything_shown(caught.value)


ESCAPED = repr(TOKEN + "\n")[1:-1]
CHAINED = [
    pytest.param(boom(httpx.LocalProtocolError, f"Illegal header value b'Bearer {ESCAPED}'"), id="local-protocol-error"),
    pytest.param(boom(httpx.ReadTimeout, f"timed out reading {TOKEN}"), id="read-timeout"),
    pytest.param(boom(httpx.RemoteProtocolError, f"bad header b'{ESCAPED}'"), id="remote-protocol-error"),
]


@pytest.mark.parametrize("reply", CHAINED)
async def test_no_httpx_error_is_chained_under_ours(make_client, stub, reply) -> None:
    client = make_client(stub.on("CreateImage", reply), creds=Credentials(token=TOKEN))
    with pytest.raises(OutcomeUnknown) as caught:
        await client.create_image("i-1", "backup")
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)
    shown = everything_shown(error)
    assert TOKEN not in shown and ESCAPED not in shown
    assert "httpx." not in "".join(traceback.format_exception_only(error))
    assert error.outcome_unknown and error.action == "CreateImage"


def test_the_redactor_catches_the_escaped_forms_of_a_secret() -> None:
    secret = "pw-\n\t\"é-Sup3r"
    redact = Redactor([secret])
    for form in (secret, repr(secret), repr(secret.encode()), f'"{secret!r}"', '{"p": ' + __import__("json").dumps(secret) + "}"):
        assert "Sup3r" not in redact(form), form
    assert "Sup3r" not in repr(redact)

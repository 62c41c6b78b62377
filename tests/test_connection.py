"""connect(): a re-run cell gets the same open client back (warm connections), never a closed one."""

from __future__ import annotations

import httpx

from zenlayer_widgets.api import Credentials
from zenlayer_widgets.connection import connect

CREDENTIALS = Credentials(access_key_id="AKID-CONNECT-TEST", access_key_password="pw-connect-test")
URL = "http://127.0.0.1:9"


def test_connect_again_returns_the_same_open_client() -> None:
    first = connect(CREDENTIALS, base_url=URL)
    try:
        assert connect(CREDENTIALS, base_url=URL) is first
        assert connect(CREDENTIALS, base_url=URL, timeout=5) is not first  # other settings: another client
        other = Credentials(access_key_id="AKID-CONNECT-TEST", access_key_password="another-password")
        assert connect(other, base_url=URL) is not first
    finally:
        first.close()
    again = connect(CREDENTIALS, base_url=URL)
    assert again is not first and not again.closed  # a closed client is never handed out
    again.close()


def test_a_client_with_its_own_transport_is_never_shared() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500))
    one = connect(CREDENTIALS, base_url=URL, transport=transport)
    two = connect(CREDENTIALS, base_url=URL, transport=transport)
    assert one is not two
    one.close()
    two.close()

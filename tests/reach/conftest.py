"""Fixtures of the reach tests: a private CA, a TLS front with its certificate before ``emulator``, a forward proxy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from zenlayer_widgets.emulator import RunningEmulator

from .network import ForwardProxy, TLSFront


@pytest.fixture
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(ca: trustme.CA, tmp_path: Path) -> str:
    """The private CA's certificate as a PEM file (what ``verify=`` and ``SSL_CERT_FILE`` take)."""
    path = tmp_path / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture
def front(emulator: RunningEmulator, ca: trustme.CA) -> Iterator[TLSFront]:
    """TLS for ``zenlayer.invalid`` and 127.0.0.1 (signed by ``ca``) in front of the ``emulator`` server."""
    server = TLSFront(emulator.port, ca)
    yield server
    server.close()


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    server = ForwardProxy()
    yield server
    server.close()


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start every test without the machine's proxy or CA variables."""
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY", "SSL_CERT_FILE", "SSL_CERT_DIR"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)

"""Where the API is: the default base URL, the environment's overrides in each ecosystem's spelling, and the check
a base URL must pass."""

from __future__ import annotations

from collections.abc import Mapping

import httpx

DEFAULT_BASE_URL = "https://console.zenlayer.com"
ENV_BASE_URL = "ZENLAYER_BASE_URL"
#: zeno's endpoint override (a domain or a URL).
ENV_ZENO_ENDPOINT = "ZENLAYER_ENDPOINT"
#: The Terraform provider's domain and scheme.
ENV_TF_DOMAIN = "ZENLAYERCLOUD_DOMAIN"
ENV_TF_SCHEME = "ZENLAYERCLOUD_SCHEME"


def normalize_base_url(base_url: str) -> str:
    """``base_url`` without a trailing slash; ValueError unless it is an http(s) URL with a host."""
    try:
        url = httpx.URL(base_url.strip())
    except (httpx.InvalidURL, TypeError) as error:
        raise ValueError(f"base_url {base_url!r} is not a URL: {error}") from None
    if url.scheme not in ("http", "https") or not url.host:
        raise ValueError(f"base_url must look like https://console.zenlayer.com, not {base_url!r}")
    if url.query or url.fragment:
        raise ValueError(f"base_url must not carry a query or fragment: {base_url!r}")
    return str(url).rstrip("/")


def env_base_url(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(base URL, the variable it came from)``: ZENLAYER_BASE_URL, zeno's ZENLAYER_ENDPOINT, then
    Terraform's ZENLAYERCLOUD_DOMAIN (with ZENLAYERCLOUD_SCHEME, default https); None when none is set."""
    for name in (ENV_BASE_URL, ENV_ZENO_ENDPOINT, ENV_TF_DOMAIN):
        value = environ.get(name, "").strip()
        if value:
            if "://" not in value:
                value = f"{environ.get(ENV_TF_SCHEME, '').strip() or 'https'}://{value}"
            return value, name
    return None

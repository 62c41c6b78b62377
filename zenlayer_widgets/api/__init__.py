"""The Zenlayer Cloud API v2 (vm) client: signed, typed, sync and async."""

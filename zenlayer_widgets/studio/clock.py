"""Times as the studio shows them: UTC (what the API and the ledger keep) with the local time beside it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone


def _moment(when: str | float | datetime) -> datetime:
    if isinstance(when, datetime):
        moment = when
    elif isinstance(when, str):
        moment = datetime.fromisoformat(when.replace("Z", "+00:00"))
    else:
        moment = datetime.fromtimestamp(when, timezone.utc)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def clock_text(when: str | float | datetime, *, date: bool = False) -> str:
    """``"05:41:10 UTC (06:41:10 CET)"``: the time in UTC and, beside it, in this machine's time zone
    (``date=True``: with the day; only UTC when that is the local zone). An ISO text, a ``time.time()`` value or an
    aware datetime."""
    moment = _moment(when)
    shape = "%Y-%m-%d %H:%M:%S" if date else "%H:%M:%S"
    utc = moment.astimezone(timezone.utc).strftime(shape)
    local = moment.astimezone()
    if local.utcoffset() == timedelta(0):  # this machine keeps UTC: one time, not the same one twice
        return f"{utc} UTC"
    return f"{utc} UTC ({local.strftime(shape)} {local.tzname() or 'local'})"


__all__ = ["clock_text"]

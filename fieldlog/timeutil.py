"""Times are stored as naive UTC so SQLite and PostgreSQL compare them the same way."""
from __future__ import annotations

import datetime as dt

from .errors import FieldLogError

# A phone or laptop clock a few minutes fast must not block a field record.
CLOCK_SKEW = dt.timedelta(minutes=10)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def to_utc(value: dt.datetime | dt.date | str | None, what: str, *, allow_future: bool = False) -> dt.datetime:
    """Normalise a user time (aware, naive local, date or ISO text) to naive UTC; reject the future."""
    if value is None:
        return utcnow()
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            raise FieldLogError(
                f"{what}: expected an ISO date or time like 2025-06-01 or 2025-06-01T07:30, got {value!r}"
            ) from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0, 0))
    if value.tzinfo is None:  # naive means the local clock of the person recording
        value = value.astimezone()
    utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    if not allow_future and utc > utcnow() + CLOCK_SKEW:
        raise FieldLogError(
            f"{what}: {value.isoformat(timespec='minutes')} is in the future; "
            "records describe what already happened. Check the date (and the device clock)."
        )
    return utc

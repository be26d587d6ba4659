"""Times are stored as naive UTC so SQLite and PostgreSQL compare them the same way."""
from __future__ import annotations

import datetime as dt

from .errors import FieldLogError

# A phone or laptop clock a few minutes fast must not block a field record.
CLOCK_SKEW = dt.timedelta(minutes=10)
# Nothing in a field log predates the Unix epoch; earlier dates are typos (0001-01-01) and overflow
# time-zone arithmetic on some platforms.
EARLIEST = dt.datetime(1970, 1, 2)
_FORMAT_HINT = "expected an ISO date or time like 2025-06-01 or 2025-06-01T07:30"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def local_year(at: dt.datetime | None = None) -> int:
    """The calendar year a stored (naive UTC) time falls in on the recorder's clock, as a date typed without a
    time is read: a spray logged "2026-01-01" in Son La (UTC+7) is stored as 2025-12-31 17:00 UTC and belongs to
    2026's copper, as the season audit from 2026-01-01 already counts it. None: this year."""
    at = utcnow() if at is None else at
    try:
        return at.replace(tzinfo=dt.timezone.utc).astimezone().year
    except (OverflowError, ValueError, OSError):  # the calendar's edge: its UTC year
        return at.year


def local_time(at: dt.datetime) -> dt.datetime:
    """A stored (naive UTC) time on the recorder's clock (aware), as a date typed without a time is read; the
    calendar's edge stays in UTC."""
    aware = at.replace(tzinfo=dt.timezone.utc)
    try:
        return aware.astimezone()
    except (OverflowError, ValueError, OSError):
        return aware


def zone_name(at: dt.datetime | None = None) -> str:
    """The recorder's zone as an offset, `UTC+07:00` in Son La, `UTC` where the clock is UTC."""
    off = local_time(utcnow() if at is None else at).utcoffset() or dt.timedelta(0)
    if not off:
        return "UTC"
    sign, off = ("+", off) if off >= dt.timedelta(0) else ("-", -off)
    hours, rest = divmod(int(off.total_seconds()), 3600)
    return f"UTC{sign}{hours:02d}:{rest // 60:02d}"


def fmt_local(at: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time as the recorder typed it: on the local clock (see zone_name for its label)."""
    return local_time(at).strftime(fmt)


def fmt_zoned(at: dt.datetime, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored time on the recorder's clock with its zone named, for a person reading an export:
    `2026-06-01 00:00 UTC+07:00` in Son La, `2026-06-01 00:00 UTC` where the clock is UTC."""
    return f"{fmt_local(at, fmt)} {zone_name(at)}"


def iso_local(at: dt.datetime) -> str:
    """A stored time as ISO 8601 on the recorder's clock with its offset (`2026-06-01T00:00+07:00`): the date a
    person typed, and unambiguous for a program."""
    return local_time(at).isoformat(timespec="minutes")


def to_utc(value: dt.datetime | dt.date | str | None, what: str, *, allow_future: bool = False) -> dt.datetime:
    """Normalise a user time (aware, naive local, date or ISO text) to naive UTC; reject the future and
    dates outside 1970..9999 (as FieldLogError code "bad_time", never a ValueError/OverflowError traceback)."""
    if value is None:
        return utcnow()
    if isinstance(value, str):
        text = value.strip()
        if "\x00" in text or any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise FieldLogError(f"{what}: {_FORMAT_HINT}, got text with an invalid character", "bad_time")
        try:
            value = dt.datetime.fromisoformat(text)
        except ValueError:
            raise FieldLogError(f"{what}: {_FORMAT_HINT}, got {value!r}", "bad_time") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(0, 0))
    if not isinstance(value, dt.datetime):
        raise FieldLogError(f"{what}: {_FORMAT_HINT}, got {type(value).__name__}", "bad_time")
    shown = value.isoformat(timespec="minutes")
    try:
        if value.tzinfo is None:  # naive means the local clock of the person recording
            value = value.astimezone()
        utc = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):  # year 1 or 9999 pushed past the calendar by the offset
        utc = None
    if utc is None or utc < EARLIEST:
        raise FieldLogError(f"{what}: {shown} is outside the dates a field log can hold "
                            f"({EARLIEST:%Y-%m-%d} to 9999-12-30); check the year.", "bad_time")
    if not allow_future and utc > utcnow() + CLOCK_SKEW:
        raise FieldLogError(
            f"{what}: {shown} is in the future; "
            "records describe what already happened. Check the date (and the device clock).", "bad_time"
        )
    return utc

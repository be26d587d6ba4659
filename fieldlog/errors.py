"""Errors a farmer or officer can act on: each says what was expected, what came, and how to fix it.

Every error carries a `code` for programs (the app, the API, tests), so nothing has to parse the English:

    bad_value         a number, date or choice out of its range or format (plot area, copper dose, confidence)
    bad_text          text that cannot be stored: a NUL byte, a lone surrogate (undecodable bytes), too long
    bad_time          a date that is not ISO, in the future, or outside 1970..9999
    bad_label         a diagnosis label that is not `crop.problem`, or not one the caller's list knows
    duplicate         a plot, farm or lot that already exists (names compared ignoring case and invisible marks)
    similar_name      a new plot name too close to an existing one (pass allow_similar=True to keep both)
    unknown_plot      no such plot;  unknown_lot: no such harvest lot
    not_an_image      the photo is missing, not a regular file, too large or not a decodable image
    copper_required   a copper product was recorded without a copper amount that could be worked out
    needs_confirmation  a model result that is not `ok` (uncertain, not_a_leaf, error) without a person's name
    db_unavailable    the database could not be opened or reached (folder, not a database, server down), or a
                      write was asked of a log on a read-only place (ReadOnlyLogError; reading works there)
    db_driver_missing the database URL needs a driver that is not installed (PostgreSQL: the `postgres` extra)
    backup_failed / backup_not_supported / export_failed   the copy or file could not be written
"""
from __future__ import annotations

import difflib


class FieldLogError(ValueError):
    """Bad input to the field log. Nothing was written when this is raised."""

    code = "bad_value"

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        if code is not None:
            self.code = code


def nearest_name(wanted: str, known: list[str]) -> str | None:
    """The known name a person most likely meant: one that looks the same without accents, case and punctuation
    ("Doi Bac" -> "Đồi Bắc", typed on a phone without Vietnamese input), else the closest spelling."""
    from .text import skeleton
    try:
        looks = {}
        for k in known:
            looks.setdefault(skeleton(k), k)
        key = skeleton(wanted)
    except ValueError:  # text the log cannot store: the plain spelling alone
        close = difflib.get_close_matches(wanted, known, n=1, cutoff=0.5)
        return close[0] if close else None
    if key in looks:
        return looks[key]
    close = difflib.get_close_matches(key, list(looks), n=1, cutoff=0.5)
    return looks[close[0]] if close else None


class UnknownPlotError(FieldLogError, LookupError):
    code = "unknown_plot"

    def __init__(self, wanted: object, known: list[str]):
        near = nearest_name(str(wanted), known)
        hint = f" Did you mean '{near}'?" if near else ""
        listing = ", ".join(sorted(known)[:10]) or "none yet"
        super().__init__(
            f"no plot named {str(wanted)!r} (known plots: {listing}).{hint} "
            "List plots with `leafscout log plots` or add one with `leafscout log add-plot`."
        )


class UnknownLotError(FieldLogError, LookupError):
    code = "unknown_lot"

    def __init__(self, wanted: object, known: list[str]):
        close = difflib.get_close_matches(str(wanted), known, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"no harvest lot with code or id {str(wanted)!r}.{hint}")


class NotAnImageError(FieldLogError):
    code = "not_an_image"


class BackupNotSupportedError(FieldLogError):
    code = "backup_not_supported"


class DatabaseUnavailableError(FieldLogError):
    code = "db_unavailable"


class ReadOnlyLogError(DatabaseUnavailableError):
    """A write to a log on a read-only place (a write-protected USB stick, a read-only share) or opened with
    read_only=True. Its code stays db_unavailable (the app translates that one); the message says reading works."""


class DriverMissingError(DatabaseUnavailableError):
    """A database URL whose Python driver is not installed (psycopg for PostgreSQL): which extra to install."""
    code = "db_driver_missing"

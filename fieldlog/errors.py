"""Errors a farmer or officer can act on: each says what was expected, what came, and how to fix it."""
from __future__ import annotations

import difflib


class FieldLogError(ValueError):
    """Bad input to the field log. Nothing was written when this is raised."""


class UnknownPlotError(FieldLogError, LookupError):
    def __init__(self, wanted: object, known: list[str]):
        close = difflib.get_close_matches(str(wanted), known, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        listing = ", ".join(sorted(known)[:10]) or "none yet"
        super().__init__(
            f"no plot named {str(wanted)!r} (known plots: {listing}).{hint} "
            "List plots with `leafscout log plots` or add one with `leafscout log add-plot`."
        )


class UnknownLotError(FieldLogError, LookupError):
    def __init__(self, wanted: object, known: list[str]):
        close = difflib.get_close_matches(str(wanted), known, n=1, cutoff=0.5)
        hint = f" Did you mean '{close[0]}'?" if close else ""
        super().__init__(f"no harvest lot with code or id {str(wanted)!r}.{hint}")


class NotAnImageError(FieldLogError):
    pass


class BackupNotSupportedError(FieldLogError):
    pass

"""Electronic field log and traceability for organic certification (issue 6).

`from fieldlog import FieldLog` is resolved lazily, so `import leafscout.cli_log` stays light.
"""
from __future__ import annotations

__all__ = ["FieldLog", "FieldLogError", "UnknownPlotError", "UnknownLotError", "NotAnImageError", "PlotHistory",
           "ReadOnlyLogError"]


def __getattr__(name: str):
    if name in ("FieldLog", "PlotHistory"):
        from . import api

        return getattr(api, name)
    if name in ("FieldLogError", "UnknownPlotError", "UnknownLotError", "NotAnImageError", "ReadOnlyLogError"):
        from . import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'fieldlog' has no attribute {name!r}")

"""QR codes for plots and harvest lots.

A code carries the item's stable uid — `urn:leafscout:lot:<uid>` — or, when a trace URL is
configured, `<base>/lot/<uid>` so a buyer's phone opens the lot page. Both parse back to the uid.
"""
from __future__ import annotations

import io
import re

from .errors import FieldLogError

_PATTERN = re.compile(r"(?:^urn:leafscout:|/)(plot|lot)[:/]([0-9a-f-]{36})/?$", re.IGNORECASE)


def _kind(item) -> str:
    from .schema import Lot, Plot

    if isinstance(item, Lot):
        return "lot"
    if isinstance(item, Plot):
        return "plot"
    raise TypeError(f"expected a Plot or Lot, got {type(item).__name__}")


def payload(item, base_url: str | None = None) -> str:
    kind = _kind(item)
    if base_url:
        return f"{base_url.rstrip('/')}/{kind}/{item.uid}"
    return f"urn:leafscout:{kind}:{item.uid}"


def parse(text: str) -> tuple[str, str]:
    match = _PATTERN.search(text.strip())
    if not match:
        raise FieldLogError(
            f"QR content {text!r} is not a LeafScout plot or lot code; "
            "expected urn:leafscout:lot:<id> or a trace URL ending in /lot/<id>.")
    return match.group(1).lower(), match.group(2).lower()


def make(item, base_url: str | None = None):
    import segno

    return segno.make_qr(payload(item, base_url), error="m")


def png_bytes(item, base_url: str | None = None, scale: int = 8) -> bytes:
    buf = io.BytesIO()
    make(item, base_url).save(buf, kind="png", scale=scale, border=4)
    return buf.getvalue()


def svg_data_uri(item, base_url: str | None = None, scale: int = 4) -> str:
    return make(item, base_url).svg_data_uri(scale=scale, border=4)

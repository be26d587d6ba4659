"""Neutralising user text before it lands in a spreadsheet cell or on a web page.

`csv_cell`: OWASP's CSV-injection rule: a cell that starts with =, +, -, @, a tab or a carriage return is
read as a formula by Excel/LibreOffice/Sheets, so it gets a leading apostrophe (shown, not evaluated).
Numbers are left alone (a negative number is data, not a formula).

`html_text` / `md_text`: user text (plot names, file names, typed labels) shown inside HTML or Markdown:
escaped, so `<img src=x onerror=...>` is shown as text and never becomes an element.
"""
from __future__ import annotations

import html
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def html_text(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~])")


def md_text(value) -> str:
    """Text for a Markdown component: HTML-escaped, and Markdown syntax characters backslash-escaped."""
    return _MD_SPECIAL.sub(r"\\\1", html_text(value)).replace("\n", " ")

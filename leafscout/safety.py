"""Neutralising user text before it lands in a spreadsheet cell or on a web page.

`csv_cell`: OWASP's CSV-injection rule: a cell that starts with =, +, -, @, a tab or a carriage return is
read as a formula by Excel/LibreOffice/Sheets, so it gets a leading apostrophe (shown, not evaluated).
Numbers are left alone (a negative number is data, not a formula).

`html_text` / `md_text`: user text (plot names, file names, typed labels) shown inside HTML or Markdown:
escaped, so `<img src=x onerror=...>` is shown as text and never becomes an element.

`one_line`: a name shown in a list, a report or a spreadsheet (a file name from a stranger's zip): control
characters (newline, ESC, NUL) and the bidirectional overrides that turn 'gpj.exe' round are shown escaped, so a
name stays on its one line and reads as what it is.
"""
from __future__ import annotations

import html
import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def looks_like_formula(text: str) -> bool:
    """A cell a spreadsheet may run: it starts with = + - @ TAB CR or LF, also after leading whitespace, which Google
    Sheets, LibreOffice and CSV-to-XLSX converters strip before they evaluate (" =HYPERLINK(...)"; csv-safe PR #25)."""
    return text.startswith(FORMULA_START) or text.lstrip().startswith(FORMULA_START)


def csv_cell(value):
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = str(value)
    if looks_like_formula(text):
        return "'" + text
    return text


def csv_row(values) -> list:
    return [csv_cell(v) for v in values]


def html_text(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# '>' is left to the HTML escape ('&gt;' starts no quote block); a backslash before it would show "&gt;"
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def md_text(value) -> str:
    """Text for a Markdown component: Markdown syntax characters backslash-escaped, then HTML-escaped. In that order:
    escaping the '#' of the entity html.escape writes for an apostrophe ('&#x27;' -> '&\\#x27;') showed the grower
    the entity itself ("&#x27;Bassa&#x27; is not in the knowledge base")."""
    return html_text(_MD_SPECIAL.sub(r"\\\1", "" if value is None else str(value))).replace("\n", " ")


_INVISIBLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def one_line(value) -> str:
    text = "" if value is None else str(value)
    return _INVISIBLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def shown_db(db) -> str:
    """A --db value as a message may show it: a database URL's password hidden ('postgresql://u:***@host/db', as the
    field log's own messages write it); everything up to the last '@' of a URL with a user is hidden, so a password
    holding '/' or ':' is never half shown. A file path is shown as it is."""
    return re.sub(r"(://[^:/@]*:).*@", r"\1***@", str(db))

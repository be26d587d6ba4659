"""Text that goes into the log: valid Unicode only, and plot names that cannot be told apart are one name.

* A NUL byte (PostgreSQL refuses it in text), a lone surrogate (what Python makes of undecodable bytes in
  a command-line argument; neither backend can encode it) or another control character than tab and line
  breaks (ESC, BEL, backspace: they rewrite what a terminal shows) is refused with a clear message, code
  "bad_text".
* Plot names are stored in NFC with invisible format characters removed (zero-width space/joiners, BOM,
  soft hyphen, bidi marks) and runs of white space made one space; `name_key` is the case-folded form, which
  is unique, so `doi a` and `Doi A`, or the NFC and NFD spellings of `Đồi Cà phê`, are the same plot.
* `skeleton` also drops diacritics, spaces and punctuation: two names with the same skeleton (`Đồi A`,
  `Doi-A`) are near duplicates; a new plot like that is refused with a hint unless the caller insists.
"""
from __future__ import annotations

import re
import unicodedata

from .errors import FieldLogError

_SPACE = re.compile(r"\s+")
_LINE_BREAKS = "\t\n\r"  # control characters text may hold


def check_text(value: str, what: str) -> str:
    """Refuse text that no database can store faithfully."""
    if "\x00" in value:
        raise FieldLogError(f"{what}: contains a NUL byte (\\x00), which cannot be stored; retype it.", "bad_text")
    bad = next((c for c in value if 0xD800 <= ord(c) <= 0xDFFF), None)
    if bad is not None:
        raise FieldLogError(f"{what}: contains bytes that are not valid UTF-8 (U+{ord(bad):04X}); "
                            "retype it, or set the terminal to UTF-8.", "bad_text")
    bad = next((c for c in value if c not in _LINE_BREAKS and unicodedata.category(c) == "Cc"), None)
    if bad is not None:  # ESC, BEL, backspace ...: they rewrite what a terminal shows (`log plots`, `history`)
        raise FieldLogError(f"{what}: contains the control character U+{ord(bad):04X}, which cannot be shown; "
                            "retype the text without it.", "bad_text")
    return value


_UNSHOWN = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def shown(value) -> str:
    """Stored text as one terminal line: a line break, CR or tab (kept in the record as typed) is printed escaped
    (`\\n`, `\\r`, `\\t`), as are bidi marks, so a note cannot forge a record line below its own or, with a CR,
    overwrite the start of its line (`log history`, `log audit`, `log plots`)."""
    text = "" if value is None else str(value)
    return _UNSHOWN.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def clean_name(value: str, what: str = "plot name") -> str:
    """NFC, no invisible format characters, single spaces, stripped."""
    text = check_text(str(value), what)
    text = unicodedata.normalize("NFC", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Cf")  # ZWSP, ZWJ, BOM, soft hyphen, bidi
    return _SPACE.sub(" ", text).strip()


def name_key(value: str) -> str:
    """The unique key of a name: NFC + case-folded (Unicode-aware, unlike SQL lower())."""
    return unicodedata.normalize("NFC", clean_name(value).casefold())


def skeleton(value: str) -> str:
    """Letters and digits only, without diacritics (đ -> d), case-folded: what looks alike to a person."""
    text = clean_name(value).casefold().replace("đ", "d")
    text = unicodedata.normalize("NFKD", text)
    return "".join(c for c in text if c.isalnum() and not unicodedata.combining(c))


def translator(table: dict, langs, lang: str):
    """tr(key, **values): `table[key]` ({lang: text}) in `lang`, formatted; a language not in `langs` reads English,
    and so does a key with no text in `lang`. The field log's reports and exports each keep their own table (the
    field log imports no app strings); this is how all of them read it."""
    lang = lang if lang in langs else "en"

    def tr(key: str, **fmt) -> str:
        text = table[key].get(lang) or table[key]["en"]
        return text.format(**fmt) if fmt else text
    return tr


def decimal_g(x, lang: str) -> str:
    """A number as `{x:g}` writes it, with the language's decimal mark (vi: comma): the audit's and the log CLI's
    kg figures, as they always printed them."""
    text = f"{x:g}"
    return text.replace(".", ",") if lang == "vi" else text

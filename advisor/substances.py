"""Name matching for the substance audit: aliases, Vietnamese names with or without accents, mixtures, formulation codes.

`fold` makes "Lưu huỳnh", "luu huynh" and "LƯU HUỲNH" the same key (Unicode NFD, combining marks
dropped, đ -> d). A query that names a prohibited substance anywhere (a mixture such as
"methyl eugenol + naled", or "abamectin 3.6EC") is not allowed, whatever else it names.

Accents typed are kept to the letter: a letter written with its accent must match the name's letter ("với", with,
is not "vôi", lime, though both fold to "voi"); a letter typed without its accent matches any ("luu huynh").
"""
from __future__ import annotations

import difflib
import re
import unicodedata

_SEP = re.compile(r"[\s_\-/+,;()]+")
_SEP_CHARS = re.compile(r"[\s_\-/+,;()]")


def _base(ch: str) -> str:
    """One lower-case character without its accents (NFD, combining marks dropped, đ -> d)."""
    b = "".join(c for c in unicodedata.normalize("NFD", ch) if unicodedata.category(c) != "Mn")
    return b.replace("đ", "d")


def _pair(text: str) -> tuple[str, str]:
    """(with accents, without accents) of `text`: lower case, separators to single spaces, the two strings letter for
    letter the same length (a character whose base is not one letter keeps its base in both)."""
    soft, flat = [], []
    for ch in unicodedata.normalize("NFC", str(text)).lower():
        b = _base(ch)
        if _SEP_CHARS.fullmatch(b or " "):
            if flat and flat[-1] != " ":
                soft.append(" ")
                flat.append(" ")
            continue
        if len(b) != 1:
            soft.extend(b)
            flat.extend(b)
        else:
            soft.append(ch)
            flat.append(b)
    return "".join(soft).strip(), "".join(flat).strip()


def fold(text: str) -> str:
    """Lower case, accents removed (NFD + strip combining marks, đ -> d), separators to single spaces."""
    return _pair(text)[1]


def _starts(haystack: str, needle: str) -> list[int]:
    """Where `needle` stands as whole words of `haystack`; a name that ends in a letter may have a formulation code
    glued on ("abamectin3.6ec", "mancozeb80wp"), a name that ends in a digit may not run into more digits."""
    if not needle:
        return []
    return [m.start() for m in re.finditer(rf"(?<![a-z0-9]){re.escape(needle)}(?![a-z]|(?<=[0-9])[0-9])", haystack)]


def _contains(haystack: str, needle: str) -> bool:
    return bool(_starts(haystack, needle))


_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng


def _letter(ch: str) -> tuple[str, set[str]]:
    """(the letter with its vowel marks but no tone, its tone marks): "ớ" -> ("ơ", {sắc})."""
    d = unicodedata.normalize("NFD", ch)
    return unicodedata.normalize("NFC", "".join(c for c in d if c not in _TONES)), {c for c in d if c in _TONES}


def _accents_agree(query_soft: str, start: int, name_soft: str) -> bool:
    """Every accent the query typed is the name's: a vowel mark (ă â ê ô ơ ư, đ) on the same letter, a tone on the
    same word (either placement: "khóang" is "khoáng", "hoà" is "hòa"). Letters typed plain match any, so "với"
    (with) is not "vôi" (lime) but "voi" may be either."""
    part = query_soft[start:start + len(name_soft)]
    if len(part) != len(name_soft):
        return False
    for qw, nw in zip(part.split(" "), name_soft.split(" ")):
        q_tones: set[str] = set()
        n_tones: set[str] = set()
        for qc, nc in zip(qw, nw):
            (q, qt), (n, nt) = _letter(qc), _letter(nc)
            q_tones |= qt
            n_tones |= nt
            if q != _base(q) and q != n:
                return False
        if q_tones and q_tones != n_tones:
            return False
    return True


_WORD_SEPARATORS = {"và", "với", "and", "with"}  # "va"/"voi" typed plain are left alone: "voi" may be vôi (lime)


def mixture_parts(query: str, codes: dict | None = None) -> list[str]:
    """The parts of a mixture, outside parentheses (so a recipe such as "Bordeaux mixture (copper sulphate + lime)"
    stays one name): split on "+", "&", ";", a comma not between digits ("Abamectin 1,8EC" is one name), a slash
    not inside a unit ("IU/mg", "16ml/bình" stay) and the words "và", "với", "and", "with"; [query] when it names
    one thing. A part that is only a strength ("16000 IU/mg WP", with `codes` the formulation codes) is no product."""
    known_codes = {str(c).lower() for spec in (codes or {}).values() for c in (spec or {}).get("codes") or []}
    text = unicodedata.normalize("NFC", str(query))
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        ch = text[i]
        depth += (ch == "(") - (ch == ")")
        cut = 0
        if depth <= 0:
            if ch in "+&;":
                cut = 1
            elif ch == "," and not (i > 0 and text[i - 1].isdigit() and i + 1 < len(text) and text[i + 1].isdigit()):
                cut = 1
            elif ch == "/":
                before = re.search(r"(\S*)\s*$", text[:i]).group(1)
                after = re.match(r"\s*(\S*)", text[i + 1:]).group(1)
                unit = any(c.isdigit() for c in before + after) or (len(before) <= 2 and len(after) <= 2)
                cut = 0 if unit else 1
            else:
                m = re.match(r"\s+(\S+)\s+", text[i:]) if ch.isspace() else None
                if m and m.group(1).lower() in _WORD_SEPARATORS:
                    cut = m.end()
        if cut:
            parts.append(cur)
            cur = ""
            i += cut
            continue
        cur += ch
        i += 1
    parts = [x.strip() for x in parts + [cur] if fold(x) and not _strength_only(x, known_codes)]
    return parts if len(parts) > 1 else [str(query).strip()]


# granules and dusts (Furadan 3GR, Basudin 10GR): not sprays, but a code that closes a product's name
# (SubstanceIndex.unnamed_product; the phone bundle ships it)
_PRODUCT_CODES = frozenset({"gr", "dp"})

_UNIT_WORDS = {"iu", "mg", "g", "kg", "l", "ml", "cfu", "ppm", "spores", "bao", "tu", "ai"}


def _strength_only(part: str, codes: set[str] = frozenset()) -> bool:
    """A part that is only a strength or potency ("16000 IU/mg", "1.5%", "10^8 cfu/g"): not a second product. A
    short name ("Bt", "EM") is a name."""
    words = fold(part).replace("^", " ").split()
    return bool(words) and all(re.fullmatch(r"\d+(?:[.,]\d+)*%?[a-z]{0,3}", w) or w in _UNIT_WORDS or w in codes
                               for w in words)


_CODE_AFTER_NUMBER = re.compile(r"\d+(?:[.,]\d+)?\s*([A-Za-z]{2,3})(?![A-Za-z])")
_CODE_ALONE = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2,3})(?![A-Za-z])")


def formulation(query: str, codes: dict) -> tuple[str, str] | None:
    """(application, CODE) of the first formulation code in `query` that `codes` (rules.formulation_codes:
    application -> {codes: [...]}) knows, else None. A code counts after a figure ("25SC", "0.5 WG", "80wp") or
    alone in capitals ("Spinosad SC"); a lower-case word with no figure before it is a word, not a code."""
    by_code = {str(c).upper(): app for app, spec in (codes or {}).items() for c in (spec or {}).get("codes") or []}
    text = unicodedata.normalize("NFC", str(query))
    hits = sorted([(m.start(1), m.group(1).upper()) for m in _CODE_AFTER_NUMBER.finditer(text)]
                  + [(m.start(1), m.group(1)) for m in _CODE_ALONE.finditer(text)])
    for _, code in hits:
        if code in by_code:
            return by_code[code], code
    return None


class SubstanceIndex:
    """Folded names -> ('prohibited' | 'treatment', id); built once per knowledge base.

    Trade names (products.yaml: "Karate" -> lambda-cyhalothrin) point at the entry of their worst substance, so every
    lookup that finds a substance finds its products too ("Karate 2.5EC + Bt" is not allowed, "COC 85" is the copper
    entry with its cautions). `products` is {id: {names, substances}}; left out, it is gathered from the entries'
    `_products` (loading.link_products puts them there, so the index the advisor builds from the prohibited and
    treatment sections alone knows them)."""

    def __init__(self, prohibited: dict, treatments: dict, products: dict | None = None):
        self.names: dict[str, tuple[str, str]] = {}
        self.written: dict[str, str] = {}  # folded key -> the name as the knowledge base writes it
        self.accented: dict[str, set[str]] = {}  # folded key -> the name(s) with their accents
        self.ingredient_of = {sid: list((s or {}).get("ingredient_of") or []) for sid, s in prohibited.items()}
        for sid, s in prohibited.items():
            for n in [sid] + list((s or {}).get("aliases") or []):
                self._add(n, ("prohibited", sid))
        for tid, t in treatments.items():
            if t.get("category") not in ("biological", "botanical", "mineral", "trap"):
                continue  # cultural and mechanical measures are not substances
            pool = [tid, t["names"]["en"], t["names"]["vi"], t.get("active") or ""] + list(t.get("aliases") or [])
            for n in pool:
                self._add(n.replace("_", " ") if n == tid else n, ("treatment", tid))
        # products last: a trade name never takes the place of a substance's own name
        self.product_of: dict[str, tuple[str, list[str]]] = {}  # folded trade name -> (product id, its substances)
        if products is None:
            products = {pid: prod for entry in list(prohibited.values()) + list(treatments.values())
                        for pid, prod in ((entry or {}).get("_products") or {}).items()}
        for pid, prod in products.items():
            substances = [str(x) for x in (prod or {}).get("substances") or []]
            targets = [self.resolve(x) for x in substances]
            if not targets or None in targets:
                continue  # the schema check names the substance it does not know
            worst = next((t for t in targets if t[0] == "prohibited"), targets[0])  # as bad as its worst substance
            for n in (prod or {}).get("names") or []:
                self._add(str(n), worst)
                key = fold(n)
                if self.names.get(key) == worst:
                    self.product_of.setdefault(key, (str(pid), substances))

    def resolve(self, name: str) -> tuple[str, str] | None:
        """The entry that `name` is, as a whole (an id, name or alias, folded): what a product's `substances` name."""
        return self.names.get(fold(name))

    def _add(self, name: str, target: tuple[str, str]) -> None:
        soft, key = _pair(name)
        if not key:
            return
        if key not in self.names:
            self.names[key] = target
            self.written[key] = str(name)
        if self.names[key] == target:
            self.accented.setdefault(key, set()).add(soft)

    def _at(self, query: str) -> tuple[str, str]:
        return _pair(query)

    def _in(self, q_soft: str, q_flat: str, key: str) -> bool:
        """The name `key` is in the query, with every accent the query typed matching the name's."""
        return any(_accents_agree(q_soft, at, soft) for at in _starts(q_flat, key) for soft in self.accented[key])

    def exact(self, query: str) -> bool:
        """The whole query is one name the index knows (so "Bordeaux paste for wounds and trunks" is not a mixture)."""
        q_soft, q = self._at(query)
        return q in self.names and self._in(q_soft, q, q)

    def lookup(self, query: str) -> tuple[str, str] | None:
        """Exact folded match first; then the longest prohibited name inside the query; then the longest
        treatment name inside it. None when nothing matches."""
        q_soft, q = self._at(query)
        if not q:
            return None
        if q in self.names and self._in(q_soft, q, q):
            return self.names[q]
        found = [(len(k), kind, ident) for k, (kind, ident) in self.names.items() if self._in(q_soft, q, k)]
        prohibited = sorted((f for f in found if f[1] == "prohibited"), reverse=True)
        treatments = sorted((f for f in found if f[1] == "treatment"), reverse=True)
        # "Bordeaux mixture (copper sulphate + lime)": an ingredient named with the product it makes
        prohibited = [f for f in prohibited
                      if not any(t[2] in self.ingredient_of.get(f[2], []) for t in treatments)]
        if prohibited:
            return "prohibited", prohibited[0][2]
        if treatments:
            return "treatment", treatments[0][2]
        return None

    def products_in(self, query: str) -> list[tuple[str, str, list[str]]]:
        """(product id, its name as written in the knowledge base, its substances) for every trade name in the query,
        longest name first, each product once: what a verdict names ("Karate = lambda-cyhalothrin")."""
        q_soft, q = self._at(query)
        found, seen, taken = [], set(), []
        for key in sorted((k for k in self.product_of if self._in(q_soft, q, k)), key=len, reverse=True):
            pid, substances = self.product_of[key]
            if pid in seen or any(key in longer for longer in taken):
                continue  # "Amistar Top 325SC" is one product, not also "Amistar"
            seen.add(pid)
            taken.append(key)
            found.append((pid, self.written[key], substances))
        return found

    def unnamed_product(self, query: str, codes: dict | None = None) -> str | None:
        """A product in `query` that no name of the index covers, found by its formulation code ("Thiovit Jet 80WG
        Bassa 50EC" -> "Bassa 50EC", "Kocide Padan 95SP" -> "Padan 95SP"), as typed; None when every coded product
        is a known name ("Kocide 2000 35WG", "Dầu neem 0.3EC", "neem 1,8EC") or none is coded.

        Why: the lookup answers for the longest known name anywhere in the text, so two bottles' names copied without
        a "+" were "allowed" on the known one. A figure and a code ("50EC", "5 SC", `codes` as in
        rules.formulation_codes, or a granule's GR) close a product's name; the word before the figures is that
        product's name, and when no known name covers it, it is a product the knowledge base does not know. A
        strength's unit before the code ("16000 IU/mg WP") is no name."""
        known = {str(c).lower() for spec in (codes or {}).values() for c in (spec or {}).get("codes") or []}
        known |= _PRODUCT_CODES
        text = unicodedata.normalize("NFC", str(query))
        spans, cur = [], None  # the query's words, as _pair splits them: (start, end) in `text`
        for i, ch in enumerate(text):
            sep = bool(_SEP_CHARS.fullmatch(_base(ch.lower()) or " "))
            if not sep and cur is None:
                cur = i
            elif sep and cur is not None:
                spans.append((cur, i))
                cur = None
        if cur is not None:
            spans.append((cur, len(text)))
        words = [(a, b, fold(text[a:b])) for a, b in spans if fold(text[a:b])]
        q_soft, q = self._at(query)
        if " ".join(w for _, _, w in words) != q:
            return None  # a character the two splits see differently: say nothing rather than guess
        offsets, at = [], 0
        for _, _, w in words:
            offsets.append((at, at + len(w)))
            at += len(w) + 1
        covered = [(s, s + len(k)) for k in self.names for s in _starts(q, k)
                   if any(_accents_agree(q_soft, s, soft) for soft in self.accented[k])]
        figure = re.compile(r"\d+(?:[.,]\d+)*%?")
        code = "|".join(sorted(map(re.escape, known), key=len, reverse=True))
        for i, (_, _, w) in enumerate(words):
            glued = re.fullmatch(rf"([a-z][a-z0-9]*?)?\d+(?:[.,]\d+)*({code})", w)
            apart = w in known and i > 0 and figure.fullmatch(words[i - 1][2])
            if not (glued or apart):
                continue
            if glued and glued.group(1):
                n = i  # the name glued to its code: "padan95sp"
            else:
                n = i - 1 if glued else i - 2
                while n >= 0 and figure.fullmatch(words[n][2]):
                    n -= 1  # "1,8EC" is read as "1" "8ec"
                if n < 0 or words[n][2] in _UNIT_WORDS or words[n][2] in known:
                    continue
            a, b = offsets[n]
            if not any(s < b and a < e for s, e in covered):
                return text[words[n][0]:words[i][1]].strip()
        return None

    def treatments_in(self, query: str) -> list[tuple[str, str]]:
        """Every (treatment id, folded name) whose name is in the query, longest name first."""
        q_soft, q = self._at(query)
        found = sorted(((len(k), k, ident) for k, (kind, ident) in self.names.items()
                        if kind == "treatment" and self._in(q_soft, q, k)), reverse=True)
        return [(ident, k) for _, k, ident in found]

    def nearest(self, query: str, cutoff: float = 0.8) -> str | None:
        """The substance name closest to a name the index does not know ("luu hunh" -> "lưu huỳnh"), as the knowledge
        base writes it, compared without accents, figures or formulation codes; None when none is close."""
        q = re.sub(r"\s*\d+(?:[.,]\d+)?\s*[a-z]{0,3}\b", " ", fold(query)).strip()
        close = difflib.get_close_matches(q, list(self.names), n=1, cutoff=cutoff) if q else []
        return self.written[close[0]] if close else None

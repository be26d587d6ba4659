"""Copper in a treatment record: work it out from the product and dose when that is possible, require it when
not, and refuse doses no label allows.

Why these numbers
* EU Implementing Regulation 2018/1981 (renewal of copper compounds) allows at most 28 kg Cu/ha over 7 years,
  i.e. 4 kg/ha a year on average, with room to move between years. EU 2021/1165 (organic) adopts that cap.
  Copper fungicide labels give 0.2-2 kg Cu/ha per application (vines and potatoes at the top of that range).
  One application above MAX_KG_HA_PER_APPLICATION (6 kg Cu/ha: one and a half years of the average
  allowance in one pass) is a typo (grams as kilograms, or the whole plot's product as per hectare), so it
  is refused with the range; the certifier's cap itself is checked by the season audit.
* Copper content: the mass fraction of copper in the pure compound (stoichiometry), which is at or above
  the minimum contents 2018/1981 Annex I sets for the technical materials (copper hydroxide >= 573 g/kg,
  oxychloride >= 550, copper(I) oxide >= 820, Bordeaux mixture >= 245, tribasic copper sulphate >= 490).
  Using the upper value over-counts a formulated product rather than under-counting it: the ledger errs on
  the side of the cap. A product label's own figure (`copper_content_pct`) is used when given.
* Bordeaux mixture made on the farm is dosed as copper sulphate (pentahydrate, 25.45 % Cu): "Bordeaux 1 %"
  is 1 kg copper sulphate in 100 L of spray, so a spray volume with a percentage in the record also works.
"""
from __future__ import annotations

import re
import unicodedata

from .errors import FieldLogError

MAX_KG_HA_PER_APPLICATION = 6.0

# name fragment (ASCII, lower case) -> copper mass fraction of the pure compound
COPPER_FRACTION = (
    ("oxychlorid", 0.595),        # Cu2Cl(OH)3: 127.1 / 213.6
    ("tribasic", 0.562),          # Cu4(OH)6SO4: 254.2 / 452.3
    ("hydroxid", 0.651),          # Cu(OH)2: 63.55 / 97.56
    ("cuprous oxide", 0.888),     # Cu2O: 127.1 / 143.1
    ("copper oxide", 0.888),
    ("oxit dong", 0.888),
    ("bordeaux", 0.2545),         # dosed as CuSO4.5H2O: 63.55 / 249.7
    ("boocdo", 0.2545),
    ("bordo", 0.2545),
    ("sulphate", 0.2545),
    ("sulfate", 0.2545),
    ("sunfat dong", 0.2545),
    # the knowledge base's Vietnamese names (treatments.yaml copper_hydroxide: "đồng hydroxit", "đồng oxyclorua",
    # "đồng clorua oxit"), folded; both word orders are written. Two words each: "hydroxit" alone is also lime
    # (canxi hydroxit), which a Bordeaux record names.
    ("dong oxyclorua", 0.595), ("dong oxiclorua", 0.595), ("dong oxychlorua", 0.595), ("dong clorua oxit", 0.595),
    ("oxyclorua dong", 0.595), ("oxychlorua dong", 0.595),
    ("dong hydroxit", 0.651), ("hydroxit dong", 0.651), ("cu(oh)", 0.651),
    ("dong oxit", 0.888),
    ("dong sunfat", 0.2545), ("dong sulfat", 0.2545), ("sulfat dong", 0.2545),
)
# "dong" alone is not enough: đồng is copper, but also a rice field (cánh đồng) and the currency
_COPPER_WORDS = ("copper", "cupr", "bordeaux", "bordo", "boocdo", "cuso4", "cu(oh)", "kocide", "funguran",
                 "sunfat dong", "sulfat dong", "oxit dong", "hydroxit dong", "oxyclorua dong", "oxychlorua dong",
                 "goc dong", "thuoc dong",
                 # the order the knowledge base writes them ("đồng hydroxit", "đồng oxyclorua"): they counted nothing
                 "dong hydroxit", "dong oxyclorua", "dong oxiclorua", "dong oxychlorua", "dong clorua oxit",
                 "dong oxit", "dong sunfat", "dong sulfat")

# a product's figure ("COC 85", "Kocide 2000"), never a dose: "coc 20ml" is a cup of 20 ml, "Kocide 20 g" 20 grams
_DOSE_UNIT = r"\s*(?:ml|l|lit|lít|g|gr|gam|kg|cc)(?![a-z])"
_FIGURE = rf"(?:\s*-?\s*(\d+(?:[.,]\d+)?)(?![\d]|[.,]\d|{_DOSE_UNIT}))"
# Copper products by trade name: the copper products of advisor/kb/products.yaml, with the same sources (the field
# log does not import the advisor; keep the two in step). Each: (pattern on the text in lower case WITH its marks,
# the name to show, its compound (a COPPER_FRACTION fragment), what the figure after the name is: "compound" = % of
# the compound in the product (Vietnam's product names: "COC 85" is 85 % copper oxychloride) or "copper" = %
# metallic copper (Funguran-OH 50 WP), {model number: label % metallic copper}). Without a figure the pure compound's
# fraction is used: it over-counts a formulated product rather than under-counting it (see the top of this file).
COPPER_PRODUCTS = (
    # COC = copper oxychloride (Cinkarna Celje, copper active substances); written with its figure only, and
    # without marks: "cốc" is a cup ("1 cốc nước"), so "cốc 85" is not this product
    (re.compile(rf"(?<![a-z0-9])coc{_FIGURE}"), "COC", "oxychlorid", "compound", {}),
    # Kocide 101: 77 % cupric hydroxide, copper equivalent 50 % (Cornell PMEP, copper hydroxide profile 1/85);
    # Kocide 2000: Cu 35 % (DuPont Kocide 2000 safety data sheet, 2011); "Kocide 53.8WG": 53.8 % copper hydroxide
    (re.compile(rf"(?<![a-z0-9])kocide{_FIGURE}?"), "Kocide", "hydroxid", "compound", {"101": 50.0, "2000": 35.0}),
    # Funguran-OH 50 WP: copper (as copper hydroxide) 50 % (label, Spiess-Urania, MRiRW permit R-21/2008)
    (re.compile(rf"(?<![a-z0-9])funguran\s*-?\s*oh{_FIGURE}?"), "Funguran-OH", "hydroxid", "copper", {}),
)
_MASS_UNITS = {"kg": 1.0, "g": 0.001, "kg/ha": 1.0, "g/ha": 0.001, "t": 1000.0}
_VOLUME_UNITS = {"l": 1.0, "l/ha": 1.0, "litre": 1.0, "liter": 1.0, "lit": 1.0}


def _fold(text: str | None) -> str:
    text = (text or "").casefold().replace("đ", "d")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def note_text(what: str | None) -> str | None:
    """What was done, as the trade-name patterns may read it: "coc" written in lower or mixed case there is the cup
    (cốc typed without its marks: "pha 1 coc 20ml"), so only the label's capitals ("phun COC 85") name the product in
    free text; the product and substance fields take any case ("coc 85" typed as the product is the product)."""
    if what is None:
        return None
    return re.sub(r"(?<![A-Za-z0-9])(?!COC)[Cc][Oo][Cc](?![A-Za-z])", "cốc", what)


def _lower(text: str | None) -> str:
    """Lower case with the marks kept: a trade name is matched as written ("COC 85", never "cốc 85")."""
    return unicodedata.normalize("NFC", text or "").casefold()


def product_fraction(*texts: str | None) -> tuple[float, str] | None:
    """(copper mass fraction, how) for a copper product named by its trade name with or without its figure
    ("COC 85" -> 0.85 x 0.595, "Funguran-OH 50WP" -> 0.50, "Kocide 2000" -> 0.35, "Kocide" -> 0.651); None
    when no copper trade name is there. A figure over 100 is a model number, not a percentage: without a label
    figure for it, the compound's fraction counts."""
    compound = dict(COPPER_FRACTION)
    for t in texts:
        for pattern, name, fragment, figure_is, models in COPPER_PRODUCTS:
            m = pattern.search(_lower(t))
            if not m:
                continue
            figure = m.group(1)
            if figure in models:
                return models[figure] / 100.0, f"{name} {figure}: label {models[figure]:g} % Cu"
            pct = float(figure.replace(",", ".")) if figure else None
            if pct is not None and 0 < pct <= 100:
                if figure_is == "copper":
                    return pct / 100.0, f"{name} {figure}: label {pct:g} % Cu"
                return (pct / 100.0 * compound[fragment],
                        f"{name} {figure}: {pct:g} % copper {_COMPOUND_NAMES[fragment]} x {compound[fragment] * 100:.4g} % Cu")
            return compound[fragment], f"{name}: copper {_COMPOUND_NAMES[fragment]}"
    return None


_COMPOUND_NAMES = {"oxychlorid": "oxychloride", "hydroxid": "hydroxide"}


def products_named(*texts: str | None) -> list[str]:
    """The copper trade names a record names, each product once ("Kocide 2000 + COC 85" -> ["COC 85", "Kocide
    2000"]; "Kocide" in the product and "Kocide 2000" in what it says is one product, Kocide 2000)."""
    found: dict[str, set[str]] = {}
    for t in texts:
        for pattern, name, _fragment, _figure_is, _models in COPPER_PRODUCTS:
            for m in pattern.finditer(_lower(t)):
                found.setdefault(name, set()).add(m.group(1) or "")
    out = []
    for name, figures in found.items():
        named = sorted(f for f in figures if f) or [""]
        out += [f"{name} {f}".strip() for f in named]
    return out


def mentions_copper(*texts: str | None) -> bool:
    """Does the record name a copper product or substance (English or Vietnamese, with or without marks, or a
    copper product's trade name)?"""
    folded = " ".join(_fold(t) for t in texts)
    return (any(re.search(rf"(?<![a-z]){re.escape(w)}", folded) for w in _COPPER_WORDS)
            or product_fraction(*texts) is not None)


def fraction_for(*texts: str | None) -> tuple[float, str] | None:
    """(copper mass fraction, how): a trade name first (it says the formulation), else the compound named."""
    found = product_fraction(*texts)
    if found is not None:
        return found
    folded = " ".join(_fold(t) for t in texts)
    for fragment, fraction in COPPER_FRACTION:
        if fragment in folded:
            return fraction, fragment
    return None


def derive_kg_ha(*, what: str | None, product: str | None, substance: str | None, amount: float | None,
                 unit: str | None, area_ha: float, content_pct: float | None = None) -> tuple[float, str] | None:
    """kg Cu/ha from the dose, and how it was worked out; None when the record does not say enough."""
    if amount is None or not unit:
        return None
    what = note_text(what)
    u = _fold(unit).replace(" ", "")
    per_ha = u.endswith("/ha")
    if content_pct is not None:
        fraction, source = content_pct / 100.0, f"label {content_pct:g} % Cu"
    else:
        named = products_named(substance, product, what)
        if len(named) > 1:
            # one dose of "Kocide 2000 + COC 85" is some of each: no share can be read from the record, and counting
            # the first product found would drop the other's copper from the ledger
            raise FieldLogError(
                f"copper: this treatment names {len(named)} copper products ({', '.join(named)}) with one dose, so "
                "the copper cannot be worked out. Give the copper applied in kg Cu/ha (`--copper`: the sum of each "
                "product's kg/ha x its label % Cu / 100), or log each product as its own action.", "copper_required")
        found = fraction_for(substance, product, what)
        if found is None:
            return None
        fraction, source = found[0], f"{found[1]} = {found[0] * 100:.4g} % Cu"
    if u in _MASS_UNITS:
        product_kg = amount * _MASS_UNITS[u]
    elif u in _VOLUME_UNITS:  # litres of spray at N % (w/v) of the copper product: "Bordeaux 1 %"
        pct = re.search(r"(\d+(?:[.,]\d+)?)\s*%", " ".join(t or "" for t in (product, what, substance)))
        if pct is None:
            return None
        strength = float(pct.group(1).replace(",", ".")) / 100.0
        product_kg = amount * strength  # 1 L of a 1 % mixture holds 0.01 kg of product
        source += f", {amount:g} L at {strength * 100:g} %"
    else:
        return None
    kg_ha = product_kg * fraction / (1.0 if per_ha else area_ha)
    where = "" if per_ha else f" over {area_ha:g} ha"
    return kg_ha, f"{amount:g} {unit}{where} x {source}"


def check_dose(kg_ha: float) -> float:
    if kg_ha > MAX_KG_HA_PER_APPLICATION:
        raise FieldLogError(
            f"copper: {kg_ha:g} kg Cu/ha in one application is not plausible; expected 0 to "
            f"{MAX_KG_HA_PER_APPLICATION:g} kg Cu/ha (labels give 0.2-2; the EU cap is 28 kg/ha over 7 years). "
            "Check the unit (g or kg) and whether the amount was for the whole plot or per hectare.", "bad_value")
    return kg_ha

"""Schema check of the merged knowledge base, run on every load.

Collects every problem instead of stopping at the first, and names the entry, the field, what
was expected and what came. Checks cross-references (treatment ids, crops, labels) with hints.
"""
from __future__ import annotations

import re
from typing import Any

from .errors import KnowledgeBaseError, did_you_mean
from .kb import KnowledgeBase
from .names import is_scientific_name
from .substances import SubstanceIndex, fold

LANGS = ("en", "vi")
VI_MARKS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]", re.I)
ID_RE = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+)?$")
INPUT_CATEGORIES = ("biological", "botanical", "mineral")


class _Checker:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.errors: list[str] = []

    def err(self, where: str, msg: str) -> None:
        self.errors.append(f"{where}: {msg}")

    def text(self, where: str, value: Any, required: bool = True) -> None:
        """A text in both languages; the vi text must be Vietnamese (diacritics, not a copy of en)."""
        if value is None:
            if required:
                self.err(where, "missing; expected {en: ..., vi: ...}")
            return
        if not isinstance(value, dict):
            self.err(where, f"expected {{en: ..., vi: ...}}, got {type(value).__name__}")
            return
        for lang in LANGS:
            if not isinstance(value.get(lang), str) or not value[lang].strip():
                self.err(where, f"missing translation '{lang}'; add `{lang}: ...`")
        for extra in set(value) - set(LANGS):
            self.err(where, f"unknown language key '{extra}'{did_you_mean(extra, LANGS)}; expected en and vi")
        en, vi = value.get("en"), value.get("vi")
        if isinstance(en, str) and isinstance(vi, str) and vi.strip():
            if len(vi.split()) > 3 and not VI_MARKS.search(vi):
                self.err(where, f"vi text has no Vietnamese diacritics, looks untranslated: '{vi[:60]}'")
            elif vi.strip() == en.strip() and len(vi.split()) > 1:
                self.err(where, f"vi text equals en text, looks untranslated: '{vi[:60]}'")

    def ref(self, where: str, value: Any, pool: dict, what: str) -> bool:
        if value not in pool:
            self.err(where, f"unknown {what} '{value}'{did_you_mean(value, pool)}")
            return False
        return True

    def keys(self, where: str, entry: dict, allowed: set[str], required: set[str]) -> None:
        for k in entry:
            if k not in allowed:
                self.err(where, f"unknown field '{k}'{did_you_mean(k, allowed)}; allowed: {', '.join(sorted(allowed))}")
        for k in sorted(required - set(entry)):
            self.err(where, f"missing required field '{k}'")


TREATMENT_FIELDS = {"category", "names", "active", "how", "aliases", "sold_in_vietnam", "phi_days", "rei_hours",
                    "copper_kg_ha", "copper_basis", "phytotoxic_above_c", "incompatible_with", "cautions", "status",
                    "application", "dose", "ppe", "only_if_present", "phase", "short",
                    "_products"}  # `_products`: set by loading.link_products when the KB is loaded, not written in YAML
PROBLEM_FIELDS = {"crop", "names", "organism", "organism_vi", "type", "curable", "symptoms", "favoured_by", "spread", "monitoring",
                  "threshold", "action_threshold", "treatments", "vector", "vector_control", "related", "do_not_use",
                  "detectable_by_model", "sources", "note", "speed", "weather", "remove", "today",
                  "spray_interval_days", "treatment_cautions"}
APPLICATIONS = ("spray", "soil", "release", "paste", "trap", "bait")
SPEEDS = ("fast", "moderate", "slow")
WEATHERS = ("wet", "dew", "dry", "none")
PHASES = ("today", "week", "season")
DOSE_FIELDS = {"per_16l", "per_1000m2", "interval_days", "source"}
THRESHOLD_FIELDS = {"count", "unit", "text_en", "text_vi", "source", "stage_en", "stage_vi", "verified"}


def _rules(c: _Checker) -> None:
    r = c.kb.rules
    need = {"standards", "statuses", "ipm_order", "categories", "problem_types", "incurable", "limits", "severity",
            "reminders", "messages", "blocked_reasons", "prohibited_reasons", "ui", "substance_verdicts",
            "threshold_units"}
    for k in sorted(need - set(r)):
        c.err("rules", f"missing section '{k}'")
    if c.errors:
        return
    for sid, s in r["standards"].items():
        c.text(f"rules.standards.{sid}.name", s.get("name"))
        if not isinstance(s.get("short"), str):
            c.err(f"rules.standards.{sid}", "missing `short:` name used in rendered advice")
    for cat in r["ipm_order"]:
        c.ref("rules.ipm_order", cat, r["categories"], "category")
    for cat, names in r["categories"].items():
        c.text(f"rules.categories.{cat}", names)
    for tid, t in r["problem_types"].items():
        c.text(f"rules.problem_types.{tid}", {k: t.get(k) for k in LANGS})
        for cat in t.get("allowed_categories", []) or []:
            c.ref(f"rules.problem_types.{tid}.allowed_categories", cat, r["categories"], "category")
    for tid in r["incurable"].get("required_treatments", []) + r["incurable"].get("removal_treatments", []):
        c.ref("rules.incurable.required_treatments", tid, c.kb.treatments, "treatment")
    for key, v in list(r["substance_verdicts"].items()) + list(r["threshold_units"].items()):
        c.text(f"rules.{key}", v)
    for key in ("healthy", "remove", "see_label", "interval"):
        if key not in r["messages"]:
            c.err("rules.messages", f"missing message '{key}'")
    for sev, s in r["severity"].items():
        for speed, by in (s.get("by_speed") or {}).items():
            if speed not in SPEEDS:
                c.err(f"rules.severity.{sev}.by_speed", f"unknown speed '{speed}'; expected one of {', '.join(SPEEDS)}")
            for risk, cat in (by or {}).items():
                c.ref(f"rules.severity.{sev}.by_speed.{speed}.{risk}", cat, r["categories"], "category")
    c.text("rules.incurable.message", r["incurable"].get("message"))
    for app, spec in (r.get("formulation_codes") or {}).items():
        where = f"rules.formulation_codes.{app}"
        if app not in APPLICATIONS:
            c.err(where, f"unknown application '{app}'{did_you_mean(str(app), APPLICATIONS)}")
        c.text(f"{where}.names", (spec or {}).get("names"))
        if not all(isinstance(x, str) and x.isupper() for x in (spec or {}).get("codes") or [None]):
            c.err(f"{where}.codes", "expected a list of upper-case formulation codes (SC, WP, RB ...)")
    if r.get("formulation_codes") and "other_form" not in r["substance_verdicts"]:
        c.err("rules.substance_verdicts", "missing 'other_form' (the note for a product in another form than its entry)")
    for sev, s in r["severity"].items():
        c.ref(f"rules.severity.{sev}.max_category", s.get("max_category"), r["categories"], "category")
    for i, rem in enumerate(r["reminders"]):
        c.text(f"rules.reminders[{i}]", rem and {k: rem.get(k) for k in LANGS})
    for key, msg in list(r["messages"].items()) + list(r["blocked_reasons"].items()) + list(r["prohibited_reasons"].items()):
        for i, m in enumerate(msg if isinstance(msg, list) else [msg]):
            c.text(f"rules.messages.{key}[{i}]", m)
    cap = r["limits"].get("copper", {}).get("cap_kg_ha_7y")
    if not isinstance(cap, (int, float)) or cap <= 0:
        c.err("rules.limits.copper.cap_kg_ha_7y", f"expected a positive number of kg Cu/ha, got {cap!r}")


def _treatment(c: _Checker, tid: str, t: Any) -> None:
    where = f"treatments.{tid}"
    if not isinstance(t, dict):
        return c.err(where, "expected a mapping")
    r = c.kb.rules
    required = {"category", "names", "active", "how", "status"}
    cat = t.get("category")
    if cat in INPUT_CATEGORIES:
        required |= {"phi_days", "rei_hours"}
    if cat in ("biological", "botanical"):
        required |= {"sold_in_vietnam"}
    c.keys(where, t, TREATMENT_FIELDS, required)
    c.ref(f"{where}.category", cat, {k: 1 for k in r["ipm_order"] if k != "monitoring"}, "category")
    c.text(f"{where}.names", t.get("names"))
    c.text(f"{where}.how", t.get("how"))
    c.text(f"{where}.short", t.get("short"), required=False)
    if t.get("phase") is not None and t["phase"] not in PHASES:
        c.err(f"{where}.phase", f"unknown phase '{t['phase']}'{did_you_mean(str(t['phase']), PHASES)}; "
                                f"expected one of {', '.join(PHASES)}")
    for i, caution in enumerate(t.get("cautions") or []):
        c.text(f"{where}.cautions[{i}]", caution)
    if "sold_in_vietnam" in t and t["sold_in_vietnam"] not in (True, False, "unverified"):
        c.err(f"{where}.sold_in_vietnam", f"expected true, false or unverified, got {t['sold_in_vietnam']!r}")
    for k in ("phi_days", "rei_hours", "copper_kg_ha", "phytotoxic_above_c"):
        v = t.get(k)
        if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0):
            c.err(f"{where}.{k}", f"expected a number >= 0 or null (unknown), got {v!r}")
    app = t.get("application")
    if app is not None and app not in APPLICATIONS:
        c.err(f"{where}.application", f"unknown application '{app}'{did_you_mean(str(app), APPLICATIONS)}")
    if app == "spray":
        for k in ("dose", "ppe"):
            if k not in t:
                c.err(where, f"a spray must give `{k}:` (use null amounts for 'see the product label', never a guess)")
    if t.get("ppe") is not None:
        c.text(f"{where}.ppe", t.get("ppe"))
    if t.get("copper_kg_ha"):
        c.text(f"{where}.copper_basis", t.get("copper_basis"))
    d = t.get("dose")
    if d is not None:
        if not isinstance(d, dict):
            c.err(f"{where}.dose", "expected a mapping with per_16l, per_1000m2, interval_days, source")
        else:
            c.keys(f"{where}.dose", d, DOSE_FIELDS, {"per_16l", "per_1000m2", "interval_days", "source"})
            if not isinstance(d.get("source"), str) or not d["source"].strip():
                c.err(f"{where}.dose.source", "every dose needs a source (or say which label to read)")
            for k in ("per_16l", "per_1000m2"):
                a = d.get(k)
                if a is None:
                    continue
                if not isinstance(a, dict) or not isinstance(a.get("min"), (int, float)) or not a.get("unit"):
                    c.err(f"{where}.dose.{k}", "expected {min: number, max: number, unit: g|mL|kg|L, what: {en, vi}, "
                                               "water_l: litres of spray it goes in} or null")
                elif a.get("water_l") is not None and (isinstance(a["water_l"], bool)
                                                       or not isinstance(a["water_l"], (int, float)) or a["water_l"] <= 0):
                    c.err(f"{where}.dose.{k}.water_l", f"expected litres of spray (a positive number), got {a['water_l']!r}")
                elif a.get("what") is not None:
                    c.text(f"{where}.dose.{k}.what", a["what"])
    for inc in t.get("incompatible_with") or []:
        if isinstance(inc, dict) and c.ref(f"{where}.incompatible_with", inc.get("treatment"), c.kb.treatments, "treatment"):
            continue
    status = t.get("status")
    if not isinstance(status, dict) or not status:
        return c.err(f"{where}.status", "missing organic status; give status and citation under each of: "
                     + ", ".join(r["standards"]))
    for sid in r["standards"]:
        s = status.get(sid)
        if not isinstance(s, dict):
            c.err(f"{where}.status", f"missing organic status under '{sid}'; add `{sid}: {{status: ..., citation: ...}}` "
                  f"(use status: unverified when it could not be checked)")
            continue
        c.ref(f"{where}.status.{sid}.status", s.get("status"), r["statuses"], "status")
        if not isinstance(s.get("citation"), str) or not s["citation"].strip():
            c.err(f"{where}.status.{sid}", "missing citation; every status needs the clause or list entry it rests on")
    for sid in status:
        if sid not in r["standards"]:
            c.err(f"{where}.status", f"unknown standard '{sid}'{did_you_mean(sid, r['standards'])}")
    banned = _banned_words(c.kb, except_for=tid)
    for word in [t.get("active", "")] + list(t.get("aliases") or []) + [t.get("names", {}).get("en", "")]:
        for b in banned:
            if re.search(rf"\b{re.escape(b)}\b", str(word), re.I):
                c.err(where, f"names prohibited substance '{b}': a prohibited substance cannot be a treatment")


def _banned_words(kb: KnowledgeBase, except_for: str | None = None) -> list[str]:
    """Prohibited names and aliases; an ingredient (`ingredient_of`) may be named by the treatment it makes."""
    words = []
    for name, p in kb.prohibited.items():
        if except_for and except_for in ((p or {}).get("ingredient_of") or []):
            continue
        words.append(name)
        words.extend((p or {}).get("aliases") or [])
    return words


def _problem(c: _Checker, pid: str, p: Any) -> None:
    where = f"problems.{pid}"
    kb, r = c.kb, c.kb.rules
    if not isinstance(p, dict):
        return c.err(where, "expected a mapping")
    if not ID_RE.match(pid) or "." not in pid:
        c.err(where, "id must be snake_case `crop.condition`, e.g. tomato.late_blight")
    ptype = r["problem_types"].get(p.get("type"), {})
    required = {"crop", "names", "type", "treatments"}
    if ptype.get("needs_symptoms"):
        required |= {"organism", "symptoms", "favoured_by", "spread", "sources"}
    c.keys(where, p, PROBLEM_FIELDS, required)
    c.ref(f"{where}.crop", p.get("crop"), kb.crops, "crop")
    if p.get("crop") and pid.split(".")[0] != p.get("crop"):
        c.err(where, f"id starts with '{pid.split('.')[0]}' but crop is '{p.get('crop')}'; they must match")
    c.ref(f"{where}.type", p.get("type"), r["problem_types"], "type")
    c.text(f"{where}.names", p.get("names"))
    for k in ("symptoms", "favoured_by", "spread", "monitoring", "threshold", "vector", "note"):
        c.text(f"{where}.{k}", p.get(k), required=False)
    # `organism` is written once (a Latin name reads the same in both languages); a plain-words note such as
    # "none (nutrient shortage)" needs its Vietnamese in `organism_vi`, shown on Vietnamese pages
    # (the rule: advisor/names.py, docs/knowledge-base.md)
    if "organism_vi" in p:
        ov = p["organism_vi"]
        if not isinstance(ov, str) or not ov.strip():
            c.err(f"{where}.organism_vi", f"expected the organism note in Vietnamese (text), got {ov!r}")
        elif not p.get("organism"):
            c.err(f"{where}.organism_vi", "organism_vi translates `organism`; give `organism` too")
        elif len(ov.split()) > 3 and not VI_MARKS.search(ov):
            c.err(f"{where}.organism_vi", f"has no Vietnamese diacritics, looks untranslated: '{ov[:60]}'")
    elif p.get("organism") is not None and not is_scientific_name(p["organism"]):
        c.err(f"{where}.organism_vi", f"missing: organism '{str(p['organism'])[:60]}' is not a Latin scientific name "
                                      f"(plain words are English on Vietnamese pages); add `organism_vi: ...`, "
                                      f"its Vietnamese")
    if pid in kb.model_labels:
        if p.get("detectable_by_model") is False:
            c.err(where, "is a model label in labels.yaml, so it is detectable; remove `detectable_by_model: false`")
    elif p.get("detectable_by_model") is not False:
        c.err(where, f"unknown label '{pid}'{did_you_mean(pid, kb.model_labels)} is not in datasets/labels.yaml; "
                     f"fix the id, or set `detectable_by_model: false` for a problem the model cannot detect")
    if p.get("speed") is not None and p["speed"] not in SPEEDS:
        c.err(f"{where}.speed", f"unknown speed '{p['speed']}'; expected one of {', '.join(SPEEDS)}")
    if p.get("weather") is not None and p["weather"] not in WEATHERS:
        c.err(f"{where}.weather", f"unknown weather '{p['weather']}'; expected one of {', '.join(WEATHERS)}")
    c.text(f"{where}.remove", p.get("remove"), required=False)
    listed = set(p.get("treatments") or []) | set(p.get("vector_control") or [])
    for tid in p.get("today") or []:
        if c.ref(f"{where}.today", tid, kb.treatments, "treatment") and tid not in listed:
            c.err(f"{where}.today", f"'{tid}' is not in this entry's treatments or vector_control; add it there")
    for tid, cautions in (p.get("treatment_cautions") or {}).items():
        if c.ref(f"{where}.treatment_cautions", tid, kb.treatments, "treatment") and tid not in listed:
            c.err(f"{where}.treatment_cautions", f"'{tid}' is not in this entry's treatments or vector_control")
        for i, caution in enumerate(cautions or []):
            c.text(f"{where}.treatment_cautions.{tid}[{i}]", caution)
    siv = p.get("spray_interval_days")
    if siv is not None and not (isinstance(siv, str) and re.fullmatch(r"\d+(-\d+)?", siv)):
        c.err(f"{where}.spray_interval_days", f"expected days such as \"5-7\", got {siv!r}")
    at = p.get("action_threshold")
    if at is not None:
        if not isinstance(at, dict):
            c.err(f"{where}.action_threshold", "expected {count, unit, text_en, text_vi, source}")
        else:
            c.keys(f"{where}.action_threshold", at, THRESHOLD_FIELDS, {"count", "unit", "text_en", "text_vi", "source"})
            if isinstance(at.get("count"), bool) or not isinstance(at.get("count"), (int, float)) or at["count"] <= 0:
                c.err(f"{where}.action_threshold.count", f"expected a positive number, got {at.get('count')!r}")
            c.ref(f"{where}.action_threshold.unit", at.get("unit"), r["threshold_units"], "threshold unit")
            c.text(f"{where}.action_threshold.text", {"en": at.get("text_en"), "vi": at.get("text_vi")})
            if not isinstance(at.get("source"), str) or not at["source"].strip():
                c.err(f"{where}.action_threshold.source", "an action threshold needs the source that gives it")
    if ptype.get("healthy"):
        for tid in p.get("treatments") or []:
            if kb.treatments.get(tid, {}).get("only_if_present"):
                c.err(f"{where}.treatments", f"'{tid}' acts on a problem that is present; a healthy leaf gets "
                      f"prevention only ('nothing to do, keep scouting')")
    curable = p.get("curable", ptype.get("curable", True))
    allowed = ptype.get("allowed_categories")
    if not curable:
        allowed = r["incurable"]["allowed_categories"]
    for tid in p.get("treatments") or []:
        if c.ref(f"{where}.treatments", tid, kb.treatments, "treatment") and allowed is not None:
            cat = kb.treatments[tid].get("category")
            if cat not in allowed:
                c.err(f"{where}.treatments", f"'{tid}' is {cat}, but a {p.get('type')}{'' if curable else ' incurable'} "
                      f"problem allows only {allowed or 'none'}; move insect control to vector_control")
    if not curable:
        for tid in r["incurable"]["required_treatments"]:
            if tid not in (p.get("treatments") or []):
                c.err(f"{where}.treatments", f"incurable problem must list '{tid}'")
        removal = r["incurable"].get("removal_treatments") or []
        if removal and not set(removal) & set(p.get("treatments") or []):
            c.err(f"{where}.treatments", f"incurable problem must list one of {', '.join(removal)}")
        if not p.get("remove"):
            c.err(where, "incurable problem must say what to remove: add `remove: {en: ..., vi: ...}` "
                         "(the whole plant, or only the affected shoots)")
    if p.get("vector") and not p.get("vector_control"):
        c.err(where, "names a vector but has no vector_control treatments")
    for tid in p.get("vector_control") or []:
        c.ref(f"{where}.vector_control", tid, kb.treatments, "treatment")
    for rid in p.get("related") or []:
        c.ref(f"{where}.related", rid, kb.problems, "problem")
    for sid in p.get("do_not_use") or []:
        c.ref(f"{where}.do_not_use", sid, kb.prohibited, "prohibited substance")


PRODUCT_FIELDS = {"names", "substances", "citations", "note"}


def _products(c: _Checker) -> None:
    """products.yaml: every trade name resolves to substances the knowledge base has, with the source of that fact,
    and no name means two things (a trade name that is also a substance's name, or two products' name)."""
    index = SubstanceIndex(c.kb.prohibited, c.kb.treatments, products={})
    owner: dict[str, str] = {}
    for pid, p in c.kb.products.items():
        where = f"products.{pid}"
        if not ID_RE.match(str(pid)) or "." in str(pid):
            c.err(where, "id must be snake_case, e.g. karate or coc_85")
        if not isinstance(p, dict):
            c.err(where, "expected a mapping with names, substances and citations")
            continue
        c.keys(where, p, PRODUCT_FIELDS, {"names", "substances", "citations"})
        names, subs, cites = p.get("names"), p.get("substances"), p.get("citations")
        if not isinstance(names, list) or not names or not all(isinstance(n, str) and fold(n) for n in names):
            c.err(f"{where}.names", f"expected a list of the names on the shelf, e.g. [Karate, \"Karate 2.5EC\"], got {names!r}")
            names = []
        for n in names:
            key = fold(n)
            if key in owner and owner[key] != pid:
                c.err(f"{where}.names", f"'{n}' is already a name of product '{owner[key]}'; one name, one product")
            owner.setdefault(key, pid)
            if index.resolve(n) is not None:
                c.err(f"{where}.names", f"'{n}' is already a substance's name or alias in the knowledge base; "
                                        f"a trade name must not hide it")
        if not isinstance(subs, list) or not subs:
            c.err(f"{where}.substances", f"expected the active substance(s), ids or names the knowledge base has, got {subs!r}")
            subs = []
        for sub in subs:
            if index.resolve(str(sub)) is None:
                near = index.nearest(str(sub))
                c.err(f"{where}.substances", f"unknown substance '{sub}'"
                                             + (f" (did you mean '{near}'?)" if near else "")
                                             + "; add it to prohibited.yaml (reason and citations) or use a name "
                                               "the knowledge base has")
        if not isinstance(cites, list) or not cites or not all(isinstance(x, str) and x.strip() for x in cites):
            c.err(f"{where}.citations", "missing citations: the label, registration list or document that says which "
                                        "substance the product holds")
        if p.get("note") is not None:
            c.text(f"{where}.note", p.get("note"))


def validate(kb: KnowledgeBase, require_all_labels: bool = True) -> None:
    """Raise KnowledgeBaseError listing every schema problem; return None when the KB is sound."""
    c = _Checker(kb)
    _rules(c)
    if c.errors:
        raise KnowledgeBaseError(c.errors)
    for cid, names in kb.crops.items():
        c.text(f"crops.{cid}", names)
    for sid, s in kb.prohibited.items():
        if not isinstance(s, dict):
            c.err(f"prohibited.{sid}", "expected a mapping with reason and citations")
            continue
        c.ref(f"prohibited.{sid}.reason", s.get("reason"), kb.rules["prohibited_reasons"], "reason")
        for tid in s.get("ingredient_of") or []:
            c.ref(f"prohibited.{sid}.ingredient_of", tid, kb.treatments, "treatment")
        if s.get("note") is not None:
            c.text(f"prohibited.{sid}.note", s.get("note"))
        if not s.get("citations"):
            c.err(f"prohibited.{sid}", "missing citations")
    for tid, t in kb.treatments.items():
        _treatment(c, tid, t)
    for pid, p in kb.problems.items():
        _problem(c, pid, p)
    _products(c)
    if require_all_labels:
        for label in sorted(kb.model_labels - set(kb.problems)):
            c.err("problems", f"model label '{label}' from datasets/labels.yaml has no problem entry; add one")
        for label in sorted(kb.detector_labels - set(kb.problems)):
            c.err("problems", f"pest detector label '{label}' from datasets/labels.yaml (`detection:`) has no "
                              f"problem entry; add one with `detectable_by_model: false`")
    if c.errors:
        raise KnowledgeBaseError(c.errors)

"""The advisor: walks the knowledge base for one label and one context and builds ordered advice.

It knows no disease, crop or substance by name: problem types, IPM order, limits and texts all come
from the YAML, so a new crop is a new YAML file.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

from . import rules as rulebook
from .advice import Advice, Blocked, NotAllowed, Step
from .context import Context
from .errors import AdvisorError, UnknownLabelError, did_you_mean
from .kb import KnowledgeBase
from .loading import load_kb
from .substances import SubstanceIndex, _contains, fold, formulation, mixture_parts

STATUSES = ("ok", "uncertain", "not_a_leaf")
LANGS = ("en", "vi")
SAO_M2 = 360.0  # one sào in the north of Vietnam (Son La): 360 m²
# a mixture's condition line, under the name of the part it belongs to ("COC 85: pre-harvest interval: 7 days"); the
# phone bundle ships it (webapp/phone.py substance_bundle) so the offline app lists the same lines
PART_LINE = "{name}: {line}"


def _load(kb_dir: str, labels_file: str | None, require_all_labels: bool) -> KnowledgeBase:
    return load_kb(kb_dir, labels_file, require_all_labels)


@dataclass
class SubstanceCheck:
    """Whether a substance or treatment may be used; `allowed` is None when the KB does not know it."""
    query: str
    known: bool
    allowed: bool | None
    treatment_id: str | None
    prohibited: bool
    standards: dict  # standard id -> {status, citation}
    reason: dict     # {en, vi}
    citations: list
    # a mixture's parts that have a treatment entry, in the order typed: [{name, treatment_id}], the name as the
    # knowledge base writes what the part named ("COC 85"); empty for one name. Why: the verdict is the most
    # restrictive part's, but the grower must read every part's conditions (COC 85's copper limit beside Dipel)
    parts: list = field(default_factory=list)

    def to_dict(self) -> dict:
        from dataclasses import asdict
        return asdict(self)


class Advisor:
    def __init__(self, kb: KnowledgeBase):
        self.kb = kb
        self.rules = kb.rules
        self._index: SubstanceIndex | None = None
        self.unadvised: tuple[str, ...] = ()  # model labels with no entry yet (set by whoever loads the model)

    @classmethod
    def load(cls, kb_dir: str | Path | None = None, labels_file: str | Path | None = None,
             require_all_labels: bool = True) -> "Advisor":
        """Load and schema-check the YAML once per (kb_dir, labels_file); later calls hit the cache."""
        return cls(_load(str(kb_dir or ""), str(labels_file) if labels_file else None, require_all_labels))

    # ---- catalogue -------------------------------------------------------------------------------
    @property
    def copper_cap_kg_ha_7y(self) -> float:
        return float(self.rules["limits"]["copper"]["cap_kg_ha_7y"])

    def crops(self) -> list[dict]:
        return [{"id": cid, "names": dict(n)} for cid, n in sorted(self.kb.crops.items())]

    def problems(self, crop: str | None = None) -> list[dict]:
        if crop is not None and crop not in self.kb.crops:
            raise UnknownLabelError(f"unknown crop '{crop}'{did_you_mean(crop, self.kb.crops)}; "
                                    f"expected one of: {', '.join(sorted(self.kb.crops))}")
        return [self._summary(pid) for pid in sorted(self.kb.problems)
                if crop is None or self.kb.problems[pid]["crop"] == crop]

    def _summary(self, pid: str) -> dict:
        p = self.kb.problems[pid]
        return {"id": pid, "crop": p["crop"], "names": dict(p["names"]), "type": p["type"],
                "organism": p.get("organism"), "organism_vi": p.get("organism_vi"),
                "detectable_by_model": pid in self.kb.model_labels}

    def problem(self, label: str) -> dict:
        if label not in self.kb.problems:
            raise UnknownLabelError(f"unknown label '{label}'{did_you_mean(label, self.kb.problems)}; expected a "
                                    f"`crop.condition` id such as tomato.late_blight (see `leafscout advise --list`)")
        return self.kb.problems[label]

    # ---- substance audit -------------------------------------------------------------------------
    def substance_conditions(self, res: SubstanceCheck, lang: str) -> list[str]:
        """The conditions an allowed answer holds the grower to ("allowed with restrictions: only under its conditions
        of use"), one line each in `lang`: the entry's cautions, its pre-harvest and re-entry intervals, and each
        standard's status with its citation. Empty for a name that is not allowed or has no treatment entry.

        A mixture of allowed products ("Dipel + COC 85") lists every part's entry once, each line after the name of
        the part(s) it belongs to ("COC 85: ..."), in the order typed: the verdict is the most restrictive part's, and
        listing that part's conditions alone hid the copper limit of COC 85 when Dipel was the stricter one. A mixture
        whose parts are all the verdict's own entry ("Dipel + Bt") lists it as the name alone does."""
        if res.allowed is False:
            return []
        tids = list(dict.fromkeys(p["treatment_id"] for p in res.parts or []))
        if not tids or tids == [res.treatment_id]:
            entry = self.kb.treatments.get(res.treatment_id) if res.treatment_id else None
            return self._entry_conditions(entry, lang) if entry else []
        out = []
        for tid in tids:
            entry = self.kb.treatments.get(tid)
            if not entry:
                continue
            name = ", ".join(dict.fromkeys(p["name"] for p in res.parts if p["treatment_id"] == tid))
            out += [PART_LINE.format(name=name, line=x) for x in self._entry_conditions(entry, lang)]
        return out

    def _entry_conditions(self, entry: dict, lang: str) -> list[str]:
        """One treatment entry's condition lines in `lang` (substance_conditions of that entry named alone)."""
        words = self.rules["substance_verdicts"]
        lines = [c.get(lang) or c.get("en", "") for c in entry.get("cautions") or [] if isinstance(c, dict)]
        if entry.get("phi_days") is not None:
            lines.append(words["phi"][lang].format(n=entry["phi_days"]))
        if entry.get("rei_hours") is not None:
            lines.append(words["rei"][lang].format(n=entry["rei_hours"]))
        for sid, st in (entry.get("status") or {}).items():
            std = self.rules["standards"].get(sid, {}).get("name", {}).get(lang, sid)
            status = self.rules["statuses"].get(st.get("status"), {}).get(lang, st.get("status"))
            # an unverified row's citation is the reviewers' note of what was not read: the status says all the grower
            # needs ("not verified: ask your certifier first")
            cite = "" if st.get("status") == "unverified" else st.get("citation", "")
            lines.append(f"{std}: {status}: {cite}".rstrip(": "))
        return [x for x in lines if x]

    def check_substance(self, name: str) -> SubstanceCheck:
        """Look a substance, treatment id, alias or Vietnamese name up (accents optional).

        A name that contains a prohibited substance (a mixture, a product with its formulation code)
        is not allowed; otherwise the treatment's status under every standard decides.
        """
        q = str(name).strip()
        if self._index is None:
            # the products (trade names) straight from the knowledge base: however it was loaded (Advisor.load or the
            # service's own read_kb + validate), "Karate" is lambda-cyhalothrin
            self._index = SubstanceIndex(self.kb.prohibited, self.kb.treatments,
                                         products=getattr(self.kb, "products", None) or None)
        hit = self._index.lookup(q)
        if hit and hit[0] == "prohibited":
            s = self.kb.prohibited[hit[1]]
            reason = dict(self.rules["prohibited_reasons"][s["reason"]])
            if s.get("note"):
                reason = {l: f"{reason[l]} {s['note'][l]}" for l in LANGS}
            named = self._index.products_in(q)
            if named:  # a trade name: say what is in it ("Karate = lambda-cyhalothrin: not allowed ..."), so the
                # grower sees why a product with no banned word in its name voids certification
                said = "; ".join(f"{n} = {' + '.join(subs)}" for _, n, subs in named)
                reason = {l: f"{said}: {reason[l]}" for l in LANGS}
            return SubstanceCheck(q, True, False, None, True, {}, reason, list(s["citations"]))
        parts = mixture_parts(q, self.rules.get("formulation_codes"))
        if hit and len(parts) > 1 and not self._index.exact(q):
            # a mixture: a part the knowledge base does not know makes the whole unknown (never "allowed" on its
            # known part alone); else the most restrictive part answers
            unknown = next((x for x in parts if self._index.lookup(x) is None), None)
            if unknown is not None:
                return self._unknown(q, unknown)
            checks = [self.check_substance(x) for x in parts]
            unknown = next((c for c in checks if c.allowed is None), None)
            if unknown is not None:  # "Dipel + Kocide Padan 95SP": a part names a product the knowledge base lacks
                return replace(unknown, query=q)
            clash = self._incompatible([c.treatment_id for c in checks if c.treatment_id])
            if clash is not None:  # each may be allowed; in one tank they burn the leaves
                return SubstanceCheck(q, True, False, None, False, {}, clash, [])
            parts_named = [{"name": self._part_name(x, c.treatment_id), "treatment_id": c.treatment_id}
                           for x, c in zip(parts, checks) if c.treatment_id and c.allowed]
            return replace(max(checks, key=_restrictiveness), query=q, parts=parts_named)
        if hit:
            # "Thiovit Jet 80WG Bassa 50EC" (two bottles, no "+"): the coded product no known name covers is not known,
            # and the whole is not "allowed" on the known one
            other = self._index.unnamed_product(q, self.rules.get("formulation_codes"))
            if other is not None:
                return self._unknown(q, other)
            tid, other_form = hit[1], None
            form = formulation(q, self.rules.get("formulation_codes") or {})
            app = self.kb.treatments[tid].get("application")
            if form and app and app != form[0]:
                # "spinosad 25SC" is a spray: the entry of that substance applied as the code says, else the substance
                # itself (with the note that LeafScout advises it only in its own form), never the bait entry
                same = [x for x, _ in self._index.treatments_in(q) if self.kb.treatments[x].get("application") == form[0]]
                if same:
                    tid = same[0]
                else:
                    key = next(k for x, k in self._index.treatments_in(q) if x == tid)
                    other_form = (self._index.written.get(key, key), form)
            t = self.kb.treatments[tid]
            usable = all(self.rules["statuses"][s["status"]]["usable"] for s in t["status"].values())
            restricted = any(s["status"] == "restricted" for s in t["status"].values())
            unverified = [self.rules["standards"][sid]["name"] for sid, s in t["status"].items()
                          if s["status"] == "unverified"]
            head = "prohibited" if not usable else "restricted" if restricted else "allowed"
            verdicts = self.rules["substance_verdicts"]
            names = {l: other_form[0] if other_form else t["names"][l] for l in LANGS}
            if not other_form and "alias" in verdicts:
                # "copper oxychloride" is found in the copper hydroxide entry: say the entry covers it, not just its name
                key = next((k for x, k in self._index.treatments_in(q) if x == tid), "")
                own = [fold(n) for n in (tid, t["names"]["en"], t["names"]["vi"])]
                if key and not any(key == o or _contains(o, key) for o in own):
                    names = {l: verdicts["alias"][l].format(name=t["names"][l], alias=self._index.written.get(key, key))
                             for l in LANGS}
            reason = {l: (verdicts[head][l].format(name=names[l])
                          + ("; " + ", ".join(u[l] for u in unverified) + ": "
                             + self.rules["statuses"]["unverified"][l] if unverified and usable else ""))
                      for l in LANGS}
            if other_form:
                forms = self.rules["formulation_codes"]
                reason = {l: reason[l] + ". " + verdicts["other_form"][l].format(
                    substance=other_form[0], name=t["names"][l], form=forms[other_form[1][0]]["names"][l],
                    code=other_form[1][1]) for l in LANGS}
            return SubstanceCheck(q, True, usable, None if other_form else tid, False,
                                  {k: dict(v) for k, v in t["status"].items()},
                                  reason, [s["citation"] for s in t["status"].values()])
        return self._unknown(q, q)

    def _part_name(self, part: str, tid: str) -> str:
        """The name a mixture's part gave its entry, as the knowledge base writes it ("coc 85" -> "COC 85"): the
        longest name of that entry in the part; the entry's English name if none (not the typed text)."""
        key = next((k for x, k in self._index.treatments_in(part) if x == tid), None)
        return self._index.written.get(key, key) if key else self.kb.treatments[tid]["names"]["en"]

    def _unknown(self, q: str, name: str) -> SubstanceCheck:
        """`q` (or its part `name`) is not in the knowledge base: treat it as not allowed until the certifier says."""
        near = self._index.nearest(name)  # a substance it knows, never a cultural step's id
        hint = {"en": f" (did you mean '{near}'?)" if near else "", "vi": f" (có phải ý bạn là '{near}'?)" if near else ""}
        return SubstanceCheck(q, False, None, None, False, {},
                              {"en": f"'{name}' is not in the knowledge base{hint['en']}: treat it as not allowed until "
                                     f"your certifier confirms it.",
                               "vi": f"'{name}' không có trong cơ sở dữ liệu{hint['vi']}: coi như không được phép cho "
                                     f"đến khi tổ chức chứng nhận xác nhận."}, [])

    def _incompatible(self, tids: list[str]) -> dict | None:
        """The reason two treatments of a mixture must not be used together (their `incompatible_with`), or None."""
        msgs = self.rules["messages"]
        for tid in tids:
            for inc in self.kb.treatments[tid].get("incompatible_with") or []:
                if inc["treatment"] in tids and inc["treatment"] != tid:
                    name, other = self.kb.treatments[tid]["names"], self.kb.treatments[inc["treatment"]]["names"]
                    return {l: f"{name[l]}: " + msgs["incompatible"][l].format(days=inc["days"], other=other[l])
                            for l in LANGS}
        return None

    # ---- advice ----------------------------------------------------------------------------------
    def advise(self, label: str, ctx: Context | dict | None = None, status: str = "ok",
               check_first: float | None = None) -> Advice:
        """Advice for one problem id. `check_first`: the calibrated confidence of an `ok` answer the caller
        judged too low to act on without looking (more likely wrong than right): the advice then opens with
        "check the signs first" and its confidence; None (the default) for an answer to act on, or a problem
        picked by a person."""
        if status not in STATUSES:
            raise AdvisorError(f"status must be one of {', '.join(STATUSES)}, got '{status}'{did_you_mean(status, STATUSES)}")
        ctx = ctx if isinstance(ctx, Context) else Context.from_dict(ctx)
        if ctx.standards:
            for sid in ctx.standards:
                if sid not in self.rules["standards"]:
                    raise AdvisorError(f"unknown standard '{sid}'{did_you_mean(sid, self.rules['standards'])}")
        p = self.problem(label)
        ptype = self.rules["problem_types"][p["type"]]
        msgs = self.rules["messages"]
        advice = Advice(
            label=label, status=status,
            crop={"id": p["crop"], "names": dict(self.kb.crops[p["crop"]])},
            problem={**self._summary(label), "type_names": {l: ptype[l] for l in LANGS}},
            reminders=[{l: r[l] for l in LANGS} for r in self.rules["reminders"]],
            context=ctx.to_dict())
        if status == "not_a_leaf" or ptype.get("not_a_leaf"):
            advice.status = "not_a_leaf"
            advice.messages = [dict(m) for m in msgs["not_a_leaf"]]
            return advice
        advice.checks = self._checks(p)
        if ptype.get("lists_crop_problems"):
            # `<crop>.other`: the crop is known, the problem is none the model names; list the crop's entries
            alts = self.alternatives(label)
            advice.problem["alternatives"] = alts
            crop = self.kb.crops[p["crop"]]
            names = {l: ", ".join(self.kb.problems[a]["names"][l] + (f" ({a})" if l == "en" else "") for a in alts)
                     for l in LANGS}
            advice.messages = [{l: _sentence(msgs["crop_other"][l].format(crop=crop[l].lower())) for l in LANGS},
                               {l: msgs["crop_other_choose"][l].format(crop=crop[l].lower(), names=names[l])
                                for l in LANGS}]
            if status == "uncertain":
                advice.messages += [dict(m) for m in msgs["uncertain"]]
                return advice
        elif status == "uncertain":
            advice.messages = [{l: msgs["uncertain_possible"][l].format(name=p["names"][l]) for l in LANGS}]
            advice.messages += [dict(m) for m in msgs["uncertain"]]
            return advice
        self._fill(advice, label, p, ptype, ctx)
        if check_first is not None and status == "ok":
            advice.check_first = True
            pct = percent(check_first)
            key = "check_first" if advice.checks else "check_first_look"  # a healthy leaf has no signs to check
            advice.messages.insert(0, {l: msgs[key][l].format(pct=pct) for l in LANGS})
        self._place_words(advice, p["crop"])
        return advice

    def _place_words(self, advice: Advice, crop: str) -> None:
        """Put the crop's word for where it grows (rules.field_words: vườn, nương, ruộng) where a text says {field}."""
        fw = self.rules.get("field_words") or {}
        word = (fw.get("by_crop") or {}).get(crop) or fw.get("default")
        if not word:
            return

        def sub(t: dict | None) -> dict | None:
            return {l: v.replace("{field}", word[l]) for l, v in t.items()} if t else t
        advice.messages = [sub(m) for m in advice.messages]
        for st in advice.steps:
            st.title, st.how, st.short = sub(st.title), sub(st.how), sub(st.short)
            st.cautions = [sub(c) for c in st.cautions]
        for b in advice.blocked:
            b.title, b.reason = sub(b.title), sub(b.reason)

    def alternatives(self, label: str) -> list[str]:
        """The other entries of a label's crop that a grower can pick by eye (not healthy, not another
        `lists_crop_problems` entry): the ones the model names first, then the rest, each group by id."""
        crop = self.kb.problems[label]["crop"]
        types = self.rules["problem_types"]
        ids = [pid for pid, q in self.kb.problems.items() if q["crop"] == crop and pid != label
               and not types[q["type"]].get("healthy") and not types[q["type"]].get("lists_crop_problems")]
        return sorted(ids, key=lambda pid: (pid not in self.kb.model_labels, pid))

    def _checks(self, p: dict) -> list[dict]:
        return [{"field": k, "text": dict(p[k])} for k in ("symptoms", "favoured_by", "spread", "vector") if p.get(k)]

    def _fill(self, advice: Advice, label: str, p: dict, ptype: dict, ctx: Context) -> None:
        msgs, r = self.rules["messages"], self.rules
        curable = p.get("curable", ptype.get("curable", True))
        if ptype.get("healthy"):
            advice.messages.append(dict(msgs["healthy"]))
        if not curable:
            advice.messages.append(dict(r["incurable"]["message"]))
        if p.get("remove"):
            advice.messages.append({l: msgs["remove"][l].format(what=p["remove"][l]) for l in LANGS})
        related = [self.kb.problems[x] for x in p.get("related") or []]
        if related:
            advice.messages.append({l: msgs["related"][l].format(names=", ".join(q["names"][l] for q in related))
                                    for l in LANGS})
        if not ctx.organic:
            advice.messages.append(dict(msgs["conventional"]))
        if p.get("note"):
            advice.messages.append(dict(p["note"]))
        advice.risk = self._risk(p, ptype, related, ctx)

        wanted: list[tuple[str, str]] = []  # (treatment id, target), first occurrence wins
        for src in [p] + related:
            wanted += [(t, "problem") for t in src.get("treatments") or []]
            wanted += [(t, "vector") for t in src.get("vector_control") or []]
        seen: set[str] = set()
        steps: list[Step] = []
        extra = p.get("treatment_cautions") or {}
        for tid, target in wanted:
            if tid in seen:
                continue
            seen.add(tid)
            t = self.kb.treatments[tid]
            findings = rulebook.evaluate(t, ctx, r, problem=p)
            blocks = [f for f in findings if f.block]
            title = dict(t["names"])
            if blocks:
                advice.blocked.extend(Blocked(tid, t["category"], title, f.code, f.text) for f in blocks)
                continue
            step = self._step(tid, t, target, [dict(c) for c in extra.get(tid) or []] + [f.text for f in findings])
            if step.dose and p.get("spray_interval_days"):
                step.dose["interval"] = {l: r["messages"]["interval"][l].format(days=p["spray_interval_days"])
                                         for l in LANGS}
            step.phase = self._phase(tid, t, p)
            steps.append(step)
        ids = {s.treatment_id for s in steps}
        for s in steps:  # pairs that burn leaves when used close together
            for inc in self.kb.treatments[s.treatment_id].get("incompatible_with") or []:
                if inc["treatment"] in ids:
                    other = self.kb.treatments[inc["treatment"]]["names"]
                    s.cautions.append({l: msgs["incompatible"][l].format(days=inc["days"], other=other[l]) for l in LANGS})
        monitor_src = next((q for q in [p] + related if q.get("monitoring")), None)
        at = p.get("action_threshold")
        threshold = ({"en": at["text_en"], "vi": at["text_vi"]} if at
                     else dict(p["threshold"]) if p.get("threshold") else None)
        rechecks = r["plan"]["recheck"]
        recheck = rechecks["other"]
        if p.get("speed") == "fast":  # in days; after rain and dew only where the wet drives it (not an insect's)
            wet = rulebook.favoured_by_wet(p, r) or any(rulebook.favoured_by_wet(q, r) for q in related)
            recheck = rechecks["fast"] if wet or "fast_dry" not in rechecks else rechecks["fast_dry"]
        steps.append(Step(kind="monitoring", category="monitoring",
                          title=dict(r["categories"]["monitoring"]),
                          how=dict(monitor_src["monitoring"] if monitor_src else msgs["monitoring_default"]),
                          threshold=threshold, action_threshold=dict(at) if at else None,
                          citations=[at["source"]] if at else [], phase="week", short=dict(recheck)))
        advice.steps = self._order(steps, p)
        for src in [p] + related:
            for sid in src.get("do_not_use") or []:
                if sid not in [n.substance for n in advice.not_allowed]:
                    s = self.kb.prohibited[sid]
                    advice.not_allowed.append(NotAllowed(sid, dict(r["prohibited_reasons"][s["reason"]]),
                                                         list(s["citations"])))

    def _phase(self, tid: str, t: dict, p: dict) -> str:
        """today | week | season: the entry's `today:` list, then the treatment's own `phase:`, then its category's
        default (rules.plan.default_phase); a fast problem's inputs are today's (protect the crop now)."""
        plan = self.rules["plan"]
        if tid in (p.get("today") or []):
            return "today"
        if t.get("phase"):
            return t["phase"]
        if (p.get("speed") == "fast" and t["category"] in plan["fast_today_categories"]
                and p["type"] in plan["fast_today_types"]):
            return "today"
        return plan["default_phase"][t["category"]]

    def _order(self, steps: list[Step], p: dict) -> list[Step]:
        """Today, this week, next season; within today the entry's `today:` order first (protectant first), then
        the NOP 205.206 IPM order, which orders every other phase too (stable: data order within a category)."""
        phases, order = self.rules["plan"]["phases"], self.rules["ipm_order"]
        first = list(p.get("today") or [])

        def key(s: Step):
            pinned = first.index(s.treatment_id) if s.phase == "today" and s.treatment_id in first else len(first)
            return (phases.index(s.phase), pinned, order.index(s.category))
        return sorted(steps, key=key)

    def _step(self, tid: str, t: dict, target: str, cautions: list[dict]) -> Step:
        return Step(kind="treatment", category=t["category"], title=dict(t["names"]), how=dict(t["how"]),
                    treatment_id=tid, target=target, active=t.get("active"),
                    organic_status={k: dict(v) for k, v in t["status"].items()},
                    citations=[v["citation"] for v in t["status"].values()]
                    + ([t["dose"]["source"]] if t.get("dose") else []),
                    phi_days=t.get("phi_days"), rei_hours=t.get("rei_hours"),
                    sold_in_vietnam=t.get("sold_in_vietnam"),
                    cautions=[dict(c) for c in t.get("cautions") or []] + cautions,
                    dose=self.dose(tid), ppe=dict(t["ppe"]) if t.get("ppe") else None,
                    copper_kg_ha=t.get("copper_kg_ha"),
                    copper_note=dict(t["copper_basis"]) if t.get("copper_basis") else None,
                    short=dict(t["short"]) if t.get("short") else None)

    def dose(self, tid: str) -> dict | None:
        """A spray's dose for a 16-litre backpack sprayer, per 1,000 m² and per sào (360 m²), and its interval,
        as {en, vi} texts; every figure the knowledge base has no source for reads "see the product label"."""
        t = self.kb.treatments[tid]
        d = t.get("dose")
        if not d:
            return None
        label = self.rules["messages"]["see_label"]

        def amount(a: dict | None, scale: float = 1.0, what: bool = True) -> dict:
            if not a:
                return dict(label)
            lo, hi = a["min"] * scale, a.get("max", a["min"]) * scale
            num = {l: _n(lo, l) if lo == hi else f"{_n(lo, l)}-{_n(hi, l)}" for l in LANGS}
            water = ""
            if a.get("water_l") and what:
                water = {l: " " + self.rules["messages"]["dose_water"][l].format(litres=_n(a["water_l"] * scale, l))
                         for l in LANGS}
            return {l: f"{num[l]} {a['unit']}" + (f" {a['what'][l]}" if a.get("what") and what else "")
                    + (water[l] if water else "") for l in LANGS}

        iv = d.get("interval_days")
        interval = ({l: self.rules["messages"]["interval"][l].format(days=iv) for l in LANGS} if iv else dict(label))
        sao = SAO_M2 / 1000.0
        # the *_amount texts are the bare quantity (no product description), for the today-part of a page
        return {"per_16l": amount(d.get("per_16l")), "per_1000m2": amount(d.get("per_1000m2")),
                "per_sao": amount(d.get("per_1000m2"), sao), "interval": interval,
                "per_16l_amount": amount(d.get("per_16l"), what=False),
                "per_sao_amount": amount(d.get("per_1000m2"), sao, what=False),
                "source": d["source"]}

    def _risk(self, p: dict, ptype: dict, related: list[dict], ctx: Context) -> dict:
        levels = ["low", "medium", "high"]
        level = ctx.severity or "unknown"
        reasons = []
        sensitive = rulebook.favoured_by_wet(p, self.rules) or any(rulebook.favoured_by_wet(q, self.rules)
                                                                    for q in related)
        if ctx.rainy_season and sensitive:
            level = levels[min(levels.index(ctx.severity) + 1, 2)] if ctx.severity else "high"
            reasons.append(dict(self.rules["messages"]["risk_rain"]))
        return {"level": level, "reasons": reasons}


def _restrictiveness(check: SubstanceCheck) -> int:
    """Not allowed 3, restricted 2, unverified under some standard 1, allowed 0: a mixture answers as its worst part."""
    statuses = {s.get("status") for s in check.standards.values()}
    return 3 if check.allowed is False else 2 if "restricted" in statuses else 1 if "unverified" in statuses else 0


def percent(share: float) -> str:
    """0.445 -> "45%": half up, as the phone app's Math.round (Python's round() halves to even)."""
    return f"{math.floor(100 * float(share) + 0.5):d}%"


def _sentence(text: str) -> str:
    """A message that starts with a crop name put in lower case for mid-sentence use starts with a capital."""
    return text[:1].upper() + text[1:]


def _n(x: float, lang: str = "en") -> str:
    """A dose figure to one decimal, with the language's decimal mark (vi: comma, "1,8")."""
    text = f"{round(x, 1):g}"
    return text.replace(".", ",") if lang == "vi" else text


def words_in(text: str, words: list[str]) -> list[str]:
    """Which of `words` occur in text as whole words (case-insensitive): used by the safety audit."""
    return [w for w in words if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", text, re.I)]

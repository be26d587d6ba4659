"""Season audit: every action on every plot, flagged where the organic standard would not allow
it, with copper totals against the 7-year cap.

Which substances are allowed is the advisor's knowledge, not ours: pass `checker`
(substance -> (allowed, reason)) or let `default_checker()` load it from `advisor`.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Callable

from .errors import FieldLogError
from .text import decimal_g as _g  # a kg figure as the report always wrote it, vi with a decimal comma

Checker = Callable[[str], object]


@dataclass
class AuditRow:
    plot: str
    organic_status: str
    action: object  # schema.Action
    allowed: bool | None  # None: nothing to check (no substance recorded)
    reason: str


@dataclass
class CopperRow:
    plot: str
    area_ha: float
    year_kg_ha: float
    seven_years_kg_ha: float
    cap_kg_ha_7y: float

    @property
    def over_cap(self) -> bool:
        return self.seven_years_kg_ha > self.cap_kg_ha_7y + 1e-9


@dataclass
class AuditReport:
    start: dt.datetime
    end: dt.datetime
    rows: list[AuditRow] = field(default_factory=list)
    copper: list[CopperRow] = field(default_factory=list)
    # observations in the season: only those a person confirmed or corrected count as diagnoses
    diagnoses: list = field(default_factory=list)      # (plot name, Observation), confirmed or corrected
    unconfirmed: list = field(default_factory=list)    # (plot name, Observation), model suggestions only
    lang: str = "en"  # the language the substance check's reasons were read in: to_text's default

    @property
    def flagged(self) -> list[AuditRow]:
        return [r for r in self.rows if r.allowed is False]

    @property
    def ok(self) -> bool:
        return not self.flagged and not any(c.over_cap for c in self.copper)

    def to_text(self, lang: str | None = None) -> str:
        """The report on the recorder's calendar (dates as typed: a spray logged "2026-01-01" in Son La is
        2026-01-01, though stored as 2025-12-31 17:00 UTC); the period's end is its last day.

        In `lang` (vi or en; by default the language the audit was run in, `season_audit(lang=...)`): an officer
        hands the report to a cooperative or a certifier in Vietnamese. Dates stay ISO (as typed and as the CLI
        shows them); numbers take the language's decimal mark; the substance check's reasons were read in the
        audit's language. The marks are padded to one width so the rows line up in either language."""
        from .text import shown as sh
        from .timeutil import fmt_local, zone_name

        lang = lang or self.lang
        tr = audit_text(lang)
        g = lambda x: _g(x, lang)  # noqa: E731
        marks = {k: tr(f"mark_{k}") for k in ("ok", "flag", "none", "unconfirmed", "over")}
        width = max(len(m) for m in marks.values())
        mark = lambda k: marks[k].ljust(width)  # noqa: E731
        last = self.end - dt.timedelta(seconds=1)
        zone = zone_name(self.start)
        lines = [tr("head", start=fmt_local(self.start, '%Y-%m-%d'), end=fmt_local(last, '%Y-%m-%d'),
                    zone="" if zone == "UTC" else tr("zone", zone=zone), n=len(self.rows), flagged=len(self.flagged),
                    over=sum(c.over_cap for c in self.copper), diagnoses=len(self.diagnoses),
                    unconfirmed=tr("unconfirmed", n=len(self.unconfirmed)) if self.unconfirmed else "")]
        for r in self.rows:
            a = r.action
            lines.append(f"{mark({True: 'ok', False: 'flag', None: 'none'}[r.allowed])} "
                         f"{fmt_local(a.at, '%Y-%m-%d')} {sh(r.plot)}: {sh(a.what)}"
                         f"{f' ({sh(a.active_substance or a.product)})' if a.active_substance or getattr(a, 'product', None) else ''}"
                         f" — {sh(r.reason)}")
        for plot, o in self.unconfirmed:
            lines.append(f"{mark('unconfirmed')} {fmt_local(o.observed_at, '%Y-%m-%d')} {sh(plot)}: "
                         + tr("unconfirmed_row", id=o.id, label=o.label, status=_status(o.status, lang),
                              confidence=f"{o.confidence:.0%}"))
        for c in self.copper:
            lines.append(f"{mark('over' if c.over_cap else 'ok')} "
                         + tr("copper_row", plot=sh(c.plot), year=g(c.year_kg_ha), seven=g(c.seven_years_kg_ha),
                              cap=g(c.cap_kg_ha_7y)))
        return "\n".join(lines)


# The report's own words, in Vietnamese and English (the field log imports nothing of the app, so they live here,
# as the exports' live in export.PDF_TEXT). The English is the report as it always read, word for word.
AUDIT_LANGS = ("vi", "en")
AUDIT_TEXT: dict[str, dict[str, str]] = {
    "head": {"en": "Audit {start} to {end}{zone}: {n} actions, {flagged} not allowed, {over} plots over the copper "
                   "cap; {diagnoses} confirmed diagnoses{unconfirmed}",
             "vi": "Kiểm tra mùa vụ từ {start} đến {end}{zone}: {n} việc đã làm, {flagged} việc không được phép, "
                   "{over} lô ruộng vượt giới hạn đồng; {diagnoses} chẩn đoán đã xác nhận{unconfirmed}"},
    "zone": {"en": " (dates in {zone})", "vi": " (ngày theo giờ {zone})"},
    "unconfirmed": {"en": ", {n} unconfirmed model results (not counted)",
                    "vi": ", {n} kết quả của máy chưa xác nhận (không tính)"},
    # a row's mark: what a reader scans the left edge for
    "mark_ok": {"en": "ok", "vi": "ĐẠT"},
    "mark_flag": {"en": "FLAG", "vi": "KHÔNG ĐẠT"},
    "mark_none": {"en": "----", "vi": "----"},  # nothing to check: no substance recorded
    "mark_unconfirmed": {"en": "UNCF", "vi": "CHƯA XÁC NHẬN"},
    "mark_over": {"en": "OVER", "vi": "VƯỢT"},
    "unconfirmed_row": {"en": "#{id} {label} ({status}, {confidence}) — not counted until a person confirms it: "
                              "leafscout log confirm {id} --by NAME",
                        "vi": "#{id} {label} ({status}, {confidence}) — chưa được tính cho đến khi có người xác "
                              "nhận: leafscout log confirm {id} --by TÊN"},
    "copper_row": {"en": "copper {plot}: {year} kg/ha this year, {seven} kg/ha over 7 years (cap {cap})",
                   "vi": "đồng {plot}: {year} kg/ha năm nay, {seven} kg/ha trong 7 năm (giới hạn {cap})"},
    "no_substance": {"en": "no active substance recorded (cultural or mechanical measure)",
                     "vi": "không ghi hoạt chất (biện pháp canh tác hoặc cơ giới)"},
    "product_unchecked": {"en": "product {product!r} is not one the substance list knows and no active substance was "
                                 "recorded: record its active substance (--substance) to have it checked",
                          "vi": "sản phẩm {product!r} không có trong danh mục hoạt chất và không ghi hoạt chất: hãy ghi "
                                "hoạt chất của nó (--substance) để được kiểm tra"},
    "allowed": {"en": "allowed", "vi": "được phép"},
    "not_allowed": {"en": "not allowed", "vi": "không được phép"},
}


def audit_text(lang: str):
    """The report's words in `lang` (an unknown language reads English): tr(key, **values)."""
    from .text import translator
    return translator(AUDIT_TEXT, AUDIT_LANGS, lang)



def _status(status: str, lang: str) -> str:
    """A model result's status (ok, uncertain ...) in `lang`, from the exports' table; English as stored."""
    if lang == "en":
        return status
    from .export import PDF_TEXT
    entry = PDF_TEXT.get(f"st_{status}")
    return (entry.get(lang) or status) if entry else status


def _verdict(result, lang: str = "en") -> tuple[bool, str]:
    """Accept (allowed, reason), an object with .allowed/.reason (advisor's SubstanceCheck), or a bool.

    allowed=None means the list does not know the substance: the advisor says to treat that as not
    allowed until the certifier confirms, so the audit flags it too. A reason may be {lang: text}.
    """
    tr = audit_text(lang)
    if isinstance(result, bool):
        return result, tr("allowed") if result else tr("not_allowed")
    if isinstance(result, tuple) and len(result) == 2:
        allowed, reason = result
    elif hasattr(result, "allowed"):
        allowed, reason = result.allowed, getattr(result, "reason", "")
    else:
        raise FieldLogError(f"substance checker returned {result!r}; expected (allowed, reason).")
    if isinstance(reason, dict):
        reason = reason.get(lang) or reason.get("en") or next(iter(reason.values()), "")
    return allowed is True, str(reason or (tr("allowed") if allowed else tr("not_allowed")))


def _knows(result) -> bool:
    """Did the substance check know the name (allowed or not), as opposed to 'not in the knowledge base' (None)?"""
    if isinstance(result, bool):
        return True
    if isinstance(result, tuple) and len(result) == 2:
        return result[0] is not None
    return getattr(result, "allowed", None) is not None


@dataclass
class ActionVerdict:
    """What the substance list says of one logged action. `allowed` None: nothing to check, or only a product the
    list does not know (the row says to record its substance); `name`: the substance or product the verdict is
    about; `known`: the list knew it (the log's warning speaks only then; the audit flags an unknown substance)."""
    allowed: bool | None
    reason: str
    name: str | None = None
    known: bool = False


def judge_action(action, checker: Checker, lang: str = "en") -> ActionVerdict:
    """One action against `checker` (substance -> verdict), for the season audit and the warning said when the action
    is logged (`leafscout.service.substance_warning`), so both say the same of it:
    * the substance written, else the product ("Karate 2.5EC", "COC 85": the list knows trade names too);
    * "copper sulphate" in a "Phun Bordeaux 1%" row is allowed only as the ingredient of what the row says it made,
      which the list judges when it reads both; a substance it does not know is not cleared by the row's words;
    * "Karate 2.5EC" logged with "Bt" beside it: the product went into the tank, and one that holds a prohibited
      substance voids certification whatever substance was written (only the advisor's answer says `prohibited`;
      a product it does not know, or a checker of substances only, leaves the row to the substance)."""
    tr = audit_text(lang)
    substance = (action.active_substance or "").strip()
    product = (getattr(action, "product", None) or "").strip()
    name = substance or product
    if not name:
        return ActionVerdict(None, tr("no_substance"))
    result = checker(name)
    known = _knows(result)
    if not substance and not known:
        return ActionVerdict(None, tr("product_unchecked", product=product), product)
    allowed, reason = _verdict(result, lang)
    context = " ".join(x for x in (action.what, product) if x and x.strip() != name)
    if not allowed and known and context:
        with_context = _verdict(checker(f"{context} ({name})"), lang)
        if with_context[0]:
            allowed, reason = with_context
    if allowed and substance and product and product != substance:
        by_product = checker(product)
        if getattr(by_product, "prohibited", False) is True and getattr(by_product, "allowed", None) is False:
            return ActionVerdict(False, _verdict(by_product, lang)[1], product, True)
    return ActionVerdict(allowed, reason, name, known)


def season_audit(log, start, end, checker: Checker | None = None,
                 copper_cap_kg_ha_7y: float | None = None, lang: str = "en") -> AuditReport:
    """Audit actions with start <= time < end against `checker` (substance -> (allowed, reason)) and the
    copper cap. The field log knows no substance list of its own: the application service passes the
    advisor's (`leafscout.service.audit_season`), so the log never imports the advisor."""
    from .timeutil import local_year, to_utc

    start_utc = to_utc(start, "season start", allow_future=True)
    end_utc = to_utc(end, "season end", allow_future=True)
    if end_utc <= start_utc:
        raise FieldLogError(f"season: the end ({end}) must come after the start ({start}).")
    if checker is None or copper_cap_kg_ha_7y is None:
        raise FieldLogError("the audit needs a substance checker and the copper cap: call it through the "
                            "application service (leafscout.service.audit_season), which passes the advisor's.")
    report = AuditReport(start_utc, end_utc, lang=lang if lang in AUDIT_LANGS else "en")
    for plot, action in log.actions_between(start_utc, end_utc):
        v = judge_action(action, checker, lang)
        substance = (action.active_substance or "").strip()
        # a product that overruled the substance written beside it is named in the row's reason
        reason = f"{v.name}: {v.reason}" if substance and v.name and v.name != substance else v.reason
        allowed = v.allowed
        report.rows.append(AuditRow(plot.name, plot.organic_status, action, allowed, reason))
    # a corrected observation is a person's call too (they named the label), and it can no longer be confirmed
    corrected = {c.observation_id for c in log.corrections()}
    for plot, obs in log.observations_between(start_utc, end_utc):
        (report.diagnoses if obs.confirmed_by or obs.id in corrected else report.unconfirmed).append((plot.name, obs))
    year = local_year(end_utc - dt.timedelta(seconds=1))  # the season's year on the recorder's calendar
    for plot in log.plots():
        this_year, seven = log.copper_used(plot, year)
        report.copper.append(CopperRow(plot.name, plot.area_ha, this_year, seven, copper_cap_kg_ha_7y))
    return report

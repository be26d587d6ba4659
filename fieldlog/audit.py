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

    @property
    def flagged(self) -> list[AuditRow]:
        return [r for r in self.rows if r.allowed is False]

    @property
    def ok(self) -> bool:
        return not self.flagged and not any(c.over_cap for c in self.copper)

    def to_text(self) -> str:
        """The report on the recorder's calendar (dates as typed: a spray logged "2026-01-01" in Son La is
        2026-01-01, though stored as 2025-12-31 17:00 UTC); the period's end is its last day."""
        from .text import shown as sh
        from .timeutil import fmt_local, zone_name

        last = self.end - dt.timedelta(seconds=1)
        zone = zone_name(self.start)
        lines = [f"Audit {fmt_local(self.start, '%Y-%m-%d')} to {fmt_local(last, '%Y-%m-%d')}"
                 f"{'' if zone == 'UTC' else f' (dates in {zone})'}: {len(self.rows)} actions, "
                 f"{len(self.flagged)} not allowed, "
                 f"{sum(c.over_cap for c in self.copper)} plots over the copper cap; "
                 f"{len(self.diagnoses)} confirmed diagnoses"
                 f"{f', {len(self.unconfirmed)} unconfirmed model results (not counted)' if self.unconfirmed else ''}"]
        for r in self.rows:
            a = r.action
            mark = {True: "ok  ", False: "FLAG", None: "----"}[r.allowed]
            lines.append(f"{mark} {fmt_local(a.at, '%Y-%m-%d')} {sh(r.plot)}: {sh(a.what)}"
                         f"{f' ({sh(a.active_substance)})' if a.active_substance else ''} — {sh(r.reason)}")
        for plot, o in self.unconfirmed:
            lines.append(f"UNCF {fmt_local(o.observed_at, '%Y-%m-%d')} {sh(plot)}: #{o.id} {o.label} ({o.status}, {o.confidence:.0%}) — "
                         f"not counted until a person confirms it: leafscout log confirm {o.id} --by NAME")
        for c in self.copper:
            lines.append(f"{'OVER' if c.over_cap else 'ok  '} copper {sh(c.plot)}: {c.year_kg_ha:g} kg/ha this year, "
                         f"{c.seven_years_kg_ha:g} kg/ha over 7 years (cap {c.cap_kg_ha_7y:g})")
        return "\n".join(lines)


def _verdict(result, lang: str = "en") -> tuple[bool, str]:
    """Accept (allowed, reason), an object with .allowed/.reason (advisor's SubstanceCheck), or a bool.

    allowed=None means the list does not know the substance: the advisor says to treat that as not
    allowed until the certifier confirms, so the audit flags it too. A reason may be {lang: text}.
    """
    if isinstance(result, bool):
        return result, "allowed" if result else "not allowed"
    if isinstance(result, tuple) and len(result) == 2:
        allowed, reason = result
    elif hasattr(result, "allowed"):
        allowed, reason = result.allowed, getattr(result, "reason", "")
    else:
        raise FieldLogError(f"substance checker returned {result!r}; expected (allowed, reason).")
    if isinstance(reason, dict):
        reason = reason.get(lang) or reason.get("en") or next(iter(reason.values()), "")
    return allowed is True, str(reason or ("allowed" if allowed else "not allowed"))


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
    report = AuditReport(start_utc, end_utc)
    for plot, action in log.actions_between(start_utc, end_utc):
        if action.active_substance:
            allowed, reason = _verdict(checker(action.active_substance), lang)
        else:
            allowed, reason = None, "no active substance recorded (cultural or mechanical measure)"
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

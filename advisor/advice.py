"""The advice object: plain dataclasses of JSON types, so to_dict/from_dict round-trip exactly.

Texts are {"en": ..., "vi": ...} dicts; the renderer picks the language.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

Text = dict  # {"en": str, "vi": str}


@dataclass
class Step:
    kind: str                      # treatment | monitoring | info
    category: str                  # an ipm_order category
    title: Text
    how: Text
    treatment_id: str | None = None
    target: str = "problem"        # problem | vector
    active: str | None = None
    organic_status: dict[str, dict] = field(default_factory=dict)  # standard -> {status, citation}
    citations: list[str] = field(default_factory=list)
    phi_days: float | None = None
    rei_hours: float | None = None
    sold_in_vietnam: Any = None    # True | False | "unverified" | None (not applicable)
    cautions: list[Text] = field(default_factory=list)
    threshold: Text | None = None
    # a spray's dose: {per_16l, per_1000m2, per_sao, interval: Text, source: str}; "see the product label"
    # wherever the knowledge base has no sourced figure
    dose: dict | None = None
    ppe: Text | None = None              # protective gear
    copper_kg_ha: float | None = None    # kg metallic Cu/ha one application adds to the copper ledger
    copper_note: Text | None = None      # how that figure was worked out, and how to work out your own
    # machine-readable action threshold {count, unit, text_en, text_vi, source, ...} on the monitoring step
    action_threshold: dict | None = None
    # when to do it: today (what protects the crop now) | week (monitoring, follow-up) | season (next planting)
    phase: str = "week"
    short: Text | None = None            # one line for the today card: what to do, in a few words


@dataclass
class Blocked:
    treatment_id: str
    category: str
    title: Text
    reason_code: str               # phi | copper_cap | heat | severity | status
    reason: Text


@dataclass
class NotAllowed:
    substance: str
    reason: Text
    citations: list[str]


@dataclass
class Advice:
    label: str
    status: str                    # ok | uncertain | not_a_leaf
    crop: dict                     # {id, names}
    # {id, names, organism, organism_vi, type, type_names, detectable_by_model}; organism_vi is the Vietnamese of
    # a plain-words organism note (None for a Latin name, which reads the same in both languages)
    problem: dict
    checks: list[dict] = field(default_factory=list)     # [{field, text}] symptoms etc. to confirm by eye
    risk: dict = field(default_factory=lambda: {"level": "unknown", "reasons": []})
    steps: list[Step] = field(default_factory=list)
    blocked: list[Blocked] = field(default_factory=list)
    not_allowed: list[NotAllowed] = field(default_factory=list)
    messages: list[Text] = field(default_factory=list)
    reminders: list[Text] = field(default_factory=list)
    context: dict = field(default_factory=dict)
    # the diagnosis is more likely wrong than right (the caller decides, e.g. leafscout.service.CHECK_FIRST_BELOW): the page
    # and its today-part open with "check the signs first"; the plan itself is unchanged
    check_first: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Advice":
        d = dict(data)
        d["steps"] = [Step(**s) for s in d.get("steps", [])]
        d["blocked"] = [Blocked(**b) for b in d.get("blocked", [])]
        d["not_allowed"] = [NotAllowed(**n) for n in d.get("not_allowed", [])]
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})

    @property
    def recommended_ids(self) -> list[str]:
        return [s.treatment_id for s in self.steps if s.treatment_id]

    def render(self, lang: str = "vi", fmt: str = "text", rules: dict | None = None) -> str:
        """Plain text or Markdown in vi or en; `rules` from a custom knowledge base (default: shipped)."""
        from .render import render
        return render(self, lang=lang, fmt=fmt, rules=rules)

    def sections(self, lang: str = "vi", fmt: str = "text", rules: dict | None = None) -> dict:
        """{"today": the today-part (what to do now, with doses; always shown), "rest": the page without it,
        for an app to fold out}."""
        from .render import sections
        return sections(self, lang=lang, fmt=fmt, rules=rules)

"""The grower's situation, validated up front so rules never see a bad value."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import ContextError, did_you_mean

ORGANIC_STATUSES = ("certified", "in_conversion", "conventional")
SEVERITIES = ("low", "medium", "high")


@dataclass(init=False, frozen=True)
class Context:
    """Farm and field facts that change the advice. Unknown keys fail with a suggestion.

    `copper_used_7y_kg_ha` is the total over the last 7 years including this year; when it is
    given lower than this year's figure, this year's figure is used (it cannot be less).
    `standards` limits the organic check to some standard ids (None: all in the knowledge base).
    """

    organic_status: str = "certified"
    days_to_harvest: int | None = None
    copper_used_year_kg_ha: float = 0.0
    copper_used_7y_kg_ha: float = 0.0
    rainy_season: bool | None = None
    hot_weather: bool | None = None
    severity: str | None = None
    standards: tuple[str, ...] | None = None

    def __init__(self, **kwargs: Any):
        names = [f.name for f in fields(self)]
        for key in kwargs:
            if key not in names:
                raise ContextError(
                    f"unknown context field '{key}'{did_you_mean(key, names)}; expected one of: {', '.join(names)}")
        for f in fields(self):
            object.__setattr__(self, f.name, kwargs.get(f.name, f.default))
        self._validate()

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> "Context":
        return cls(**(data or {}))

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if d["standards"] is not None:
            d["standards"] = list(d["standards"])
        return d

    @property
    def copper_7y(self) -> float:
        return max(self.copper_used_7y_kg_ha, self.copper_used_year_kg_ha)

    @property
    def organic(self) -> bool:
        return self.organic_status != "conventional"

    def _validate(self) -> None:
        if self.organic_status not in ORGANIC_STATUSES:
            raise ContextError(f"organic_status must be one of {', '.join(ORGANIC_STATUSES)}, got "
                               f"'{self.organic_status}'{did_you_mean(self.organic_status, ORGANIC_STATUSES)}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise ContextError(f"severity must be None or one of {', '.join(SEVERITIES)}, got "
                               f"'{self.severity}'{did_you_mean(str(self.severity), SEVERITIES)}")
        d = self.days_to_harvest
        if d is not None and (isinstance(d, bool) or not isinstance(d, int) or d < 0):
            raise ContextError(f"days_to_harvest must be None or a whole number >= 0, got {d!r}")
        for name in ("copper_used_year_kg_ha", "copper_used_7y_kg_ha"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0 <= v < 1000):
                raise ContextError(f"{name} must be kg of copper per hectare between 0 and 1000, got {v!r}")
            object.__setattr__(self, name, float(v))
        for name in ("rainy_season", "hot_weather"):
            v = getattr(self, name)
            if v is not None and not isinstance(v, bool):
                raise ContextError(f"{name} must be True, False or None (unknown), got {v!r}")
        if self.standards is not None:
            if isinstance(self.standards, str) or not all(isinstance(s, str) for s in self.standards):
                raise ContextError(f"standards must be a list of standard ids, got {self.standards!r}")
            object.__setattr__(self, "standards", tuple(self.standards))

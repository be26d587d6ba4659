"""Load the knowledge base: every advisor/kb/*.yaml file, merged by section, then schema-checked.

Any file may hold any of the sections `rules`, `crops`, `problems`, `treatments`, `prohibited`, `products`, so
adding a crop is adding one YAML file. `products` (products.yaml) maps trade names to the substances above. An id defined twice is an error, not an override.
Top-level keys starting with `x-` hold YAML anchors and are ignored.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import KnowledgeBaseError, did_you_mean

KB_DIR = Path(__file__).resolve().parent / "kb"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # C parser when built: loads stay fast
SECTIONS = ("rules", "crops", "problems", "treatments", "prohibited", "products")


@dataclass
class KnowledgeBase:
    rules: dict[str, Any] = field(default_factory=dict)
    crops: dict[str, dict] = field(default_factory=dict)
    problems: dict[str, dict] = field(default_factory=dict)
    treatments: dict[str, dict] = field(default_factory=dict)
    prohibited: dict[str, dict] = field(default_factory=dict)
    products: dict[str, dict] = field(default_factory=dict)  # trade names -> substances (products.yaml)
    model_labels: frozenset[str] = frozenset()
    detector_labels: frozenset[str] = frozenset()  # the pest detector's labels (`detection:` in labels.yaml)
    source: str = ""


def read_kb(kb_dir: str | Path | None = None) -> KnowledgeBase:
    """Merge the YAML files (sorted, so errors are reproducible); raise on duplicates or bad YAML."""
    kb_dir = Path(kb_dir) if kb_dir else KB_DIR
    files = sorted(kb_dir.glob("*.yaml"))
    if not files:
        raise KnowledgeBaseError([f"no *.yaml files in {kb_dir}: expected rules.yaml, treatments.yaml, problems_*.yaml"])
    kb = KnowledgeBase(source=str(kb_dir))
    errors: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}
        except yaml.YAMLError as exc:
            errors.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(data, dict):
            errors.append(f"{path.name}: expected a mapping of sections ({', '.join(SECTIONS)})")
            continue
        for section, body in data.items():
            if str(section).startswith("x-"):
                continue
            if section not in SECTIONS:
                errors.append(f"{path.name}: unknown section '{section}'{did_you_mean(section, SECTIONS)}; "
                              f"expected one of {', '.join(SECTIONS)}")
                continue
            if not isinstance(body, dict):
                errors.append(f"{path.name}: section '{section}' must be a mapping of id -> entry")
                continue
            target = getattr(kb, section)
            for key, value in body.items():
                key = str(key)
                if (section, key) in seen:
                    errors.append(f"{path.name}: {section} '{key}' is already defined in {seen[(section, key)]}; "
                                  f"ids must be unique, edit that entry instead")
                    continue
                seen[(section, key)] = path.name
                target[key] = value
    if errors:
        raise KnowledgeBaseError(errors)
    return kb

"""The model's canonical labels, read straight from `datasets/labels.yaml`.

The advisor reads the YAML itself instead of importing `model/`, so it stays a leaf package that the
application service, the web app and the CLI can all import without pulling in the runtime.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from .errors import KnowledgeBaseError

LABELS_FILE = Path(__file__).resolve().parent.parent / "datasets" / "labels.yaml"


def model_labels(path: str | Path | None = None) -> frozenset[str]:
    """Every canonical `crop.condition` label mapped in the label file (empty when the file is absent)."""
    path = Path(path) if path else LABELS_FILE
    if not path.is_file():
        if path == LABELS_FILE:
            return frozenset()
        raise KnowledgeBaseError([f"label file {path} not found"])
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError([f"{path.name}: not valid YAML: {exc}"]) from None
    datasets = data.get("datasets") or {}
    return frozenset(str(lab) for mapping in datasets.values() for lab in (mapping or {}).values() if lab is not None)


def detector_labels(path: str | Path | None = None) -> frozenset[str]:
    """Every insect label under `detection:` in the label file (the pest detector's; empty when absent)."""
    path = Path(path) if path else LABELS_FILE
    if not path.is_file():
        return frozenset()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise KnowledgeBaseError([f"{path.name}: not valid YAML: {exc}"]) from None
    detection = data.get("detection") or {}
    return frozenset(str(lab) for mapping in detection.values() for lab in (mapping or {}).values() if lab is not None)

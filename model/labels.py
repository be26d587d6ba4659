"""The one canonical label map (`datasets/labels.yaml`), read by trainer, evaluator and advisor.

No torch here: the runtime and the advisor import it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


def _labels_file() -> Path:
    """datasets/labels.yaml in a checkout; installed from a wheel, the copy it carries (leafscout/data/)."""
    here = REPO_ROOT / "datasets" / "labels.yaml"
    if here.is_file():
        return here
    try:
        from importlib.resources import files
        packaged = Path(str(files("leafscout.data").joinpath("labels.yaml")))
    except (ImportError, TypeError):
        return here
    return packaged if packaged.is_file() else here


LABELS_FILE = _labels_file()


class LabelMapError(ValueError):
    """The label map or a dataset folder does not match: the message says how to fix it."""


@dataclass(frozen=True)
class LabelMap:
    datasets: dict[str, dict[str, str]]  # dataset -> class folder -> canonical label
    background_label: str
    # dataset -> folders mapped to `~` in the YAML: not photos of a class (rice_pest's `labels/` holds box files)
    skipped: dict[str, frozenset[str]] = field(default_factory=dict)
    source: str = ""  # the YAML file read: errors name the file to edit (a --labels copy, or the checkout's)

    @property
    def labels(self) -> list[str]:
        """Sorted canonical labels: their order is the model's output order."""
        return sorted({lab for m in self.datasets.values() for lab in m.values()})

    def skips(self, dataset: str, folder: str) -> bool:
        """True for a folder the label map names with `~`: it holds no photos of a class (e.g. box files)."""
        return folder in self.skipped.get(dataset, ())

    def _where(self) -> str:
        return LABELS_FILE.name if not self.source or Path(self.source) == LABELS_FILE else self.source

    def canonical(self, dataset: str, folder: str) -> str:
        if dataset not in self.datasets:
            hint = difflib.get_close_matches(dataset, self.datasets, n=1)
            raise LabelMapError(
                f"dataset '{dataset}' is not in {self._where()}"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + f"; add a `{dataset}:` section mapping each class folder to a `crop.condition` label")
        mapping = self.datasets[dataset]
        if folder not in mapping:
            hint = difflib.get_close_matches(folder, mapping, n=1)
            raise LabelMapError(
                f"class folder '{dataset}/{folder}' is not mapped in {self._where()}"
                + (f" (did you mean '{hint[0]}'?)" if hint else "")
                + f"; add `{folder}: crop.condition` under `{dataset}:`")
        return mapping[folder]

    def dataset_labels(self, dataset: str) -> list[str]:
        return sorted(set(self.datasets[dataset].values()))


def _check_label(label: str, where: str) -> None:
    parts = label.split(".")
    if len(parts) != 2 or not all(p and p.replace("_", "").isalnum() and p == p.lower() for p in parts):
        raise LabelMapError(f"{where}: label '{label}' is not snake_case `crop.condition` (e.g. tomato.late_blight)")


def load_label_map(path: str | Path = LABELS_FILE) -> LabelMap:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise LabelMapError(f"label map not found at {path}") from None
    except yaml.YAMLError as exc:
        raise LabelMapError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("datasets"), dict):
        raise LabelMapError(f"{path}: expected a mapping with a `datasets:` section")
    datasets, skipped = {}, {}
    for ds, mapping in data["datasets"].items():
        if not isinstance(mapping, dict) or not any(v is not None for v in mapping.values()):
            raise LabelMapError(f"{path}: dataset '{ds}' must map class folders to labels")
        for folder, label in mapping.items():
            if label is not None:
                _check_label(str(label), f"{path}: {ds}/{folder}")
        datasets[str(ds)] = {str(k): str(v) for k, v in mapping.items() if v is not None}
        skipped[str(ds)] = frozenset(str(k) for k, v in mapping.items() if v is None)
    bg = str(data.get("background_label", "background.no_leaf"))
    return LabelMap(datasets=datasets, background_label=bg, skipped=skipped, source=str(path))

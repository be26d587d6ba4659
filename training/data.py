"""Find labelled photos in ImageFolder-style datasets and map their folders to canonical labels.

Layout: `<root>/<dataset>/<split>/<class folder>/<image>`. Every class folder must be mapped in
`datasets/labels.yaml`; an empty or unmapped folder stops the run with a message saying how to fix it.
A photo that cannot be decoded is reported and skipped, never silently used.
"""
from __future__ import annotations

import difflib
import logging
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from leafscout.model.imageio import ImageError, read_image
from leafscout.model.labels import LabelMap, LabelMapError

log = logging.getLogger(__name__)
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


class DataError(ValueError):
    """The dataset folders are not usable as given; the message says what to change."""


@dataclass(frozen=True)
class Sample:
    path: str
    label: int
    dataset: str


def discover(root: str | Path, datasets: list[str] | None, split: str, label_map: LabelMap,
             labels: list[str], limit_per_class: int | None = None, seed: int = 0) -> list[Sample]:
    """List the samples of `split` for the given datasets (all mapped datasets present under `root` if None)."""
    root = Path(root)
    if not root.is_dir():
        raise DataError(f"data root '{root}' is not a folder; pass --data-root pointing at the folder "
                        f"that holds one sub-folder per dataset (e.g. ../shared/datasets)")
    if datasets is not None and not datasets:
        present = [d for d in label_map.datasets if (root / d).is_dir()]
        raise DataError(f"--datasets names no dataset; name one or more of {present} under '{root}', or leave "
                        "--datasets out to use them all")
    if datasets is None:
        datasets = [d for d in label_map.datasets if (root / d).is_dir()]
        if not datasets:
            raise DataError(f"no dataset of {sorted(label_map.datasets)} found under '{root}'")
    index = {lab: i for i, lab in enumerate(labels)}
    rng = random.Random(seed)
    samples: list[Sample] = []
    for ds in datasets:
        split_dir = root / ds / split
        if ds not in label_map.datasets:
            label_map.canonical(ds, "")  # raises with a suggestion
        if not split_dir.is_dir():
            raise DataError(f"'{split_dir}' is missing: expected <root>/{ds}/{split}/<class folder>/<images>")
        # hidden folders (.ipynb_checkpoints, .git) hold no class, as in `leafscout evaluate`
        class_dirs = sorted(p for p in split_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if not any(not label_map.skips(ds, d.name) for d in class_dirs):
            raise DataError(f"'{split_dir}' holds no class folders: expected {split_dir}/<class folder>/<images> "
                            f"with the folders mapped under `{ds}:` in the label map "
                            f"({', '.join(sorted(label_map.datasets[ds]))}); add the {split} photos, or leave "
                            f"{ds} out with --datasets")
        for class_dir in class_dirs:
            if label_map.skips(ds, class_dir.name):
                continue
            label = label_map.canonical(ds, class_dir.name)
            if label not in index:
                raise LabelMapError(f"label '{label}' (from {ds}/{class_dir.name}) is not among the model's "
                                    f"labels; re-run training so the label list is rebuilt from labels.yaml")
            files = sorted(p for p in class_dir.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
            if not files:
                raise DataError(f"class folder '{class_dir}' holds no images ({', '.join(sorted(IMAGE_SUFFIXES))}); "
                                f"add photos or remove the folder")
            if limit_per_class:
                files = rng.sample(files, min(limit_per_class, len(files)))
            samples.extend(Sample(str(f), index[label], ds) for f in files)
    return samples


EXTRA_DATASET = "extra"


def discover_extra(folder: str | Path, labels: list[str]) -> list[Sample]:
    """Photos already named by their canonical label, `<folder>/<crop.problem>/<photo>` (what
    `leafscout corrections export` writes: the field's confirmed and corrected photos). They join the
    training split only, as their own dataset `extra`, so the val figures stay comparable with the card.
    A label the model does not have stops the run: grow `datasets/labels.yaml` first (see datasets/README.md)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"--extra-data '{folder}' is not a folder; expected <folder>/<crop.problem>/<photos>, "
                        f"as `leafscout corrections export` writes")
    index = {lab: i for i, lab in enumerate(labels)}
    samples: list[Sample] = []
    # "aside": photos `corrections export --aside` keeps back to score the retrained model (never trained on)
    for class_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")
                            and p.name != "aside"):
        if class_dir.name not in index:
            near = difflib.get_close_matches(class_dir.name, labels, n=1)
            raise DataError(f"--extra-data: folder '{class_dir.name}' is not one of the model's labels"
                            + (f" (did you mean '{near[0]}'?)" if near else "")
                            + "; add the label to datasets/labels.yaml or remove the folder")
        samples.extend(Sample(str(f), index[class_dir.name], EXTRA_DATASET)
                       for f in sorted(class_dir.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES)
    if not samples:
        raise DataError(f"--extra-data '{folder}' holds no photos in <crop.problem>/ folders")
    return samples


def read_rgb(path: str) -> np.ndarray | None:
    """Decode a training photo through the runtime's own image gate (so training sees a photo exactly as
    the app does: EXIF orientation, alpha, 16-bit, CMYK), or None if the gate refuses it."""
    try:
        return read_image(path)
    except ImageError:
        return None


def class_counts(samples: list[Sample]) -> Counter:
    return Counter(s.label for s in samples)


def sample_weights(samples: list[Sample], power: float = 0.5, dataset_balance: float = 0.0,
                   dataset_weight: dict[str, float] | None = None) -> np.ndarray:
    """Sampling weight per photo.

    Within a dataset a photo weighs count(class)**-power: with 0.5 rare classes (8 photos) are seen more
    often without repeating them so much that the model memorises them; 1.0 balances classes fully.
    Across datasets each dataset's share is photos**(1 - dataset_balance): 0 keeps the natural sizes,
    1 gives every dataset the same share, so no dataset (and its photographic style) dominates. A class
    present in two datasets is counted per dataset. `dataset_weight` multiplies a dataset's share after that
    (a crop with few photos, such as rice_leaf_ph's 144, seen more often than its size alone gives)."""
    dataset_weight = dataset_weight or {}
    unknown = sorted(set(dataset_weight) - {s.dataset for s in samples})
    if unknown:
        present = sorted({s.dataset for s in samples})
        near = difflib.get_close_matches(unknown[0], present, n=1)
        raise DataError(f"--dataset-weight names {', '.join(unknown)}, which is not among the training datasets "
                        f"{present}" + (f"; did you mean '{near[0]}'?" if near else ""))
    counts = Counter((s.dataset, s.label) for s in samples)
    w = np.array([counts[(s.dataset, s.label)] ** -power for s in samples], dtype=np.float64)
    sizes = Counter(s.dataset for s in samples)
    mass = {ds: w[[i for i, s in enumerate(samples) if s.dataset == ds]].sum() for ds in sizes}
    share = {ds: sizes[ds] ** (1.0 - dataset_balance) * dataset_weight.get(ds, 1.0) for ds in sizes}
    w *= np.array([share[s.dataset] / mass[s.dataset] for s in samples])
    return w / w.sum()

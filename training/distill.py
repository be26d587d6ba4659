"""Distillation from an earlier model on chosen datasets: win back what it knew without undoing what was learnt since.

Model 1.0.0 scored 98.5% on PlantVillage val; the models that learnt to ignore backdrops (background replacement,
leaf locator, balanced datasets) fell to ~93.6 there. `--teacher runs/m100.onnx --distill-datasets plantvillage`
makes each PlantVillage training photo carry, besides its label, the teacher's answer on the *clean* photo
(its own preprocessing, from its ONNX metadata, run once before training and cached): the student is asked to
give the same distribution over the labels both models know, whatever background and phone damage the
augmentation put around the leaf. The loss is Hinton's: cross-entropy + weight * T^2 * KL(teacher_T || student_T).

Several teachers, each on its own datasets (`--teacher A --distill-datasets plantvillage --teacher B
--distill-datasets chilli_leaf ...`): e.g. 1.0.0 on PlantVillage and the starting model itself on the field sets,
so that winning back the lab does not move the field answers (learning without forgetting, Li & Hoiem 2017).

The teacher runs through the torch-free runtime (`leafscout.model.runtime.Predictor`), so any shipped ONNX file can
teach; labels are matched by name, and the student's labels the teacher lacks get no mass.
"""
from __future__ import annotations

import difflib
import hashlib
import json
import logging
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from leafscout.training.data import DataError, Sample

log = logging.getLogger("leafscout.train")


class Distiller:
    """Soft targets per training sample (rows of `probs`, valid where `mask`), and the loss that uses them."""

    def __init__(self, probs: np.ndarray, mask: np.ndarray, labels_of: np.ndarray, weight: float,
                 temperature: float):
        self.probs = torch.from_numpy(probs.astype(np.float32))
        self.mask = torch.from_numpy(mask.astype(bool))
        self.labels_of = torch.from_numpy(labels_of.astype(np.int64))  # each sample's own label
        self.weight, self.t = weight, temperature

    def loss(self, logits: torch.Tensor, targets: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
        """The distillation term for a batch: only samples of the chosen datasets whose label was not replaced
        by the augmentation (a synthetic non-plant photo is not the teacher's photo)."""
        use = self.mask[idx] & (targets == self.labels_of[idx])
        if not bool(use.any()):
            return logits.sum() * 0.0
        p = self.probs[idx[use]]
        logq = F.log_softmax(logits[use] / self.t, dim=1)
        kl = (p * (torch.log(p.clamp_min(1e-8)) - logq)).sum(1).mean()
        return self.weight * self.t ** 2 * kl * use.float().mean()


def teacher_probs(teacher: str, samples: list[Sample], labels: list[str], datasets: list[str], temperature: float,
                  cache_dir: Path | None = None, threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The teacher's softened distribution over the student's `labels` for each sample of `datasets`
    (rows of zeros and mask False elsewhere). Cached in `cache_dir` by teacher file, photos and labels."""
    from leafscout.model.runtime import ModelError, Predictor

    try:
        pred = Predictor(teacher, threads=threads or None)
    except (ModelError, OSError, ValueError) as exc:
        raise DataError(f"--teacher {teacher}: {exc}") from None
    present = sorted({s.dataset for s in samples})
    known = [d for d in datasets if d in present]
    unknown = [d for d in datasets if d not in present]
    if unknown:  # a mistyped name would otherwise quietly go without its teacher
        near = difflib.get_close_matches(unknown[0], present, n=1)
        raise DataError(f"--distill-datasets {' '.join(unknown)}: "
                        + ("none of them is" if not known else "not") + f" among the training datasets {present}"
                        + (f"; did you mean '{near[0]}'?" if near else ""))
    chosen = [i for i, s in enumerate(samples) if s.dataset in datasets]
    shared = [(ti, labels.index(name)) for ti, name in enumerate(pred.labels) if name in labels]
    if not shared:
        raise DataError(f"--teacher {teacher}: it shares no label with this model; distillation needs the same names")
    for d in known:  # a new crop's photos: the teacher can only answer them with another crop's labels
        own = sorted({labels[s.label] for s in samples if s.dataset == d})
        if not set(own) & set(pred.labels):
            raise DataError(f"--distill-datasets {d}: the teacher {teacher} knows none of its labels "
                            f"({', '.join(own)}), so its answers would teach those photos another crop's labels; "
                            f"leave {d} out of --distill-datasets")
    teacher_sha = hashlib.sha256(Path(teacher).read_bytes()).hexdigest()  # another file, another cache
    key = hashlib.sha256(json.dumps([teacher_sha, labels, temperature,
                                     [samples[i].path for i in chosen]]).encode()).hexdigest()[:16]
    cache = cache_dir / f"teacher-{key}.npz" if cache_dir else None
    probs = np.zeros((len(samples), len(labels)), np.float32)
    mask = np.zeros(len(samples), bool)
    if cache is not None and cache.exists():
        got = np.load(cache)
        probs[chosen], mask[chosen] = got["probs"], True
        log.info("teacher targets for %d photos from %s", len(chosen), cache)
        return probs, mask
    log.info("teacher %s (model %s) answers %d photos of %s once, before training", teacher, pred.version,
             len(chosen), ", ".join(known))
    ti, si = (np.array(x) for x in zip(*shared))
    rows = np.zeros((len(chosen), len(labels)), np.float32)
    for k, r in enumerate(pred.predict_many([samples[i].path for i in chosen], top_k=1)):
        if r.status == "error" or r.logits is None:
            continue
        z = np.asarray(r.logits, np.float64)[ti] / temperature
        z = np.exp(z - z.max())
        rows[k, si] = z / z.sum()
    ok = rows.sum(1) > 0
    probs[np.array(chosen)[ok]] = rows[ok]
    mask[np.array(chosen)[ok]] = True
    if cache is not None and ok.all():
        cache.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cache, probs=rows)
    return probs, mask


def distill_pairs(teachers, groups) -> list[tuple[str, list[str]]]:
    """(teacher, datasets) pairs from `--teacher` (repeatable) and `--distill-datasets` (one list after each
    teacher; a single teacher may leave it out: plantvillage). Also reads the single-teacher form older runs saved
    (a string and a flat list). A dataset may have one teacher only."""
    teachers = [teachers] if isinstance(teachers, str) else list(teachers or [])
    teachers = [t for t in teachers if t]
    groups = list(groups or [])
    if groups and all(isinstance(g, str) for g in groups):
        groups = [groups]
    if not teachers:
        if groups and groups != [["plantvillage"]]:
            raise DataError("--distill-datasets without --teacher: name the model whose answers to learn")
        return []
    if not groups and len(teachers) == 1:
        groups = [["plantvillage"]]
    if len(groups) != len(teachers):
        raise DataError(f"{len(teachers)} --teacher and {len(groups)} --distill-datasets: give one "
                        "--distill-datasets after each --teacher")
    seen: dict[str, str] = {}
    for t, ds in zip(teachers, groups):
        for d in ds:
            if d in seen:
                raise DataError(f"--distill-datasets: {d} has two teachers ({seen[d]} and {t}); give each dataset one")
            seen[d] = t
    return [(t, list(ds)) for t, ds in zip(teachers, groups)]


def several_teachers(pairs, samples: list[Sample], labels: list[str], temperature: float,
                     cache_dir: Path | None = None, threads: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """`teacher_probs` of each (teacher, datasets) pair, put together: each sample carries its own dataset's
    teacher's answer."""
    probs = np.zeros((len(samples), len(labels)), np.float32)
    mask = np.zeros(len(samples), bool)
    for teacher, datasets in pairs:
        p, m = teacher_probs(teacher, samples, labels, datasets, temperature, cache_dir=cache_dir, threads=threads)
        probs[m], mask = p[m], mask | m
    return probs, mask

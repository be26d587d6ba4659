"""The pieces of the training recipe that evaluation and reports share: the photo dataset, the balanced
sampler, the deployment preprocessing a run trains for, and batch evaluation. `training.train` (the recipe)
and `training.finalize` (calibration, reports, export) both import them from here, so neither imports the
other."""
from __future__ import annotations

import logging
import os
import random
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler
from tqdm import tqdm

from leafscout.model.locate import LocatorConfig
from leafscout.model.preprocess import CENTER_CROP, SQUASH, PreprocessConfig
from leafscout.training.data import DataError, Sample, read_rgb
from leafscout.training.presets import FIELD_DATASETS, TrainTransform

log = logging.getLogger("leafscout.train")


UNREADABLE = -1  # the target an evaluation PhotoDataset gives a photo it cannot decode (left out of the figures)


class PhotoDataset(Dataset):
    """Decodes and transforms photos; an unreadable file is reported once and, in training, replaced by another.
    In evaluation it keeps its place with the target UNREADABLE, so that no other photo is counted twice."""

    def __init__(self, samples: list[Sample], transform):
        self.samples, self.transform = samples, transform
        self.train = isinstance(transform, TrainTransform)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int):
        if not self.train:
            rgb = read_rgb(self.samples[i].path)
            if rgb is None:
                log.warning("leaving out unreadable image %s (not a decodable photo)", self.samples[i].path)
                return torch.from_numpy(self.transform(np.full((64, 64, 3), 128, np.uint8))), UNREADABLE, i
            return torch.from_numpy(self.transform(rgb)), self.samples[i].label, i
        for attempt in range(10):
            s = self.samples[(i + attempt * 7919) % len(self.samples)]
            rgb = read_rgb(s.path)
            if rgb is not None:
                x, override = self.transform(rgb, s.dataset)
                # the index of the photo really used (a replacement for an unreadable one carries its own)
                return torch.from_numpy(x), s.label if override is None else override, \
                    (i + attempt * 7919) % len(self.samples)
            log.warning("skipping unreadable image %s (not a decodable photo)", s.path)
        raise DataError(f"10 unreadable images in a row around {self.samples[i].path}; check the dataset")


class WeightedEpochSampler(Sampler):
    """Class-balanced sampling with replacement that is deterministic per (seed, epoch), shards across
    DDP ranks, and can start mid-epoch so a resumed run sees exactly the batches it had not seen."""

    def __init__(self, weights: np.ndarray, num_samples: int, seed: int, rank: int = 0, world: int = 1):
        self.weights, self.num_samples, self.seed = weights, num_samples, seed
        self.rank, self.world, self.epoch, self.start = rank, world, 0, 0

    def set_epoch(self, epoch: int, start: int = 0) -> None:
        self.epoch, self.start = epoch, start

    def _indices(self) -> np.ndarray:
        rng = np.random.default_rng(self.seed * 1000 + self.epoch)
        idx = rng.choice(len(self.weights), size=self.num_samples, replace=True, p=self.weights)
        return idx[self.rank::self.world]

    def __iter__(self):
        return iter(self._indices()[self.start:].tolist())

    def __len__(self) -> int:
        return len(self._indices()) - self.start


def read_checkpoint(path: str | Path, option: str) -> dict:
    """A checkpoint.pt written by leafscout.training.train (a dict with 'model' and 'labels'), or DataError
    naming the option, the file and what to pass instead (never a pickle traceback)."""
    if not Path(path).is_file():
        raise DataError(f"{option} {path}: no such file; pass a checkpoint.pt written by leafscout.training.train "
                        "(e.g. runs/NAME/checkpoint.pt)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=False)
    except Exception:  # pickle, zip or EOF errors: what the file is does not matter, only that it is no checkpoint
        ckpt = None
    if not isinstance(ckpt, dict) or "model" not in ckpt or "labels" not in ckpt:
        raise DataError(f"{option} {path}: not a training checkpoint (no 'model' and 'labels'); pass a checkpoint.pt "
                        "written by leafscout.training.train" + (" (an .onnx file is for --init-from)"
                                                                 if str(path).endswith(".onnx") else ""))
    return ckpt


def output_folder(path: str | Path, option: str = "--output-dir") -> Path:
    """Create the run's output folder and check that it can be written to, before any training time is spent."""
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / f".write-test-{os.getpid()}"  # one per process: torchrun's ranks check at once
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataError(f"{option} {out}: cannot write there ({exc.strerror or exc}); pass a folder you can "
                        "write to, e.g. runs/NAME") from None
    return out


def preprocess_config(args) -> PreprocessConfig:
    """The deployment preprocessing that this run trains for; it is written into the ONNX metadata."""
    policy = getattr(args, "resize_policy", CENTER_CROP)  # checkpoints from before the option used the crop
    resize = args.eval_size if policy == SQUASH else int(round(args.eval_size / args.crop_pct))
    return PreprocessConfig(input_size=args.eval_size, resize_size=resize, policy=policy)


def locator_config(args) -> LocatorConfig | None:
    """The leaf locator this run trains with (None for runs from before it, or with --no-locator)."""
    if getattr(args, "no_locator", True):
        return None
    return LocatorConfig()


def load_foliage(samples: list[Sample], n: int, seed: int) -> list[np.ndarray]:
    """A few field photos (RGB) whose crops serve as foliage backgrounds."""
    field = [s for s in samples if s.dataset in FIELD_DATASETS]
    rng = random.Random(seed)
    out = []
    for s in rng.sample(field, min(n, len(field))):
        rgb = read_rgb(s.path)
        if rgb is not None:
            out.append(rgb)
    return out


def worker_init(worker_id: int) -> None:
    info = torch.utils.data.get_worker_info()
    transform = getattr(info.dataset, "transform", None)
    if hasattr(transform, "reseed"):
        transform.reseed(info.seed % 2**32)


@torch.no_grad()
def evaluate(model, loader, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Logits and targets over a loader, in dataset order."""
    model.eval()
    logits = np.zeros((len(loader.dataset), n_labels), np.float32)
    targets = np.zeros(len(loader.dataset), np.int64)
    for images, y, idx in tqdm(loader, desc="evaluate", dynamic_ncols=True, mininterval=5):
        out = model(images.contiguous(memory_format=torch.channels_last))
        logits[idx.numpy()] = out.numpy()
        targets[idx.numpy()] = y.numpy()
    return logits, targets

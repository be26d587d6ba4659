"""After training: evaluate on val, fit temperature, choose decision thresholds, write reports and
export the verified ONNX model. Re-runnable on any checkpoint:

    python -m leafscout.training.finalize runs/lite0/checkpoint.pt
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader

from leafscout.model.arch import EfficientNetLite0
from leafscout.model.export import ExportError, export_onnx
from leafscout.model.labels import LabelMapError, load_label_map
from leafscout.model.locate import LocatorConfig, plant_share
from leafscout.model.metrics import ece, energy, fit_temperature, softmax
from leafscout.model.preprocess import CENTER_CROP, PreprocessConfig, preprocess
from leafscout.training.backgrounds import leaf_alpha, replace_background, synthetic_negative
from leafscout.training.presets import LAB_DATASETS, EvalTransform
from leafscout.training.data import DataError
from leafscout.training.loop import (UNREADABLE, PhotoDataset, evaluate, load_foliage, locator_config, output_folder,
                                     preprocess_config, read_checkpoint)
from leafscout.training.report import per_dataset_report, write_confusions

log = logging.getLogger("leafscout.finalize")
# Thresholds are chosen on field-like photos (the field sets' val photos and lab val leaves pasted on new
# backgrounds), never on the lab val split alone: lab thresholds called most farmers' photos "not a leaf".
UNCERTAIN_SHARE = 0.05   # the least confident 5% of field-like leaf photos are answered "uncertain" (+ top 3)
OOD_SHARE = 0.01         # at most 1% of field-like leaf photos are beyond the energy threshold ...
PLANT_SHARE_MIN = 0.02   # ... and of those only photos with < 2% living-leaf colour may become "not a leaf"
FIELD_DATASETS_VAL = ("apple_orchard_fgvc8", "ibean_uganda", "chilli_leaf")


def choose_thresholds(probs: np.ndarray, energies: np.ndarray, targets: np.ndarray, background: int) -> dict:
    """From field-like leaf photos (not the background class): `uncertain_below` flags the least confident
    UNCERTAIN_SHARE, `ood_energy_above` the least familiar OOD_SHARE."""
    leaf = targets != background
    conf = probs[leaf].max(1)
    uncertain_below = float(np.clip(np.quantile(conf, UNCERTAIN_SHARE), 0.25, 0.6))
    ood_energy_above = float(np.quantile(energies[leaf], 1 - OOD_SHARE))
    return {"uncertain_below": round(uncertain_below, 4), "ood_energy_above": round(ood_energy_above, 4),
            "plant_share_min": PLANT_SHARE_MIN}


class FieldLikeDataset(torch.utils.data.Dataset):
    """Val photos as a phone in the field might show them: field sets as they are, lab leaves pasted on
    a new background (fixed seed per photo), plus synthetic non-plant photos labelled `background`.
    Yields (input, target, index, plant share of the photo)."""

    def __init__(self, samples, cfg: PreprocessConfig, locator: LocatorConfig | None, foliage: list,
                 background: int, n_negatives: int = 200):
        self.items = [s for s in samples if s.dataset in FIELD_DATASETS_VAL or s.dataset in LAB_DATASETS]
        self.cfg, self.locator, self.foliage = cfg, locator, foliage
        self.background, self.n_negatives = background, n_negatives

    def __len__(self):
        return len(self.items) + self.n_negatives

    def photo(self, i: int):
        rng = np.random.default_rng(10_000 + i)
        if i >= len(self.items):
            return synthetic_negative(rng, 256), self.background
        from leafscout.training.data import read_rgb
        s = self.items[i]
        rgb = read_rgb(s.path)
        if rgb is None:
            return np.full((64, 64, 3), 128, np.uint8), self.background
        if s.dataset in LAB_DATASETS and s.label != self.background:
            alpha = leaf_alpha(rgb)
            if alpha is not None:
                rgb = replace_background(rgb, alpha, rng, self.foliage)
        return rgb, s.label

    def __getitem__(self, i: int):
        rgb, target = self.photo(i)
        return torch.from_numpy(preprocess(rgb, self.cfg, self.locator)), target, i, plant_share(rgb)


@torch.no_grad()
def field_like_scores(model, dataset: FieldLikeDataset, workers: int):
    loader = DataLoader(dataset, batch_size=64, num_workers=workers)
    n = len(dataset)
    logits, targets, plants = None, np.zeros(n, np.int64), np.zeros(n, np.float32)
    model.eval()
    for x, y, idx, ps in loader:
        out = model(x.contiguous(memory_format=torch.channels_last)).numpy()
        if logits is None:
            logits = np.zeros((n, out.shape[1]), np.float32)
        logits[idx.numpy()], targets[idx.numpy()], plants[idx.numpy()] = out, y.numpy(), ps.numpy()
    return logits, targets, plants


def flag_rates(pt: np.ndarray, e: np.ndarray, plants: np.ndarray, targets: np.ndarray, background: int,
               th: dict) -> dict:
    """The runtime's decision (model.runtime.Predictor.decide) applied to a whole set at once."""
    bg_wins = pt.argmax(1) == background
    odd = bg_wins | (e > th["ood_energy_above"])
    not_leaf = odd & (plants < th["plant_share_min"])
    uncertain = ~not_leaf & (odd | (pt.max(1) < th["uncertain_below"]))
    leaf = targets != background
    return {"leaf_not_a_leaf": float(not_leaf[leaf].mean()), "leaf_uncertain": float(uncertain[leaf].mean()),
            "negatives_not_a_leaf": float(not_leaf[~leaf].mean()) if (~leaf).any() else None,
            "n_leaf": int(leaf.sum()), "n_negatives": int((~leaf).sum())}


def finalize(model, labels: list[str], val_samples, cfg: PreprocessConfig, args, out: Path,
             locator: LocatorConfig | None = None) -> dict:
    label_map = load_label_map(args.labels)
    loader = DataLoader(PhotoDataset(val_samples, EvalTransform(cfg, locator)), batch_size=64, num_workers=args.workers)
    t0 = time.time()
    logits, targets = evaluate(model.to(memory_format=torch.channels_last), loader, len(labels))
    eval_seconds = time.time() - t0
    readable = targets != UNREADABLE
    if not readable.any():
        raise DataError(f"none of the {len(val_samples)} val photos could be decoded; check the val folders")
    if not readable.all():
        log.warning("%d unreadable val photo(s) left out of every figure: %s", int((~readable).sum()),
                    ", ".join(s.path for s, ok in zip(val_samples, readable) if not ok)[:2000])
    check_rows = np.flatnonzero(readable)[:16]  # the export is verified on real, decodable photos
    logits, targets = logits[readable], targets[readable]
    val_samples = [s for s, ok in zip(val_samples, readable) if ok]
    datasets = [s.dataset for s in val_samples]
    background = labels.index(label_map.background_label)

    temperature = fit_temperature(logits, targets)
    p1, pt = softmax(logits), softmax(logits, temperature)
    field = FieldLikeDataset(val_samples, cfg, locator, load_foliage(val_samples, 100, 1), background)
    f_logits, f_targets, f_plants = field_like_scores(model, field, args.workers)
    f_pt, f_e = softmax(f_logits, temperature), energy(f_logits, temperature)
    thresholds = choose_thresholds(f_pt, f_e, f_targets, background)
    field_rates = flag_rates(f_pt, f_e, f_plants, f_targets, background, thresholds)
    field_rates["top1_leaf"] = float((f_logits.argmax(1) == f_targets)[f_targets != background].mean())
    dataset_labels = {ds: label_map.dataset_labels(ds) for ds in set(datasets)}
    report = per_dataset_report(logits, targets, datasets, labels, dataset_labels)
    confusions = write_confusions(logits, targets, datasets, labels, dataset_labels, out / "confusion")
    leaf = targets != background
    e = energy(logits, temperature)
    flagged = (pt[leaf].max(1) < thresholds["uncertain_below"]) | (e[leaf] > thresholds["ood_energy_above"]) \
        | (pt[leaf].argmax(1) == background)

    history = []
    if (out / "history.jsonl").exists():
        history = [json.loads(x) for x in (out / "history.jsonl").read_text().splitlines() if x.strip()]
    metrics = {
        "val": report,
        "overall_top1": float((logits.argmax(1) == targets).mean()),
        "calibration": {"temperature": temperature, "ece_before": ece(p1, targets), "ece_after": ece(pt, targets)},
        "thresholds": thresholds,
        "val_leaf_flagged_share": float(flagged.mean()),
        "field_like": field_rates,
        "training": {"epochs": len(history), "train_seconds": round(sum(h["seconds"] for h in history), 1),
                     "images_per_s": [h["images_per_s"] for h in history], "args": vars(args)},
        "eval_seconds": round(eval_seconds, 1),
        "n_val": int(len(targets)),
        "confusion_pngs": confusions,
    }
    # verify the export on real val photos
    check = np.stack([loader.dataset[int(i)][0].numpy() for i in check_rows])
    version = args.model_version or time.strftime("%Y.%m.%d")
    extra = {"trained_on": sorted(set(datasets)), **({"locator": locator.to_json()} if locator else {}),
             "val_metrics": {ds: {"top1": round(r["top1"], 4),
             "macro_f1": round(r["macro_f1"], 4)} for ds, r in report.items()}}
    metrics["export"] = export_onnx(model, out / "leafscout.onnx", labels, cfg, temperature, thresholds, version,
                                    check, extra=extra)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    np.savez_compressed(out / "val_logits.npz", logits=logits, targets=targets, datasets=np.asarray(datasets),
                        paths=np.asarray([s.path for s in val_samples]))
    for ds, r in report.items():
        log.info("%-20s top1 %.4f  macro-F1 %.4f  (n=%d)", ds, r["top1"], r["macro_f1"], r["n"])
    log.info("field-like photos: %s", json.dumps(field_rates))
    log.info("temperature %.3f  ECE %.4f -> %.4f  thresholds %s  val leaf flagged %.2f%%", temperature,
             metrics["calibration"]["ece_before"], metrics["calibration"]["ece_after"], thresholds,
             100 * metrics["val_leaf_flagged_share"])
    return metrics


def main(argv=None) -> int:
    first = " ".join(__doc__.split("\n\n")[0].split()).split(". ")[0].rstrip(".") + "."  # a whole sentence
    p = argparse.ArgumentParser(description=first)
    p.add_argument("checkpoint")
    p.add_argument("--output-dir", default=None, help="default: the checkpoint's folder")
    p.add_argument("--data-root", default=None, help="read the val photos from here (default: the run's --data-root)")
    ns = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        return _finalize_checkpoint(ns.checkpoint, ns.output_dir, ns.data_root)
    except (DataError, LabelMapError, ExportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _finalize_checkpoint(checkpoint: str, output_dir: str | None, data_root: str | None = None) -> int:
    from leafscout.training.data import discover
    ckpt = read_checkpoint(checkpoint, "checkpoint")
    if "args" not in ckpt:
        raise DataError(f"checkpoint {checkpoint}: holds no training options ('args'); pass a checkpoint.pt written "
                        "by leafscout.training.train or leafscout.training.soup")
    out = output_folder(output_dir or Path(checkpoint).parent, "--output-dir")
    args = argparse.Namespace(**ckpt["args"])  # every option the run was started with
    args.data_root = data_root or args.data_root
    if "resize_policy" not in ckpt["args"]:  # runs from before the option trained on centre crops
        args.resize_policy = CENTER_CROP
    labels = ckpt["labels"]
    model = EfficientNetLite0(num_classes=len(labels))
    model.load_state_dict(ckpt["model"])
    cfg = preprocess_config(args)
    label_map = load_label_map(args.labels)
    if label_map.background_label not in labels:
        raise LabelMapError(f"checkpoint {checkpoint}: its labels have no '{label_map.background_label}' (the no-leaf "
                            "class that calibration needs); it cannot be finalised")
    try:
        val = discover(args.data_root, args.datasets, "val", label_map, labels, args.limit_per_class, args.seed)
    except DataError as exc:
        raise DataError(f"{exc} (finalize reads the val photos from '{args.data_root}'"
                        + ("" if data_root else ", the run's --data-root; a relative one is read from the folder you "
                           "run this in") + ")") from None
    finalize(model, labels, val, cfg, args, out, locator_config(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())

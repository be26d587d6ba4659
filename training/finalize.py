"""After training: evaluate on val, fit temperature, choose decision thresholds, write reports and
export the verified ONNX model. Re-runnable on any checkpoint:

    python -m training.finalize runs/lite0/checkpoint.pt
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

from model.arch import EfficientNetLite0
from model.export import export_onnx
from model.labels import load_label_map
from model.preprocess import CENTER_CROP, PreprocessConfig
from model.metrics import ece, energy, fit_temperature, softmax
from training.presets import EvalTransform
from training.report import per_dataset_report, write_confusions

log = logging.getLogger("leafscout.finalize")
# Share of val leaf photos each rule may flag: together they stay under the 2% budget of the runtime issue.
UNCERTAIN_SHARE, OOD_SHARE = 0.01, 0.008


def choose_thresholds(probs: np.ndarray, energies: np.ndarray, targets: np.ndarray, background: int) -> dict:
    """Thresholds from the val leaf photos alone (not the background class):
    `uncertain_below` flags the least confident ~1%, `ood_energy_above` the least familiar ~0.8%."""
    leaf = targets != background
    conf = probs[leaf].max(1)
    uncertain_below = float(np.clip(np.quantile(conf, UNCERTAIN_SHARE), 0.2, 0.6))
    ood_energy_above = float(np.quantile(energies[leaf], 1 - OOD_SHARE))
    return {"uncertain_below": round(uncertain_below, 4), "ood_energy_above": round(ood_energy_above, 4)}


def finalize(model, labels: list[str], val_samples, cfg: PreprocessConfig, args, out: Path) -> dict:
    from training.train import PhotoDataset, evaluate

    label_map = load_label_map(args.labels)
    loader = DataLoader(PhotoDataset(val_samples, EvalTransform(cfg)), batch_size=64, num_workers=args.workers)
    t0 = time.time()
    logits, targets = evaluate(model.to(memory_format=torch.channels_last), loader, len(labels))
    eval_seconds = time.time() - t0
    datasets = [s.dataset for s in val_samples]
    background = labels.index(label_map.background_label)

    temperature = fit_temperature(logits, targets)
    p1, pt = softmax(logits), softmax(logits, temperature)
    thresholds = choose_thresholds(pt, energy(logits, temperature), targets, background)
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
        "training": {"epochs": len(history), "train_seconds": round(sum(h["seconds"] for h in history), 1),
                     "images_per_s": [h["images_per_s"] for h in history], "args": vars(args)},
        "eval_seconds": round(eval_seconds, 1),
        "n_val": int(len(targets)),
        "confusion_pngs": confusions,
    }
    # verify the export on real val photos
    check = np.stack([loader.dataset[i][0].numpy() for i in range(min(16, len(val_samples)))])
    version = args.model_version or time.strftime("%Y.%m.%d")
    extra = {"trained_on": sorted(set(datasets)), "val_metrics": {ds: {"top1": round(r["top1"], 4),
             "macro_f1": round(r["macro_f1"], 4)} for ds, r in report.items()}}
    metrics["export"] = export_onnx(model, out / "leafscout.onnx", labels, cfg, temperature, thresholds, version,
                                    check, extra=extra)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    np.savez_compressed(out / "val_logits.npz", logits=logits, targets=targets, datasets=np.asarray(datasets),
                        paths=np.asarray([s.path for s in val_samples]))
    for ds, r in report.items():
        log.info("%-20s top1 %.4f  macro-F1 %.4f  (n=%d)", ds, r["top1"], r["macro_f1"], r["n"])
    log.info("temperature %.3f  ECE %.4f -> %.4f  thresholds %s  val leaf flagged %.2f%%", temperature,
             metrics["calibration"]["ece_before"], metrics["calibration"]["ece_after"], thresholds,
             100 * metrics["val_leaf_flagged_share"])
    return metrics


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("checkpoint")
    p.add_argument("--output-dir", default=None, help="default: the checkpoint's folder")
    ns = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from training.data import discover
    from training.train import get_args_parser, preprocess_config

    ckpt = torch.load(ns.checkpoint, map_location="cpu", weights_only=False)
    args = get_args_parser().parse_args([])
    vars(args).update(ckpt["args"])
    if "resize_policy" not in ckpt["args"]:  # runs from before the option trained on centre crops
        args.resize_policy = CENTER_CROP
    labels = ckpt["labels"]
    model = EfficientNetLite0(num_classes=len(labels))
    model.load_state_dict(ckpt["model"])
    cfg = preprocess_config(args)
    val = discover(args.data_root, args.datasets, "val", load_label_map(args.labels), labels,
                   args.limit_per_class, args.seed)
    finalize(model, labels, val, cfg, args, Path(ns.output_dir or Path(ns.checkpoint).parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())

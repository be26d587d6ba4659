"""Cross-domain benchmark: train on PlantVillage apple leaves (lab, grey table), test on FGVC8 orchard photos
of the same four conditions, which the run never sees. It is the project's stand-in for the hidden field
sets: a recipe that learns lesions transfers, one that learns a dataset's look does not.

    python benchmarks/cross_domain.py                      # old and new recipe, same seed, same steps
    python benchmarks/cross_domain.py --recipes new --epochs 4

Each recipe fine-tunes EfficientNet-Lite0 from the ImageNet weights on the 640 PlantVillage apple photos
(train split) with the project's training code, then scores all FGVC8 photos (train and val: 1,000 orchard
photos, none used for training here) through the runtime's preprocessing for that recipe.
Prints top-1 and macro-F1 per recipe, and the gain of the new recipe over the old.

`--from-leaves`: also scores each orchard photo as the product answers a field photo
(`DiagnosisService`: `Predictor.with_leaves`): the mean of the logits of the whole photo and of up to 3 leaves the
scene detector (model/pests.onnx) boxes in it, each leaf crop through the same preprocessing. The detector was
trained on lab leaves pasted on field backgrounds (training/scene_synth.py); its backgrounds include FGVC8 train
photos, so this measures the leaf-cropping step of the product, not a detector blind to orchards.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from leafscout.model.arch import EfficientNetLite0, load_pretrained  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.locate import LocatorConfig  # noqa: E402
from leafscout.model.preprocess import PreprocessConfig  # noqa: E402
from leafscout.training.data import Sample, discover  # noqa: E402
from leafscout.model.metrics import classification_report  # noqa: E402
from leafscout.training.presets import EvalTransform, TrainTransform  # noqa: E402
from leafscout.training.loop import PhotoDataset, WeightedEpochSampler, evaluate, load_foliage, worker_init  # noqa: E402

APPLE = ["apple.black_rot", "apple.cedar_apple_rust", "apple.healthy", "apple.scab"]
# recipe -> (locator, background replacement probability, field-scene probability)
RECIPES = {"old": (False, 0.0, 0.0), "new": (True, 0.6, 0.0), "scene": (True, 0.6, 0.3), "scene6": (True, 0.6, 0.6)}


def samples_for(root: str, dataset: str, splits: list[str], label_map) -> list[Sample]:
    out = []
    for split in splits:
        for s in discover(root, [dataset], split, label_map, label_map.labels):
            name = label_map.labels[s.label]
            if name in APPLE:
                out.append(Sample(s.path, APPLE.index(name), dataset))
    return out


def run(recipe: str, args, train: list[Sample], test: list[Sample], foliage) -> dict:
    use_locator, bg_p, scene_p = RECIPES[recipe]
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    cfg = PreprocessConfig(input_size=args.size, resize_size=args.size)
    locator = LocatorConfig() if use_locator else None
    model = load_pretrained(EfficientNetLite0(len(APPLE)))
    model.freeze_early(args.freeze_blocks)
    model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.02)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    transform = TrainTransform(args.train_size, cfg, locator, bg_p=bg_p, foliage=foliage, seed=args.seed,
                               scene_p=scene_p)
    sampler = WeightedEpochSampler(np.full(len(train), 1 / len(train)), len(train), args.seed)
    loader = DataLoader(PhotoDataset(train, transform), batch_size=32, sampler=sampler, num_workers=args.workers,
                        drop_last=True, worker_init_fn=worker_init)
    steps, total = 0, args.epochs * (len(train) // 32)
    t0 = time.time()
    model.train()
    for epoch in range(args.epochs):
        sampler.set_epoch(epoch)
        for x, y, _ in loader:
            for g in opt.param_groups:
                g["lr"] = args.lr * 0.5 * (1 + np.cos(np.pi * steps / total))
            loss = loss_fn(model(x.contiguous(memory_format=torch.channels_last)), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            steps += 1
    train_s = time.time() - t0
    eval_loader = DataLoader(PhotoDataset(test, EvalTransform(cfg, locator)), batch_size=64, num_workers=args.workers)
    logits, targets = evaluate(model, eval_loader, len(APPLE))
    rep = classification_report(targets, logits.argmax(1), APPLE)
    out = {"recipe": recipe, "top1": rep["top1"], "macro_f1": rep["macro_f1"], "train_s": train_s, "steps": steps}
    if args.leaf_crops is not None:
        crops, owner = args.leaf_crops
        crop_loader = DataLoader(PhotoDataset(crops, EvalTransform(cfg, locator)), batch_size=64,
                                 num_workers=args.workers)
        crop_logits, _ = evaluate(model, crop_loader, len(APPLE))
        mixed = logits.copy()
        for i in range(len(test)):  # the product's vote: the whole photo and its leaves, logits averaged
            mine = [crop_logits[j] for j in np.flatnonzero(owner == i)]
            if mine:
                mixed[i] = np.mean([logits[i], *mine], axis=0)
        leaf_rep = classification_report(targets, mixed.argmax(1), APPLE)
        out.update(leaves_top1=leaf_rep["top1"], leaves_macro_f1=leaf_rep["macro_f1"])
    return out


def leaf_crops(test: list[Sample], out_dir: Path, pests: str) -> tuple[list[Sample], np.ndarray]:
    """Up to 3 leaf crops per test photo from the scene detector, as the service cuts them (LEAF_VOTES,
    LEAF_MIN_SIDE), written once as PNG files -> (crop samples, index of the test photo each crop came from)."""
    import cv2
    from leafscout.model.detect import Detector
    from leafscout.service import LEAF_MIN_SIDE, LEAF_VOTES
    det = Detector(pests, threads=2, labeler=False)
    out_dir.mkdir(parents=True, exist_ok=True)
    crops, owner, boxed = [], [], 0
    for i, s in enumerate(test):
        scene = det.scene(s.path)
        _, kept = scene.leaves_with_crops(LEAF_VOTES, LEAF_MIN_SIDE)
        boxed += bool(kept)
        for k, crop in enumerate(kept):
            f = out_dir / f"{i:05d}_{k}.png"
            if not f.exists():
                cv2.imwrite(str(f), cv2.cvtColor(crop, cv2.COLOR_RGB2BGR))
            crops.append(Sample(str(f), s.label, s.dataset))
            owner.append(i)
    print(f"scene detector {pests}: leaves boxed in {boxed} of {len(test)} orchard photos, {len(crops)} crops")
    return crops, np.asarray(owner)


def main(argv=None) -> int:
    first = " ".join(__doc__.split("\n\n")[0].split()).split(". ")[0].rstrip(".") + "."  # a whole sentence
    p = argparse.ArgumentParser(description=first)
    p.add_argument("--data-root", default="../shared/datasets")
    p.add_argument("--recipes", nargs="+", choices=sorted(RECIPES), default=["old", "new"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--train-size", type=int, default=160)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--freeze-blocks", type=int, default=3,
                   help="stem + this many of Lite0's 16 blocks keep their ImageNet weights (the shipped recipe: 3)")
    p.add_argument("--from-leaves", action="store_true",
                   help="also score each photo from its whole and up to 3 leaf crops, as the product does")
    p.add_argument("--pests", default=str(Path(__file__).resolve().parent.parent / "model" / "pests.onnx"),
                   help="the scene detector for --from-leaves")
    p.add_argument("--crops-dir", default="runs/cross_domain_leaves", help="where --from-leaves keeps its crops")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    root = Path(args.data_root)
    if not (root / "plantvillage").is_dir() or not (root / "apple_orchard_fgvc8").is_dir():
        print(f"error: needs {root}/plantvillage and {root}/apple_orchard_fgvc8 (see datasets/README.md)",
              file=sys.stderr)
        return 2
    label_map = load_label_map()
    train = samples_for(args.data_root, "plantvillage", ["train"], label_map)
    test = samples_for(args.data_root, "apple_orchard_fgvc8", ["train", "val"], label_map)
    # foliage backgrounds come from the other field sets, never from the FGVC8 photos under test
    field = [s for ds in ("ibean_uganda", "chilli_leaf")
             for s in discover(args.data_root, [ds], "train", label_map, label_map.labels)]
    foliage = load_foliage(field, 200, args.seed)
    print(f"train: {len(train)} PlantVillage apple photos; test: {len(test)} FGVC8 orchard photos "
          f"(unseen); {args.epochs} epochs, {args.threads} threads")
    args.leaf_crops = leaf_crops(test, Path(args.crops_dir), args.pests) if args.from_leaves else None
    results = []
    for recipe in args.recipes:
        r = run(recipe, args, train, test, foliage)
        results.append(r)
        print(f"{recipe:>4}: FGVC8 top-1 {r['top1']:.1%}  macro-F1 {r['macro_f1']:.1%}  "
              f"({r['steps']} steps, {r['train_s']:.0f} s training)", flush=True)
        if "leaves_top1" in r:
            print(f"{'':>4}  from the whole photo and its leaves: top-1 {r['leaves_top1']:.1%}  "
                  f"macro-F1 {r['leaves_macro_f1']:.1%}", flush=True)
    by = {r["recipe"]: r for r in results}
    if "old" in by and "new" in by:
        print(f"new - old: top-1 {100 * (by['new']['top1'] - by['old']['top1']):+.1f} points, "
              f"macro-F1 {100 * (by['new']['macro_f1'] - by['old']['macro_f1']):+.1f} points "
              f"(chance: 25%)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

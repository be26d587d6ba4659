"""Would a network trained for rice alone name rice leaf diseases better? Grouped cross-validation, fine-tuned.

`benchmarks/rice_features.py` fits a logistic regression on frozen features (ImageNet Lite0: 33/40 on val, 82.1%
in grouped 5-fold CV over all 184 rice_leaf_ph photos). Issue 22 asks for a model "trained for the job" that does
clearly better. This fine-tunes a whole Lite0 on the rice photos alone, with LeafScout's phone-photo augmentation
(`training.presets.phone_photo_augment`, any quarter turn and mirror), in the same folds (sequence-shot photos of
one scene kept in one fold) and on the fixed TRAIN -> VAL split, so the two can be compared.

    python benchmarks/rice_finetune_cv.py --init imagenet --size 224 --epochs 15
    python benchmarks/rice_finetune_cv.py --init model/leafscout.onnx --size 224 --epochs 15 --no-cv

`--init model/leafscout.onnx` starts from the shipped classifier, which trained on the TRAIN photos: its CV would be
flattering, so use it with `--no-cv` (TRAIN -> VAL only). Each fit prints its CPU seconds. Needs the train extra and
../shared/datasets/rice_leaf_ph.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from rice_features import CLASSES_DIR, open_rice  # noqa: E402


def load_rgb(path: Path, size: int) -> np.ndarray:
    from PIL import Image
    return np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR))


def normalise(batch: np.ndarray) -> np.ndarray:
    """uint8 [N,H,W,3] -> float32 [N,3,H,W] as Lite0 expects (the runtime's mean/std)."""
    return ((batch.astype(np.float32) / 255 - 0.498) / 0.502).transpose(0, 3, 1, 2)


def flip_views(rgb: np.ndarray) -> np.ndarray:
    return np.stack([np.ascontiguousarray(v) for v in (rgb, rgb[:, ::-1], rgb[::-1], rgb[::-1, ::-1])])


def new_model(init: str, n_classes: int):
    """Lite0 with a fresh n-class classifier: ImageNet weights, or the backbone of a LeafScout ONNX file."""
    import torch
    from leafscout.model import arch
    if init == "imagenet":
        model = arch.load_pretrained(arch.EfficientNetLite0(n_classes))
        return model, False
    from leafscout.training.soup import load_ingredient
    model = load_ingredient(init)[0]
    model._fc = torch.nn.Linear(model._fc.in_features, n_classes)
    return model, True  # BatchNorms folded in the ONNX file: keep them in inference mode


def fit_predict(init: str, imgs: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray,
                args, seed: int) -> tuple[np.ndarray, float]:
    """Fine-tune on imgs[train], return the predicted class of each imgs[test] (mean of four flip views) and the
    CPU seconds the fit took."""
    import torch
    from leafscout.training.presets import phone_photo_augment
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n_classes = int(y.max()) + 1
    model, folded = new_model(init, n_classes)
    model.freeze_early(args.freeze_blocks, batchnorm=folded)
    model = model.to(memory_format=torch.channels_last)
    aug = phone_photo_augment(args.size)
    params = [p for p in model.parameters() if p.requires_grad]
    head = list(model._fc.parameters())
    body = [p for p in params if all(p is not h for h in head)]
    opt = torch.optim.AdamW([{"params": body, "lr": args.lr}, {"params": head, "lr": args.lr * 10}],
                            weight_decay=1e-4)
    steps = args.epochs * int(np.ceil(len(train) / args.batch))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=[args.lr, args.lr * 10], total_steps=steps,
                                                pct_start=0.15)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    t0 = time.process_time()
    model.train()
    for _ in range(args.epochs):
        order = rng.permutation(train)
        for b in range(0, len(order), args.batch):
            idx = order[b:b + args.batch]
            batch = []
            for i in idx:
                a = np.rot90(imgs[i], int(rng.integers(4)))
                batch.append(aug(image=np.ascontiguousarray(a))["image"])
            x = torch.from_numpy(normalise(np.stack(batch))).contiguous(memory_format=torch.channels_last)
            loss = loss_fn(model(x), torch.from_numpy(y[idx]))
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
    model.eval()
    pred = []
    with torch.no_grad():
        for i in test:
            small = load_rgb_resized(imgs[i], args.size)
            x = torch.from_numpy(normalise(flip_views(small))).contiguous(memory_format=torch.channels_last)
            pred.append(int(torch.softmax(model(x), 1).mean(0).argmax()))
    return np.array(pred), time.process_time() - t0


def load_rgb_resized(rgb: np.ndarray, size: int) -> np.ndarray:
    import cv2
    if rgb.shape[0] == size:
        return rgb
    return cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)


def per_class(pred: np.ndarray, truth: np.ndarray) -> str:
    return "/".join(f"{int((pred[truth == k] == k).sum())}:{int((truth == k).sum())}" for k in range(truth.max() + 1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets" / CLASSES_DIR))
    ap.add_argument("--init", default="imagenet", help="imagenet, or a LeafScout classifier .onnx file")
    ap.add_argument("--size", type=int, default=224, help="training and evaluation input size, px")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=3e-4, help="backbone learning rate (the head gets 10x)")
    ap.add_argument("--freeze-blocks", type=int, default=2)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--no-cv", action="store_true", help="only the fixed TRAIN -> VAL split")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    root = Path(args.data)
    loaded = open_rice(root, args.folds, args.threads)
    if loaded is None:
        return 0
    items, y, split, fold_of, n_groups = loaded  # the folds of rice_features.py
    imgs = np.stack([load_rgb(f, 256) for f, _, _ in items])
    tr, va = np.where(split == "train")[0], np.where(split == "val")[0]
    print(f"{CLASSES_DIR}: {len(items)} photos ({len(tr)} train, {len(va)} val), {n_groups} sequence groups; "
          f"init {args.init}, {args.size} px, {args.epochs} epochs, lr {args.lr:g}, freeze {args.freeze_blocks}",
          flush=True)
    for seed in args.seeds:
        pv, cpu = fit_predict(args.init, imgs, y, tr, va, args, seed)
        print(f"  seed {seed}: TRAIN -> VAL {int((pv == y[va]).sum())}/{len(va)} ({(pv == y[va]).mean():.1%}; "
              f"per class right:total {per_class(pv, y[va])}), {cpu / 60:.1f} CPU-min", flush=True)
        if args.no_cv:
            continue
        cv = np.zeros(len(y), int)
        for k in range(args.folds):
            te = np.where(fold_of == k)[0]
            cv[te], cpu = fit_predict(args.init, imgs, y, np.where(fold_of != k)[0], te, args, seed)
            print(f"    fold {k}: {int((cv[te] == y[te]).sum())}/{len(te)}, {cpu / 60:.1f} CPU-min", flush=True)
        print(f"  seed {seed}: grouped {args.folds}-fold CV {int((cv == y).sum())}/{len(y)} ({(cv == y).mean():.1%};"
              f" per class {per_class(cv, y)})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

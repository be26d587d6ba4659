"""Old model vs new (retrained, int8, TTA), per dataset, on val: accuracy, macro-F1, flagged share, time.

Also prints, per dataset, the photos the new model fixed and broke against the first and the exact sign test on
them: a one-photo loss on a 40-photo set is 2.5 points and no evidence; ten broken and none fixed is.

Decides by measurement whether a new model ships. `--gate points` (the default): only when it is not worse than
the first (shipped) model on ANY dataset by more than --tolerance points top-1, the field corrections kept aside included
(`leafscout corrections export DIR --aside 0.2`, then `--corrections DIR`: photos of plots no training run
saw, labelled by officers). int8 used a 0.5-point tolerance; keep TTA optional unless it gains on the field
sets (ibean_uganda, chilli_leaf, apple_orchard_fgvc8) for its ~4x time.
`--gate paired` judges the photos instead of the points, so that one photo of a 40-photo set is not a veto: on
every dataset, no more than 2 photos broken net (broken - fixed <= 2; a loss the sign test calls more than chance
at p < 0.10 needs at least 5 photos net, so this is stricter); over all datasets together more photos fixed than broken (the rule the scene detector 2.0.0 shipped by,
model/PESTS_CARD.md).

    .venv/bin/python benchmarks/compare_models.py model/leafscout.onnx runs/v4/leafscout.onnx --corrections runs/corr
    .venv/bin/python benchmarks/compare_models.py model/leafscout.onnx model/leafscout-int8.onnx --tta --tolerance 0.5
"""
from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.evaluate import evaluate_folder  # noqa: E402
from leafscout.model.imageio import IMAGE_SUFFIXES  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402

FIELD = ("ibean_uganda", "chilli_leaf", "apple_orchard_fgvc8")
CORRECTIONS = "field corrections (aside)"


def corrected_photos(folder: Path) -> list[tuple[Path, str]]:
    """(photo, label) of a corrections export's kept-aside plots (`DIR/aside/<crop.problem>/`); a folder that
    holds `<crop.problem>/` folders itself is read as it is."""
    root = folder / "aside" if (folder / "aside").is_dir() else folder
    photos = [(f, d.name) for d in sorted(root.iterdir()) if d.is_dir() and "." in d.name
              for f in sorted(d.iterdir()) if f.suffix.lower() in IMAGE_SUFFIXES]
    if not photos:
        raise SystemExit(f"--corrections {folder}: no photos in {root}/<crop.problem>/; export with "
                         "`leafscout corrections export DIR --aside 0.2`")
    return photos


def score_corrections(p: Predictor, photos: list[tuple[Path, str]]) -> tuple:
    """Top-1 of the model's arg-max against the officers' labels, and {photo: right}. Not `evaluate_folder`: that
    refuses a label the model lacks, and a correction may name a new problem the old model cannot know (it counts
    as wrong here)."""
    import numpy as np
    t = time.perf_counter()
    results = p.predict_many([str(f) for f, _ in photos], top_k=1)
    right = flagged = n = 0
    each = {}
    for (f, truth), r in zip(photos, results):
        if r.status == "error":
            continue
        n += 1
        each[str(f)] = p.labels[int(np.argmax(r.logits))] == truth
        right += each[str(f)]
        flagged += r.status != "ok"
    return (right / max(1, n), float("nan"), flagged / max(1, n), (time.perf_counter() - t) * 1e3 / max(1, n), n), each


def sign_test(fixed: int, broken: int) -> float:
    """Two-sided exact sign test on the photos the two models disagree on: how likely a split at least this
    uneven is when neither model is better (McNemar's exact test)."""
    n = fixed + broken
    if n == 0:
        return 1.0
    return min(1.0, 2 * sum(math.comb(n, k) for k in range(min(fixed, broken) + 1)) / 2 ** n)


MAX_NET_BROKEN = 2  # photos a dataset may lose net under --gate paired


def paired_verdict(flips: dict[str, tuple[int, int]]) -> tuple[bool, str]:
    """The paired gate over {dataset: (photos fixed, photos broken)} against the shipped model: no dataset with
    more than MAX_NET_BROKEN photos lost net, and more photos fixed than broken over all datasets.
    -> (ship?, the reason in one line)."""
    if not flips:
        return False, "no dataset compared"
    for ds, (f, b) in sorted(flips.items()):
        if b - f > MAX_NET_BROKEN:
            return False, f"{ds}: {b} broken, {f} fixed: more than {MAX_NET_BROKEN} photos lost"
    fixed, broken = sum(f for f, _ in flips.values()), sum(b for _, b in flips.values())
    if fixed <= broken:
        return False, f"all datasets: {fixed} fixed, {broken} broken: no gain"
    return True, f"all datasets: {fixed} fixed, {broken} broken, p {sign_test(fixed, broken):.3f}; no dataset worse beyond chance"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="ONNX files; the first is the reference")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--tta", action="store_true", help="also run the first model with TTA on the field datasets")
    ap.add_argument("--tta-all", action="store_true", help="also run the first model with TTA on every dataset "
                    "(photo by photo against one view, as for a new model)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--corrections", type=Path, default=None, metavar="DIR",
                    help="a `leafscout corrections export --aside` folder: also score its kept-aside photos")
    ap.add_argument("--gate", choices=("points", "paired"), default="points",
                    help="points: top-1 drop per dataset <= --tolerance; paired: photos fixed vs broken (see above)")
    ap.add_argument("--tolerance", type=float, default=0.0,
                    help="points top-1 a new model may lose on a dataset and still ship (default 0: not worse anywhere)")
    args = ap.parse_args()
    data = Path(args.data)
    datasets = [d for d in sorted(load_label_map().datasets) if (data / d / args.split).is_dir()]
    runs = [(m, False, datasets) for m in args.models]
    if args.tta or args.tta_all:
        runs.append((args.models[0], True, datasets if args.tta_all else [d for d in datasets if d in FIELD]))
    table, each = {}, {}  # (model, dataset) -> figures; -> {photo: right}
    corrections = corrected_photos(args.corrections) if args.corrections else None
    names = [str(m) if len({Path(x).name for x in args.models}) < len(args.models) else Path(m).name
             for m in args.models]  # runs/a/leafscout.onnx vs model/leafscout.onnx: show the paths
    for model, tta, dss in runs:
        p = Predictor(model, threads=args.threads)
        name = f"{names[args.models.index(model)]}{' +TTA' if tta else ''}"
        if corrections and not tta:
            v, each[(name, CORRECTIONS)] = score_corrections(p, corrections)
            table[(name, CORRECTIONS)] = v
            print(f"{name:32s} {CORRECTIONS:22s} n={v[4]:5d} top-1 {v[0]:.2%}  flagged {v[2]:.1%}  "
                  f"{v[3]:.1f} ms/photo", flush=True)
        for ds in dss:
            t = time.perf_counter()
            rep = evaluate_folder(p, data / ds, split=args.split, dataset=ds, limit=args.limit, tta=tta,
                                  per_photo=True)
            o = rep["overall"]
            each[(name, ds)] = rep["per_photo"]
            table[(name, ds)] = (o["top1"], o["macro_f1"], o["flagged_share"], (time.perf_counter() - t) * 1e3 / max(1, o["n"]), o["n"])
            print(f"{name:32s} {ds:22s} n={o['n']:5d} top-1 {o['top1']:.2%}  macro-F1 {o['macro_f1']:.4f}  "
                  f"flagged {o['flagged_share']:.1%}  {table[(name, ds)][3]:.1f} ms/photo", flush=True)
    ref = names[0]
    print("\nchange vs", ref, "(top-1 points):")
    for (name, ds), v in table.items():
        if name != ref and (ref, ds) in table:
            print(f"  {name:32s} {ds:22s} {100 * (v[0] - table[(ref, ds)][0]):+6.2f} pt top-1  "
                  f"{v[1] - table[(ref, ds)][1]:+.4f} macro-F1  time x{v[3] / table[(ref, ds)][3]:.2f}")
    print(f"\nphoto by photo vs {ref}: fixed (it was wrong, now right) / broken (it was right, now wrong), and the "
          "exact sign test's p (small: the change is more than chance)")
    flips = {}  # (model name, dataset) -> (fixed, broken)
    for (name, ds), now in each.items():
        if name != ref and (ref, ds) in each:
            before = each[(ref, ds)]
            fixed = sum(1 for k, ok in now.items() if ok and k in before and not before[k])
            broken = sum(1 for k, ok in now.items() if not ok and before.get(k))
            flips[(name, ds)] = (fixed, broken)
            print(f"  {name:32s} {ds:22s} fixed {fixed:4d}  broken {broken:4d}  p {sign_test(fixed, broken):.3f}")
    verdicts = []
    for m, name in zip(args.models[1:], names[1:]):
        size = Path(m).stat().st_size / Path(args.models[0]).stat().st_size
        if args.gate == "paired":
            ok, why = paired_verdict({ds: fb for (n, ds), fb in flips.items() if n == name})
            verdicts.append(ok)
            print(f"{name}: size x{size:.2f}: {'SHIP' if ok else 'DO NOT SHIP'} ({why})")
            continue
        drops = {d: 100 * (table[(name, d)][0] - table[(ref, d)][0])
                 for d in [*datasets, CORRECTIONS] if (name, d) in table and (ref, d) in table}
        worst = min(drops, key=drops.get) if drops else None
        ok = worst is not None and drops[worst] >= -args.tolerance
        verdicts.append(ok)
        verdict = (f"SHIP (nowhere worse than {ref} by more than {args.tolerance:g} pt)" if ok else
                   f"DO NOT SHIP (worse than {ref} by more than {args.tolerance:g} pt on {worst})")
        print(f"{name}: worst dataset {worst} {drops.get(worst, 0):+.2f} pt, size x{size:.2f}: {verdict}")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())

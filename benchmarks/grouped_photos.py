"""The gain from several photos of one plant: one photo's answer against the combined answer of 3 and 6.

The val splits have no plant ids, so groups are drawn at random from photos of the same label and dataset
(photos of one physical leaf share a `group` in manifest.csv; a drawn group never holds two photos of one
leaf when the label has enough leaves). Each photo is run once; groups are combined exactly as
`DiagnosisService.diagnose_group` does (`Predictor.combine`: mean logits, then the one-photo rules).
With `--service`, each photo is answered by `DiagnosisService.diagnose_many` as the product does (a field photo
from its whole and the leaves the shipped scene detector finds, `--pests` to try another), else by the
classifier on the whole photo alone.

    python benchmarks/grouped_photos.py --model model/leafscout.onnx [--service [--pests runs/x/pests.onnx]]
"""
from __future__ import annotations

import argparse
import csv
import random
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.service import mixed_crops  # noqa: E402
from leafscout.training.data import discover  # noqa: E402

FIELD = ("apple_orchard_fgvc8", "chilli_leaf", "ibean_uganda", "rice_leaf_ph")


def leaf_groups(data_root: Path) -> dict[str, str]:
    """photo path (relative to the data root) -> its physical-leaf group, from manifest.csv."""
    manifest = data_root / "manifest.csv"
    if not manifest.is_file():
        return {}
    with manifest.open(newline="") as f:
        return {row["path"]: row["group"] for row in csv.DictReader(f)}


def draw(photos: list, size: int, n: int, rng: random.Random, leaf_of) -> list[list]:
    """`n` groups of `size` photos, each from distinct leaves where there are enough."""
    by_leaf = defaultdict(list)
    for p in photos:
        by_leaf[leaf_of(p)].append(p)
    out = []
    for _ in range(n):
        leaves = list(by_leaf)
        if len(leaves) >= size:
            out.append([rng.choice(by_leaf[lf]) for lf in rng.sample(leaves, size)])
        elif len(photos) >= size:
            out.append(rng.sample(photos, size))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--datasets", nargs="*", default=list(FIELD))
    ap.add_argument("--sizes", nargs="*", type=int, default=[3, 6])
    ap.add_argument("--groups-per-label", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--service", action="store_true", help="each photo through DiagnosisService (leaves included)")
    ap.add_argument("--pests", default=None, help="with --service: the detector (default: the shipped one)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    root = Path(args.data_root)
    lm = load_label_map()
    svc = None
    if args.service:
        from leafscout.service import DiagnosisService
        svc = DiagnosisService(model_path=args.model, db=None, threads=args.threads, pests_model_path=args.pests)
    pred = svc.predictor if svc else Predictor(args.model, threads=args.threads)
    groups_of = leaf_groups(root)
    rng = random.Random(args.seed)
    how = (f"each photo through the service (detector {svc.detector.version if svc.detector else 'none'})" if svc
           else "the classifier on each whole photo")
    print(f"model {pred.version}, {how}: answer top-1 of one photo vs a group of photos of the same label "
          f"({args.groups_per_label} random groups per label and size)")
    for ds in args.datasets:
        if not (root / ds / "val").is_dir():
            print(f"  {ds}: no val split under {root}, skipped")
            continue
        samples = discover(root, [ds], "val", lm, lm.labels)
        truth = {s.path: lm.labels[s.label] for s in samples}
        if any(t not in pred.labels for t in truth.values()):
            print(f"  {ds}: the model does not know this dataset's labels, skipped")
            continue
        paths = list(truth)
        answers = ([d.result for d in svc.diagnose_many(paths, top_k=3)] if svc else pred.predict_many(paths, top_k=3))
        results = dict(zip(paths, answers))
        single = sum(results[p].label == t for p, t in truth.items()) / len(truth)
        line = f"  {ds:20s} one photo {single:6.1%} (n={len(truth)})"
        by_label = defaultdict(list)
        for p, t in truth.items():
            by_label[t].append(p)

        def leaf_of(p):
            return groups_of.get(str(Path(p).relative_to(root)), p)

        for size in args.sizes:
            right = total = mixed = mixed_right = 0
            for t, photos in sorted(by_label.items()):
                for g in draw(photos, size, args.groups_per_label, rng, leaf_of):
                    total += 1
                    ok = pred.combine([results[p] for p in g]).label == t
                    right += ok
                    # every photo here has one label: a group called "not one plant" is a false alarm
                    if mixed_crops([results[p].label for p in g if results[p].status == "ok" and results[p].label])["mixed"]:
                        mixed, mixed_right = mixed + 1, mixed_right + ok
            line += (f" | {size} photos {right / max(1, total):6.1%} ({total} groups; called mixed "
                     f"{mixed / max(1, total):.1%}, {mixed_right} of them right)")
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

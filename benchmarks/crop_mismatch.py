"""When the grower names a crop the photo does not show, does LeafScout notice? And how often does it cry wolf?

A crop named with the photo (`--crop`, the app's crop field, a plot's crop) limits the answer to that crop's labels.
Named wrongly (a chilli photo sent as rice), the answer is that crop's best guess on a photo it does not fit; the
runtime notes "the photo looks more like chilli (99%) than rice" when another crop holds at least half the
probability and twice the named crop's (`model/runtime.Predictor.decide`). This prints, per val dataset:
- right crop named: how often the note fires anyway (a correct crop the product would doubt), and the top-1 of
  the answers with and without the note;
- wrong crop named (each photo once with every other crop the model knows): how often the note fires (the
  mistakes it catches).

    python benchmarks/crop_mismatch.py model/leafscout.onnx

Needs ../shared/datasets (the val split). One inference per photo; the crop is applied afterwards by `decide`.
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402
from leafscout.training.data import discover  # noqa: E402


def pct(a: int, b: int) -> str:
    return f"{100 * a / b:5.1f}%" if b else "    - "


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--datasets", nargs="*", default=None)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if not Path(args.data_root).is_dir():
        print(f"no {args.data_root}: nothing to measure", file=sys.stderr)
        return 0
    lm = load_label_map()
    pred = Predictor(args.model, threads=args.threads)
    crops = sorted({pred.crop_of(lab) for lab in pred.labels if lab != pred.background_label})
    samples = [s for s in discover(args.data_root, args.datasets, "val", lm, lm.labels, None)
               if lm.labels[s.label] != lm.background_label and pred.crop_of(lm.labels[s.label]) in crops]
    by_ds = defaultdict(Counter)
    results = pred.predict_many([str(s.path) for s in samples], top_k=3)
    for s, r in zip(samples, results):
        if r.status == "error":
            continue
        truth = lm.labels[s.label]
        crop = pred.crop_of(truth)
        for c in (by_ds[s.dataset], by_ds["all"]):
            d = pred.decide(r.logits, 3, r.plant_share, crop)
            fired = d["crop_note"] is not None
            c["n"] += 1
            c["fired"] += fired
            c[("right", fired)] += d["label"] == truth
            c[("n", fired)] += 1
            for other in crops:
                if other != crop:
                    c["wrong_n"] += 1
                    c["wrong_fired"] += pred.decide(r.logits, 3, r.plant_share, other)["crop_note"] is not None
    print(f"{args.model} (model {pred.version}); crop named with each val photo")
    print(f"  {'dataset':20s} {'n':>5s} {'right crop: note':>17s} {'top-1 no note':>14s} {'top-1 note':>11s} "
          f"{'wrong crop: note':>17s}")
    for ds in sorted(by_ds, key=lambda k: (k == "all", k)):
        c = by_ds[ds]
        print(f"  {ds:20s} {c['n']:5d} {c['fired']:6d} ({pct(c['fired'], c['n'])}) "
              f"{pct(c[('right', False)], c[('n', False)]):>14s} {pct(c[('right', True)], c[('n', True)]):>11s} "
              f"{c['wrong_fired']:6d} ({pct(c['wrong_fired'], c['wrong_n'])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())

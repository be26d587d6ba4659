"""fp32 vs int8 vs test-time augmentation, per dataset, on val: accuracy, macro-F1, flagged share, time.

Decides two things by measurement: ship int8 only if it loses <= 0.5 points top-1 on EVERY dataset and is
faster or much smaller; keep TTA optional unless it gains on the field sets (ibean_uganda, chilli_leaf,
apple_orchard_fgvc8) for its ~4x time.

    .venv/bin/python benchmarks/compare_models.py model/leafscout.onnx model/leafscout-int8.onnx --tta
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.evaluate import evaluate_folder  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402

FIELD = ("ibean_uganda", "chilli_leaf", "apple_orchard_fgvc8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("models", nargs="+", help="ONNX files; the first is the reference")
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--split", default="val")
    ap.add_argument("--limit", type=int, default=None, help="at most N photos per class")
    ap.add_argument("--tta", action="store_true", help="also run the first model with TTA on the field datasets")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    data = Path(args.data)
    datasets = [d for d in sorted(load_label_map().datasets) if (data / d / args.split).is_dir()]
    runs = [(m, False, datasets) for m in args.models]
    if args.tta:
        runs.append((args.models[0], True, [d for d in datasets if d in FIELD]))
    table = {}
    for model, tta, dss in runs:
        p = Predictor(model, threads=args.threads)
        name = f"{Path(model).name}{' +TTA' if tta else ''}"
        for ds in dss:
            t = time.perf_counter()
            rep = evaluate_folder(p, data / ds, split=args.split, dataset=ds, limit=args.limit, tta=tta)
            o = rep["overall"]
            table[(name, ds)] = (o["top1"], o["macro_f1"], o["flagged_share"], (time.perf_counter() - t) * 1e3 / max(1, o["n"]), o["n"])
            print(f"{name:32s} {ds:22s} n={o['n']:5d} top-1 {o['top1']:.2%}  macro-F1 {o['macro_f1']:.4f}  "
                  f"flagged {o['flagged_share']:.1%}  {table[(name, ds)][3]:.1f} ms/photo", flush=True)
    ref = Path(args.models[0]).name
    print("\nchange vs", ref, "(top-1 points):")
    for (name, ds), v in table.items():
        if name != ref and (ref, ds) in table:
            print(f"  {name:32s} {ds:22s} {100 * (v[0] - table[(ref, ds)][0]):+6.2f} pt top-1  "
                  f"{v[1] - table[(ref, ds)][1]:+.4f} macro-F1  time x{v[3] / table[(ref, ds)][3]:.2f}")
    for m in args.models[1:]:
        name = Path(m).name
        worst = min((100 * (table[(name, d)][0] - table[(ref, d)][0]) for d in datasets if (name, d) in table), default=0)
        size = Path(m).stat().st_size / Path(args.models[0]).stat().st_size
        print(f"{name}: worst dataset {worst:+.2f} pt (ship only if >= -0.5), size x{size:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

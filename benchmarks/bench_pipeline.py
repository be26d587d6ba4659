"""What one photo costs through the whole product path, against the classifier alone, in one run.

The product path is `DiagnosisService.diagnose`: image gate, leaf locator, classifier, crop-first decision,
the rice insect detector + labeler where rice insects can be (`leafscout.service.PEST_CROP_MIN`), advice.
The baseline is `Predictor.predict` alone on the same photos. Photos: an even mix of every val dataset
(leaf photos of nine datasets and rice field photos), so the figure is a field trip's average, and the
rice-only figure is printed apart. Also prints how often the detector ran.

    python benchmarks/bench_pipeline.py --per-dataset 12 --threads 2
    python benchmarks/bench_pipeline.py --per-dataset 12 --threads 2 --runs 3 --versus runs/p100/pests.onnx

One run is noisy on a shared 2-core machine (the rice figure moved 47-66 ms between runs on one day): --runs N
prints each run and the range, and --versus alternates two detectors run by run, so both see the same load.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.service import DiagnosisService  # noqa: E402
from leafscout.model.labels import load_label_map  # noqa: E402
from leafscout.training.data import discover  # noqa: E402


def timed(fn, items) -> np.ndarray:
    for it in items[:3]:
        fn(it)  # warm-up: sessions, arenas, the advisor's caches
    out = []
    for it in items:
        t = time.perf_counter()
        fn(it)
        out.append((time.perf_counter() - t) * 1e3)
    return np.asarray(out)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None)
    ap.add_argument("--data-root", default=str(REPO.parent / "shared" / "datasets"))
    ap.add_argument("--pests", default=None, help="insect or scene detector (default: model/pests.onnx)")
    ap.add_argument("--per-dataset", type=int, default=12)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--runs", type=int, default=1, help="measure this many times and print the range of the means")
    ap.add_argument("--versus", default=None, metavar="PESTS",
                    help="another detector, measured in alternation with --pests in every run (same photos)")
    ap.add_argument("--bound", type=float, default=60.0, help="ms a photo the runs are counted against (issue 17)")
    args = ap.parse_args(argv)
    lm = load_label_map()
    by_ds = defaultdict(list)
    for s in discover(args.data_root, None, "val", lm, lm.labels):
        by_ds[s.dataset].append(s.path)
    rng = random.Random(args.seed)
    photos = {ds: rng.sample(p, min(args.per_dataset, len(p))) for ds, p in sorted(by_ds.items())}
    detectors = [args.pests] + ([args.versus] if args.versus else [])
    services = []
    for det in detectors:
        svc = DiagnosisService(model_path=args.model, threads=args.threads, db="sqlite://", pests_model_path=det)
        svc.warm_up()
        if svc.detector is None:
            print(f"no pest detector at {det or 'model/pests.onnx'}: the pipeline is the classifier alone")
        services.append(svc)
    pred = services[0].predictor
    print(f"classifier {pred.version}, {args.threads} thread(s), {sum(map(len, photos.values()))} val photos "
          f"({args.per_dataset} per dataset), {args.runs} run(s)"
          + (f", alternating detectors {' / '.join(str(d or 'model/pests.onnx') for d in detectors)}"
             if args.versus else ""))
    groups = (("all datasets", [p for ps in photos.values() for p in ps]),
              ("rice field photos", photos.get("rice_pest", []) + photos.get("rice_leaf_ph", [])))
    means = defaultdict(list)  # (detector index, group) -> pipeline mean per run
    for run in range(args.runs):
        for k, svc in enumerate(services):
            ran = []
            orig = svc._find_pests

            def spy(d, photo, ctx, *rest, _orig=orig, _ran=ran):
                _ran.append(photo)
                return _orig(d, photo, ctx, *rest)

            svc._find_pests = spy
            label = f"run {run + 1}" + (f", detector {k + 1}" if args.versus else "")
            for name, items in groups:
                if not items:
                    continue
                base = timed(lambda p: svc.predictor.predict(p), items)
                ran.clear()
                full = timed(lambda p: svc.diagnose(p), items)
                share = len(set(ran) & set(items)) / len(set(items))
                means[(k, name)].append(float(full.mean()))
                print(f"  {label:20s} {name:18s} classifier alone p50 {np.median(base):6.1f} ms mean "
                      f"{base.mean():6.1f} ms | whole pipeline p50 {np.median(full):6.1f} ms mean {full.mean():6.1f} ms"
                      f" | ratio (mean) x{full.mean() / base.mean():.2f} | detector ran on {share:.0%} of photos",
                      flush=True)
            svc._find_pests = orig
    if args.runs > 1:
        print(f"over {args.runs} runs, pipeline mean a photo (bound {args.bound:g} ms):")
        for (k, name), ms in means.items():
            det = detectors[k] or "model/pests.onnx"
            print(f"  detector {det}: {name:18s} {min(ms):6.1f}-{max(ms):6.1f} ms, "
                  f"{sum(m > args.bound for m in ms)} of {len(ms)} runs above the bound")
    return 0


if __name__ == "__main__":
    sys.exit(main())

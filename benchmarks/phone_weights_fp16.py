"""Would half-precision weights bring the phone download under 15 MB? A measurement, not a shipped model.

Stores every float32 weight of --model as float16 with a Cast back to float32 in the graph (the arithmetic stays
float32, in onnxruntime and onnxruntime-web alike), then prints the file size (raw, gzip) and, on every fixture
photo, how far its probabilities move from the float32 model and how many answers (status, label) change.

    .venv/bin/python benchmarks/phone_weights_fp16.py --model model/leafscout.onnx --out runs/leafscout-fp16w.onnx

Shipping it would mean shipping it to the Python runtime too (the phone and the laptop read the same file),
after the accuracy check on the validation sets (`leafscout evaluate`), which this script does not do.
"""
from __future__ import annotations

import argparse
import gzip
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def half_weights(src: str, dst: str, min_size: int = 256) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(src)
    g = m.graph
    casts, halves = [], []
    for init in list(g.initializer):
        arr = numpy_helper.to_array(init)
        if arr.dtype == np.float32 and arr.size >= min_size:
            halves.append(numpy_helper.from_array(arr.astype(np.float16), init.name + "_fp16"))
            casts.append(helper.make_node("Cast", [init.name + "_fp16"], [init.name], to=TensorProto.FLOAT))
            g.initializer.remove(init)
    g.initializer.extend(halves)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    onnx.save(m, dst)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--out", default=str(REPO / "runs" / "leafscout-fp16w.onnx"))
    args = ap.parse_args(argv)
    from leafscout.model.runtime import Predictor

    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    half_weights(args.model, args.out)
    for name in (args.model, args.out):
        data = Path(name).read_bytes()
        print(f"{name}: {len(data) / 1e6:.1f} MB, {len(gzip.compress(data, 6)) / 1e6:.1f} MB gzip")
    a, b = Predictor(args.model, threads=1), Predictor(args.out, threads=1)
    photos = sorted(p for root in ("tests/fixtures/images", "tests/fixtures/ood", "tests/fixtures/rice_pest")
                    for p in (REPO / root).rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))

    def probs(logits, t):
        z = np.asarray(logits, np.float64) / t
        e = np.exp(z - z.max())
        return e / e.sum()

    worst, changed = 0.0, 0
    for p in photos:
        ra, rb = a.predict(str(p)), b.predict(str(p))
        worst = max(worst, float(np.abs(probs(ra.logits, a.temperature) - probs(rb.logits, b.temperature)).max()))
        changed += (ra.status, ra.label) != (rb.status, rb.label)
    print(f"{len(photos)} fixture photos: largest probability change {worst:.2e}, answers changed {changed}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

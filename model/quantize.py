"""int8 static quantisation of the LeafScout ONNX model, calibrated on real val photos.

Static (not dynamic) because convolutions dominate Lite0 and only static QDQ quantises their activations.
Calibration images go through the runtime's own decode + preprocessing. The LeafScout metadata is copied
over, so the int8 file is a drop-in `--model`. Whether to ship it is decided by measurement
(`benchmarks/compare_models.py`): on some CPUs int8 is slower, and any dataset may lose accuracy.

    .venv/bin/python -m leafscout.model.quantize model/leafscout.onnx model/leafscout-int8.onnx ../shared/datasets --per-class 4
"""
from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path

import numpy as np


def calibration_batches(predictor, photos: list[Path], batch_size: int = 8):
    """Preprocessed float32 batches from real photos, exactly as the runtime feeds them."""
    batch = []
    for f in photos:
        try:
            batch.append(predictor.views(predictor.load(f))[0][0])
        except Exception:  # a bad calibration photo is skipped, not fatal
            continue
        if len(batch) == batch_size:
            yield np.stack(batch)
            batch = []
    if batch:
        yield np.stack(batch)


def pick_photos(data_dir: str | Path, labels: list[str], per_class: int = 4, split: str = "val",
                seed: int = 0) -> list[Path]:
    """A few val photos of every class of every dataset present (balanced: rare classes count too)."""
    from leafscout.model.evaluate import discover
    from leafscout.model.labels import load_label_map
    root = Path(data_dir)
    photos = []
    for ds in sorted(load_label_map().datasets):
        if (root / ds / split).is_dir():
            photos += [s[2] for s in discover(root / ds, labels, split, ds, limit=per_class, seed=seed)]
    random.Random(seed).shuffle(photos)
    return photos


def quantize(fp32: str | Path, out: str | Path, photos: list[Path], per_channel: bool = True,
             reduce_range: bool = False) -> Path:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    from leafscout.model.runtime import Predictor

    predictor = Predictor(fp32)
    if not photos:
        raise ValueError("no calibration photos; pass a folder with <dataset>/val/<class>/ photos")

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = ({"image": b} for b in calibration_batches(predictor, photos))

        def get_next(self):
            return next(self.it, None)

    out = Path(out)
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(fp32), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(out), Reader(), quant_format=QuantFormat.QDQ,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        per_channel=per_channel, reduce_range=reduce_range,
                        calibrate_method=CalibrationMethod.MinMax)
    src, dst = onnx.load(str(fp32)), onnx.load(str(out))
    del dst.metadata_props[:]
    for p in src.metadata_props:
        e = dst.metadata_props.add()
        e.key, e.value = p.key, p.value
    e = dst.metadata_props.add()
    e.key, e.value = "leafscout.quantization", f"int8 static QDQ, per_channel={per_channel}, {len(photos)} val photos"
    onnx.save(dst, str(out))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="int8 static quantisation calibrated on real val photos")
    ap.add_argument("fp32")
    ap.add_argument("out")
    ap.add_argument("data_dir", help="folder of <dataset>/val/<class>/ photos (e.g. ../shared/datasets)")
    ap.add_argument("--per-class", type=int, default=4)
    ap.add_argument("--no-per-channel", action="store_true")
    ap.add_argument("--reduce-range", action="store_true", help="7-bit weights: for CPUs without VNNI")
    args = ap.parse_args(argv)
    from leafscout.model.runtime import ModelError, Predictor
    try:
        if not Path(args.data_dir).is_dir():
            raise ValueError(f"data_dir {args.data_dir} is not a folder; pass the folder of <dataset>/val/<class>/ "
                             "photos (e.g. ../shared/datasets)")
        if not Path(args.out).resolve().parent.is_dir():
            raise ValueError(f"out {args.out}: the folder {Path(args.out).resolve().parent} does not exist; create it "
                             "or write the int8 model elsewhere")
        photos = pick_photos(args.data_dir, Predictor(args.fp32).labels, args.per_class)
        path = quantize(args.fp32, args.out, photos, per_channel=not args.no_per_channel,
                        reduce_range=args.reduce_range)
    except (ModelError, ValueError, OSError) as exc:  # EvaluationError is a ValueError: each says what to change
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB, from {Path(args.fp32).stat().st_size / 1e6:.1f} MB), "
          f"calibrated on {len(photos)} val photos")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed of the edge runtime, measured in one run on this machine (a benchmark script, not a timed test).

Prints p50/p95 latency of the whole pipeline (read + decode + leaf locator + preprocess + infer) for a
256-px leaf photo and a 12-MP phone JPEG on 1 thread, the same pipeline without the leaf locator (ratio),
batch throughput over a folder on 2 cores, the same weights in PyTorch eager as the baseline (ratio), and
peak memory. Targets: p50 <= 12 ms per 256-px photo with the locator; >= 2x PyTorch eager; p50 <= 60 ms
(12 MP) on 1 thread; >= 60 photos/s on 2 cores.

    .venv/bin/python benchmarks/bench_runtime.py --model model/leafscout.onnx

Without --checkpoint the PyTorch baseline rebuilds the ONNX file's own weights (model/onnx_weights.py).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from leafscout.model.imageio import read_image  # noqa: E402
from leafscout.model.locate import LocatorConfig  # noqa: E402
from leafscout.model.preprocess import preprocess  # noqa: E402
from leafscout.model.runtime import Predictor  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, repeat: int, warmup: int = 3) -> np.ndarray:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1e3)
    return np.asarray(out)


def fmt(ms: np.ndarray) -> str:
    return f"p50 {np.percentile(ms, 50):6.1f} ms  p95 {np.percentile(ms, 95):6.1f} ms"


def make_12mp(photo: Path, out: Path) -> Path:
    import cv2
    rgb = read_image(photo)
    big = cv2.resize(rgb, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    cv2.imwrite(str(out), cv2.cvtColor(big, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return out


def torch_model(checkpoint: str | None, n_classes: int, onnx_path: Path):
    import torch

    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.onnx_weights import load_onnx_weights
    net = EfficientNetLite0(num_classes=n_classes)
    if not checkpoint:
        load_onnx_weights(net, str(onnx_path))
        return net.eval(), f"weights rebuilt from {onnx_path.name}"
    if checkpoint:
        state = torch.load(checkpoint, map_location="cpu", weights_only=False)
        for key in ("model", "state_dict", "model_state", "ema"):
            if isinstance(state, dict) and key in state and isinstance(state[key], dict):
                state = state[key]
                break
        net.load_state_dict(state)
        note = f"weights from {checkpoint}"
    return net.eval(), note


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=None, help="ONNX model (default: shipped)")
    ap.add_argument("--checkpoint", default=None, help="PyTorch checkpoint with the same weights (baseline)")
    ap.add_argument("--photo", default=None, help="a ~256-px leaf photo (default: a fixture)")
    ap.add_argument("--folder", default=str(REPO / "tests" / "fixtures" / "images"))
    ap.add_argument("--repeat", type=int, default=60)
    ap.add_argument("--batch-photos", type=int, default=300, help="photos in the throughput run (folder repeated)")
    ap.add_argument("--no-torch", action="store_true")
    args = ap.parse_args()

    photos = sorted(p for p in Path(args.folder).rglob("*.jpg"))
    photo = Path(args.photo) if args.photo else next(p for p in photos if "ibean" in str(p))
    tmp = Path(tempfile.mkdtemp())
    big = make_12mp(photo, tmp / "phone_12mp.jpg")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} (other jobs make timings noisy)")

    p1 = Predictor(args.model, threads=1)
    print(f"model: {p1.path} ({p1.path.stat().st_size / 1e6:.1f} MB) version {p1.version}, input {p1.cfg.input_size} px")
    lat_small = timed(lambda: p1.predict(photo), args.repeat)
    lat_big = timed(lambda: p1.predict(big), max(20, args.repeat // 2))
    r = p1.predict(big)
    print(f"ONNX 1 thread, 256-px photo ({read_image(photo).shape[1]}x{read_image(photo).shape[0]}), "
          f"leaf locator {'on' if p1.locator.enabled else 'off (not in this model)'}: {fmt(lat_small)}")
    p0 = Predictor(args.model, threads=1)
    p0.locator = LocatorConfig(enabled=False)
    lat_plain = timed(lambda: p0.predict(photo), args.repeat)
    print(f"ONNX 1 thread, same photo, same pipeline without the leaf locator: {fmt(lat_plain)}  "
          f"-> the locator adds {np.percentile(lat_small, 50) - np.percentile(lat_plain, 50):+.1f} ms at p50 "
          f"({np.percentile(lat_small, 50) / np.percentile(lat_plain, 50):.2f}x; target p50 <= 12 ms with it)")
    print(f"ONNX 1 thread, 12-MP JPEG (4000x3000, {big.stat().st_size / 1e6:.1f} MB): {fmt(lat_big)}  "
          f"[decode {r.timing['decode']:.1f} + preprocess {r.timing['preprocess']:.1f} + infer {r.timing['infer']:.1f} ms]")
    tta = timed(lambda: p1.predict(photo, tta=True), max(10, args.repeat // 3))
    print(f"ONNX 1 thread, 256-px photo with TTA (4 views): {fmt(tta)}")

    p2 = Predictor(args.model, threads=2)
    batch = (photos * (args.batch_photos // max(1, len(photos)) + 1))[: args.batch_photos]
    for bs in (1, 8):
        list(p2.predict_many(batch[:16], batch_size=bs))
        t = time.perf_counter()
        n = sum(1 for _ in p2.predict_many(batch, batch_size=bs, workers=2))
        print(f"ONNX 2 threads, folder of {n} photos, batch {bs}: {n / (time.perf_counter() - t):6.1f} photos/s")
    print(f"peak memory (runtime only, before torch is imported): {peak_mb():.0f} MB")

    if args.no_torch:
        return 0
    import torch
    net, note = torch_model(args.checkpoint, len(p1.labels), p1.path)
    torch.set_num_threads(1)

    def torch_predict(path):
        x = torch.from_numpy(preprocess(read_image(path, min_short_side=p1.cfg.resize_size), p1.cfg, p1.locator)[None])
        with torch.inference_mode():
            return net(x)
    t_small = timed(lambda: torch_predict(photo), max(20, args.repeat // 2))
    print(f"PyTorch eager 1 thread, 256-px photo ({note}): {fmt(t_small)}")
    ratio = np.percentile(t_small, 50) / np.percentile(lat_small, 50)
    print(f"ONNX runtime is {ratio:.1f}x faster than PyTorch eager at p50 (target >= 2x)")
    x = preprocess(read_image(photo), p1.cfg, p1.locator)[None]
    with torch.inference_mode():
        diff = np.abs(net(torch.from_numpy(x)).numpy() - p1.infer(x)[0]).max()
    print(f"same weights check: max |logit diff| ONNX vs torch = {diff:.2e}")
    print(f"peak memory (whole run, incl. torch): {peak_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())

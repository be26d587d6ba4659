"""The phone app's speed and size, measured in one run on this machine (a benchmark script, not a timed test).

Builds the phone app from --model, serves it (gzip, as `python app.py` does), opens it in Debian's Chromium
(headless, 390x844) and times the whole in-browser pipeline (decode + leaf locator + preprocess + WASM
inference + decide) on fixture photos, p50/p95; then the Python runtime on the same photos, in the same
run, with the same number of threads (ratio); the same for rice insect photos, where the insect detector and
its labeler run too (after their one-time download); then the download: every file of the build as served
(raw and gzip-encoded bytes), "core" (what installing the app fetches) and "with insects" (plus the insect
models, fetched on the first rice photo). Goal: the whole download <= 15 MB, models included.

    .venv/bin/python benchmarks/bench_phone.py --model model/leafscout.onnx [--photos 40] [--threads 2]
"""
from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))


def pct(xs, q):
    return float(np.percentile(np.asarray(xs), q))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default=str(REPO / "model" / "leafscout.onnx"))
    ap.add_argument("--photos", type=int, default=40, help="fixture photos to time (spread over the datasets)")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the photos")
    ap.add_argument("--threads", type=int, default=2, help="WASM threads (the page's cap) and Python's threads")
    ap.add_argument("--rice-photos", type=int, default=12, help="rice insect photos (fixtures, then rice_pest val)")
    args = ap.parse_args(argv)

    from phone_support import CHROME_ARGS, CHROMIUM, PHONE, static_server
    from playwright.sync_api import sync_playwright

    from leafscout.model.runtime import Predictor
    from leafscout.webapp.phone import PhoneBuildError, build

    photos = sorted(p for p in (REPO / "tests/fixtures/images").rglob("*") if p.suffix.lower() in (".jpg", ".png"))
    photos = photos[:: max(1, len(photos) // args.photos)][: args.photos]
    val = REPO.parent / "shared" / "datasets" / "rice_pest" / "val" / "images"
    rice = sorted((REPO / "tests/fixtures/rice_pest").rglob("*.jpg")) + (sorted(val.glob("*.jpg")) if val.is_dir() else [])
    rice = rice[: args.rice_photos]
    with tempfile.TemporaryDirectory() as tmp:
        try:
            info = build(Path(tmp) / "dist", args.model)
        except PhoneBuildError as exc:
            print(f"bench_phone: {exc}", file=sys.stderr)
            return 2
        out = Path(tmp) / "dist"
        with static_server(out) as url:
            # ---- download size, as served
            raw = gz = raw_core = gz_core = 0
            for rel in sorted(info["files"]):
                req = urllib.request.Request(url + rel, headers={"Accept-Encoding": "gzip"})
                with urllib.request.urlopen(req) as r:
                    body = r.read()
                    gz += len(body)
                raw += info["files"][rel]
                if rel not in info["lazy"]:
                    gz_core += len(body)
                    raw_core += info["files"][rel]
            # ---- in the browser
            with sync_playwright() as p:
                b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
                page = b.new_context(viewport=PHONE).new_page()
                t0 = time.perf_counter()
                page.goto(f"{url}?threads={args.threads}")
                ready = page.evaluate("window.leafscout.ready")
                load_s = time.perf_counter() - t0
                data = [base64.b64encode(ph.read_bytes()).decode() for ph in photos]
                res = page.evaluate("""async ([photos, rounds]) => {
                    const bytes = photos.map(b => Uint8Array.from(atob(b), c => c.charCodeAt(0)));
                    for (const x of bytes.slice(0, 3)) await window.leafscout.diagnoseBytes(x);  // warm-up
                    const total = [], infer = [];
                    for (let r = 0; r < rounds; r++) for (const x of bytes) {
                      const t = performance.now();
                      const d = await window.leafscout.diagnoseBytes(x);
                      total.push(performance.now() - t); infer.push(d.timing.infer);
                    }
                    return {total, infer}; }""", [data, args.rounds])
                rice_res = page.evaluate("""async ([photos, rounds]) => {
                    const bytes = photos.map(b => Uint8Array.from(atob(b), c => c.charCodeAt(0)));
                    const t0 = performance.now();
                    const first = await window.leafscout.diagnoseBytes(bytes[0]);  // + the insect models' download
                    const firstMs = performance.now() - t0;
                    const total = [], pests = [];
                    for (let r = 0; r < rounds; r++) for (const x of bytes) {
                      const t = performance.now();
                      const d = await window.leafscout.diagnoseBytes(x);
                      total.push(performance.now() - t); pests.push(d.timing.pests || 0);
                    }
                    return {total, pests, firstMs, ran: first.pests !== undefined && first.timing.pests !== undefined}; }""",
                                         [[base64.b64encode(ph.read_bytes()).decode() for ph in rice], args.rounds]) \
                    if rice and info["lazy"] else None
                b.close()
    # ---- the Python runtime, same photos, same run
    pred = Predictor(args.model, threads=args.threads)
    for ph in photos[:3]:
        pred.predict(str(ph))
    py_total, py_infer = [], []
    for _ in range(args.rounds):
        for ph in photos:
            t = time.perf_counter()
            r = pred.predict(str(ph))
            py_total.append((time.perf_counter() - t) * 1e3)
            py_infer.append(r.timing["infer"])
    py_rice = []
    if rice_res:
        from leafscout.service import DiagnosisService

        svc = DiagnosisService(model_path=args.model, db=None, threads=args.threads)
        for ph in rice[:3]:
            svc.diagnose(str(ph))
        for _ in range(args.rounds):
            for ph in rice:
                t = time.perf_counter()
                svc.diagnose(str(ph))
                py_rice.append((time.perf_counter() - t) * 1e3)
    js50, py50 = pct(res["total"], 50), pct(py_total, 50)
    print(f"model {pred.version} ({Path(args.model).name}), {len(photos)} fixture photos x {args.rounds}, "
          f"page: {ready['threads']} WASM thread(s), cross-origin isolated: {ready['isolated']}")
    print(f"in the browser (decode + locator + preprocess + WASM inference + decide): p50 {js50:.1f} ms, "
          f"p95 {pct(res['total'], 95):.1f} ms a photo; inference alone p50 {pct(res['infer'], 50):.1f} ms")
    print(f"Python runtime ({args.threads} threads, same photos, same run): p50 {py50:.1f} ms, "
          f"p95 {pct(py_total, 95):.1f} ms; inference alone p50 {pct(py_infer, 50):.1f} ms")
    print(f"ratio browser / Python: {js50 / py50:.1f}x (inference alone "
          f"{pct(res['infer'], 50) / pct(py_infer, 50):.1f}x)")
    if rice_res:
        r50, pr50 = pct(rice_res["total"], 50), pct(py_rice, 50)
        print(f"rice insect photos ({len(rice)} x {args.rounds}; classifier + insect detector + labeler): browser p50 "
              f"{r50:.1f} ms, p95 {pct(rice_res['total'], 95):.1f} ms (insects alone p50 "
              f"{pct(rice_res['pests'], 50):.1f} ms); Python service (DiagnosisService.diagnose, advice included) "
              f"p50 {pr50:.1f} ms; ratio {r50 / pr50:.1f}x; first rice photo with the insect models' download and "
              f"load (localhost) {rice_res['firstMs'] / 1e3:.1f} s")
    print(f"first load (no cache, localhost): {load_s:.1f} s")
    print(f"download, core (installing the app): {raw_core / 1e6:.1f} MB as files, {gz_core / 1e6:.1f} MB over the "
          f"wire with gzip (goal <= 15 MB)")
    print(f"download, with the detector (+ {', '.join(info['lazy']) or 'none'}, fetched on the first rice photo, "
          f"and with a scene detector on the first field photo): "
          f"{raw / 1e6:.1f} MB as files, {gz / 1e6:.1f} MB with gzip")
    print("largest files: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in
                                        sorted(info['files'].items(), key=lambda kv: -kv[1])[:4]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

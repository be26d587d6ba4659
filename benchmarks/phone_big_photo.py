"""A 50 MP phone photo in the phone app: the page's memory and the time to the answer, before and after the
reduced decode (a benchmark script, not a test; what the answer must be is tests/test_phone_big_photo.py's).

Many cheap phones now take 8160x6120 photos. The phone app used to decode such a photo whole (createImageBitmap,
a canvas, getImageData, an RGB copy: ~200 MB each) before averaging it down to the 1/8 size Python decodes; on a
3-4 GB phone the tab was killed and the photo lost. It now asks the browser's JPEG decoder for the reduced size
(WebCodecs ImageDecoder, desiredWidth/desiredHeight: libjpeg's DCT scaling, as OpenCV does in Python), or, in a
browser without it, reads the decoded photo back a strip at a time (pipeline.js readImageAt); the third row is
the working tree in a page whose ImageDecoder was removed, that path's figures.

The photo is made here (not committed): the fixture late-blight leaf enlarged to 8160x6120 with a little sensor-like
noise, JPEG quality 90. Each build (--before: the phone sources at a git commit, default the last one before the
change; after: the working tree) is served and opened in a fresh headless Debian Chromium at 390x844; a small photo
is diagnosed first through the picker (the model's first run and the scene detector's download are not the big
photo's), the renderer's peak RSS is reset (/proc/PID/clear_refs), then the big photo is picked through the
file input exactly as a farmer does and timed until its answer card shows. Printed per build, median of --repeat
runs: the renderer's peak RSS above its level before the photo (VmHWM, the figure that kills a tab), the JS heap
after (CDP Performance.getMetrics JSHeapUsedSize; ArrayBuffers and decoded images are outside it), the time from
picking to the answer card, the answer and how the photo was decoded; then the ratios. Linux only (/proc).

    .venv/bin/python benchmarks/phone_big_photo.py [--before COMMIT] [--repeat 3] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

BEFORE = "2f41704df2159862a3097068fc7a33fab56f9b78"  # the phone sources before the reduced decode
SIZE = (8160, 6120)
CARD = "#card .card[data-status], #card .card.error"


def make_photo(path: Path, size=SIZE, seed=5) -> Path:
    """The fixture leaf enlarged to `size`, with a little noise so the JPEG is about as big as a phone's."""
    import cv2
    import numpy as np

    from conftest import LATE_BLIGHT_PHOTO

    big = cv2.resize(cv2.imread(str(LATE_BLIGHT_PHOTO)), size, interpolation=cv2.INTER_CUBIC)
    noise = np.random.default_rng(seed).normal(0, 3, big.shape[:2] + (1,)).astype(np.int16)
    big = np.clip(big.astype(np.int16) + noise, 0, 255).astype(np.uint8)
    path.write_bytes(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 90])[1].tobytes())
    return path


def renderer_pids() -> set[int]:
    pids = set()
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                cmd = (p / "cmdline").read_bytes()
            except OSError:
                continue
            if b"chromium" in cmd and b"--type=renderer" in cmd:
                pids.add(int(p.name))
    return pids


def mem_mb(pid: int) -> dict:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmHWM:", "VmRSS:")):
            out[line.split(":")[0]] = int(line.split()[1]) / 1024
    return out


def old_sources(build: Path, ref: str) -> None:
    """The phone's front end as it was at `ref` (the model files and bundles stay this build's)."""
    for name in ("app.js", "pipeline.js", "db.js"):
        text = subprocess.run(["git", "show", f"{ref}:phone/src/{name}"], cwd=REPO, capture_output=True, check=True).stdout
        (build / name).write_bytes(text)


NO_IMAGEDECODER = "delete window.ImageDecoder;"  # a browser without WebCodecs' ImageDecoder (the strip path)


def run_once(pw, url: str, small: Path, big: Path, threads: int, script: str | None = None) -> dict:
    from phone_support import CHROME_ARGS, CHROMIUM, PHONE

    before = renderer_pids()
    b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROME_ARGS)
    try:
        ctx = b.new_context(viewport=PHONE, locale="vi-VN")
        if script:
            ctx.add_init_script(script)
        page = ctx.new_page()
        page.goto(f"{url}?threads={threads}")
        page.evaluate("window.leafscout.ready")
        cdp = ctx.new_cdp_session(page)
        cdp.send("Performance.enable")

        def pick(photo: Path) -> float:
            page.evaluate("document.querySelector('#card').innerHTML = ''")
            t0 = time.perf_counter()
            page.set_input_files("#photo", str(photo))
            page.locator(CARD).wait_for(timeout=300_000)
            return time.perf_counter() - t0

        pick(small)  # the model's first run, the scene detector's download: not the big photo's cost
        page.wait_for_timeout(500)
        (pid,) = sorted(renderer_pids() - before, key=lambda p: -mem_mb(p)["VmRSS"])[:1]
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # the peak RSS starts again from now
        base = mem_mb(pid)["VmRSS"]
        seconds = pick(big)
        heap = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}["JSHeapUsedSize"]
        r = page.evaluate("window.leafscout.result")
        return {"peak_mb": mem_mb(pid)["VmHWM"] - base, "heap_mb": heap / 2**20, "seconds": seconds,
                "answer": (r["status"], r["label"]),
                "decoded": (r.get("decoded") or {}).get("size"), "via": (r.get("decoded") or {}).get("via")}
    finally:
        b.close()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--before", default=BEFORE, help="git commit whose phone/src is 'before' (default %(default).12s)")
    ap.add_argument("--repeat", type=int, default=3, help="fresh browsers per build (median)")
    ap.add_argument("--threads", type=int, default=1, help="WASM threads (1: steady on a busy 2-core machine)")
    args = ap.parse_args(argv)

    import shutil

    from phone_support import static_server
    from playwright.sync_api import sync_playwright

    from conftest import LATE_BLIGHT_PHOTO
    from leafscout.model.runtime import Predictor
    from leafscout.webapp.phone import PhoneBuildError, build

    with tempfile.TemporaryDirectory(prefix="leafscout-bigphoto-") as tmp:
        tmp = Path(tmp)
        big = make_photo(tmp / "big-50mp.jpg")
        try:
            build(tmp / "after")
        except PhoneBuildError as exc:
            print(f"phone_big_photo: {exc}", file=sys.stderr)
            return 2
        shutil.copytree(tmp / "after", tmp / "before")
        old_sources(tmp / "before", args.before)
        py = Predictor(tmp / "after" / "model" / "leafscout.onnx", threads=1).predict(str(big))
        print(f"photo: {SIZE[0]}x{SIZE[1]} JPEG, {big.stat().st_size / 1e6:.1f} MB; Python's answer on it: "
              f"{py.status} {py.label} ({py.confidence:.3f}); {args.repeat} fresh Chromium runs a build, median")
        res = {}
        with sync_playwright() as pw:
            for name, folder, script in (("before", "before", None), ("after", "after", None),
                                         ("after, no ImageDecoder", "after", NO_IMAGEDECODER)):
                with static_server(tmp / folder) as url:
                    runs = [run_once(pw, url, LATE_BLIGHT_PHOTO, big, args.threads, script) for _ in range(args.repeat)]
                med = {k: statistics.median(r[k] for r in runs) for k in ("peak_mb", "heap_mb", "seconds")}
                res[name] = med
                label = runs[-1]["answer"]
                ref = f" (phone/src at {args.before[:12]})" if name == "before" else " (working tree)"
                print(f"{name}{ref}: renderer peak +{med['peak_mb']:.0f} MB, JS heap {med['heap_mb']:.1f} MB, "
                      f"answer in {med['seconds']:.2f} s; "
                      f"answer {label[0]} {label[1]}, decoded {runs[-1]['decoded'] or 'whole, then averaged'}"
                      f"{' via ' + runs[-1]['via'] if runs[-1]['via'] else ''}; runs: "
                      + ", ".join(f"+{r['peak_mb']:.0f} MB/{r['seconds']:.2f} s" for r in runs))
        b = res["before"]
        for name in ("after", "after, no ImageDecoder"):
            a = res[name]
            print(f"ratio before/{name}: peak memory x{b['peak_mb'] / max(a['peak_mb'], 1):.1f}, "
                  f"time to the answer x{b['seconds'] / a['seconds']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

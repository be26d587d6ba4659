"""Hostile and careless inputs against the image gate: outcome, wall time and peak memory per input.

Builds every hostile file itself in a temporary folder (nothing is downloaded or committed), then reads each
one in a fresh subprocess, so one input's memory cannot hide another's, and prints per input:
the outcome (`ok WxH` or the ImageError code), the wall time of the read, and the child's peak RSS
(VmHWM of the child's own image, which includes the ~70 MB of Python + numpy + OpenCV every reader pays).

    python benchmarks/hostile_inputs.py                 # through model.imageio.read_image (every reader's gate)
    python benchmarks/hostile_inputs.py --cli           # end to end: `leafscout diagnose FILE` with the shipped model
    python benchmarks/hostile_inputs.py --json          # one JSON object per input

The issue's target: the pixel bomb (10900x10900 16-bit RGBA PNG, 0.9 MB on disk) is refused in under 1 s
and 200 MB. Exit status 1 when a "must refuse" input is accepted, hangs (timeout) or breaks the limits.
"""
from __future__ import annotations

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TIME_LIMIT_S = 1.0
RSS_LIMIT_MB = 200.0


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def png_bomb(width: int = 10900, height: int = 10900, depth: int = 16, color_type: int = 6) -> bytes:
    """A real, complete PNG of zeros: 10900x10900 16-bit RGBA decodes to 906 MB, compresses to ~0.9 MB."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[color_type]
    row = b"\0" * (1 + width * channels * depth // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def png_header_only(width: int, height: int, depth: int = 8, color_type: int = 2) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, depth, color_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + _chunk(b"IEND", b""))


def leaf_jpeg(width: int = 640, height: int = 480) -> bytes:
    """A plausible photo (green gradient with noise) as a control that must be accepted."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:height, 0:width]
    img = np.stack([40 + x * 80 // width, 120 + y * 100 // height, 30 + 0 * x], -1)
    img = np.clip(img + rng.integers(-20, 20, img.shape), 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png16_small() -> bytes:
    """A legitimate 16-bit RGBA PNG (scanner output): accepted, it is small."""
    import numpy as np
    import cv2

    img = (np.random.default_rng(1).random((300, 400, 4)) * 65535).astype(np.uint16)
    ok, buf = cv2.imencode(".png", img)
    assert ok
    return buf.tobytes()


def build(folder: Path) -> list[tuple[str, str, bool]]:
    """Write the hostile files; returns (name, path, must_refuse)."""
    folder.mkdir(parents=True, exist_ok=True)
    bomb = png_bomb()
    jpeg = leaf_jpeg()
    files = {
        "pixel_bomb_16bit_rgba.png": (bomb, True),
        "pixel_bomb_header_only_30k.png": (png_header_only(30_000, 30_000), True),
        "truncated.jpg": (jpeg[: len(jpeg) // 2], True),
        "text_as.jpg": (b"these are my notes, not a photo\n" * 20, True),
        "html_as.png": (b"<!doctype html><img src=x onerror=alert(1)>", True),
        "empty.jpg": (b"", True),
        "tiny.png": (png_header_only(8, 8), True),
        "scanner_16bit_rgba.png": (png16_small(), False),
        "leaf.jpg": (jpeg, False),
    }
    out = []
    for name, (data, refuse) in files.items():
        (folder / name).write_bytes(data)
        out.append((name, str(folder / name), refuse))
    with zipfile.ZipFile(folder / "two_bombs.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.png", bomb)
        zf.writestr("b.png", bomb)
    out.append(("two_bombs.zip (each member)", "zip:" + str(folder / "two_bombs.zip"), True))
    fifo = folder / "x_fifo.jpg"
    os.mkfifo(fifo)
    out.append(("x_fifo.jpg (FIFO, no writer)", str(fifo), True))
    out.append(("/dev/zero", "/dev/zero", True))
    out.append(("a folder named photo.jpg", str(_folder(folder / "photo.jpg")), True))
    return out


def _folder(p: Path) -> Path:
    p.mkdir(exist_ok=True)
    return p


# The child: read one input through the gate and print one JSON line. Zip members are read as bytes (what the
# batch upload does after extracting them) and each goes through the same gate.
CHILD = r"""
import json, sys, time, zipfile
from leafscout.model.imageio import ImageError, read_image
target = sys.argv[1]
t0 = time.perf_counter()
outcomes = []
try:
    if target.startswith("zip:"):
        with zipfile.ZipFile(target[4:]) as zf:
            for member in zf.infolist():
                try:
                    rgb = read_image(zf.read(member), min_short_side=224)
                    outcomes.append(f"ok {rgb.shape[1]}x{rgb.shape[0]}")
                except ImageError as exc:
                    outcomes.append(f"refused {exc.code}")
    else:
        rgb = read_image(target, min_short_side=224)
        outcomes.append(f"ok {rgb.shape[1]}x{rgb.shape[0]}")
except ImageError as exc:
    outcomes.append(f"refused {exc.code}")
    message = str(exc)
else:
    message = ""
print(json.dumps({"outcome": ", ".join(outcomes), "read_s": time.perf_counter() - t0, "message": message,
                  "peak_mb": peak_mb()}))
"""

# Peak memory of the child's own image: VmHWM from /proc (Linux). wait4's ru_maxrss is not used when this is
# available, because Linux carries the *parent's* high-water mark into a forked/vforked child across exec.
PEAK = r"""
def peak_mb():
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
"""
CHILD = PEAK + CHILD

CLI_CHILD = PEAK + r"""
import json, sys
from leafscout.cli import main
try:
    rc = main(sys.argv[1:])
except SystemExit as exc:
    rc = exc.code if isinstance(exc.code, int) else 1
sys.stderr.write("\nPEAK_MB " + json.dumps(peak_mb()) + "\n")
sys.exit(rc)
"""


def run_one(path: str, *, cli: bool, timeout: float) -> dict:
    if cli:
        target = path[4:] if path.startswith("zip:") else path
        argv = [sys.executable, "-c", CLI_CHILD, "diagnose", target, "--json"]
    else:
        argv = [sys.executable, "-c", CHILD, path]
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    t0 = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = t0 + timeout
    status = rusage = None
    while time.perf_counter() < deadline:
        pid, status, rusage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.005)
    else:
        proc.kill()
        _, status, rusage = os.wait4(proc.pid, 0)
        proc.returncode = -9
        return {"outcome": f"HUNG (killed after {timeout:g} s)", "wall_s": timeout,
                "peak_mb": rusage.ru_maxrss / 1024, "message": ""}
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read().decode(errors="replace")
    err = proc.stderr.read().decode(errors="replace")
    row = {"wall_s": wall, "peak_mb": rusage.ru_maxrss / 1024, "exit": proc.returncode}
    if cli:
        for line in err.splitlines():
            if line.startswith("PEAK_MB "):
                row["peak_mb"] = float(line.split()[1])
        lines = [json.loads(x) for x in out.splitlines() if x.startswith("{")]
        row["outcome"] = ", ".join(
            (f"refused {r.get('error_code') or 'error'}" if r.get("status") == "error" else
             f"{r.get('status')} {r.get('label') or ''}".strip()) for r in lines) or f"refused (exit {proc.returncode})"
        row["message"] = (lines[0].get("error") if lines else err.strip().splitlines()[-1:] or [""])
        row["traceback"] = "Traceback" in err
        row["read_s"] = wall
    else:
        try:
            row.update(json.loads(out.strip().splitlines()[-1]))
        except (IndexError, ValueError):
            row["outcome"] = f"CRASH exit {proc.returncode}: {err.strip().splitlines()[-1:] }"
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cli", action="store_true", help="run `leafscout diagnose FILE --json` instead of read_image")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before an input counts as hung")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="leafscout-hostile-") as tmp:
        inputs = build(Path(tmp))
        if not args.json:
            print(f"{'input':34} {'outcome':44} {'read s':>7} {'wall s':>7} {'peak MB':>8}")
        for name, path, must_refuse in inputs:
            row = run_one(path, cli=args.cli, timeout=args.timeout)
            parts = row["outcome"].split(", ")
            accepted = [not x.startswith(("refused", "HUNG", "CRASH")) for x in parts]
            bad = row["outcome"].startswith(("HUNG", "CRASH")) or \
                (any(accepted) if must_refuse else not all(accepted))
            if name.startswith("pixel_bomb_16bit") and not args.cli:
                bad = bad or row.get("read_s", 99) > TIME_LIMIT_S or row["peak_mb"] > RSS_LIMIT_MB
            failures += bool(bad)
            row.update(input=name, must_refuse=must_refuse, fail=bool(bad))
            if args.json:
                print(json.dumps(row))
            else:
                print(f"{name:34} {row['outcome'][:44]:44} {row.get('read_s', float('nan')):7.3f} "
                      f"{row['wall_s']:7.3f} {row['peak_mb']:8.0f}{'  FAIL' if bad else ''}")
    if not args.json:
        print(f"pixel bomb target: refused in < {TIME_LIMIT_S:g} s and < {RSS_LIMIT_MB:g} MB peak; "
              f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

"""Peak memory of one call, measured in a fresh Python (tests of what a hostile upload costs): `run_probe(code,
*args)` runs `code` with `mb('VmHWM')` (the process's peak resident MB so far) defined and returns its stdout."""
from __future__ import annotations

import subprocess
import sys

MB = "def mb(k):\n    return int(open('/proc/self/status').read().split(k + ':')[1].split()[0]) / 1024\n"


def run_probe(code: str, *args) -> str:
    out = subprocess.run([sys.executable, "-c", MB + code, *map(str, args)], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def big_green_jpeg(folder) -> str:
    """A 6000x4000 plain green JPEG (72 MB decoded, a few KB on disk) in `folder`: its path."""
    import cv2
    import numpy as np
    img = np.zeros((4000, 6000, 3), np.uint8)
    img[:, :, 1] = 150
    path = f"{folder}/big.jpg"
    cv2.imwrite(path, img)
    return path

"""Hostile zips on the Batch tab (webapp/batch.py): bounded memory whatever the members' compression."""
from __future__ import annotations

import os
import tracemalloc
import zipfile

import pytest

from leafscout.webapp import batch as B
from memory_probe import big_green_jpeg, run_probe


def _zeros_member(path, compression, mb: int) -> None:
    with zipfile.ZipFile(path, "w", compression) as zf:
        with zf.open("leaf.jpg", "w") as fh:
            block = b"\0" * 2**20
            for _ in range(mb):
                fh.write(block)


@pytest.mark.parametrize("compression", [zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_bzip2_and_lzma_members_are_refused_without_inflating_them(tmp_path, compression):
    """zipfile inflates a bzip2/LZMA member with no output limit: one read() of a 1.5 KB bzip2 member made
    4 GB (measured: 4120 MB peak RSS, 6 s). Here 64 MB stands in for the gigabytes."""
    archive = tmp_path / "bomb.zip"
    _zeros_member(archive, compression, 64)
    assert archive.stat().st_size < 64 * 2**10
    tracemalloc.start()
    try:
        items, skipped = B.safe_extract(archive, tmp_path / "out")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB allocated while extracting"
    assert [(i.path, i.error_code) for i in items] == [(None, "zip_member")]
    assert "compression" in items[0].error and skipped == 0
    assert not any((tmp_path / "out").iterdir())


def test_stored_and_deflated_members_are_still_read(tmp_path):
    archive = tmp_path / "ok.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg", b"x" * 1000, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr("b.jpg", b"y" * 1000, compress_type=zipfile.ZIP_STORED)
    items, _ = B.safe_extract(archive, tmp_path / "out")
    assert [i.error_code for i in items] == [None, None]


def test_a_report_thumbnail_does_not_decode_the_photo_at_full_size(tmp_path):
    """The PDF's 160 px thumbnail decoded every photo at full size: a JPEG declaring 120 MP (2 KB when its
    data is cut short) took 360 MB twice over for each row. Libjpeg's 1/8 scaling is enough for 160 px."""
    import cv2

    path = big_green_jpeg(tmp_path)
    code = ("import sys\nfrom pathlib import Path\nimport cv2\nimport leafscout.model.imageio\n"
            "from leafscout.webapp.batch import _thumb\n"
            "base = mb('VmHWM')\nout = _thumb(sys.argv[1], Path(sys.argv[2]))\nassert out is not None\n"
            "print(mb('VmHWM') - base)")
    stdout = run_probe(code, str(path), str(tmp_path / "t.jpg"))
    assert float(stdout.split()[-1]) < 30, stdout
    assert max(cv2.imread(str(tmp_path / "t.jpg")).shape[:2]) == 160


def test_a_request_decodes_at_most_its_budget_of_full_size_pixels(tmp_path):
    """140 PNGs of 118 MP fit in a 50 MB zip and would hold the batch slot ~10 minutes: past the request's
    budget of full-size pixels (headers only), the rest are rows saying to send them in another batch. A JPEG,
    decoded at up to 1/8 size, counts an eighth a side."""
    import cv2
    import numpy as np
    png = np.full((100, 100, 3), 120, np.uint8)
    paths = []
    for i in range(3):
        p = tmp_path / f"scan{i}.png"
        cv2.imwrite(str(p), png)
        paths.append(str(p))
    jpg = tmp_path / "phone.jpg"
    cv2.imwrite(str(jpg), np.full((800, 800, 3), 120, np.uint8))
    items = [B.Item(os.path.basename(p), p) for p in paths] + [B.Item("phone.jpg", str(jpg))]
    kept = B.within_decode_budget(items, budget=30_000)  # 3 x 10,000 px, then the JPEG's 640,000 / 64
    assert [i.error_code for i in kept] == [None, None, None, "batch_too_big"]
    kept = B.within_decode_budget(items, budget=25_000)
    assert [i.error_code for i in kept] == [None, None, "batch_too_big", "batch_too_big"]
    assert "another batch" in kept[2].error and kept[2].path is None
    kept = B.within_decode_budget(items[::-1], budget=25_000)  # the JPEG first: 10,000 of the budget
    assert [i.error_code for i in kept] == [None, None, "batch_too_big", "batch_too_big"]

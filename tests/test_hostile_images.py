"""Hostile image inputs (issue 12, items 1 and 2): refused cheaply, before decoding, with one clear message.

The hostile files are built by benchmarks/hostile_inputs.py, which also prints time and memory per input.
"""
from __future__ import annotations

import importlib.util
import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leafscout.errors import ERROR_CODES
from leafscout.model import imageio
from leafscout.model.imageio import ImageError, check_image, read_image

REPO = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("hostile_inputs", REPO / "benchmarks" / "hostile_inputs.py")
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bomb") / "bomb.png"
    path.write_bytes(hostile.png_bomb())  # 10900x10900 16-bit RGBA, ~0.9 MB on disk, 906 MB decoded
    return path


def test_pixel_bomb_is_refused_with_the_limit_in_the_message(bomb):
    assert bomb.stat().st_size < 2 * 2**20
    with pytest.raises(ImageError, match=r"906 MB, over the 400 MB limit") as info:
        read_image(bomb, min_short_side=224)
    assert info.value.code == "too_large"
    assert "10900x10900" in str(info.value) and "16 bits" in str(info.value)
    with pytest.raises(ImageError, match="MB limit"):
        check_image(bomb.read_bytes())


def test_pixel_bomb_costs_under_a_second_and_200_mb(bomb):
    """In a fresh process (the measured figure includes Python, numpy and OpenCV)."""
    row = hostile.run_one(str(bomb), cli=False, timeout=30)
    assert row["outcome"] == "refused too_large", row
    assert row["read_s"] < 1.0 and row["peak_mb"] < 200, row


def test_zip_members_go_through_the_same_gate(bomb, tmp_path):
    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(bomb, "a.png")
        zf.write(bomb, "b.png")
    row = hostile.run_one("zip:" + str(archive), cli=False, timeout=30)
    assert row["outcome"] == "refused too_large, refused too_large", row
    assert row["peak_mb"] < 200, row


def test_decoded_bytes_count_channels_and_bits_not_only_pixels():
    # the same 100 MP: 8-bit RGB (286 MB) is within the cap, 16-bit RGB (572 MB) and 16-bit RGBA (763 MB) are not
    assert check_image(hostile.png_header_only(10_000, 10_000, depth=8, color_type=2)).decoded_bytes() == 300_000_000
    with pytest.raises(ImageError, match="4 channel.*16 bits.*over the 400 MB limit"):
        check_image(hostile.png_header_only(10_000, 10_000, depth=16, color_type=6))
    with pytest.raises(ImageError, match="3 channel.*16 bits"):
        check_image(hostile.png_header_only(10_000, 10_000, depth=16, color_type=2))
    with pytest.raises(ImageError, match="limit") as info:
        read_image(hostile.png_header_only(2000, 2000, depth=16, color_type=6), max_decoded_bytes=10 * 2**20)
    assert info.value.code == "too_large"


def test_a_small_16_bit_scan_is_still_read():
    rgb = read_image(hostile.png16_small())
    assert rgb.shape == (300, 400, 3) and rgb.dtype == np.uint8


def test_lazy_pil_image_is_checked_before_it_is_decoded(bomb):
    with Image.open(bomb) as im:
        with pytest.raises(ImageError, match="MB limit"):
            read_image(im, max_decoded_bytes=100 * 2**20)
        assert getattr(im, "_im", None) is None  # nothing was decoded


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs POSIX FIFOs")
def test_fifo_is_refused_at_once_not_waited_on(tmp_path):
    fifo = tmp_path / "x_fifo.jpg"
    os.mkfifo(fifo)
    # in a child, so a regression hangs the child (killed by the timeout), not the test run
    row = hostile.run_one(str(fifo), cli=False, timeout=15)
    assert row["outcome"] == "refused not_a_file", row
    with pytest.raises(ImageError, match="named pipe"):
        read_image(fifo)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_dev_zero_is_refused_without_reading():
    row = hostile.run_one("/dev/zero", cli=False, timeout=15)
    assert row["outcome"] == "refused not_a_file", row
    assert row["peak_mb"] < 200
    with pytest.raises(ImageError, match="is a device"):
        check_image("/dev/zero")


def test_reading_stops_at_the_cap_whatever_the_size_says(tmp_path):
    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8\xff" + b"\0" * 5000)
    with pytest.raises(ImageError, match="over 0 MB|MB") as info:
        imageio._read_regular_file(big, 1000)
    assert info.value.code == "too_large"
    # /proc files report st_size 0 but have content: read to the end (within the cap), then judged by content
    status = Path("/proc/self/status")
    if status.exists():
        assert os.stat(status).st_size == 0
        with pytest.raises(ImageError, match="text file") as info:
            read_image(status)
        assert info.value.code == "not_image"


def test_bytes_over_the_file_cap_are_refused():
    with pytest.raises(ImageError, match="MB") as info:
        imageio._load_bytes(b"\0" * 2048, max_bytes=1024)
    assert info.value.code == "too_large"


def test_every_refusal_has_a_code_the_front_ends_know(tmp_path):
    cases = [b"", b"hello", hostile.png_header_only(8, 8), tmp_path, tmp_path / "missing.jpg"]
    codes = set()
    for case in cases:
        with pytest.raises(ImageError) as info:
            read_image(case)
        codes.add(info.value.code)
        assert info.value.code in ERROR_CODES
    assert codes == {"empty", "not_image", "too_small", "not_a_file",
                     "not_found"}


def test_the_benchmark_script_reports_every_input():
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "hostile_inputs.py"), "--json", "--timeout", "15"],
                         cwd=REPO, capture_output=True, text=True, timeout=180)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert out.returncode == 0, out.stdout + out.stderr
    names = {r["input"] for r in rows}
    assert {"pixel_bomb_16bit_rgba.png", "x_fifo.jpg (FIFO, no writer)", "/dev/zero", "truncated.jpg",
            "text_as.jpg", "leaf.jpg"} <= names
    assert all({"outcome", "wall_s", "peak_mb"} <= set(r) for r in rows)

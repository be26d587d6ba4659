"""The image gate: every format phones and computers produce is decoded right, every bad input is refused
with an ImageError that says what to do. Weird formats are generated from a real committed leaf photo."""
from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from leafscout.model.imageio import ImageError, check_image, read_image

FIXTURES = Path(__file__).parent / "fixtures"
PHOTOS = sorted((FIXTURES / "images").glob("*/*/*.jpg"))
BAD = FIXTURES / "bad"


@pytest.fixture(scope="module")
def photo() -> tuple[Path, np.ndarray]:
    assert PHOTOS, "real fixture photos missing under tests/fixtures/images/"
    path = next(p for p in PHOTOS if "ibean_uganda" in str(p)) if any("ibean_uganda" in str(p) for p in PHOTOS) else PHOTOS[0]
    return path, np.asarray(Image.open(path).convert("RGB"))


def _encode(rgb_or_img, fmt: str, **kw) -> bytes:
    im = rgb_or_img if isinstance(rgb_or_img, Image.Image) else Image.fromarray(rgb_or_img)
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


def _close(a: np.ndarray, b: np.ndarray, tol: float) -> bool:
    return a.shape == b.shape and float(np.abs(a.astype(int) - b.astype(int)).mean()) <= tol


# ---------------------------------------------------------------- accepted formats

def test_plain_jpeg_path(photo):
    path, rgb = photo
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == rgb.shape
    assert _close(out, rgb, 1.0)  # libjpeg vs PIL decoders differ by rounding only


@pytest.mark.parametrize("orientation,op", [
    (3, lambda a: a[::-1, ::-1]), (6, lambda a: np.rot90(a, -1)), (8, lambda a: np.rot90(a, 1))])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_exif_orientation_applied(photo, tmp_path, fmt, orientation, op):
    _, rgb = photo
    exif = Image.Exif()
    exif[0x0112] = orientation
    data = _encode(rgb, fmt, exif=exif, **({"quality": 95} if fmt == "JPEG" else {}))
    out = read_image(data)
    expected = op(rgb)
    assert out.shape == expected.shape
    assert _close(out, expected, 3.0)


def test_png_alpha_composited_on_white(photo):
    _, rgb = photo
    h, w = rgb.shape[:2]
    alpha = np.full((h, w), 255, np.uint8)
    alpha[:, : w // 2] = 0  # left half fully transparent
    out = read_image(_encode(np.dstack([rgb, alpha]), "PNG"))
    assert (out[:, : w // 2] == 255).all()
    assert np.array_equal(out[:, w // 2:], rgb[:, w // 2:])


def test_half_transparent_pixels_blend_with_white():
    rgba = np.zeros((40, 40, 4), np.uint8)
    rgba[..., 3] = 128  # black at 50% -> mid grey, not black
    out = read_image(_encode(rgba, "PNG"))
    assert abs(int(out[0, 0, 0]) - 127) <= 1


def test_grayscale_png_and_jpeg(photo):
    _, rgb = photo
    gray = np.asarray(Image.fromarray(rgb).convert("L"))
    for data in (_encode(gray, "PNG"), _encode(gray, "JPEG", quality=95)):
        out = read_image(data)
        assert out.shape == (*gray.shape, 3)
        assert np.array_equal(out[..., 0], out[..., 2])
        assert _close(out[..., 0], gray, 1.5)


def test_16bit_png_scaled_not_clipped(photo):
    _, rgb = photo
    rgb16 = rgb.astype(np.uint16) * 257
    ok, enc = cv2.imencode(".png", rgb16[..., ::-1])
    assert ok
    out = read_image(enc.tobytes())
    assert np.array_equal(out, rgb)
    gray16 = rgb16[..., 1]
    ok, enc = cv2.imencode(".png", gray16)
    out = read_image(enc.tobytes())
    assert np.array_equal(out[..., 0], rgb[..., 1])


def test_cmyk_jpeg(photo):
    _, rgb = photo
    data = _encode(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95)
    assert Image.open(io.BytesIO(data)).mode == "CMYK"
    assert _close(read_image(data), rgb, 4.0)


@pytest.mark.parametrize("fmt,kw", [("WEBP", {"lossless": True}), ("BMP", {}), ("TIFF", {}),
                                    ("TIFF", {"compression": "tiff_lzw"}), ("PNG", {}), ("GIF", {})])
def test_lossless_formats_decode_exactly(photo, fmt, kw):
    _, rgb = photo
    out = read_image(_encode(rgb, fmt, **kw))
    if fmt == "GIF":  # palette: only shape and rough colour survive
        assert _close(out, rgb, 12.0)
    else:
        assert np.array_equal(out, rgb)


def test_large_jpeg_decodes_reduced(photo, tmp_path):
    _, rgb = photo
    big = cv2.resize(rgb, (4000, 3000), interpolation=cv2.INTER_CUBIC)
    path = tmp_path / "phone.jpg"
    path.write_bytes(_encode(big, "JPEG", quality=90))
    assert check_image(path).pixels == 12_000_000
    out = read_image(path, min_short_side=219)
    assert out.shape == (375, 500, 3)  # 1/8 DCT scaling, shorter side still >= 219
    assert read_image(path, min_short_side=400).shape == (750, 1000, 3)
    assert read_image(path).shape == (3000, 4000, 3)  # no hint -> full size


def test_small_jpeg_not_reduced(photo):
    path, rgb = photo
    assert read_image(path, min_short_side=219).shape == rgb.shape


def test_numpy_and_pil_inputs(photo):
    _, rgb = photo
    assert read_image(rgb) is not None and np.array_equal(read_image(rgb), rgb)
    assert np.array_equal(read_image(Image.fromarray(rgb)), rgb)
    assert read_image(rgb[..., 0]).shape == rgb.shape
    assert np.array_equal(read_image(rgb.astype(np.float32) / 255), rgb)
    assert np.array_equal(read_image(rgb.astype(np.uint16) * 257), rgb)


# ---------------------------------------------------------------- refused inputs

def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height; the pixel data never exists (a decompression bomb's shape)."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize("name,needle", [
    ("empty.jpg", "empty"), ("truncated.jpg", "truncated"), ("notes.jpg", "text file"), ("tiny.png", "at least 32")])
def test_committed_bad_files_refused(name, needle):
    with pytest.raises(ImageError, match=needle):
        read_image(BAD / name)


@pytest.mark.parametrize("data,needle", [
    (b"", "empty"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
    (b"PK\x03\x04\x14\x00\x00\x00", "ZIP"),
    (b"\x00\x01\x02\x03\xfe\xff" * 20, "unknown binary"),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01" + b"\x13" * 200, "corrupt|damaged|truncated"),
])
def test_non_images_refused(data, needle):
    with pytest.raises(ImageError, match=needle):
        read_image(data)


def test_truncated_formats_refused(photo):
    _, rgb = photo
    for fmt in ("JPEG", "PNG", "WEBP", "TIFF", "BMP"):
        data = _encode(rgb, fmt)
        for frac in (0.5, 0.97):
            with pytest.raises(ImageError, match="truncated|corrupt|damaged"):
                read_image(data[: int(len(data) * frac)])


def test_decompression_bomb_refused_before_decoding():
    with pytest.raises(ImageError, match="decompression bomb"):
        read_image(_png_header_only(30_000, 30_000))  # 900 MP: PIL's own bomb guard path
    with pytest.raises(ImageError, match="over the 120 MP limit"):
        check_image(_png_header_only(12_000, 11_000))  # 132 MP: our limit
    with pytest.raises(ImageError, match="limit"):
        read_image(_png_header_only(1000, 1000), max_pixels=500_000)


def test_tiny_refused_and_message_says_how(photo):
    _, rgb = photo
    with pytest.raises(ImageError, match="31x40 pixels; expected at least 32 px.*original photo"):
        read_image(_encode(rgb[:40, :31], "PNG"))
    with pytest.raises(ImageError, match="at least 32"):
        read_image(rgb[:10, :10])


def test_paths_missing_and_folders(tmp_path):
    with pytest.raises(ImageError, match="not found"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


@pytest.mark.parametrize("bad,needle", [
    (np.zeros((64, 64, 5), np.uint8), "shape"), (np.zeros((64, 64), np.int32), "uint8"),
    (np.full((64, 64, 3), 3.0), r"\[0, 1\]"), (42, "expected a file path")])
def test_bad_arrays_refused(bad, needle):
    with pytest.raises(ImageError, match=needle):
        read_image(bad)


# ---------------------------------------------------------------- fuzz: only ImageError ever escapes

@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=10_000), flips=st.lists(st.integers(0, 10_000), max_size=8),
       fmt=st.sampled_from(["JPEG", "PNG", "WEBP", "BMP"]))
def test_damaged_files_never_escape_the_gate(photo, cut, flips, fmt):
    _, rgb = photo
    data = bytearray(_encode(rgb[:64, :64], fmt))
    for i in flips:
        data[i % len(data)] ^= 0xA5
    data = bytes(data[: max(0, len(data) - cut % len(data))])
    try:
        out = read_image(data)
    except ImageError as exc:
        assert str(exc)
    else:
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=300))
def test_random_bytes_never_escape_the_gate(data):
    with pytest.raises(ImageError):
        read_image(data)

"""Files that lie about their type, at the image gate every photo passes (model/imageio.py)."""
from __future__ import annotations

import io

import pytest
from PIL import EpsImagePlugin, Image

from leafscout.model.imageio import ImageError, read_image
from memory_probe import big_green_jpeg, run_probe

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 100 100\n0 0 moveto 100 100 lineto stroke showpage\n%%EOF\n"


def test_postscript_named_jpg_never_reaches_ghostscript(tmp_path, monkeypatch):
    """PIL opens EPS and runs Ghostscript on the stranger's PostScript to decode it; the gate must refuse it
    as not a photo before that (it was read as a 'corrupt' EPS, after calling Ghostscript)."""
    called = []
    monkeypatch.setattr(EpsImagePlugin, "Ghostscript", lambda *a, **k: called.append(1) or 1 / 0)
    monkeypatch.setattr(EpsImagePlugin, "has_ghostscript", lambda: True, raising=False)
    path = tmp_path / "leaf.jpg"
    path.write_bytes(EPS)
    with pytest.raises(ImageError, match="PostScript") as info:
        read_image(path, min_short_side=224)
    assert info.value.code == "not_image" and not called


@pytest.mark.parametrize("fmt", ["TGA", "PCX", "SGI", "ICO", "PPM", "IM", "DDS", "QOI"])
def test_formats_outside_the_list_are_not_photos(tmp_path, fmt):
    """PIL's other decoders (rarely used, rarely audited) never see an upload: JPEG, PNG, WebP, BMP, TIFF, GIF."""
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 150, 0)).save(buf, fmt)
    path = tmp_path / "leaf.jpg"
    path.write_bytes(buf.getvalue())
    with pytest.raises(ImageError) as info:
        read_image(path)
    assert info.value.code == "not_image", fmt


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF", "GIF"])
def test_the_listed_formats_are_still_read(fmt):
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (0, 150, 0)).save(buf, fmt)
    assert read_image(buf.getvalue()).shape == (48, 64, 3)


def _png_with_exif_after_pixels(orientation: int) -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    exif = Image.Exif()
    exif[0x0112] = orientation
    rows = b"".join(b"\0" + bytes([0, 150, 0]) * 64 for _ in range(32))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 64, 32, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"eXIf", exif.tobytes()) + chunk(b"IEND", b""))


def test_png_orientation_after_the_pixels_is_read_without_decoding_them(monkeypatch):
    """PIL's PNG getexif() decoded the whole image to reach an eXIf chunk after IDAT: a 118 MP PNG of 340 KB
    took 4.6 s and 1069 MB (now 1.3 s and 729 MB, OpenCV's own decode)."""
    from PIL import PngImagePlugin

    from leafscout.model.imageio import check_image

    data = _png_with_exif_after_pixels(6)
    loads = []
    real_load = PngImagePlugin.PngImageFile.load
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load", lambda self: loads.append(1) or real_load(self))
    info = check_image(data)
    assert info.orientation == 6 and not loads
    monkeypatch.undo()
    assert read_image(data).shape == (64, 32, 3)  # turned a quarter as the EXIF says


def test_a_full_size_decode_holds_two_copies_not_three(tmp_path):
    """OpenCV's imdecode peaks at twice the pixels; the BGR->RGB turn is made in place, not as a third copy
    (a 2 KB JPEG declaring 10950x10950 peaked at 1078 MB, now 736 MB). Measured in a fresh process."""
    path = big_green_jpeg(tmp_path)
    code = ("import sys\nfrom leafscout.model.imageio import read_image\n"
            "base = mb('VmHWM')\nrgb = read_image(sys.argv[1])\nassert rgb.shape == (4000, 6000, 3) and rgb[0, 0, 1] == 150\n"
            "print(mb('VmHWM') - base)")
    stdout = run_probe(code, str(path))
    grown = float(stdout.split()[-1])
    assert grown < 2.5 * 72, f"read_image grew by {grown:.0f} MB for a 72 MB image"


def test_a_transparent_png_is_composited_without_float_copies_of_the_whole_image(tmp_path):
    """Compositing alpha on white made float32 copies of the whole image: a 380 KB 10000x10000 RGBA PNG,
    under the decoded-bytes cap, peaked at 3.9 GB and took 10 s (now 0.8 GB, 2.6 s). Here 3000x2000 (24 MB
    decoded): the growth stays under 5 times the decoded bytes (it was 10.6 times; OpenCV alone takes 2)."""
    import cv2
    import numpy as np

    img = np.zeros((2000, 3000, 4), np.uint8)
    img[:, :, 1], img[:, :, 3] = 200, 128
    path = tmp_path / "leaf.png"
    cv2.imwrite(str(path), img)
    code = ("import sys\nfrom leafscout.model.imageio import read_image\n"
            "base = mb('VmHWM')\nrgb = read_image(sys.argv[1])\nprint(rgb.shape, rgb[0, 0].tolist(), mb('VmHWM') - base)")
    stdout = run_probe(code, str(path))
    assert "(2000, 3000, 3) [127, 227, 127]" in stdout  # green on white, half transparent
    assert float(stdout.split()[-1]) < 5 * 24, stdout


def test_a_16_bit_png_is_scaled_to_8_bits_without_uint32_copies_of_the_whole_image(tmp_path):
    """A 370 KB 16-bit RGB PNG of 8000x8000 (384 MB decoded, under the cap) peaked at 1.9 GB and took 5 s: the
    16 -> 8 bit scaling made two uint32 copies of the whole image (now 0.8 GB, 3 s). Here 3000x2000 (36 MB)."""
    import cv2
    import numpy as np

    img = np.full((2000, 3000, 3), 30000, np.uint16)
    path = tmp_path / "scan.png"
    cv2.imwrite(str(path), img)
    code = ("import sys\nfrom leafscout.model.imageio import read_image\n"
            "base = mb('VmHWM')\nrgb = read_image(sys.argv[1])\nprint(rgb.shape, rgb[0, 0].tolist(), mb('VmHWM') - base)")
    stdout = run_probe(code, str(path))
    assert "(2000, 3000, 3) [117, 117, 117]" in stdout
    assert float(stdout.split()[-1]) < 4 * 36, stdout

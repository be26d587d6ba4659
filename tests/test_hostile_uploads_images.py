"""Files that lie about their type, at the image gate every photo passes (model/imageio.py)."""
from __future__ import annotations

import io

import pytest
from PIL import EpsImagePlugin, Image

from leafscout.model.imageio import ImageError, read_image

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

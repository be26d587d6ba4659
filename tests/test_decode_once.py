"""A photo is decoded once for both networks when the classifier's decode is the whole photo (a PNG, a small
JPEG): the detector reads the classifier's array instead of decoding the file again (a 100-megapixel PNG cost
~1 GB twice over), and its answer is the same as from the file."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
RICE = sorted((REPO / "tests" / "fixtures" / "rice_pest" / "images").glob("*.jpg"))


@pytest.fixture(scope="module")
def svc():
    from leafscout.service import DiagnosisService
    s = DiagnosisService()
    if s.detector is None:
        pytest.skip("no pest detector installed (model/pests.onnx)")
    return s


def test_the_detector_reads_the_classifiers_pixels_of_a_png_and_finds_the_same(svc, tmp_path, monkeypatch):
    from leafscout.model import detect
    png = tmp_path / "rice.png"
    cv2.imwrite(str(png), cv2.imread(str(RICE[0])))
    seen = []
    real = detect.read_image

    def spy(source, **kw):
        seen.append(type(source).__name__)
        return real(source, **kw)
    monkeypatch.setattr(detect, "read_image", spy)
    shared = svc.diagnose(str(png))
    assert seen and all(kind == "ndarray" for kind in seen), seen  # never the file a second time
    monkeypatch.setattr(detect, "read_image", real)
    scene_from_file = svc.detector.scene(str(png))
    assert [(p.label, p.box) for p in shared.pests] == [(p.label, p.box) for p in scene_from_file.pests]
    assert shared.pests  # the rice photo's insects were found through the shared pixels


def test_a_big_jpeg_decoded_smaller_for_the_classifier_is_read_again_at_the_detectors_size(svc, tmp_path,
                                                                                           monkeypatch):
    from leafscout.model import detect
    big = tmp_path / "big.jpg"
    img = cv2.imread(str(RICE[0]))
    cv2.imwrite(str(big), cv2.resize(img, (img.shape[1] * 4, img.shape[0] * 4)), [cv2.IMWRITE_JPEG_QUALITY, 90])
    seen = []
    real = detect.read_image
    monkeypatch.setattr(detect, "read_image", lambda source, **kw: seen.append(type(source).__name__) or
                        real(source, **kw))
    d = svc.diagnose(str(big))
    assert d.status != "error" and "ndarray" not in seen and seen  # its own, larger decode
    assert np.isfinite(d.confidence or 0.0)

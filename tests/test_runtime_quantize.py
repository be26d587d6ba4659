"""int8 quantisation keeps the LeafScout metadata (drop-in --model) and the answers."""
from __future__ import annotations

from pathlib import Path

import pytest

from leafscout.model.runtime import Predictor
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

pytest.importorskip("onnx")
PHOTOS = sorted((Path(__file__).parent / "fixtures" / "images").glob("*/*/*.jpg"))


def test_int8_is_a_drop_in_model(tmp_path):
    from leafscout.model.quantize import quantize
    fp32 = toy_model(tmp_path / "toy.onnx")
    int8 = quantize(fp32, tmp_path / "toy-int8.onnx", PHOTOS[:16])
    a, b = Predictor(fp32), Predictor(int8)
    assert b.labels == a.labels and b.cfg == a.cfg and b.info()["thresholds"] == a.info()["thresholds"]
    assert "int8" in b.meta["quantization"]
    for colour in ("ok", "background"):
        ra, rb = a.predict(flat_photo(TOY_COLOURS[colour])), b.predict(flat_photo(TOY_COLOURS[colour]))
        assert (ra.status, ra.label) == (rb.status, rb.label)
    with pytest.raises(ValueError, match="no calibration photos"):
        quantize(fp32, tmp_path / "x.onnx", [])

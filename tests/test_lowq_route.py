"""A photo crushed by a messaging app is answered by the weights trained for such photos; every other photo by the
main weights, as before (model/lowq.py, Predictor.weights_for)."""
from __future__ import annotations

import io
import warnings

import cv2
import numpy as np
import pytest
from PIL import Image

from leafscout.model import lowq
from leafscout.model.imageio import check_image, read_photo
from leafscout.model.runtime import Predictor
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

LOWQ_VERSION = "0.0.0-toy-lowq"


def jpeg(rgb: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return buf.tobytes()


def png(rgb: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture()
def pair(tmp_path):
    main = toy_model(tmp_path / "leafscout.onnx")
    cand = toy_model(tmp_path / "cand.onnx", meta_override={"version": LOWQ_VERSION})
    lowq.install(cand, main, max_quality=50)
    return main


@pytest.mark.parametrize("quality", [10, 25, 40, 60, 75, 90, 100])
def test_jpeg_quality_is_read_from_the_header(quality):
    rgb = flat_photo(TOY_COLOURS["ok"])
    assert check_image(jpeg(rgb, quality)).jpeg_quality == quality
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=quality)  # PIL writes the same IJG tables
    assert check_image(buf.getvalue()).jpeg_quality == quality


def test_a_png_or_an_array_has_no_jpeg_quality():
    rgb = flat_photo(TOY_COLOURS["ok"])
    assert check_image(png(rgb)).jpeg_quality is None
    assert read_photo(rgb)[1] is None


def test_crushed_jpegs_go_to_the_low_quality_weights_and_others_do_not(pair):
    pred = Predictor(pair)
    assert pred.route_max_quality == 50 and pred.lowq.version == LOWQ_VERSION
    rgb = flat_photo(TOY_COLOURS["ok"])
    assert pred.predict(jpeg(rgb, 25)).model_version == LOWQ_VERSION
    assert pred.predict(jpeg(rgb, 50)).model_version == LOWQ_VERSION
    assert pred.predict(jpeg(rgb, 51)).model_version == "0.0.0-toy"
    assert pred.predict(jpeg(rgb, 90)).model_version == "0.0.0-toy"
    assert pred.predict(png(rgb)).model_version == "0.0.0-toy"
    assert pred.predict(rgb).model_version == "0.0.0-toy"
    assert pred.info()["lowq"]["route_max_quality"] == 50


def test_a_mixed_batch_keeps_its_order_and_each_photo_its_weights(pair):
    pred = Predictor(pair)
    photos, want = [], []
    for i, colour in enumerate(["ok", "background", "ok", "uncertain", "ok"]):
        q = 20 if i % 2 == 0 else 90
        photos.append(jpeg(flat_photo(TOY_COLOURS[colour]), q))
        want.append((LOWQ_VERSION if q <= 50 else "0.0.0-toy", Predictor(pair, route=False).predict(photos[-1]).label))
    got = [(r.model_version, r.label) for r in pred.predict_many(photos, batch_size=3)]
    assert got == want


def test_route_false_answers_everything_with_the_main_weights(pair):
    pred = Predictor(pair, route=False)
    assert pred.lowq is None
    assert pred.predict(jpeg(flat_photo(TOY_COLOURS["ok"]), 20)).model_version == "0.0.0-toy"


def test_a_new_main_model_makes_the_companion_stale_and_unused(pair, tmp_path):
    toy_model(pair, temperature=2.0)  # the main weights change; the companion was fitted beside the old ones
    with pytest.warns(UserWarning, match="fitted beside another main model"):
        pred = Predictor(pair)
    assert pred.lowq is None and "not used" in pred.info()["lowq_note"]
    assert pred.predict(jpeg(flat_photo(TOY_COLOURS["ok"]), 20)).model_version == "0.0.0-toy"


def test_install_refuses_weights_with_other_labels(tmp_path):
    main = toy_model(tmp_path / "leafscout.onnx")
    other = toy_model(tmp_path / "other.onnx", labels=["background.no_leaf", "bean.healthy", "bean.rust", "bean.mosaic"])
    with pytest.raises(ValueError, match="same list"):
        lowq.install(other, main, max_quality=50)
    assert not lowq.lowq_path(main).exists()


def test_install_from_the_command_line_says_what_went_wrong(tmp_path, capsys):
    main = toy_model(tmp_path / "leafscout.onnx")
    assert lowq.main(["install", str(tmp_path / "missing.onnx"), "--max-quality", "50", "--main", str(main)]) == 2
    assert "no model file" in capsys.readouterr().err
    assert lowq.main(["install", str(main), "--max-quality", "0", "--main", str(main)]) == 2
    assert "1-100" in capsys.readouterr().err
    cand = toy_model(tmp_path / "cand.onnx", meta_override={"version": LOWQ_VERSION})
    assert lowq.main(["install", str(cand), "--max-quality", "40", "--main", str(main)]) == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert Predictor(main).route_max_quality == 40


def test_leaves_of_a_crushed_photo_are_named_by_the_same_weights(pair):
    from leafscout.model.detect import Leaf

    pred = Predictor(pair)
    rgb = flat_photo(TOY_COLOURS["ok"], (200, 200))
    whole = pred.predict(jpeg(rgb, 20))
    crops = [rgb[:100, :100], rgb[100:, 100:]]
    leaves = [Leaf(box=(0, 0, 100, 100), score=0.9), Leaf(box=(100, 100, 200, 200), score=0.8)]
    both = pred.with_leaves(whole, leaves, crops)
    assert both.model_version == LOWQ_VERSION and len(both.leaves) == 2

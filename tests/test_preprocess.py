"""The one preprocessing shared by training and the runtime keeps the whole leaf in view."""
from __future__ import annotations

import json

import numpy as np
import pytest

from leafscout.model.preprocess import CENTER_CROP, SQUASH, PreprocessConfig, geometry, preprocess, tta_geometries


def wide_leaf_photo() -> np.ndarray:
    """A 2:1 photo (like BRACOL coffee) with a red lesion at the left tip and a blue one at the right."""
    img = np.full((256, 512, 3), (30, 160, 30), np.uint8)
    img[100:156, :40] = (200, 30, 30)
    img[100:156, -40:] = (30, 30, 200)
    return img


def test_squash_keeps_both_ends_of_a_wide_leaf():
    out = geometry(wide_leaf_photo(), PreprocessConfig(input_size=192, policy=SQUASH))
    assert out.shape == (192, 192, 3)
    assert out[96, 3, 0] > 150 and out[96, -4, 2] > 150


def test_centre_crop_would_cut_the_lesions_off():
    out = geometry(wide_leaf_photo(), PreprocessConfig(input_size=192, resize_size=219, policy=CENTER_CROP))
    assert out[:, :, 0].max() < 150 and out[:, :, 2].max() < 150


def test_normalisation_matches_lite0_weights():
    x = preprocess(np.full((64, 64, 3), 255, np.uint8), PreprocessConfig(input_size=32))
    assert x.shape == (3, 32, 32) and x.dtype == np.float32
    assert np.allclose(x, (1 - 0.498) / 0.502)


def test_fast_normalisation_is_the_plain_formula_bit_for_bit():
    """normalize_rgb works in place on channels-first pixels for speed; the numbers the networks see must not
    move by one bit (the detector's insects are compared bit for bit across versions)."""
    from leafscout.model.detect import normalize as detector_normalize
    from leafscout.model.preprocess import LITE_MEAN, LITE_STD, normalize_rgb
    rng = np.random.default_rng(0)
    for shape, mean, std in (((384, 384, 3), LITE_MEAN, LITE_STD), ((97, 213, 3), (0.485, 0.456, 0.406),
                                                                    (0.229, 0.224, 0.225))):
        rgb = rng.integers(0, 256, shape, dtype=np.uint8)
        plain = ((rgb.astype(np.float32) * (1.0 / 255.0) - np.asarray(mean, np.float32))
                 / np.asarray(std, np.float32)).transpose(2, 0, 1)
        fast = normalize_rgb(rgb, mean, std)
        assert fast.dtype == np.float32 and fast.flags["C_CONTIGUOUS"] and fast.shape == plain.shape
        assert np.array_equal(fast, plain) and np.array_equal(detector_normalize(rgb, mean, std), plain)


def test_tta_views_are_view_mirror_close_and_mirror():
    cfg = PreprocessConfig(input_size=64)
    views = tta_geometries(wide_leaf_photo(), cfg)
    assert len(views) == 4 and all(v.shape == (64, 64, 3) for v in views)
    assert np.array_equal(views[0], geometry(wide_leaf_photo(), cfg))
    assert np.array_equal(views[1], views[0][:, ::-1])


def test_config_round_trips_and_rejects_unknown_policy():
    cfg = PreprocessConfig(input_size=160, policy=CENTER_CROP, resize_size=183)
    assert PreprocessConfig.from_json(cfg.to_json()) == cfg
    bad = json.loads(cfg.to_json()) | {"policy": "letterbox"}
    with pytest.raises(ValueError, match="unknown resize policy 'letterbox'"):
        PreprocessConfig.from_json(json.dumps(bad))
    with pytest.raises(ValueError, match="uint8 HxWx3"):
        preprocess(np.zeros((10, 10), np.float32), cfg)

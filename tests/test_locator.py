"""The leaf locator: a leaf on paper is cropped and turned, a cluttered field photo is left whole, a blank
photo has nothing to find; the crop maps back onto the photo; training augmentation uses the same code."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import FIXTURE_IMAGES
from leafscout.model.imageio import read_image
from leafscout.model.locate import LEAF, WHOLE, LocatorConfig, locate, plant_share
from leafscout.model.preprocess import PreprocessConfig, frame, preprocess

CITRUS_ON_PAPER = FIXTURE_IMAGES / "citrus_leaves" / "healthy" / "healthy_4.jpg"
BEAN_IN_FIELD = FIXTURE_IMAGES / "ibean_uganda" / "healthy"


def leaf_on_paper(portrait: bool = True) -> np.ndarray:
    """A green leaf shape with a brown lesion on white paper with a faint grid, as a farmer lays it out."""
    h, w = (400, 300) if portrait else (300, 400)
    img = np.full((h, w, 3), 238, np.uint8)
    for x in range(0, w, 20):
        cv2.line(img, (x, 0), (x, h - 1), (205, 215, 235), 1)
    centre, axes = (w // 2, h // 2), ((50, 140) if portrait else (140, 50))
    cv2.ellipse(img, centre, axes, 0, 0, 360, (40, 140, 40), -1)
    cv2.circle(img, (w // 2, h // 2 - 30 if portrait else h // 2), 12, (120, 70, 30), -1)
    return img


def test_a_leaf_on_paper_is_cropped_and_turned_to_landscape():
    rgb = leaf_on_paper(portrait=True)
    loc = locate(rgb)
    assert loc.framing == LEAF, loc.reason
    x0, y0, x1, y1 = loc.box
    # the box holds the leaf (ellipse 100 x 280 px at the centre) with a small margin, not the whole sheet
    # x: 100..200 plus a 6% margin (6 px); y: 60..340 plus 6% (17 px)
    assert 90 <= x0 <= 100 and 200 <= x1 <= 210 and 38 <= y0 <= 48 and 352 <= y1 <= 362
    assert loc.rotated and loc.image.shape[1] > loc.image.shape[0]  # portrait leaf turned to landscape
    # a point of the crop maps back onto the photo: the crop's top-left corner is the box's bottom-left
    px, py = loc.to_photo(np.array([0.0]), np.array([0.0]))
    assert (px[0], py[0]) == (x0, y1)


def test_a_real_leaf_photo_on_a_plain_backdrop_is_cropped():
    rgb = read_image(CITRUS_ON_PAPER)
    loc = locate(rgb)
    assert loc.framing == LEAF, loc.reason
    x0, y0, x1, y1 = loc.box
    assert (x1 - x0) * (y1 - y0) < 0.9 * rgb.shape[0] * rgb.shape[1]


def test_a_cluttered_field_photo_falls_back_to_the_whole_photo():
    for photo in sorted(BEAN_IN_FIELD.glob("*.jpg")):
        rgb = read_image(photo)
        loc = locate(rgb)
        assert loc.framing == WHOLE and loc.box == (0, 0, rgb.shape[1], rgb.shape[0]), photo.name
        assert "plain" in loc.reason or "fills" in loc.reason


def test_a_blank_photo_has_no_leaf_to_find():
    loc = locate(np.full((200, 300, 3), 245, np.uint8))
    assert loc.framing == WHOLE and "nothing stands out" in loc.reason
    assert plant_share(np.full((200, 300, 3), 245, np.uint8)) == 0.0


def test_plant_share_sees_leaves_but_not_noise():
    noise = np.random.default_rng(0).integers(0, 256, (256, 256, 3), dtype=np.uint8)
    assert plant_share(noise) < 0.02  # per-pixel noise averages to grey
    assert plant_share(leaf_on_paper()) > 0.1
    assert plant_share(read_image(CITRUS_ON_PAPER)) > 0.1


def test_locator_off_and_settings_round_trip():
    cfg = LocatorConfig(margin=0.1)
    assert LocatorConfig.from_json(cfg.to_json()) == cfg
    assert LocatorConfig.from_json(None).enabled is False  # models before 2.0 carry no locator
    rgb = leaf_on_paper()
    assert locate(rgb, LocatorConfig(enabled=False)).framing == WHOLE
    view, loc = frame(rgb, PreprocessConfig(input_size=64, resize_size=64), LocatorConfig())
    assert view.shape == (64, 64, 3) and loc.framing == LEAF
    # preprocess with the locator is what the runtime feeds the network
    x = preprocess(rgb, PreprocessConfig(input_size=64, resize_size=64), LocatorConfig())
    assert x.shape == (3, 64, 64) and x.dtype == np.float32


def test_training_augmentation_smoke():
    """Background replacement, synthetic negatives and the locator run together and give network inputs."""
    pytest.importorskip("albumentations")
    from leafscout.training.backgrounds import KINDS, leaf_alpha, make_background, replace_background, synthetic_negative
    from leafscout.training.presets import TrainTransform

    rng = np.random.default_rng(0)
    for kind in KINDS:
        bg = make_background(kind, 50, 70, rng, foliage=[read_image(CITRUS_ON_PAPER)])
        assert bg.shape == (50, 70, 3) and bg.dtype == np.uint8
    rgb = read_image(CITRUS_ON_PAPER)
    alpha = leaf_alpha(rgb)
    assert alpha is not None and 0.05 < alpha.mean() < 0.85
    pasted = replace_background(rgb, alpha, rng, kind="squared")
    assert pasted.dtype == np.uint8 and min(pasted.shape[:2]) > 50
    assert locate(pasted).framing == LEAF  # the locator finds the leaf again on its new paper
    for _ in range(5):
        neg = synthetic_negative(rng, 64)
        assert neg.shape == (64, 64, 3) and neg.dtype == np.uint8

    cfg = PreprocessConfig(input_size=64, resize_size=64)
    t = TrainTransform(48, cfg, LocatorConfig(), bg_p=1.0, negative_p=0.0, negative_label=0)
    x, override = t(rgb, "citrus_leaves")
    assert x.shape == (3, 48, 48) and np.isfinite(x).all() and override is None
    neg_t = TrainTransform(48, cfg, LocatorConfig(), negative_p=1.0, negative_label=7)
    assert neg_t(rgb, "citrus_leaves")[1] == 7

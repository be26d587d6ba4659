"""The model in the repo is the one the card describes, and it recognises real leaves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import FIXTURE_IMAGES as FIXTURES, LATE_BLIGHT_PHOTO, REPO, fixture_photos
from leafscout.model.labels import load_label_map

SHIPPED = REPO / "model" / "leafscout.onnx"
pytestmark = pytest.mark.skipif(not SHIPPED.exists(), reason="model/leafscout.onnx not shipped yet")


@pytest.fixture(scope="module")
def predictor():
    from leafscout.model.runtime import Predictor
    return Predictor(SHIPPED)


def truth(photo: Path) -> str:
    return load_label_map().canonical(photo.parent.parent.name, photo.parent.name)


def test_file_is_small_and_self_describing(predictor):
    assert SHIPPED.stat().st_size <= 20 * 1024 * 1024
    info = predictor.info()
    assert info["labels"] == load_label_map().labels
    assert 0 < info["temperature"] < 10
    assert set(info["thresholds"]) == {"uncertain_below", "ood_energy_above", "plant_share_min"}
    assert info["locator"]["enabled"]  # the runtime crops to the leaf as training did


def test_tomato_late_blight_photo_is_named(predictor):
    r = predictor.predict(LATE_BLIGHT_PHOTO)
    assert (r.status, r.label) == ("ok", "tomato.late_blight"), r.summary()
    assert r.heatmap_overlay().shape == r._photo.shape  # drawn over the farmer's own photo


def test_most_fixture_photos_are_right(predictor):
    """Fixture photos are val photos the model never trained on (two per class, 124 in all)."""
    photos = [p for p in fixture_photos() if p.parent.name != "Background_without_leaves"]
    results = list(predictor.predict_many(photos))
    right = sum(r.label == truth(p) for p, r in zip(photos, results))
    assert right / len(photos) >= 0.85, f"{right}/{len(photos)} right"


def test_background_photos_are_not_leaves(predictor):
    for photo in fixture_photos("plantvillage/Background_without_leaves"):
        assert predictor.predict(photo).status == "not_a_leaf"


def test_card_reports_the_metrics_of_this_file():
    card = (REPO / "model" / "MODEL_CARD.md").read_text()
    import hashlib
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest()[:16] in card


@pytest.mark.needs_data
def test_val_accuracy_matches_the_card(predictor, shared_datasets):
    """On the full val split (a sample of 8 photos per class), per-dataset top-1 is within a few points
    of what the model card reports for the whole split."""
    from leafscout.model.evaluate import evaluate_folder
    metrics = json.loads((REPO / "model" / "metrics.json").read_text())
    report = evaluate_folder(predictor, shared_datasets, split="val", limit=8)
    for ds, r in report["datasets"].items():
        # 8 photos per class is a class-balanced sample: compare with the card's mean per-class recall
        per_class = metrics["val"][ds]["per_class"].values()
        expected = sum(c["recall"] for c in per_class) / len(per_class)
        assert r["top1"] >= expected - 0.1, (ds, r["top1"], expected)


def test_a_blank_white_photo_and_random_noise_are_not_leaves(predictor):
    import numpy as np
    white = np.full((480, 640, 3), 250, np.uint8)
    noise = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for name, photo in (("white", white), ("noise", noise)):
        r = predictor.predict(photo)
        assert r.status == "not_a_leaf", (name, r.summary())


def test_a_coffee_leaf_laid_on_squared_paper_is_answered_as_coffee(predictor):
    """The farmer's way: one leaf on a sheet of squared paper, upright in a portrait photo."""
    import cv2
    import numpy as np
    from leafscout.model.imageio import read_image
    from leafscout.training.backgrounds import leaf_alpha  # cuts the leaf off its scanner backdrop (OpenCV only)
    leaf = read_image(FIXTURES / "coffee_bracol" / "rust" / "1508.jpg")
    alpha = leaf_alpha(leaf)
    assert alpha is not None
    sheet = np.full((900, 700, 3), 236, np.uint8)
    for x in range(0, 700, 25):
        cv2.line(sheet, (x, 0), (x, 899), (200, 210, 235), 1)
    for y in range(0, 900, 25):
        cv2.line(sheet, (0, y), (699, y), (200, 210, 235), 1)
    upright = np.ascontiguousarray(np.rot90(leaf))  # the 2:1 scan turned upright, as a phone photo holds it
    h, w = upright.shape[:2]
    y0, x0 = (900 - h) // 2, (700 - w) // 2
    a = np.rot90(alpha)[..., None]
    region = sheet[y0:y0 + h, x0:x0 + w].astype(np.float32)
    sheet[y0:y0 + h, x0:x0 + w] = (region * (1 - a) + upright * a).astype(np.uint8)
    r = predictor.predict(sheet)
    assert r.framing == "leaf" and r.status in ("ok", "uncertain"), r.summary()
    assert r.label.startswith("coffee."), r.summary()


def test_naming_the_crop_keeps_the_answer_to_it(predictor):
    r = predictor.predict(LATE_BLIGHT_PHOTO, crop="potato")
    assert r.crop == "potato" and r.label.startswith("potato.")
    assert r.crop_note and "tomato" in r.crop_note  # it says the photo looks like another crop



RICE_PEST_PHOTOS = sorted((REPO / "tests" / "fixtures" / "rice_pest" / "images").glob("*.jpg"))


def test_a_rice_field_photo_is_rice_and_never_another_crops_disease():
    """Three rice_pest val photos (never trained on): the answer is rice, or 'not a leaf' for a moth on a dry
    stem, never another crop's disease; the insects are still found, with or without `crop="rice"`."""
    from leafscout.service import DiagnosisService
    svc = DiagnosisService(db="sqlite://")
    assert "rice" in svc.crops and len(RICE_PEST_PHOTOS) == 3
    for photo in RICE_PEST_PHOTOS:
        for crop in (None, "rice"):
            d = svc.diagnose(photo, crop=crop)
            assert d.status == "not_a_leaf" or d.label.startswith("rice."), (photo.name, d.status, d.label)
            assert d.result.crop_scores[0][0] == "rice"
            if svc.detector is not None:
                assert sum(d.pest_counts.values()) >= 1, photo.name
    brown = svc.diagnose(RICE_PEST_PHOTOS[0])
    assert (brown.status, brown.label) == ("uncertain", "rice.other") and brown.advice is not None
    assert "rice: not one of the diseases" in brown.result.reason


def test_a_photo_with_no_plant_reports_no_leaf_and_no_insect():
    from leafscout.service import DiagnosisService
    svc = DiagnosisService(db="sqlite://")
    for name in ("person_astronaut.jpg", "object_coffee.jpg", "object_rocket_sky.jpg"):
        d = svc.diagnose(FIXTURES.parent / "ood" / name)
        assert d.status == "not_a_leaf", (name, d.status, d.label)
        assert not d.pest_counts, (name, d.pest_counts)


def test_a_field_photo_is_answered_from_the_leaves_the_shipped_detector_finds():
    """The shipped scene detector (pests 2.0.0) boxes the leaves of real field photos of bean and chilli (framed
    `whole`: no plain backdrop); each box lies in the photo and is named with the photo's crop, and the answer
    names that crop too. A leaf on a plain backdrop keeps the locator's answer, with no leaves."""
    from PIL import Image

    from leafscout.service import DiagnosisService
    svc = DiagnosisService(db="sqlite://")
    if svc.detector is None or svc.detector.leaf_class is None:
        pytest.skip("the shipped detector finds no leaves (insects only)")
    field = [p for ds in ("ibean_uganda", "chilli_leaf") for p in fixture_photos() if f"/{ds}/" in p.as_posix()]
    with_leaves = 0
    for photo in field:
        d = svc.diagnose(photo)
        crop = truth(photo).split(".")[0]
        assert d.label.startswith(crop + "."), (photo.name, d.label)
        if d.result.framing != "whole":
            assert d.result.leaves is None, photo.name
            continue
        w, h = Image.open(photo).size
        for leaf in d.result.leaves or []:
            x0, y0, x1, y1 = leaf["box"]
            assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, (photo.name, leaf["box"], (w, h))
            assert leaf["label"].startswith(crop + "."), (photo.name, leaf)
        with_leaves += bool(d.result.leaves)
    assert len(field) >= 10 and with_leaves >= 0.8 * len(field), f"leaves found on {with_leaves} of {len(field)}"


def test_photos_with_no_plant_never_let_a_leaf_box_vote():
    """Whatever the scene detector boxes on a photo of no plant (a retina, a cat, a rocket), the answer stays
    'no plant' and no leaf is listed: every tests/fixtures/ood photo the classifier calls not_a_leaf."""
    from leafscout.service import DiagnosisService
    svc = DiagnosisService(db="sqlite://")
    for photo in sorted((FIXTURES.parent / "ood").glob("*.jpg")):
        d = svc.diagnose(photo)
        if d.status == "not_a_leaf":
            assert not d.result.leaves and not d.pest_counts, (photo.name, d.result.leaves, d.pest_counts)


def test_top_k_is_what_was_asked_for_on_a_field_photo_answered_from_its_leaves(tmp_path, capsys):
    """A field photo's answer comes from its leaves too (the scene detector); the runners-up still number
    --top-k, so the CSV's columns line up with its header."""
    import csv

    from leafscout.cli import main
    photo = FIXTURES / "chilli_leaf" / "cercospora" / "IMG_4157.jpg"
    for k in (1, 5):
        out = tmp_path / f"k{k}.csv"
        assert main(["diagnose", "--top-k", str(k), "--csv", str(out), str(photo)]) == 0
        header, row = list(csv.reader(out.open(encoding="utf-8")))
        assert len(row) == len(header) and sum(h.startswith("label_") for h in header) == k
        assert row[header.index(f"label_{k}")] in load_label_map().labels
    capsys.readouterr()

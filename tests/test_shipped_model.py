"""The model in the repo is the one the card describes, and it recognises real leaves."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import LATE_BLIGHT_PHOTO, REPO, fixture_photos
from model.labels import load_label_map

SHIPPED = REPO / "model" / "leafscout.onnx"
pytestmark = pytest.mark.skipif(not SHIPPED.exists(), reason="model/leafscout.onnx not shipped yet")


@pytest.fixture(scope="module")
def predictor():
    from model.runtime import Predictor
    return Predictor(SHIPPED)


def truth(photo: Path) -> str:
    return load_label_map().canonical(photo.parent.parent.name, photo.parent.name)


def test_file_is_small_and_self_describing(predictor):
    assert SHIPPED.stat().st_size <= 20 * 1024 * 1024
    info = predictor.info()
    assert info["labels"] == load_label_map().labels
    assert 0 < info["temperature"] < 10
    assert set(info["thresholds"]) == {"uncertain_below", "ood_energy_above"}


def test_tomato_late_blight_photo_is_named(predictor):
    r = predictor.predict(LATE_BLIGHT_PHOTO)
    assert (r.status, r.label) == ("ok", "tomato.late_blight"), r.summary()
    assert r.heatmap_overlay().shape == (192, 192, 3)


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
    from model.evaluate import evaluate_folder
    metrics = json.loads((REPO / "model" / "metrics.json").read_text())
    report = evaluate_folder(predictor, shared_datasets, split="val", limit=8)
    for ds, r in report["datasets"].items():
        assert r["top1"] >= metrics["val"][ds]["top1"] - 0.08, (ds, r["top1"])

"""The torch-free runtime: statuses from the metadata thresholds, heatmaps, batch robustness, model errors,
and (with torch) identical logits to the training pipeline on real photos."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from leafscout.model.heatmap import normalize_cam
from leafscout.model.imageio import ImageError
from leafscout.model.preprocess import preprocess
from leafscout.model.results import Result
from leafscout.model.runtime import ModelError, Predictor, default_model_path
from leafscout.model.testing import TOY_COLOURS, TOY_CONFIG, TOY_LABELS, flat_photo, toy_model

pytest.importorskip("onnx")
FIXTURES = Path(__file__).parent / "fixtures"
PHOTOS = sorted((FIXTURES / "images").glob("*/*/*.jpg"))
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> Path:
    return toy_model(tmp_path_factory.mktemp("model") / "toy.onnx")


@pytest.fixture(scope="module")
def predictor(toy) -> Predictor:
    return Predictor(toy, threads=1)


@pytest.mark.parametrize("colour,status,label", [
    ("ok", "ok", "bean.healthy"), ("uncertain", "uncertain", None),
    ("background", "not_a_leaf", "background.no_leaf"), ("ood", "not_a_leaf", "background.no_leaf")])
def test_status_from_metadata_thresholds(predictor, colour, status, label):
    r = predictor.predict(flat_photo(TOY_COLOURS[colour]))
    assert r.status == status, r.reason
    if label:
        assert r.label == label
    assert (r.reason == "") == (status == "ok")
    if colour == "ood":
        assert r.confidence is None and "unlike" in r.reason and r.energy > -2.0
    if colour == "uncertain":
        assert r.label in ("bean.healthy", "bean.rust") and r.confidence < 0.6 and "under the 60%" in r.reason


def test_top_k_sorted_calibrated_and_bounded(predictor):
    r = predictor.predict(flat_photo(TOY_COLOURS["ok"]), top_k=10)
    # a leaf answer ranks leaf labels only: clipped to the number of classes less the no-leaf class
    assert len(r.top_k) == len(TOY_LABELS) - 1
    assert predictor.background_label not in [lab for lab, _ in r.top_k]
    probs = [p for _, p in r.top_k]
    assert probs == sorted(probs, reverse=True) and sum(probs) <= 1 + 1e-5
    assert r.confidence == pytest.approx(probs[0])
    assert len(predictor.predict(flat_photo(TOY_COLOURS["ok"]), top_k=1).top_k) == 1


def test_temperature_softens_confidence(tmp_path):
    rgb = flat_photo(TOY_COLOURS["ok"])
    sharp = Predictor(toy_model(tmp_path / "t1.onnx", temperature=1.0)).predict(rgb)
    soft = Predictor(toy_model(tmp_path / "t4.onnx", temperature=4.0)).predict(rgb)
    assert soft.confidence < sharp.confidence
    assert np.allclose(soft.logits, sharp.logits)  # logits are reported before temperature


def test_result_dict_and_timing(predictor):
    path = PHOTOS[0]
    r = predictor.predict(path)
    d = r.to_dict()
    assert list(d) == ["path", "status", "label", "confidence", "top_k", "error", "reason_code", "crop",
                       "crop_note", "crop_scores", "framing", "leaf_box"]
    assert all(set(c) == {"crop", "probability"} for c in d["crop_scores"])
    assert d["path"] == str(path) and d["error"] is None
    assert all(set(t) == {"label", "probability"} for t in d["top_k"])
    json.dumps(d)
    assert set(r.timing) == {"decode", "preprocess", "infer", "total"} and r.timing["total"] > 0


def test_views_are_the_training_preprocessing(predictor):
    rgb = np.asarray(Image.open(PHOTOS[0]).convert("RGB"))
    x, crop = predictor.views(rgb)
    assert np.array_equal(x[0], preprocess(rgb, TOY_CONFIG))
    assert crop.shape == (64, 64, 3)
    xt, _ = predictor.views(rgb, tta=True)
    assert xt.shape == (4, 3, 64, 64) and np.array_equal(xt[0], x[0])
    assert np.array_equal(xt[1], x[0][:, :, ::-1])  # the mirror view


def test_tta_changes_nothing_on_a_flat_photo_but_is_used(predictor):
    rgb = flat_photo(TOY_COLOURS["ok"])
    plain, tta = predictor.predict(rgb), predictor.predict(rgb, tta=True)
    assert tta.label == plain.label and tta.status == plain.status
    assert tta.timing["infer"] > 0


def test_heatmap_overlay_shape_and_location(predictor):
    rgb = flat_photo(TOY_COLOURS["ok"], size=(128, 128))
    rgb[:40, :40] = (230, 20, 20)  # a rust-red patch top-left
    r = predictor.predict(rgb)
    over = r.heatmap_overlay()  # drawn over the original photo, at its size
    assert over.shape == (128, 128, 3) and over.dtype == np.uint8
    assert r.heatmap_overlay(on="view").shape == (64, 64, 3)  # or over the square view the model saw
    cam = normalize_cam(r._cam[TOY_LABELS.index("bean.rust")])
    assert np.unravel_index(cam.argmax(), cam.shape)[0] < 3  # the rust evidence sits in the top rows
    assert not np.array_equal(r.heatmap_overlay("bean.rust"), r.heatmap_overlay("bean.healthy"))
    with pytest.raises(ValueError, match="unknown label"):
        r.heatmap_overlay("tomato.nope")


def test_predict_raises_image_error_but_batch_goes_on(predictor, tmp_path):
    with pytest.raises(ImageError):
        predictor.predict(FIXTURES / "bad" / "truncated.jpg")
    inputs = [PHOTOS[0], FIXTURES / "bad" / "truncated.jpg", FIXTURES / "bad" / "empty.jpg", tmp_path / "gone.jpg",
              FIXTURES / "bad" / "notes.jpg", PHOTOS[1], FIXTURES / "bad" / "tiny.png"] + PHOTOS[2:12]
    results = list(predictor.predict_many(iter(inputs), batch_size=4))
    assert [r.path for r in results] == [str(p) for p in inputs]  # in order, one each
    errors = [r for r in results if r.status == "error"]
    assert len(errors) == 5 and all(r.error and r.label is None for r in errors)
    assert "not found" in results[3].error
    ok = [r for r in results if r.status != "error"]
    for r in ok:  # batched answers equal one-at-a-time answers
        single = predictor.predict(r.path)
        assert np.allclose(single.logits, r.logits, atol=1e-5) and single.status == r.status
    with pytest.raises(ValueError, match="no heatmap kept"):
        ok[0].heatmap_overlay()
    first = next(predictor.predict_many([PHOTOS[0]], heatmap=True))
    assert first.heatmap_overlay().shape == first._photo.shape
    assert first.heatmap_overlay(on="view").shape == (64, 64, 3)
    with pytest.raises(ValueError, match="could not be read"):
        errors[0].heatmap_overlay()


def test_predict_accepts_bytes_and_arrays(predictor):
    data = PHOTOS[0].read_bytes()
    a, b = predictor.predict(data), predictor.predict(np.asarray(Image.open(io.BytesIO(data)).convert("RGB")))
    assert a.path is None and a.top_k[0][0] == b.top_k[0][0]


def test_info(predictor, toy):
    info = predictor.info()
    assert info["labels"] == TOY_LABELS and info["num_classes"] == 3 and info["input_size"] == 64
    # a model without the plant-colour guard (before 2.0) keeps its old decisions
    assert info["thresholds"] == {"uncertain_below": 0.6, "ood_energy_above": -2.0, "plant_share_min": None}
    assert info["version"] == "0.0.0-toy" and info["path"] == str(toy)


def test_model_errors_are_clear(tmp_path, monkeypatch):
    with pytest.raises(ModelError, match="--model"):
        Predictor(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_text("not a model")
    with pytest.raises(ModelError, match="not a loadable ONNX"):
        Predictor(tmp_path / "junk.onnx")
    with pytest.raises(ModelError, match="leafscout.thresholds"):
        Predictor(toy_model(tmp_path / "nometa.onnx", meta_override={"thresholds": None}))
    with pytest.raises(ModelError, match="2 labels in metadata but 3 outputs"):
        Predictor(toy_model(tmp_path / "badlab.onnx", meta_override={"labels": json.dumps(TOY_LABELS[:2])}))
    monkeypatch.setenv("LEAFSCOUT_MODEL", str(tmp_path / "x.onnx"))
    assert default_model_path() == tmp_path / "x.onnx"


def test_runtime_never_imports_torch(toy):
    code = ("import sys, model.runtime, leafscout.cli_diagnose\n"
            "from model.runtime import Predictor\n"
            f"r = Predictor({str(toy)!r}).predict({str(PHOTOS[0])!r})\n"
            "from leafscout.cli import main\n"
            f"rc = main(['diagnose', '--json', '--model', {str(toy)!r}, {str(PHOTOS[0])!r}])\n"
            "assert rc == 0, rc\n"
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('torch.')]\n"
            "assert not bad, bad[:5]\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_runtime_matches_training_pipeline_logits(tmp_path):
    """Same real photos, same weights: ONNX runtime path == training path (decode + preprocess + torch)."""
    torch = pytest.importorskip("torch")
    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.export import export_onnx, torch_logits
    from leafscout.model.preprocess import PreprocessConfig
    from leafscout.training.data import read_rgb

    from leafscout.model.labels import load_label_map
    labels = load_label_map().labels
    cfg = PreprocessConfig()
    torch.manual_seed(0)
    net = EfficientNetLite0(num_classes=len(labels)).eval()
    photos = [p for p in PHOTOS if p.parent.parent.name in ("ibean_uganda", "chilli_leaf", "mangoleafbd")][:4]
    batch = np.stack([preprocess(read_rgb(str(p)), cfg) for p in photos])
    path = tmp_path / "lite0.onnx"
    export_onnx(net, path, labels, cfg, 1.5, {"uncertain_below": 0.5, "ood_energy_above": 0.0}, "test",
                check_inputs=batch[:1])
    ref = torch_logits(net, batch)
    p = Predictor(path, threads=1)
    ours = np.stack([p.predict(ph).logits for ph in photos])
    assert np.abs(ours - ref).max() < 1e-4


# ---- the grower names the crop; a plant is never "not a leaf" --------------------------------------------

CROP_LABELS = ["background.no_leaf", "bean.healthy", "bean.rust", "coffee.rust"]  # red: bean.rust ~ coffee.rust


@pytest.fixture(scope="module")
def two_crops(tmp_path_factory) -> Predictor:
    path = toy_model(tmp_path_factory.mktemp("crops") / "two_crops.onnx", labels=CROP_LABELS)
    return Predictor(path, threads=1)


def test_crop_limits_the_answer_to_that_crops_labels(two_crops):
    red = flat_photo((220, 30, 30))
    assert two_crops.crops == ["bean", "coffee"]
    coffee = two_crops.predict(red, crop="coffee")
    assert coffee.label == "coffee.rust" and coffee.crop == "coffee"
    assert all(lab.startswith("coffee.") for lab, _ in coffee.top_k)
    assert coffee.confidence == pytest.approx(1.0)  # calibrated over the coffee labels alone
    bean = two_crops.predict(red, crop="Bean ")  # names are normalised
    assert bean.label == "bean.rust" and bean.crop == "bean"
    assert two_crops.predict(red).crop is None and two_crops.predict(red).to_dict()["crop"] is None
    assert next(two_crops.predict_many([red], crop="coffee")).label == "coffee.rust"


def test_a_photo_that_looks_like_another_crop_says_so(two_crops):
    green = flat_photo(TOY_COLOURS["ok"])  # bean.healthy, clearly
    r = two_crops.predict(green, crop="coffee")
    assert r.label == "coffee.rust" and r.crop_note and "bean" in r.crop_note
    assert two_crops.predict(flat_photo((220, 30, 30)), crop="coffee").crop_note is None


def test_an_unknown_crop_is_refused_with_the_nearest_name(two_crops):
    from leafscout.model.runtime import UnknownCropError
    with pytest.raises(UnknownCropError, match="Did you mean 'coffee'"):
        two_crops.predict(flat_photo((220, 30, 30)), crop="cofee")
    with pytest.raises(UnknownCropError, match="no labels for crop 'rice'"):
        two_crops.predict(flat_photo((220, 30, 30)), crop="rice")
    assert two_crops.check_crop("") is None


@pytest.fixture(scope="module")
def guarded(tmp_path_factory) -> Predictor:
    th = {"uncertain_below": 0.6, "ood_energy_above": -2.0, "plant_share_min": 0.02}
    return Predictor(toy_model(tmp_path_factory.mktemp("guard") / "guard.onnx", thresholds=th), threads=1)


def test_an_unfamiliar_photo_with_a_plant_in_it_is_uncertain_not_no_leaf(guarded):
    grey = flat_photo(TOY_COLOURS["ood"], size=(128, 128))
    assert guarded.predict(grey).status == "not_a_leaf"  # grey and unlike anything: not a plant
    leafy = grey.copy()
    leafy[40:88, 40:88] = (40, 150, 40)  # a green leaf in the middle of the grey photo
    r = guarded.predict(leafy)
    assert r.plant_share >= 0.02
    assert r.status == "uncertain" and r.label in ("bean.healthy", "bean.rust"), r.summary()
    assert "not recognise" in r.reason and predictor_labels_only(r)
    blue = flat_photo(TOY_COLOURS["background"])  # the no-leaf class wins and no plant colour: no leaf
    assert guarded.predict(blue).status == "not_a_leaf"


def test_each_answer_carries_a_reason_code(with_other):
    """Programs and translations read the code, never the English sentence."""
    codes = {
        ("uncertain", "no_leaf_seen"): ([9.0, 0.0, 0.0, 1.0, 1.0], 0.5),  # no-leaf class wins, plant colour
        ("not_a_leaf", "no_leaf_class"): ([9.0, 0.0, 0.0, 1.0, 1.0], 0.0),
        ("not_a_leaf", "no_plant_colour"): ([0.0, 0.0, 0.0, 1.0, 6.0], 0.0),
        ("uncertain", "unnamed_problem"): ([0.0, 0.0, 0.0, 1.0, 6.0], 0.5),
        ("uncertain", "low_confidence"): ([0.0, 1.0, 1.1, 0.0, 0.0], 0.5),
        ("ok", ""): ([0.0, 0.0, 0.0, 6.0, 1.0], 0.5),
    }
    for (status, code), (logits, plant) in codes.items():
        d = with_other.decide(np.array(logits), plant=plant)
        assert (d["status"], d["reason_code"]) == (status, code), (logits, plant, d)


def test_a_plant_photo_where_the_model_sees_no_leaf_offers_no_guess(with_other):
    """Grass, trees far away: the no-leaf class wins on a photo with plant colour. The answer is "no leaf",
    uncertain (a plant photo is never not_a_leaf); top_k keeps the nearest leaf labels for whoever checks."""
    for crop in (None, "rice"):
        d = with_other.decide(np.array([9.0, 0.0, 0.0, 1.0, 1.0]), plant=0.5, crop=crop)
        assert (d["status"], d["label"], d["reason_code"]) == ("uncertain", "background.no_leaf", "no_leaf_seen")
        assert d["confidence"] > 0.9 and "no single leaf" in d["reason"]
        assert d["top_k"] and all(not lab.startswith("background.") for lab, _ in d["top_k"])
    r = Result(path=None, status="uncertain", label="background.no_leaf", confidence=0.99,
               top_k=[("rice.blast", 0.004)], reason="the photo has plant colour but ...", reason_code="no_leaf_seen")
    assert "rice.blast" not in r.summary() and r.to_dict()["reason_code"] == "no_leaf_seen"


def predictor_labels_only(r) -> bool:
    return all(not lab.startswith("background.") for lab, _ in r.top_k)


@pytest.fixture(scope="module")
def with_other(tmp_path_factory) -> Predictor:
    th = {"uncertain_below": 0.6, "ood_energy_above": 5.0, "plant_share_min": 0.02}
    labels = ["background.no_leaf", "bean.healthy", "bean.rust", "rice.blast", "rice.other"]
    return Predictor(toy_model(tmp_path_factory.mktemp("other") / "other.onnx", thresholds=th, labels=labels), threads=1)


def test_a_crop_with_no_nameable_problem_is_said_so_and_never_borrows_a_label(with_other):
    """rice.other: "rice, but none of the diseases LeafScout knows" is uncertain with the crop named; the crop
    comes first, so rice spread over two labels beats a bean label that is higher on its own."""
    d = with_other.decide(np.array([0.0, 0.0, 0.0, 1.0, 6.0]), plant=0.5)
    assert (d["status"], d["label"]) == ("uncertain", "rice.other") and d["reason"].startswith("rice: not one of")
    d = with_other.decide(np.array([0.0, 0.0, 2.0, 1.6, 1.6]), plant=0.5)  # bean.rust alone > each rice label
    assert d["label"].startswith("rice.") and d["crop_scores"][0][0] == "rice"
    # no leaf colour and no problem the model can name: not a plant at all (a cup, the sky)
    d = with_other.decide(np.array([0.0, 0.0, 0.0, 1.0, 6.0]), plant=0.0)
    assert d["status"] == "not_a_leaf" and "no problem the model can name" in d["reason"]
    # a named disease without leaf colour (a dry, brown leaf) stays a leaf answer
    assert with_other.decide(np.array([0.0, 0.0, 0.0, 6.0, 1.0]), plant=0.0)["status"] == "ok"

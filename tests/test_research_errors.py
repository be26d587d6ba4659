"""A researcher's mistakes with the trainer and finalize: each one is a clear one-line error, before any
training time is spent, never a traceback; and a resumed run keeps what the run it continues was."""
from __future__ import annotations

import subprocess
import sys

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("albumentations")

from leafscout.model.labels import LabelMapError, load_label_map  # noqa: E402
from leafscout.training.data import DataError, discover  # noqa: E402
from leafscout.training.finalize import main as finalize_main  # noqa: E402
from leafscout.training.train import get_args_parser, main  # noqa: E402

from conftest import REPO  # noqa: E402

TINY = ["--batch-size", "4", "--train-size", "64", "--eval-size", "64", "--workers", "0", "--threads", "2",
        "--epochs", "1", "--datasets", "citrus_leaves", "ibean_uganda"]


def tiny_args(root, out, *extra):
    return get_args_parser().parse_args(["--data-root", str(root), "--output-dir", str(out), *TINY, *extra])


@pytest.fixture
def tiny_run(tiny_datasets, tmp_path):
    """A one-step run from random weights (no finalize): a checkpoint to resume, finalize or break."""
    out = tmp_path / "run"
    assert main(tiny_args(tiny_datasets, out, "--no-pretrained", "--max-steps", "1", "--no-finalize")) == 0
    return out


@pytest.mark.parametrize("option", ["--resume", "--init-from"])
def test_a_missing_or_broken_checkpoint_is_named_not_unpickled(tiny_datasets, tmp_path, option):
    broken = tmp_path / "broken.pt"
    broken.write_text("garbage")
    for path, why in [(tmp_path / "nope.pt", "no such file"), (broken, "not a training checkpoint")]:
        with pytest.raises(DataError, match=f"{option} {path}: {why}"):
            main(tiny_args(tiny_datasets, tmp_path / "run", option, str(path), "--max-steps", "1", "--no-finalize"))
    with pytest.raises(DataError, match="an .onnx file is for --init-from"):
        main(tiny_args(tiny_datasets, tmp_path / "run", "--resume", str(REPO / "model" / "leafscout.onnx"),
                       "--max-steps", "1", "--no-finalize"))


def test_the_cli_says_so_in_one_line(tmp_path):
    r = subprocess.run([sys.executable, "-m", "leafscout.training.train", "--resume", str(tmp_path / "nope.pt"),
                        "--output-dir", str(tmp_path / "run")], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--resume" in r.stderr and "no such file" in r.stderr


def test_a_batch_bigger_than_the_training_photos_is_refused(tiny_datasets, tmp_path):
    """Before: 0 steps, loss NaN, exit 0 and an untrained model exported as if trained."""
    with pytest.raises(DataError, match="--batch-size 64 is more than the .* training photos.*pass --batch-size"):
        main(tiny_args(tiny_datasets, tmp_path / "run", "--batch-size", "64", "--no-pretrained"))
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_an_output_dir_that_cannot_be_written_is_refused_first(tiny_datasets, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("not a folder")
    with pytest.raises(DataError, match="--output-dir .*cannot write there"):
        main(tiny_args(tiny_datasets, a_file / "run", "--no-pretrained", "--max-steps", "1"))
    assert a_file.read_text() == "not a folder"


def test_a_label_map_without_the_no_leaf_class_is_refused_before_training(tiny_datasets, tmp_path):
    """Before: the whole run trained, then finalize died on `'background.no_leaf' is not in list`."""
    small = tmp_path / "labels.yaml"
    small.write_text("version: 1\ndatasets:\n  citrus_leaves:\n"
                     + "".join(f"    {f}: citrus.{f}\n"
                               for f in ("black_spot", "canker", "greening", "healthy", "melanose")),
                     encoding="utf-8")
    args = tiny_args(tiny_datasets, tmp_path / "run", "--labels", str(small), "--datasets", "citrus_leaves",
                     "--no-pretrained")
    with pytest.raises(LabelMapError, match="background.no_leaf.*--no-finalize"):
        main(args)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_resuming_with_another_label_map_says_which(tiny_run, tiny_datasets, tmp_path):
    import yaml
    data = yaml.safe_load((REPO / "datasets" / "labels.yaml").read_text(encoding="utf-8"))
    data["datasets"]["citrus_leaves"]["healthy"] = "citrus.new_condition"
    grown = tmp_path / "grown.yaml"
    grown.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(DataError, match="other labels .*here only: citrus.new_condition; "
                                        "in the checkpoint only: citrus.healthy.*--init-from"):
        main(tiny_args(tiny_datasets, tiny_run, "--labels", str(grown), "--resume", str(tiny_run / "checkpoint.pt"),
                       "--max-steps", "2", "--no-finalize"))


@pytest.mark.slow
def test_a_run_started_from_the_onnx_model_resumes_with_its_batchnorms_frozen(tiny_datasets, tmp_path):
    """--init-from an .onnx folds the BatchNorms, so they must stay in inference mode. Resumed without repeating
    --init-from, the run used to train them on batch statistics (their running means moved)."""
    out = tmp_path / "run"
    shipped = str(REPO / "model" / "leafscout.onnx")
    assert main(tiny_args(tiny_datasets, out, "--init-from", shipped, "--max-steps", "1", "--no-finalize")) == 0
    first = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert first["args"]["freeze_bn"] is True
    assert main(tiny_args(tiny_datasets, out, "--resume", str(out / "checkpoint.pt"), "--max-steps", "2",
                          "--no-finalize")) == 0
    second = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert second["global_step"] == 2 and second["args"]["freeze_bn"] is True
    assert second["args"]["init_from"] == shipped  # the model card's recipe still names the starting point
    assert torch.equal(first["model"]["_bn1.running_mean"], second["model"]["_bn1.running_mean"])
    assert not torch.equal(first["model"]["_fc.weight"], second["model"]["_fc.weight"])


def test_hidden_folders_are_not_classes_and_an_empty_split_is_refused(tiny_datasets):
    lm = load_label_map()
    (tiny_datasets / "citrus_leaves" / "train" / ".ipynb_checkpoints").mkdir()
    assert discover(tiny_datasets, ["citrus_leaves"], "train", lm, lm.labels)
    val = tiny_datasets / "ibean_uganda" / "val"
    for class_dir in val.iterdir():
        for f in class_dir.iterdir():
            f.unlink()
        class_dir.rmdir()
    with pytest.raises(DataError, match="ibean_uganda/val' holds no class folders.*angular_leaf_spot, bean_rust, "
                                        "healthy.*--datasets"):
        discover(tiny_datasets, ["citrus_leaves", "ibean_uganda"], "val", lm, lm.labels)


def test_finalize_names_a_bad_checkpoint_and_reads_moved_photos_with_data_root(tiny_run, tiny_datasets, tmp_path,
                                                                               capsys):
    assert finalize_main([str(tmp_path / "nope.pt")]) == 2
    assert "checkpoint" in capsys.readouterr().err
    assert finalize_main([str(REPO / "model" / "leafscout.onnx")]) == 2
    assert "not a training checkpoint" in capsys.readouterr().err
    moved = tmp_path / "moved"
    tiny_datasets.rename(moved)
    assert finalize_main([str(tiny_run / "checkpoint.pt")]) == 2
    err = capsys.readouterr().err
    assert "is not a folder" in err and "the run's --data-root" in err and "Traceback" not in err
    assert finalize_main([str(tiny_run / "checkpoint.pt"), "--data-root", str(moved)]) == 0
    assert (tiny_run / "leafscout.onnx").is_file()


def test_distilling_on_a_mistyped_dataset_or_a_crop_the_teacher_never_saw_is_refused(tiny_datasets, tmp_path):
    """Before: a typo beside a right name was dropped without a word (that dataset trained with no teacher), and
    a new crop's photos were pulled towards the old model's answers, which can only name other crops."""
    import yaml
    from leafscout.training.distill import teacher_probs
    data = yaml.safe_load((REPO / "datasets" / "labels.yaml").read_text(encoding="utf-8"))
    data["datasets"]["mangoleafbd"] = {f: f"durian.{f.lower()}" for f in data["datasets"]["mangoleafbd"]}
    grown = tmp_path / "grown.yaml"
    grown.write_text(yaml.safe_dump(data), encoding="utf-8")
    lm = load_label_map(grown)
    samples = discover(tiny_datasets, ["citrus_leaves", "mangoleafbd"], "train", lm, lm.labels)
    shipped = str(REPO / "model" / "leafscout.onnx")
    with pytest.raises(DataError, match="--distill-datasets citrus_leavs: not among the training datasets.*"
                                        "did you mean 'citrus_leaves'"):
        teacher_probs(shipped, samples, lm.labels, ["citrus_leaves", "citrus_leavs"], 2.0)
    with pytest.raises(DataError, match="--distill-datasets mangoleafbd: the teacher .* knows none of its labels "
                                        r"\(durian.anthracnose, .*leave mangoleafbd out"):
        teacher_probs(shipped, samples, lm.labels, ["citrus_leaves", "mangoleafbd"], 2.0)
    probs, mask = teacher_probs(shipped, samples, lm.labels, ["citrus_leaves"], 2.0)
    assert mask.sum() == sum(s.dataset == "citrus_leaves" for s in samples)


def test_a_run_stopped_by_max_steps_resumes_at_its_step_of_the_epoch(tiny_run, tiny_datasets):
    """The checkpoint written when --max-steps stops a run mid-epoch used to say step 0 of that epoch, so the
    resumed run replayed the batches it had already trained on."""
    first = torch.load(tiny_run / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert (first["epoch"], first["step_in_epoch"], first["global_step"]) == (0, 1, 1)
    assert main(tiny_args(tiny_datasets, tiny_run, "--resume", str(tiny_run / "checkpoint.pt"), "--max-steps", "3",
                          "--no-finalize")) == 0
    second = torch.load(tiny_run / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert (second["epoch"], second["step_in_epoch"], second["global_step"]) == (0, 3, 3)


def test_a_corrupt_val_photo_is_left_out_of_the_figures_not_counted_as_another(tiny_run, tiny_datasets):
    """Evaluation used to put another photo's answer and label in the corrupt photo's place: that photo was
    counted twice in top-1, macro-F1, the temperature and the thresholds."""
    import json

    import numpy as np
    broken = tiny_datasets / "citrus_leaves" / "val" / "canker" / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    n_photos = sum(1 for ds in ("citrus_leaves", "ibean_uganda")
                   for p in (tiny_datasets / ds / "val").rglob("*.jpg"))
    assert finalize_main([str(tiny_run / "checkpoint.pt")]) == 0
    metrics = json.loads((tiny_run / "metrics.json").read_text())
    assert metrics["n_val"] == n_photos - 1
    n_citrus = sum(1 for _ in (tiny_datasets / "citrus_leaves" / "val").rglob("*.jpg"))
    assert metrics["val"]["citrus_leaves"]["n"] == n_citrus - 1
    saved = np.load(tiny_run / "val_logits.npz")
    assert str(broken) not in set(saved["paths"].tolist()) and len(saved["paths"]) == n_photos - 1


def test_a_run_from_the_shipped_onnx_starts_from_its_weights(tiny_datasets, tmp_path):
    """At learning rate 0 the checkpoint holds exactly the weights rebuilt from the .onnx file (a slip once let
    the ImageNet weights overwrite them, and 88% top-1 became 25%)."""
    import json

    from leafscout.model.arch import EfficientNetLite0
    from leafscout.model.export import read_metadata
    from leafscout.model.onnx_weights import load_onnx_weights
    shipped = str(REPO / "model" / "leafscout.onnx")
    out = tmp_path / "run"
    assert main(tiny_args(tiny_datasets, out, "--init-from", shipped, "--lr", "0", "--max-steps", "1",
                          "--no-finalize")) == 0
    got = torch.load(out / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]
    ref = EfficientNetLite0(len(json.loads(read_metadata(shipped)["labels"])))
    load_onnx_weights(ref, shipped)
    for key, value in ref.state_dict().items():
        assert torch.equal(got[key], value), key


def test_an_export_that_fails_its_check_is_one_error_line(tiny_run, monkeypatch, capsys):
    from leafscout.model.export import ExportError
    from leafscout.training import finalize as fin

    def refuse(*a, **k):
        raise ExportError("ONNX logits differ from PyTorch by 1.00e-02, more than the allowed 1e-04; "
                          "the model was not exported")
    monkeypatch.setattr(fin, "export_onnx", refuse)
    assert fin.main([str(tiny_run / "checkpoint.pt")]) == 2
    assert "the model was not exported" in capsys.readouterr().err
    assert (tiny_run / "checkpoint.pt").is_file()


def test_a_label_map_copy_is_the_file_the_error_names(tiny_datasets, tmp_path):
    """With --labels a copy, "not in labels.yaml" sent the researcher to edit the checkout's file instead."""
    import shutil
    mine = tmp_path / "mylabels.yaml"
    shutil.copy(REPO / "datasets" / "labels.yaml", mine)
    lm = load_label_map(mine)
    (tiny_datasets / "durian" / "train" / "healthy").mkdir(parents=True)
    with pytest.raises(LabelMapError, match=f"dataset 'durian' is not in {mine}"):
        discover(tiny_datasets, ["durian"], "train", lm, lm.labels)
    with pytest.raises(LabelMapError, match="dataset 'durian' is not in labels.yaml"):
        discover(tiny_datasets, ["durian"], "train", load_label_map(), lm.labels)


def test_a_soup_into_a_folder_that_cannot_be_written_is_one_error_line(tiny_run, tmp_path, capsys):
    from leafscout.training.soup import main as soup_main
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    ckpt = str(tiny_run / "checkpoint.pt")
    assert soup_main([str(a_file / "soup"), "--models", ckpt, ckpt, "--recipe-from", ckpt,
                      "--model-version", "1"]) == 2
    assert "cannot write there" in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--batch-size", "--train-size", "--eval-size", "--limit-per-class",
                                    "--max-steps", "--checkpoint-every"])
@pytest.mark.parametrize("bad", ["0", "-3", "ten"])
def test_a_size_or_count_below_one_is_a_usage_error(option, bad, capsys):
    """Before: --batch-size 0 and --checkpoint-every 0 divided by zero mid-run, --eval-size 0 failed in OpenCV
    after training, --limit-per-class -1 in random.sample: each a traceback."""
    with pytest.raises(SystemExit) as exc:
        get_args_parser().parse_args([option, bad])
    assert exc.value.code == 2
    assert f"expected a whole number of at least 1, got '{bad}'" in capsys.readouterr().err


def test_datasets_given_with_no_name_says_so(tiny_datasets, tmp_path):
    """`--datasets` with nothing after it used to end in "--batch-size 4 is more than the 0 training photos"."""
    args = get_args_parser().parse_args(["--data-root", str(tiny_datasets), "--output-dir", str(tmp_path / "r"),
                                         "--datasets", "--no-pretrained"])
    with pytest.raises(DataError, match="--datasets names no dataset; name one or more of .*citrus_leaves"):
        main(args)


@pytest.mark.parametrize("module", ["detect_train", "pest_crops"])
def test_the_insect_trainers_name_a_missing_data_root_in_one_line(module, tmp_path):
    r = subprocess.run([sys.executable, "-m", f"leafscout.training.{module}", "--data-root", str(tmp_path / "nope"),
                        "--output-dir", str(tmp_path / "run")], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "rice_pest/train/images' is missing" in r.stderr


def test_a_new_run_into_a_finished_runs_folder_is_refused_and_the_run_kept(tiny_run, tiny_datasets):
    """Before: the same command again (a resume without --resume, a copy-paste) overwrote the run's checkpoint and
    appended its epochs to the old history."""
    before = (tiny_run / "checkpoint.pt").read_bytes(), (tiny_run / "history.jsonl").read_text()
    with pytest.raises(DataError, match="already holds a run.*--resume .*checkpoint.pt"):
        main(tiny_args(tiny_datasets, tiny_run, "--no-pretrained", "--max-steps", "1", "--no-finalize"))
    assert ((tiny_run / "checkpoint.pt").read_bytes(), (tiny_run / "history.jsonl").read_text()) == before

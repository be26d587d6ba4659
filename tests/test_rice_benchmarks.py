"""The rice and crop-mismatch benchmarks run end to end on a small folder laid out like ../shared/datasets (real
fixture photos, one class folder per label), so a change that breaks them is caught without the datasets."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CHILLI = REPO / "tests" / "fixtures" / "images" / "chilli_leaf"


@pytest.fixture
def three_classes(tmp_path):
    """rice_leaf_ph's layout (train/val, a folder per class), filled with chilli fixture photos: three classes
    of three numbered photos each, so sequence groups and folds exist."""
    classes = sorted(d for d in CHILLI.iterdir() if d.is_dir())[:3]
    if len(classes) < 3:
        pytest.skip("needs three chilli fixture classes")
    root = tmp_path / "rice_leaf_ph"
    for c in classes:
        photos = sorted(c.glob("*.jpg"))[:2]
        for split, picks in (("train", photos + photos[:1]), ("val", photos[:1])):
            (root / split / c.name).mkdir(parents=True, exist_ok=True)
            for i, p in enumerate(picks):
                shutil.copyfile(p, root / split / c.name / f"{c.name}_{i * 10 + (split == 'val') * 5:03d}.jpg")
    return root


def test_rice_finetune_cv_fits_and_scores_train_to_val(three_classes):
    pytest.importorskip("torch", reason="the benchmark fine-tunes a network: the train extra")
    pytest.importorskip("albumentations", reason="the train extra")
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "rice_finetune_cv.py"), "--data",
                          str(three_classes), "--epochs", "1", "--size", "64", "--batch", "4", "--no-cv"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "TRAIN -> VAL" in run.stdout and "/3 (" in run.stdout, run.stdout


def test_rice_finetune_cv_without_the_data_says_so(tmp_path):
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "rice_finetune_cv.py"), "--data",
                          str(tmp_path / "nowhere")], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and "nothing to measure" in run.stderr


def test_crop_mismatch_counts_the_note_for_right_and_wrong_crops(tmp_path):
    """The shipped model on fixture photos laid out as a val split: every photo named with its own crop and with
    every other crop; the note must fire far more often for the wrong crops."""
    pytest.importorskip("onnxruntime")
    for ds in ("chilli_leaf", "coffee_bracol"):
        src = REPO / "tests" / "fixtures" / "images" / ds
        shutil.copytree(src, tmp_path / ds / "val")
    run = subprocess.run([sys.executable, str(REPO / "benchmarks" / "crop_mismatch.py"), "--data-root",
                          str(tmp_path), "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    line = next(ln for ln in run.stdout.splitlines() if ln.strip().startswith("all "))
    right, wrong = [float(x.strip("()%")) for x in line.split() if x.endswith("%)")][:1] + \
        [float(line.rsplit("(", 1)[1].strip(" %)"))]
    assert wrong > 90 and right < 20, run.stdout

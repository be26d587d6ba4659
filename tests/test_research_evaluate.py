"""`leafscout evaluate` as a researcher uses it on a new model: a folder of datasets where one is not (yet) in
labels.yaml is named in the report, never silently left out; a mistyped --split names the splits there."""
from __future__ import annotations

import json

import cv2
import pytest

from leafscout.cli import main
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

pytest.importorskip("onnx")


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> str:
    return str(toy_model(tmp_path_factory.mktemp("model") / "toy.onnx"))


def photos(folder, colour, n=2):
    folder.mkdir(parents=True)
    for i in range(n):
        cv2.imwrite(str(folder / f"{i}.png"), cv2.cvtColor(flat_photo(TOY_COLOURS[colour]), cv2.COLOR_RGB2BGR))


def test_a_dataset_missing_from_labels_yaml_is_named_not_silently_skipped(toy, tmp_path, capsys):
    root = tmp_path / "datasets"
    photos(root / "ibean_uganda" / "val" / "healthy", "ok")
    photos(root / "durian_toy" / "val" / "healthy", "ok")  # a new crop, its section not in labels.yaml yet
    photos(root / "ibean_ugand" / "val" / "healthy", "ok")  # a typo of a dataset name
    assert main(["evaluate", "--json", "--model", toy, str(root)]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert rep["datasets"].keys() == {"ibean_uganda"} and rep["overall"]["n"] == 2
    skipped = {s["folder"].rsplit("/", 1)[-1]: s["reason"] for s in rep["not_evaluated"]}
    assert skipped.keys() == {"durian_toy", "ibean_ugand"}
    assert "not a dataset in labels.yaml" in skipped["durian_toy"]
    assert "did you mean 'ibean_uganda'" in skipped["ibean_ugand"]
    assert main(["evaluate", "--model", toy, str(root)]) == 0
    text = capsys.readouterr().out
    assert "2 folder(s) not evaluated" in text and "durian_toy" in text


def test_a_mistyped_split_names_the_splits_that_are_there(toy, tmp_path, capsys):
    root = tmp_path / "ibean_uganda"
    photos(root / "train" / "healthy", "ok")
    photos(root / "val" / "healthy", "ok")
    assert main(["evaluate", "--model", toy, str(root), "--split", "vall"]) == 2
    err = capsys.readouterr().err
    assert "no 'vall' split folder (it has train, val); pass --split val" in err
    assert "not mapped" not in err and "Traceback" not in err

"""The model card's recipe is the command that trains the same model again: a researcher's run on some
datasets, with a grown label map and a smaller batch, must come back with those options."""
from __future__ import annotations

import json
import shlex

import pytest

pytest.importorskip("torch")
pytest.importorskip("albumentations")

from leafscout.training.model_card import NOT_RECIPE, main, stage_lines  # noqa: E402
from leafscout.training.train import get_args_parser  # noqa: E402


def test_the_stage_command_gives_back_every_option_the_run_was_trained_with(tmp_path):
    run = tmp_path / "durian"
    run.mkdir()
    argv = ["--data-root", "/data/sonla", "--output-dir", str(run), "--datasets", "citrus_leaves", "durian_toy",
            "--labels", "/tmp/grown/labels.yaml", "--init-from", "model/leafscout.onnx", "--batch-size", "16",
            "--seed", "3", "--label-smoothing", "0", "--weight-decay", "0.05", "--epochs", "2",
            "--dataset-weight", "durian_toy=3", "--workers", "4", "--model-version", "3.2.0"]
    args = vars(get_args_parser().parse_args(argv))
    args["freeze_bn"] = True  # what train.py stores after --init-from an .onnx
    m = {"training": {"args": args, "images_per_s": [40.0]}}
    (run / "metrics.json").write_text(json.dumps(m))
    (run / "history.jsonl").write_text(json.dumps({"seconds": 60.0}) + "\n")

    line = next(x for x in stage_lines(run, m) if x.startswith("- Stage 1"))
    command = shlex.split(line.split("`")[1])
    assert command[:3] == ["python", "-m", "leafscout.training.train"]
    again = vars(get_args_parser().parse_args(command[3:]))
    again["freeze_bn"] = True  # implied by --init-from, as above
    args = json.loads(json.dumps(args))  # as metrics.json gives them back (tuples become lists)
    again = json.loads(json.dumps(again))
    differ = {k for k in args if k not in NOT_RECIPE and args[k] != again[k]}
    assert not differ, {k: (args[k], again[k]) for k in differ}
    assert again["data_root"] == "/data/sonla"


def test_the_card_tool_names_a_missing_run_or_model_file(tmp_path, capsys):
    assert main([str(tmp_path / "nope")]) == 2
    assert "metrics.json is missing" in capsys.readouterr().err
    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.json").write_text("{}")
    assert main([str(run), "--onnx", str(tmp_path / "nope.onnx")]) == 2
    assert "--onnx" in capsys.readouterr().err

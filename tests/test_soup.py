"""A researcher averages two fine-tuned runs into one model (training/soup.py)."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from leafscout.model.arch import EfficientNetLite0  # noqa: E402
from leafscout.training.soup import average, fold_batchnorms, load_ingredient, main  # noqa: E402

from conftest import REPO  # noqa: E402

LABELS = ["a.one", "a.two", "b.three"]


def trained_like(seed: int) -> EfficientNetLite0:
    """A small-class Lite0 whose BatchNorms hold non-trivial statistics and affine parts, as after training."""
    torch.manual_seed(seed)
    model = EfficientNetLite0(num_classes=len(LABELS))
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_(0, 0.1)
                m.running_mean.normal_(0, 0.1)
                m.running_var.uniform_(0.5, 2.0)
    return model.eval()


def save_checkpoint(model: EfficientNetLite0, path, labels=LABELS) -> None:
    torch.save({"model": model.state_dict(), "labels": list(labels), "args": {"data_root": "x", "model_version": "0"},
                "epoch": 1, "step_in_epoch": 0, "global_step": 10}, path)


def test_folding_the_batchnorms_keeps_what_the_network_computes():
    model = trained_like(0)
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        before = model(x)
        after = fold_batchnorms(model)(x)
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-4)
    bn = model._bn0
    assert torch.all(bn.weight == 1) and torch.all(bn.running_mean == 0)


def test_the_soup_of_two_runs_is_their_mean_in_folded_form(tmp_path):
    a, b = trained_like(1), trained_like(2)
    save_checkpoint(a, tmp_path / "a.pt")
    save_checkpoint(b, tmp_path / "b.pt")
    assert main([str(tmp_path / "soup"), "--models", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"),
                 "--recipe-from", str(tmp_path / "a.pt"), "--model-version", "9.9.9"]) == 0
    ckpt = torch.load(tmp_path / "soup" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert ckpt["labels"] == LABELS and ckpt["args"]["model_version"] == "9.9.9"
    assert ckpt["args"]["soup"]["models"] == [str(tmp_path / "a.pt"), str(tmp_path / "b.pt")]
    fa, fb = fold_batchnorms(trained_like(1)), fold_batchnorms(trained_like(2))
    for key in ("_conv_stem.weight", "_blocks.3._bn2.bias", "_fc.weight"):
        torch.testing.assert_close(ckpt["model"][key], (fa.state_dict()[key] + fb.state_dict()[key]) / 2)
    # not the naive mean of the unfolded numbers: the BatchNorm scales differ between the runs
    assert not torch.allclose(ckpt["model"]["_conv_stem.weight"],
                              (a.state_dict()["_conv_stem.weight"] + b.state_dict()["_conv_stem.weight"]) / 2)


def test_weights_lean_the_soup_towards_one_run():
    a, b = fold_batchnorms(trained_like(1)), fold_batchnorms(trained_like(2))
    wa, wb = a.state_dict()["_fc.bias"].clone(), b.state_dict()["_fc.bias"].clone()
    soup = average([a, b], [3.0, 1.0])
    torch.testing.assert_close(soup.state_dict()["_fc.bias"], 0.75 * wa + 0.25 * wb)


def test_the_shipped_onnx_model_is_an_ingredient_and_a_soup_of_one_model_with_itself_is_that_model():
    shipped = REPO / "model" / "leafscout.onnx"
    m1, labels = load_ingredient(shipped)
    m2, _ = load_ingredient(shipped)
    ref = {k: v.clone() for k, v in m1.state_dict().items()}
    soup = average([m1, m2])
    for key, value in soup.state_dict().items():
        torch.testing.assert_close(value, ref[key])
    assert "rice.brown_spot" in labels


def test_runs_with_other_labels_or_missing_files_are_refused_with_the_reason(tmp_path, capsys):
    save_checkpoint(trained_like(1), tmp_path / "a.pt")
    other = EfficientNetLite0(num_classes=2)
    save_checkpoint(other, tmp_path / "b.pt", labels=["a.one", "x.y"])
    args = ["--recipe-from", str(tmp_path / "a.pt"), "--model-version", "1"]
    assert main([str(tmp_path / "s"), "--models", str(tmp_path / "a.pt"), str(tmp_path / "b.pt"), *args]) == 2
    assert "labels differ" in capsys.readouterr().err
    assert main([str(tmp_path / "s"), "--models", str(tmp_path / "a.pt"), str(tmp_path / "nope.pt"), *args]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main([str(tmp_path / "s"), "--models", str(tmp_path / "a.pt"), *args]) == 2
    assert "two or more" in capsys.readouterr().err
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert main([str(tmp_path / "s"), "--models", str(tmp_path / "a.pt"), str(tmp_path / "junk.pt"), *args]) == 2
    assert "not a training checkpoint" in capsys.readouterr().err
    pests = str(REPO / "model" / "pests.onnx")  # an ONNX file, but not a classifier
    assert main([str(tmp_path / "s"), "--models", str(tmp_path / "a.pt"), pests, *args]) == 2
    assert "not a LeafScout classifier" in capsys.readouterr().err
    good = ["--models", str(tmp_path / "a.pt"), str(tmp_path / "a.pt"), "--model-version", "1"]
    assert main([str(tmp_path / "s"), *good, "--recipe-from", pests]) == 2  # the recipe must be a checkpoint
    assert "--recipe-from" in capsys.readouterr().err
    assert not (tmp_path / "s" / "checkpoint.pt").exists()


def test_a_soups_model_card_gives_each_ingredients_recipe_and_the_averaging_commands(tmp_path):
    """A soup has no epochs of its own: the card's recipe is each ingredient's stages, then soup + finalize."""
    import json

    from leafscout.training.model_card import soup_lines
    run_a = tmp_path / "a"
    run_a.mkdir()
    a_args = {"init_from": "model/leafscout.onnx", "epochs": 4, "lr": 0.0002, "balance_power": 0.3}
    (run_a / "metrics.json").write_text(json.dumps({"training": {"args": a_args, "images_per_s": [47.0]}}))
    (run_a / "history.jsonl").write_text(json.dumps({"seconds": 600.0}) + "\n")
    soup_args = {"soup": {"models": ["model/leafscout.onnx", f"{run_a}/checkpoint.pt"], "weights": None},
                 "recipe_from": f"{run_a}/checkpoint.pt", "model_version": "3.2.0"}
    lines = soup_lines(tmp_path / "soup", {"training": {"args": soup_args}}, base_rev="07a1901")
    text = "\n".join(lines)
    assert "uniform mean of 2 models" in lines[0]
    assert "ingredient 1: the model file `model/leafscout.onnx` (`git show 07a1901:model/leafscout.onnx`)" in text
    stage = next(x for x in lines if "Stage 1" in x)
    assert stage.startswith("    - Stage 1 (1 epochs logged, 10.0 min)") and "--balance-power 0.3" in stage
    assert (f"python -m leafscout.training.soup {tmp_path / 'soup'} --models model/leafscout.onnx "
            f"{run_a}/checkpoint.pt --recipe-from {run_a}/checkpoint.pt --model-version 3.2.0") in lines[-1]
    assert f"python -m leafscout.training.finalize {tmp_path / 'soup'}/checkpoint.pt" in lines[-1]

"""Confirm/correct in the CLI and corrections to training data (issue 20, item 1-2, CLI side).

`leafscout log correct ID --label L --by NAME` keeps who, when, the photo's hash and the model version in the
field log (the observation keeps the model's answer); `leafscout corrections export DIR` writes the labelled
photos as `DIR/<crop.problem>/<sha256>.jpg` with manifest.csv / manifest.json / README.md (provenance, licence).
"""
from __future__ import annotations

import csv
import json

import pytest

from conftest import LATE_BLIGHT_PHOTO, fixture_photos


@pytest.fixture
def db(tmp_path, monkeypatch):
    from leafscout.cli import main
    path = str(tmp_path / "log.sqlite")
    monkeypatch.setenv("LEAFSCOUT_DB", path)
    assert main(["log", "add-plot", "Doi A", "--crop", "tomato", "--area", "0.5"]) == 0
    photos = [LATE_BLIGHT_PHOTO] + [p for p in fixture_photos("plantvillage") if p != LATE_BLIGHT_PHOTO][:2]
    for p in photos:
        assert main(["log", "observe", "Doi A", str(p), "--label", "tomato.late_blight", "--status", "ok",
                     "--confidence", "0.9", "--model-version", "2.0.0"]) == 0
    return path


def _err(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err, err
    return err


def test_correct_keeps_who_when_hash_and_model_version(db, capsys):
    from leafscout.fieldlog import FieldLog
    from leafscout.cli import main

    assert main(["log", "correct", "1", "--label", "tomato.early_blight", "--by", "Lò Thị Hoa",
                 "--note", "concentric rings"]) == 0
    assert "tomato.late_blight -> tomato.early_blight by Lò Thị Hoa" in capsys.readouterr().out
    with FieldLog.open(db) as log:
        (c,) = log.corrections(1)
        obs = log.history("Doi A").observations[0]
        assert (c.label, c.previous_label, c.by, c.note) == ("tomato.early_blight", "tomato.late_blight",
                                                             "Lò Thị Hoa", "concentric rings")
        assert c.photo_sha256 == obs.photo_sha256 and len(c.photo_sha256) == 64
        assert c.model_version == "2.0.0" and c.at is not None
        assert obs.label == "tomato.late_blight"  # the model's answer stays as it was
    assert main(["log", "history", "Doi A"]) == 0
    assert "corrected to tomato.early_blight by Lò Thị Hoa" in capsys.readouterr().out
    # corrected again: the latest wins, the first stays
    assert main(["log", "correct", "1", "--label", "tomato.septoria_leaf_spot", "--by", "Hoa"]) == 0
    with FieldLog.open(db) as log:
        assert [c.label for c in log.corrections(1)] == ["tomato.early_blight", "tomato.septoria_leaf_spot"]
        assert log.corrections(1)[1].previous_label == "tomato.early_blight"


@pytest.mark.parametrize("argv, words", [
    (["log", "correct", "1", "--label", "tomato.late_blight", "--by", "Hoa"], "already says"),
    (["log", "correct", "1", "--label", "tomato.erly_blight", "--by", "Hoa"], "Did you mean 'tomato.early_blight'"),
    (["log", "correct", "1", "--label", "Tomato Blight", "--by", "Hoa", "--new-label"], "crop.problem"),
    (["log", "correct", "99", "--label", "tomato.early_blight", "--by", "Hoa"], "no observation 99"),
    (["log", "correct", "1", "--label", "tomato.early_blight", "--by", "  "], "corrected by"),
])
def test_refusals_are_one_line_exit_2(db, capsys, argv, words):
    from leafscout.cli import main
    assert main(argv) == 2
    err = _err(capsys)
    assert err.startswith("leafscout log: error: ") and words in err, err


def test_new_label_needs_the_flag(db, capsys):
    from leafscout.cli import main
    assert main(["log", "correct", "2", "--label", "tomato.leaf_miner", "--by", "Hoa"]) == 2
    assert "--new-label" in _err(capsys)
    assert main(["log", "correct", "2", "--label", "tomato.leaf_miner", "--by", "Hoa", "--new-label"]) == 0


def test_export_writes_photos_labels_manifest_with_provenance_and_licence(db, tmp_path, capsys):
    from leafscout.fieldlog import FieldLog
    from leafscout.cli import main

    assert main(["log", "correct", "1", "--label", "tomato.early_blight", "--by", "=HYPERLINK(\"x\")"]) == 0
    assert main(["log", "confirm", "3", "--by", "Hoa"]) == 0
    out = tmp_path / "export"
    assert main(["corrections", "export", str(out)]) == 0
    meta = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert meta["format"] == "leafscout-corrections/1" and meta["photos"] == 1
    assert meta["labels"] == {"tomato.early_blight": 1} and "not for redistribution" in meta["licence"]
    with open(out / "manifest.csv", newline="", encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    with FieldLog.open(db) as log:
        obs = log.history("Doi A").observations[0]
        assert (out / row["file"]).read_bytes() == log.photo_path(obs).read_bytes()
    assert row["file"] == f"tomato.early_blight/{obs.photo_sha256}.jpg"
    assert (row["label"], row["source"], row["model_label"], row["model_version"]) == \
        ("tomato.early_blight", "correction", "tomato.late_blight", "2.0.0")
    assert row["by"].startswith("'=")  # a formula-looking name is defused in the CSV
    assert row["observation_uid"] == obs.uid and row["correction_uid"] and row["at"].endswith("Z")
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "Licence" in readme and "Provenance" in readme and "GPS" in readme

    # again, with confirmations and another licence: the previous export is replaced, not added to
    assert main(["corrections", "export", str(out), "--confirmed", "--licence", "CC-BY-4.0"]) == 0
    meta = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert meta["photos"] == 2 and meta["licence"] == "CC-BY-4.0"
    assert meta["labels"] == {"tomato.early_blight": 1, "tomato.late_blight": 1}
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert len(files) == 2 and files[0].startswith("tomato.early_blight/")


def test_export_refuses_a_folder_that_is_not_an_export(db, tmp_path, capsys):
    from leafscout.cli import main
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.docx").write_text("x")
    assert main(["corrections", "export", str(tmp_path / "mine")]) == 2
    assert "not empty" in _err(capsys)
    assert (tmp_path / "mine" / "thesis.docx").exists()


def test_a_corrected_record_cannot_then_be_confirmed_from_the_cli(db, capsys):
    """The app refused it already; the CLI and the library refuse it too, so the audit never counts a label a
    person said was wrong as a confirmed diagnosis."""
    from leafscout.cli import main
    from leafscout.fieldlog import FieldLog

    assert main(["log", "correct", "2", "--label", "tomato.early_blight", "--by", "Hoa"]) == 0
    capsys.readouterr()
    assert main(["log", "confirm", "2", "--by", "Minh"]) == 2
    assert "was corrected" in _err(capsys)
    with FieldLog.open(db) as log:
        obs, plot, cs = log.observation_review(2)
        assert obs.confirmed_by is None and plot == "Doi A" and [c.label for c in cs] == ["tomato.early_blight"]
        assert log.observation_review(99) is None


def test_plots_kept_aside_score_the_retrained_model_and_gate_its_shipping(tmp_path, monkeypatch, capsys):
    """The researcher's loop: officers correct photos on several plots; the export keeps whole plots aside
    (never trained on), the trainer's --extra-data skips them, and compare_models scores the old and the new
    model on them beside the val sets: a new model that is worse there is not shipped (exit 1)."""
    import subprocess
    import sys

    import numpy as np
    import onnx
    from onnx import numpy_helper

    from conftest import REPO
    from leafscout.cli import main
    from leafscout.corrections import kept_aside
    from leafscout.fieldlog import FieldLog
    from leafscout.training.data import discover_extra

    db = str(tmp_path / "log.sqlite")
    monkeypatch.setenv("LEAFSCOUT_DB", db)
    from leafscout.model.labels import load_label_map
    from leafscout.model.runtime import Predictor
    shipped_model = Predictor(str(REPO / "model" / "leafscout.onnx"))
    label_map = load_label_map()
    photos = []  # photos the shipped model names right (none of label 0, which the broken copy always says)
    for p in fixture_photos("plantvillage"):
        truth = label_map.canonical("plantvillage", p.parent.name)
        r = shipped_model.predict(str(p))
        if truth != shipped_model.labels[0] and shipped_model.labels[int(np.argmax(r.logits))] == truth:
            photos.append((p, truth))
    photos = photos[:6]
    assert len(photos) == 6
    for i, (p, truth) in enumerate(photos):
        crop = truth.split(".")[0]
        assert main(["log", "add-plot", f"Ban {i}", "--crop", crop, "--area", "0.1"]) == 0
        assert main(["log", "observe", f"Ban {i}", str(p), "--label", shipped_model.labels[0], "--status", "ok",
                     "--confidence", "0.9", "--model-version", "3.1.0"]) == 0
        assert main(["log", "correct", str(i + 1), "--label", truth, "--by", "Hoa", "--new-label"]) == 0
    with FieldLog.open(db) as log:
        uids = [pl.uid for pl in log.plots()]
    fractions = sorted(int(__import__("hashlib").sha256(u.encode()).hexdigest()[:8], 16) / 2 ** 32 for u in uids)
    share = min(0.9, (fractions[0] + fractions[1]) / 2)  # at least one plot aside, at least one not
    assert sum(kept_aside(u, share) for u in uids) >= 1 and not all(kept_aside(u, share) for u in uids)

    out = tmp_path / "corr"
    assert main(["corrections", "export", str(out), "--aside", f"{share:.6f}"]) == 0
    assert "kept aside" in capsys.readouterr().out
    rows = list(csv.DictReader(open(out / "manifest.csv", encoding="utf-8")))
    by_plot = {}
    for r in rows:
        by_plot.setdefault(r["plot_uid"], set()).add(r["split"])
        assert r["file"].startswith("aside/") == (r["split"] == "aside")
    assert all(len(s) == 1 for s in by_plot.values())  # a plot is on one side only
    aside_files = {r["file"] for r in rows if r["split"] == "aside"}
    assert aside_files and all((out / f).is_file() for f in aside_files)
    # exported again: the same plots aside, no file left over from the first export
    assert main(["corrections", "export", str(out), "--aside", f"{share:.6f}"]) == 0
    assert {str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.parent != out} == {r["file"] for r in rows}
    labels = sorted({r["label"] for r in rows})
    trained = {s.path for s in discover_extra(out, labels)} if len(aside_files) < len(rows) else set()
    assert not any("/aside/" in p for p in trained)

    # compare_models: the shipped model against itself ships; against a copy that answers one label always, not
    bad = tmp_path / "always-one-label.onnx"
    m = onnx.load(str(REPO / "model" / "leafscout.onnx"))
    n_labels = len(json.loads({p.key: p.value for p in m.metadata_props}["leafscout.labels"]))
    (bias,) = [t for t in m.graph.initializer if list(t.dims) in ([n_labels], [1, n_labels, 1, 1])]
    b = numpy_helper.to_array(bias).copy()  # the classifier's bias: label 0 wins on every photo
    b.reshape(-1)[0] += 1e4
    bias.CopyFrom(numpy_helper.from_array(b, bias.name))
    onnx.save(m, str(bad))
    shipped = str(REPO / "model" / "leafscout.onnx")

    def compare(new):
        return subprocess.run([sys.executable, str(REPO / "benchmarks" / "compare_models.py"), shipped, new,
                               "--data", str(tmp_path / "no-datasets"), "--corrections", str(out)],
                              capture_output=True, text=True)
    same = compare(shipped)
    assert same.returncode == 0 and "SHIP (nowhere worse" in same.stdout, same.stdout + same.stderr
    worse = compare(str(bad))
    assert worse.returncode == 1, worse.stdout + worse.stderr
    assert "DO NOT SHIP" in worse.stdout and "field corrections (aside)" in worse.stdout
    # photo by photo: every kept-aside photo the shipped model named right, the broken copy gets wrong
    import re
    aside = [f for f in (out / "aside").rglob("*") if f.is_file() and f.suffix.lower() in (".jpg", ".jpeg", ".png")]
    row = re.search(r"field corrections \(aside\)\s+fixed\s+(\d+)\s+broken\s+(\d+)\s+p ([0-9.]+)", worse.stdout)
    assert row and int(row[1]) == 0 and int(row[2]) == len(aside) > 0, worse.stdout
    assert float(row[3]) == (1.0 if len(aside) < 2 else round(2 / 2 ** len(aside), 3))


def test_the_sign_test_says_when_a_photo_by_photo_change_is_more_than_chance():
    """compare_models' paired view: one photo broken on a small set is no evidence; ten broken, none fixed is."""
    import sys

    from conftest import REPO
    sys.path.insert(0, str(REPO / "benchmarks"))
    from compare_models import sign_test

    assert sign_test(0, 0) == 1.0 and sign_test(0, 1) == 1.0 and sign_test(1, 3) == sign_test(3, 1) == 0.625
    assert sign_test(0, 5) == 2 / 32 and sign_test(0, 10) == 2 / 1024 < 0.01


def test_the_paired_gate_ships_a_model_that_gains_and_loses_only_by_chance():
    """`compare_models --gate paired`: one rice photo lost of 40 does not veto a model that fixes more than it
    breaks overall; three photos lost net on any set, or no gain overall, do."""
    import sys

    from conftest import REPO
    sys.path.insert(0, str(REPO / "benchmarks"))
    from compare_models import paired_verdict

    ok, why = paired_verdict({"rice_leaf_ph": (0, 1), "chilli_leaf": (5, 1), "plantvillage": (6, 4)})
    assert ok and "11 fixed, 6 broken" in why
    assert paired_verdict({"rice_leaf_ph": (0, 3), "plantvillage": (30, 0)}) == (
        False, "rice_leaf_ph: 3 broken, 0 fixed: more than 2 photos lost")
    ok, why = paired_verdict({"coffee": (10, 12), "plantvillage": (30, 0)})
    assert ok, why  # 2 net on coffee, p 0.83: chance
    ok, why = paired_verdict({"coffee": (0, 2), "tea": (1, 3), "plantvillage": (3, 1)})
    assert not ok and "no gain" in why
    ok, why = paired_verdict({"plantvillage": (40, 60), "tea": (100, 0)})
    assert not ok and why.startswith("plantvillage: 60 broken")  # a big gain elsewhere buys no loss here
    assert paired_verdict({}) == (False, "no dataset compared")


def test_export_warns_about_labels_a_retraining_run_would_stop_on(db, tmp_path, capsys):
    """A photo corrected to a knowledge-base problem the model has no label for (Tuta absoluta is advice only)
    is exported, and the export says that `--extra-data` stops on it until datasets/labels.yaml has the label."""
    from leafscout.cli import main
    assert main(["log", "correct", "1", "--label", "tomato.tuta_absoluta", "--by", "Hoa"]) == 0
    capsys.readouterr()
    assert main(["corrections", "export", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "tomato.tuta_absoluta" in err and "datasets/labels.yaml" in err
    assert main(["log", "correct", "2", "--label", "tomato.early_blight", "--by", "Hoa"]) == 0
    assert main(["log", "correct", "1", "--label", "tomato.early_blight", "--by", "Hoa"]) == 0
    capsys.readouterr()
    assert main(["corrections", "export", str(tmp_path / "out")]) == 0
    assert "does not have" not in capsys.readouterr().err  # only model labels now: nothing to warn about

"""`leafscout diagnose | info | evaluate` through the real dispatcher, on the toy model (fast, no torch)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import cv2
import pytest

from leafscout.cli import main
from leafscout.model.results import REASON_CODES
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

pytest.importorskip("onnx")
FIXTURES = Path(__file__).parent / "fixtures"
BAD = FIXTURES / "bad"
PHOTOS = sorted((FIXTURES / "images").glob("*/*/*.jpg"))


@pytest.fixture(scope="module")
def toy(tmp_path_factory) -> str:
    return str(toy_model(tmp_path_factory.mktemp("m") / "toy.onnx"))


@pytest.fixture()
def folder(tmp_path) -> Path:
    """A field trip: nested folders, a photo per status, a bad file, a hidden macOS sidecar, a note."""
    root = tmp_path / "trip"
    (root / "plot1" / "row2").mkdir(parents=True)
    for name, colour in TOY_COLOURS.items():
        cv2.imwrite(str(root / "plot1" / f"{name}.jpg"), cv2.cvtColor(flat_photo(colour), cv2.COLOR_RGB2BGR))
    shutil.copy(PHOTOS[0], root / "plot1" / "row2" / "real.JPG")
    shutil.copy(BAD / "truncated.jpg", root / "plot1" / "row2" / "broken.jpg")
    (root / "plot1" / "._ok.jpg").write_bytes(b"\x00\x05\x16\x07")  # AppleDouble: skipped
    (root / "notes.txt").write_text("not a photo, not picked up from a folder")
    return root


def test_readable_output_and_exit_code(toy, folder, capsys):
    rc = main(["diagnose", "--model", toy, str(folder)])
    out, err = capsys.readouterr()
    lines = out.strip().splitlines()
    assert rc == 0 and len(lines) == 6  # 4 colours + real + broken; hidden and .txt skipped
    text = {Path(l.split(":")[0]).name: l for l in lines}
    assert "bean.healthy" in text["ok.jpg"] and "uncertain" in text["uncertain.jpg"] and "retake" in text["uncertain.jpg"]
    assert "not a leaf" in text["background.jpg"] and "not a leaf" in text["ood.jpg"]
    assert "error" in text["broken.jpg"] and "truncated" in text["broken.jpg"]
    assert "6 photo(s): 1 ok" in err and "1 unreadable" in err
    assert "Traceback" not in out + err


def test_json_lines_schema(toy, folder, capsys):
    assert main(["diagnose", "--json", "--top-k", "2", "--model", toy, str(folder)]) == 0
    rows = [json.loads(l) for l in capsys.readouterr().out.strip().splitlines()]
    assert len(rows) == 6
    for row in rows:
        assert list(row)[:6] == ["path", "status", "label", "confidence", "top_k", "error"]
        assert row["reason_code"] in REASON_CODES and (row["reason_code"] == "") == (row["status"] == "ok"), row
        assert row["status"] in ("ok", "uncertain", "not_a_leaf", "error")
        if row["status"] == "error":
            assert row["error"] and row["label"] is None and row["top_k"] == []
            assert row["error_code"] == "corrupt"  # a code, not English text, tells the kind
        else:
            assert row["error"] is None and len(row["top_k"]) == 2
            assert all(set(t) == {"label", "probability"} and 0 <= t["probability"] <= 1 for t in row["top_k"])
    assert {r["status"] for r in rows} == {"ok", "uncertain", "not_a_leaf", "error"}


def test_csv_report(toy, folder, tmp_path, capsys):
    report = tmp_path / "report.csv"
    assert main(["diagnose", "--csv", str(report), "--model", toy, str(folder)]) == 0
    rows = list(csv.DictReader(report.open(encoding="utf-8")))
    assert len(rows) == 6
    assert {"path", "status", "label", "confidence", "label_1", "probability_3", "reason", "error"} <= set(rows[0])
    broken = next(r for r in rows if r["path"].endswith("broken.jpg"))
    assert broken["status"] == "error" and "truncated" in broken["error"] and broken["label"] == ""
    ok = next(r for r in rows if r["path"].endswith("ok.jpg"))
    assert ok["label"] == "bean.healthy" and float(ok["confidence"]) > 0.6
    # why each status is what it is, as a code a spreadsheet can filter on (the last column: old ones keep place)
    assert list(rows[0])[-1] == "reason_code"
    assert (broken["reason_code"], ok["reason_code"]) == ("unreadable", "")
    from leafscout.model.results import REASON_CODES
    assert {r["reason_code"] for r in rows} <= REASON_CODES


def test_batch_goes_past_bad_files(toy, capsys):
    inputs = [str(BAD / n) for n in ("empty.jpg", "truncated.jpg", "notes.jpg", "tiny.png")] + [str(PHOTOS[0])]
    assert main(["diagnose", "--json", "--model", toy, *inputs, "missing.jpg"]) == 0
    rows = [json.loads(l) for l in capsys.readouterr().out.splitlines()]
    assert [r["status"] == "error" for r in rows] == [True, True, True, True, False, True]
    assert "not found" in rows[-1]["error"]


def test_exit_1_when_nothing_readable(toy, capsys):
    assert main(["diagnose", "--model", toy, str(BAD / "empty.jpg"), str(BAD / "notes.jpg")]) == 1
    assert main(["diagnose", "--model", toy, str(BAD.parent / "ood" / "nonexistent_folder")]) == 1


def test_usage_errors_exit_2(toy, tmp_path, capsys):
    assert main(["diagnose", "--top-k", "0", "--model", toy, str(PHOTOS[0])]) == 2
    assert main(["diagnose", "--model", str(tmp_path / "nope.onnx"), str(PHOTOS[0])]) == 2
    assert main(["diagnose", "--threads", "0", "--model", toy, str(PHOTOS[0])]) == 2
    assert main(["diagnose", "--csv", str(tmp_path / "no" / "dir.csv"), "--model", toy, str(PHOTOS[0])]) == 2
    err = capsys.readouterr().err
    assert "--model PATH" in err and "Traceback" not in err
    with pytest.raises(SystemExit) as exc:
        main(["diagnose"])  # argparse: PATH is required
    assert exc.value.code == 2


def test_progress_bar_for_many_photos_goes_to_stderr(toy, tmp_path, capsys, monkeypatch):
    for i in range(12):
        shutil.copy(PHOTOS[i % len(PHOTOS)], tmp_path / f"p{i:02d}.jpg")
    import tqdm as tqdm_mod
    seen = {}
    real = tqdm_mod.tqdm.__init__

    def spy(self, *a, **kw):
        seen.update(kw)
        real(self, *a, **kw)
    monkeypatch.setattr(tqdm_mod.tqdm, "__init__", spy)
    assert main(["diagnose", "--json", "--model", toy, str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert seen["total"] == 12 and seen["disable"] is None and seen["file"].__class__.__name__ != "NoneType"
    assert len(out.strip().splitlines()) == 12  # stdout holds only the JSON lines


def test_heatmaps_written(toy, folder, tmp_path, capsys):
    out_dir = tmp_path / "heat"
    assert main(["diagnose", "--heatmaps", str(out_dir), "--model", toy, str(folder)]) == 0
    files = sorted(p.name for p in out_dir.iterdir())
    assert len(files) == 5 and "ok.heatmap.png" in files  # not for the unreadable one
    # the heatmap is drawn over the farmer's own photo (96 x 128), not the square view the model saw
    assert cv2.imread(str(out_dir / "ok.heatmap.png")).shape == (96, 128, 3)


def test_info(toy, capsys):
    assert main(["info", "--model", toy]) == 0
    out = capsys.readouterr().out
    assert "toy_colour_model 0.0.0-toy" in out and "bean.rust" in out and "0.600" in out and "-2.000" in out
    assert main(["info", "--json", "--model", toy]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["labels"] == ["background.no_leaf", "bean.healthy", "bean.rust"]


def test_evaluate_on_a_labelled_folder(toy, tmp_path, capsys):
    # <dataset>/<split>/<class>/ with the dataset's own folder names, mapped through labels.yaml
    root = tmp_path / "ibean_uganda"
    for folder, colour in (("healthy", "ok"), ("bean_rust", "uncertain")):
        d = root / "val" / folder
        d.mkdir(parents=True)
        for i in range(3):
            cv2.imwrite(str(d / f"{i}.png"), cv2.cvtColor(flat_photo(TOY_COLOURS[colour]), cv2.COLOR_RGB2BGR))
    assert main(["evaluate", "--json", "--model", toy, str(root)]) == 0
    rep = json.loads(capsys.readouterr().out)
    overall = rep["overall"]
    assert overall["n"] == 6 and rep["datasets"].keys() == {"ibean_uganda"}
    assert overall["per_class"]["bean.healthy"]["recall"] == 1.0
    assert overall["uncertain_share"] == pytest.approx(0.5)
    assert main(["evaluate", "--model", toy, str(root / "val")]) == 0  # <split>/<class>/ inside the dataset
    text = capsys.readouterr().out
    assert "macro-F1" in text and "bean.healthy" in text
    (root / "val" / "Mystery").mkdir()
    (root / "val" / "Mystery" / "x.png").write_bytes(b"")
    assert main(["evaluate", "--model", toy, str(root)]) == 2
    assert "Mystery" in capsys.readouterr().err


def test_a_refused_command_leaves_an_existing_csv_as_it_was(toy, folder, tmp_path, capsys):
    keep = tmp_path / "keep.csv"
    keep.write_text("last season's report\n")
    photo = str(folder / "plot1" / "ok.jpg")
    assert main(["diagnose", "--model", toy, "--db", str(tmp_path / "log.sqlite"), "--log", "nosuch",
                 "--csv", str(keep), photo]) == 2
    assert main(["diagnose", "--model", toy, "--crop", "cofee", "--csv", str(keep), photo]) == 2
    assert keep.read_text() == "last season's report\n"
    capsys.readouterr()


@pytest.mark.parametrize("flag, target", [("--csv", "folder"), ("--heatmaps", "file"), ("--csv", "/proc/x.csv"),
                                          ("--heatmaps", "/proc/hm"),
                                          ("--csv", "/dev/full")])  # opens, but every write fails: a full disk
def test_an_output_path_that_cannot_be_written_is_one_line(toy, folder, tmp_path, capsys, flag, target):
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    path = target if target.startswith("/") else str(tmp_path / target)
    assert main(["diagnose", "--model", toy, flag, path, str(folder / "plot1" / "ok.jpg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("leafscout diagnose: error: ") and flag in err, err


def test_heatmaps_of_photos_with_the_same_name_do_not_overwrite_each_other(toy, tmp_path, capsys):
    for sub, ext in (("a", ".jpg"), ("b", ".jpg"), ("b", ".png")):
        (tmp_path / "in" / sub).mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / "in" / sub / f"leaf{ext}"),
                    cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    assert main(["diagnose", "--model", toy, "--heatmaps", str(tmp_path / "hm"), str(tmp_path / "in")]) == 0
    assert sorted(p.name for p in (tmp_path / "hm").iterdir()) == [
        "leaf.heatmap-2.png", "leaf.heatmap-3.png", "leaf.heatmap.png"]
    capsys.readouterr()


def test_a_broken_link_or_fifo_in_a_folder_is_listed_as_unreadable_not_skipped(toy, folder, capsys):
    import os
    (folder / "plot1" / "gone.jpg").symlink_to(folder / "nowhere.jpg")
    if hasattr(os, "mkfifo"):
        os.mkfifo(folder / "plot1" / "pipe.jpg")
    assert main(["diagnose", "--model", toy, str(folder)]) == 0
    out = capsys.readouterr().out
    assert "gone.jpg: error" in out
    if hasattr(os, "mkfifo"):
        assert "pipe.jpg: error" in out


def test_a_bad_option_value_is_not_answered_with_the_same_option(capsys):
    """'--top-k x' gets "invalid int value", not "Did you mean '--top-k'?"; a misspelled option still gets the hint."""
    with pytest.raises(SystemExit):
        main(["diagnose", "x.jpg", "--top-k", "x"])
    err = capsys.readouterr().err
    assert "invalid int value" in err and "Did you mean" not in err
    with pytest.raises(SystemExit):
        main(["diagnose", "x.jpg", "--top-kk", "3"])
    assert "Did you mean '--top-k'?" in capsys.readouterr().err


def test_a_doubtful_ok_answer_says_check_first_in_english_too(tmp_path, capsys):
    """An ok answer below 60% (service.CHECK_FIRST_BELOW) says "not sure: check the signs" on the English line and
    on the English --group lines, as it does in Vietnamese; a sure answer does not."""
    low = str(toy_model(tmp_path / "low.onnx", thresholds={"uncertain_below": 0.3, "ood_energy_above": -2.0}))
    for name, colour in (("doubt.png", "uncertain"), ("sure.png", "ok")):  # ~50% and ~100% bean.healthy, both ok
        cv2.imwrite(str(tmp_path / name), cv2.cvtColor(flat_photo(TOY_COLOURS[colour]), cv2.COLOR_RGB2BGR))
    db = ["--db", str(tmp_path / "log.sqlite")]
    assert main(["diagnose", "--model", low, *db, str(tmp_path / "doubt.png"), str(tmp_path / "sure.png")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "doubt.png: bean.healthy 5" in out[0] and out[0].endswith("not sure: check the signs on several leaves before spraying")
    assert "not sure" not in out[1]
    assert main(["diagnose", "--model", low, *db, "--group", str(tmp_path / "doubt.png")]) == 0
    head, each = capsys.readouterr().out.splitlines()[:2]
    assert "; not sure: check the signs" in head and each.endswith("not sure: check the signs on several leaves before spraying")


def test_a_photo_named_like_an_option_gets_a_hint_to_write_dot_slash(toy, tmp_path, capsys, monkeypatch):
    """`leafscout diagnose -leaf.jpg` (a phone app that names photos '-1.jpg'): argparse reads it as an option and
    said only "required: PATH"; the line now says how to give it. `./-leaf.jpg` then works."""
    monkeypatch.chdir(tmp_path)
    cv2.imwrite("-leaf.jpg", cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    with pytest.raises(SystemExit) as exc:
        main(["diagnose", "--model", toy, "-leaf.jpg"])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "write ./-leaf.jpg or put -- before it" in err and "Traceback" not in err
    assert main(["diagnose", "--model", toy, "./-leaf.jpg"]) == 0
    assert main(["diagnose", "--model", toy, "--", "-leaf.jpg"]) == 0
    capsys.readouterr()


def test_a_heatmap_that_cannot_be_written_is_one_line_not_silently_missing(toy, folder, tmp_path, capsys):
    """cv2.imwrite only returns False (a full disk, a folder of the heatmap's name): the run said nothing and the
    officer found the heatmap missing later."""
    (tmp_path / "hm" / "ok.heatmap.png").mkdir(parents=True)
    assert main(["diagnose", "--model", toy, "--heatmaps", str(tmp_path / "hm"), str(folder / "plot1" / "ok.jpg")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--heatmaps" in err and "cannot write ok.heatmap.png" in err, err


def test_a_file_name_with_a_newline_cannot_break_or_fake_a_result_line(toy, tmp_path, capsys):
    """'x.jpg: bean.healthy 100%\\nfake.jpg' as a file name: one line per photo, the newline shown escaped; --json
    keeps the real name."""
    name = "x.jpg: bean.rust 99%\nfake.jpg"
    cv2.imwrite(str(tmp_path / "ok.png"), cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    shutil.copy(tmp_path / "ok.png", tmp_path / name)
    for extra in ([], ["--group"]):
        assert main(["diagnose", "--model", toy, *extra, str(tmp_path / name)]) == 0
        out = capsys.readouterr().out
        assert not any(line.startswith("fake.jpg") for line in out.splitlines()), out
        assert "bean.rust 99%\\nfake.jpg" in out
    assert main(["diagnose", "--model", toy, "--json", str(tmp_path / name)]) == 0
    assert json.loads(capsys.readouterr().out)["path"] == str(tmp_path / name)


def test_heatmaps_written_inside_the_photo_folder_are_not_diagnosed_on_the_next_run(toy, folder, capsys):
    """`diagnose trip --heatmaps trip/heat`, then `diagnose trip`: the overlays are LeafScout's own output, not
    leaves; counting them made the second run's numbers wrong."""
    assert main(["diagnose", "--model", toy, "--heatmaps", str(folder / "heat"), str(folder)]) == 0
    first = capsys.readouterr().err
    assert list((folder / "heat").glob("*.heatmap*.png"))
    assert main(["diagnose", "--model", toy, str(folder)]) == 0
    assert "6 photo(s)" in first and "6 photo(s)" in capsys.readouterr().err


def test_rice_not_a_disease_it_knows_shows_no_percentage_and_no_retake(tmp_path, capsys):
    """`rice.other` at 99.9% is the crop's figure, not a diagnosis to trust, and a new photo would not name the
    problem: the line says the crop and that the problem is unknown, as the app and the phone do."""
    from leafscout.cli_diagnose import result_text
    from leafscout.model.results import Result
    from leafscout.service import default_advisor
    r = Result(path=None, status="uncertain", label="rice.other", confidence=0.999, model_version="t",
               reason_code="unnamed_problem", top_k=[("rice.other", 0.999), ("rice.blast", 0.001)])
    for lang in ("vi", "en"):
        line = result_text(r, lang, default_advisor(), threshold=0.39)
        assert "100%" not in line.split("(")[0] and "99.9" not in line, line
        assert "retake" not in line and "chụp lại" not in line, line


def test_an_unknown_option_is_matched_against_its_own_commands_options(capsys):
    """`diagnose --frob` suggested `--from`, an option of `log audit` that diagnose does not have."""
    from leafscout.cli import main
    with pytest.raises(SystemExit) as exc:
        main(["diagnose", "x.jpg", "--from"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "'--from'" not in err.split("error:")[-1]
    with pytest.raises(SystemExit):
        main(["diagnose", "x.jpg", "--top-kk", "3"])
    assert "Did you mean '--top-k'?" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["log", "audit", "--season", "2026", "--frm", "2026-01-01"])
    assert "Did you mean '--from'?" in capsys.readouterr().err


def test_a_text_direction_mark_in_a_file_name_is_shown_escaped():
    """U+202E would show 'gpj.x' backwards and C1 controls are terminal escapes: the line shows them escaped, as
    the app's batch list does (leafscout.safety.one_line)."""
    from leafscout.cli_diagnose import one_line
    assert one_line("a\u202eb\x9b.jpg: bean.rust") == "a\\u202eb\\x9b.jpg: bean.rust"
    assert one_line("Đồi A lá 1.jpg") == "Đồi A lá 1.jpg"


def test_top_k_beyond_the_models_labels_gives_them_all_not_empty_csv_columns(tmp_path, capsys):
    import csv

    from leafscout.cli import main
    from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model
    model = toy_model(tmp_path / "toy.onnx")  # 3 labels
    photo = tmp_path / "leaf.png"
    cv2.imwrite(str(photo), cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    out = tmp_path / "r.csv"
    assert main(["diagnose", str(photo), "--model", str(model), "--top-k", "1000", "--csv", str(out)]) == 0
    with open(out, newline="", encoding="utf-8") as fh:
        header = next(csv.reader(fh))
    assert [c for c in header if c.startswith("label_")] == ["label_1", "label_2", "label_3"]

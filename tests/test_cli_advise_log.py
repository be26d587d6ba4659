"""A grower diagnoses a photo with advice and logging on: the field log's copper ledger reaches the advice."""
from __future__ import annotations

import cv2
import pytest

from leafscout.cli import main
from leafscout.model.testing import TOY_COLOURS, flat_photo, toy_model

pytest.importorskip("onnx")
pytest.importorskip("sqlalchemy")

# with these labels the toy model says tomato.late_blight for a red photo
LABELS = ["tomato.late_blight", "tomato.healthy", "background.no_leaf"]


@pytest.fixture()
def toy(tmp_path):
    return str(toy_model(tmp_path / "toy.onnx", labels=LABELS))


@pytest.fixture()
def red_leaf(tmp_path):
    path = tmp_path / "leaf.jpg"
    cv2.imwrite(str(path), cv2.cvtColor(flat_photo((200, 20, 20)), cv2.COLOR_RGB2BGR))
    return str(path)


@pytest.fixture()
def log_with_copper(tmp_path):
    from leafscout.fieldlog import FieldLog
    db = tmp_path / "log.sqlite"
    log = FieldLog.open(db)
    log.add_plot("Doi A", crop="tomato", area_ha=0.5, organic_status="certified")
    add_copper_history(log, "Doi A")
    return log, str(db)


def add_copper_history(log, plot, total=27.5, sprays=5):
    """`total` kg Cu/ha over the last 7 years, in plausible single sprays, none this year."""
    import datetime as dt
    year = dt.date.today().year
    for k in range(sprays):
        log.record_action(plot, "copper spray", product="copper hydroxide", active_substance="copper",
                          copper_kg_ha=total / sprays, at=f"{year - 1 - k}-06-01")


def test_advice_without_log_recommends_copper_as_last_resort(toy, red_leaf, capsys):
    assert main(["diagnose", red_leaf, "--model", toy, "--advise", "en"]) == 0
    out = capsys.readouterr().out
    assert "tomato.late_blight" in out
    assert "Copper hydroxide" in out.split("NOT RECOMMENDED NOW")[0]


def test_logged_copper_blocks_copper_and_the_diagnosis_is_recorded(toy, red_leaf, log_with_copper, capsys):
    log, db = log_with_copper
    assert main(["diagnose", red_leaf, "--model", toy, "--advise", "en", "--log", "Doi A", "--db", db]) == 0
    out = capsys.readouterr().out
    blocked = out.split("NOT RECOMMENDED NOW")[1]
    assert "Copper hydroxide" in blocked and "28 kg/ha" in blocked
    history = log.history("Doi A")
    assert [o.label for o in history.observations] == ["tomato.late_blight"]


def test_not_a_leaf_gets_a_request_for_a_leaf_photo(toy, tmp_path, capsys):
    blue = tmp_path / "sky.jpg"
    cv2.imwrite(str(blue), cv2.cvtColor(flat_photo(TOY_COLOURS["background"]), cv2.COLOR_RGB2BGR))
    assert main(["diagnose", str(blue), "--model", toy, "--advise", "vi"]) == 0
    out = capsys.readouterr().out
    assert "not_a_leaf" in out and "lá" in out


def test_unknown_plot_is_a_usage_error_before_any_photo(toy, red_leaf, log_with_copper, capsys):
    _, db = log_with_copper
    assert main(["diagnose", red_leaf, "--model", toy, "--log", "Doi B", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "Doi A" in err and "Traceback" not in err


def test_diagnose_log_with_confirmed_by_records_a_confirmed_diagnosis(toy, red_leaf, log_with_copper, capsys):
    import json
    log, db = log_with_copper
    assert main(["diagnose", red_leaf, "--model", toy, "--json", "--log", "Doi A", "--db", db,
                 "--confirmed-by", "Lò Thị Hoa"]) == 0
    out, err = capsys.readouterr()
    row = json.loads(out.strip().splitlines()[-1])
    (obs,) = log.history("Doi A").observations
    assert obs.confirmed_by == "Lò Thị Hoa" and row["observation_id"] == obs.id
    assert row["confirmed_by"] == "Lò Thị Hoa"
    assert "UNCONFIRMED" not in err and "Traceback" not in err


def test_diagnose_log_without_confirmed_by_records_unconfirmed_and_says_so_once(toy, red_leaf, log_with_copper,
                                                                                  tmp_path, capsys):
    import cv2
    log, db = log_with_copper
    second = tmp_path / "leaf2.jpg"  # another photo of the same leaf (other bytes)
    img = cv2.imread(str(red_leaf))
    img[0, 0] = 255 - img[0, 0]
    cv2.imwrite(str(second), img)
    assert main(["diagnose", red_leaf, str(second), "--model", toy, "--log", "Doi A", "--db", db]) == 0
    err = capsys.readouterr().err
    obs = log.history("Doi A").observations
    assert len(obs) == 2 and all(o.confirmed_by is None for o in obs)
    lines = [ln for ln in err.splitlines() if "UNCONFIRMED" in ln]
    assert len(lines) == 1, err
    assert "leafscout log confirm ID --by NAME" in lines[0] and f"ids {obs[0].id}, {obs[1].id}" in lines[0]


@pytest.mark.parametrize("extra,needle", [(["--confirmed-by", "Hoa"], "add --log PLOT"),
                                          (["--log", "Doi A", "--confirmed-by", "Ho\udc80a"], "not valid UTF-8"),
                                          (["--log", "Doi A", "--confirmed-by", "  "], "a person's name")])
def test_bad_confirmed_by_is_one_line_and_exit_2_before_any_photo(toy, red_leaf, log_with_copper, capsys,
                                                                   extra, needle):
    log, db = log_with_copper
    assert main(["diagnose", red_leaf, "--model", toy, "--db", db, *extra]) == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert log.history("Doi A").observations == []


def test_a_record_the_log_refuses_is_one_warning_line_with_its_code(toy, red_leaf, log_with_copper, capsys,
                                                                     monkeypatch):
    """A model whose labels the log does not accept (an older log's known labels): the diagnosis is printed,
    the refusal is one line naming the field log's code, no traceback."""
    from leafscout import service
    log, db = log_with_copper
    monkeypatch.setattr(service.DiagnosisService, "log_labels", lambda self: ("tomato.healthy",))
    assert main(["diagnose", red_leaf, "--model", toy, "--log", "Doi A", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert "tomato.late_blight" in out
    warn = [ln for ln in err.splitlines() if "not logged" in ln]
    assert len(warn) == 1 and "(bad_label)" in warn[0] and "Traceback" not in err, err
    assert "UNCONFIRMED" not in err and log.history("Doi A").observations == []


def test_a_label_typed_with_capitals_or_spaces_is_advised(capsys):
    from leafscout.cli import main
    assert main(["advise", " Tomato.Late_Blight ", "--lang", "en"]) == 0
    assert "Late blight" in capsys.readouterr().out
    from leafscout.service import DiagnosisService
    assert DiagnosisService().advise("Rice.Blast ").label == "rice.blast"


def test_the_problem_list_takes_a_crop_in_vietnamese(capsys):
    from leafscout.cli import main
    assert main(["advise", "--list", "--crop", "lúa", "--lang", "vi"]) == 0
    out = capsys.readouterr().out
    assert "rice.blast" in out and "coffee." not in out
    assert main(["advise", "--list", "--crop", "cofee"]) == 2  # advise speaks Vietnamese unless told otherwise
    assert "có phải ý bạn là 'coffee'?" in capsys.readouterr().err
    assert main(["advise", "--list", "--crop", "cofee", "--lang", "en"]) == 2
    assert "did you mean 'coffee'" in capsys.readouterr().err


def test_a_photo_reached_twice_in_one_run_is_diagnosed_and_logged_once(toy, red_leaf, log_with_copper, tmp_path,
                                                                        capsys):
    """`diagnose leaf.jpg ./leaf.jpg` or a folder and a photo in it: one photo, one line, one record (the season's
    counts must not double because a path was typed twice)."""
    from pathlib import Path
    log, db = log_with_copper
    folder = str(Path(red_leaf).parent)
    assert main(["diagnose", red_leaf, str(Path(folder) / "." / "leaf.jpg"), folder, "--model", toy,
                 "--log", "Doi A", "--db", db]) == 0
    out, err = capsys.readouterr()
    assert len([ln for ln in out.splitlines() if "leaf.jpg:" in ln]) == 1
    assert "1 photo(s): 1 ok" in err and len(log.history("Doi A").observations) == 1


def test_a_group_folder_given_twice_is_one_plant_and_an_empty_folder_is_said_once(toy, red_leaf, tmp_path, capsys):
    from pathlib import Path
    (tmp_path / "empty").mkdir()
    folder = str(Path(red_leaf).parent)
    assert main(["diagnose", "--group", "--model", toy, "--db", str(tmp_path / "x.sqlite"), folder, folder + "/",
                 str(tmp_path / "empty")]) == 0
    out, err = capsys.readouterr()
    assert "1 group(s), 1 photo(s)" in err and err.count("no photos in folder") == 1, err


@pytest.mark.parametrize("argv, needle", [(["tomato.late_blight", "--crop", "cà phê"], "two different crops"),
                                          (["--list", "coffee"], "takes no LABEL")])
def test_conflicting_advise_options_are_one_line_not_advice_for_another_crop(capsys, argv, needle):
    from leafscout.cli import main
    assert main(["advise", *argv, "--lang", "en"]) == 2  # Vietnamese: tests/test_cli_refusals_vi.py
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and needle in err, err
    assert main(["advise", "coffee.rust", "--crop", "Cà phê", "--lang", "en"]) == 0  # the same crop: advised
    assert "Coffee leaf rust" in capsys.readouterr().out


def test_a_rerun_on_the_same_photos_links_them_to_their_records_not_logs_them_again(toy, red_leaf, log_with_copper,
                                                                                   tmp_path, capsys):
    """`diagnose FOLDER --log PLOT` run twice (or a copy of a logged photo under another name): one record a
    photo, as `batch --log` does; the second run says which records the photos are already in."""
    import json
    import shutil
    log, db = log_with_copper
    assert main(["diagnose", red_leaf, "--model", toy, "--log", "Doi A", "--db", db]) == 0
    (first,) = log.history("Doi A").observations
    copy = tmp_path / "copy.jpg"
    shutil.copy(red_leaf, copy)
    capsys.readouterr()
    assert main(["diagnose", red_leaf, str(copy), "--model", toy, "--log", "Doi A", "--db", db, "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert len(log.history("Doi A").observations) == 1
    assert f"2 photo(s) already in plot 'Doi A''s log: linked to their record, not logged again (ids {first.id}, " \
           f"{first.id})" in err and "UNCONFIRMED" not in err, err
    assert main(["diagnose", red_leaf, "--model", toy, "--log", "Doi A", "--db", db, "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["observation_id"] == first.id and row["already_logged"] is True and row["confirmed_by"] is None

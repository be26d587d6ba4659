"""A grower diagnoses a photo with advice and logging on: the field log's copper ledger reaches the advice."""
from __future__ import annotations

import cv2
import pytest

from leafscout.cli import main
from model.testing import TOY_COLOURS, flat_photo, toy_model

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
    from fieldlog import FieldLog
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

"""Names an officer types (or pastes) over a season: control characters, names that differ only by case or
accents, on the command line as in the library."""
from __future__ import annotations

import unicodedata

import pytest
from sqlalchemy import text

from leafscout.cli import main
from leafscout.fieldlog import FieldLog, FieldLogError


def _counts(db: str) -> tuple:
    with FieldLog.open(db) as log, log._engine.connect() as conn:
        return tuple(conn.execute(text(f"select count(*) from {t}")).scalar()
                     for t in ("farms", "plots", "actions", "lots"))


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", path]) == 0
    return path


@pytest.mark.parametrize("bad", ["\x1b[2J", "\x07", "\x08\x08\x08", "\x7f", "\x9b31m"])
def test_control_characters_are_refused_in_one_line(db, capsys, bad):
    """A plot named "Doi\\b\\b\\bFake" was stored and `log plots` showed it as "Fake"; "\\x1b[2J" in a lot code
    cleared the officer's terminal at `log history`. Tab and line breaks in free text stay allowed."""
    before = _counts(db)
    capsys.readouterr()
    for argv in (["log", "add-plot", f"Đồi{bad}B", "--crop", "tea", "--area", "0.5"],
                 ["log", "add-farm", f"HTX{bad}"],
                 ["log", "add-lot", f"LOT{bad}1", "--plots", "Đồi A"],
                 ["log", "act", "Đồi A", "--what", f"cắt cỏ{bad}"],
                 ["log", "act", "Đồi A", "--what", "cắt cỏ", "--by", f"Nam{bad}"]):
        assert main([*argv, "--db", db]) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1 and "control character" in err, err
    assert _counts(db) == before
    with FieldLog.open(db) as log:
        with pytest.raises(FieldLogError) as info:
            log.add_plot(f"Đồi{bad}C", "tea", 0.5)
        assert info.value.code == "bad_text"
        assert log.record_action("Đồi A", "cắt cỏ\thàng 1\r\nhàng 2").what == "cắt cỏ\thàng 1\r\nhàng 2"


def test_a_cooperative_is_one_farm_whatever_the_case_or_accents(tmp_path, capsys):
    """`add-farm "htx chiềng ban"` and `add-farm "HTX Chieng Ban"` each made a second cooperative beside
    "HTX Chiềng Ban" (plots have been protected from this since issue 12), splitting its plots between three
    farms; `--farm` had to be typed exactly."""
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-farm", "HTX Chiềng Ban", "--kind", "cooperative", "--db", db]) == 0
    capsys.readouterr()
    for twin, needle in (("htx chiềng ban", "already exists"), (unicodedata.normalize("NFD", "HTX Chiềng Ban"), "already exists"),
                         ("HTX Chieng Ban", "too close to the existing farm 'HTX Chiềng Ban'")):
        assert main(["log", "add-farm", twin, "--db", db]) == 2, twin
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1 and needle in err, err
    with FieldLog.open(db) as log:
        assert [f.name for f in log.farms()] == ["HTX Chiềng Ban"]
        with pytest.raises(FieldLogError) as info:
            log.add_farm("HTX CHIỀNG BAN")
        assert info.value.code == "duplicate"
    # --farm finds it in any case or Unicode form; --allow-similar keeps a truly different farm
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--farm", "htx chiềng ban",
                 "--db", db]) == 0
    assert main(["log", "add-farm", "HTX Chieng Ban", "--allow-similar", "--db", db]) == 0
    with FieldLog.open(db) as log:
        (plot,) = log.plots()
        assert plot.farm_id == next(f.id for f in log.farms() if f.name == "HTX Chiềng Ban")


def test_a_database_locked_by_another_program_says_so_and_how_to_fix_it(db, capsys, monkeypatch):
    """A log held by another program (a database browser left with a write open) ended, after the wait, with
    "cannot be used (database is locked)": what happened, but not what to do, nor that nothing was written."""
    import sqlite3

    from leafscout.fieldlog import db as fdb

    monkeypatch.setattr(fdb, "BUSY_TIMEOUT_S", 0.05)
    monkeypatch.setitem(fdb.retry_busy.__kwdefaults__, "budget_s", 0.2)
    before = _counts(db)
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        capsys.readouterr()
        assert main(["log", "act", "Đồi A", "--what", "cắt cỏ", "--db", db]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert "locked by another program" in err and "nothing was written" in err and "close that program" in err
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _counts(db) == before

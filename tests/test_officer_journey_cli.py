"""An officer keeping two cooperatives' logs side by side (`--db A`, `--db B`) and mistyping one."""
from __future__ import annotations

from pathlib import Path

from leafscout.cli import main


def test_a_mistyped_db_is_refused_and_nothing_is_created(tmp_path, capsys):
    """`leafscout log history "Đồi A" --db coop-b/log.sqlit` made the folder and a new empty log, then said "no
    plot named 'Đồi A' (known plots: none yet)": the refusal wrote a file, and `log plots` on the typo said "No
    plots yet" as if the cooperative's records were gone. Only add-plot and add-farm start a new log."""
    a = tmp_path / "coop-a" / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", str(a)]) == 0
    typo = tmp_path / "coop-b" / "log.sqlit"
    capsys.readouterr()
    for argv in (["log", "history", "Đồi A"], ["log", "act", "Đồi A", "--what", "cắt cỏ"], ["export", "Đồi A", "--lang", "en"],
                 ["log", "audit", "--season", "2025"], ["log", "backup", str(tmp_path / "b.sqlite")],
                 ["log", "qr", "Đồi A", "--out", str(tmp_path / "q.png")], ["log", "confirm", "1", "--by", "Hoa"]):
        assert main([*argv, "--db", str(typo)]) == 2, argv
        err = capsys.readouterr().err
        assert "Traceback" not in err and err.count("\n") == 1, err
        assert f"no field log at {typo}" in err and "check --db" in err, err
    assert main(["log", "plots", "--db", str(typo)]) == 0
    assert f"No field log at {typo} yet" in capsys.readouterr().out
    assert not typo.parent.exists() and not (tmp_path / "b.sqlite").exists() and not (tmp_path / "q.png").exists()
    # the right file still answers, and a new log is started only on purpose
    assert main(["log", "history", "Đồi A", "--db", str(a)]) == 0
    assert main(["log", "add-farm", "HTX Chiềng Ban", "--db", str(typo)]) == 0 and typo.exists()


def test_audit_season_out_of_range_and_a_lot_names_its_plots_as_stored(tmp_path, capsys):
    """`log audit --season 0` said "give --season YEAR" (0 was taken for no year), `--season 99999` blamed a
    "season start" date the officer never typed; `add-lot --plots "đồi a" "Đồi A"` echoed "from đồi a, Đồi A" as
    if the lot came from two plots."""
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", db]) == 0
    capsys.readouterr()
    for season in ("0", "99999", "1969"):
        assert main(["log", "audit", "--season", season, "--db", db]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and f"--season: expected a year from 1970 to 9998, got {season}" in err, err
    assert main(["log", "add-lot", "LOT-1", "--plots", "đồi a", "Đồi A", "--harvested", "2025-11-01",
                 "--db", db]) == 0
    assert "Added harvest lot LOT-1 from Đồi A;" in capsys.readouterr().out


def test_a_reader_that_leaves_early_stops_the_history_quietly(tmp_path):
    """`leafscout log history PLOT | head -1`: the pipe closes after one line; the command stops quietly (exit
    141, as cat and grep do), not "error: Broken pipe" with exit 2."""
    import subprocess
    import sys

    from leafscout.fieldlog.api import FieldLog
    db = str(tmp_path / "log.sqlite")
    log = FieldLog.open(db)
    try:
        log.add_plot("Doi A", crop="cà phê", area_ha=0.5)
        for i in range(400):
            log.record_action("Doi A", f"weeding round {i}, rows {i} to {i + 10}, by hand, mulch put back " * 3)
    finally:
        log.close()
    p = subprocess.Popen([sys.executable, "-m", "leafscout.cli", "log", "history", "Doi A", "--db", db],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    p.stdout.readline()
    p.stdout.close()
    err = p.stderr.read().decode()
    assert p.wait(timeout=60) == 141 and err == "", err


def test_a_confidence_typed_as_a_percentage_says_how_to_write_it_and_a_lot_has_a_sane_size(tmp_path):
    import pytest

    from leafscout.fieldlog.api import FieldLog
    from leafscout.fieldlog.errors import FieldLogError
    photo = next((Path(__file__).parent / "fixtures" / "images" / "coffee_bracol").glob("*/*.jpg"))
    log = FieldLog.open(str(tmp_path / "log.sqlite"))
    try:
        log.add_plot("Doi A", crop="coffee", area_ha=0.5)
        with pytest.raises(FieldLogError, match="write 0.93 for 93%"):
            log.record_observation("Doi A", str(photo), "coffee.rust", "ok", 93, "3.1.0")
        with pytest.raises(FieldLogError, match="at most 1,"):
            log.record_observation("Doi A", str(photo), "coffee.rust", "ok", 930, "3.1.0")
        with pytest.raises(FieldLogError, match="quantity"):
            log.add_lot("L1", ["Doi A"], quantity_kg=1e300)
        assert log.add_lot("L2", ["Doi A"], quantity_kg=640).quantity_kg == 640
    finally:
        log.close()


def test_a_lot_code_in_another_case_is_the_same_lot(tmp_path):
    import pytest

    from leafscout.fieldlog.api import FieldLog
    from leafscout.fieldlog.errors import FieldLogError
    log = FieldLog.open(str(tmp_path / "log.sqlite"))
    try:
        log.add_plot("Doi A", crop="coffee", area_ha=0.5)
        lot = log.add_lot("CB-2025-11", ["Doi A"], quantity_kg=640)
        with pytest.raises(FieldLogError, match="'CB-2025-11' already exists"):
            log.add_lot("cb-2025-11", ["Doi A"])
        assert log.get_lot("cb-2025-11").uid == lot.uid and len(log.lots()) == 1
    finally:
        log.close()

"""Hostile and careless input to the field log (issue 12): items 5 (export CSV), 7, 8, 9, 10, 12 and 13.

Every refusal is one line with a code, no traceback, and nothing written. PostgreSQL variants run when
LEAFSCOUT_TEST_PG_URL is set (tests/ci/setup_postgres.sh).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import os
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pytest
from sqlalchemy import text

from leafscout.fieldlog import FieldLog, FieldLogError
from leafscout.fieldlog.audit import season_audit
from leafscout.fieldlog.errors import BackupNotSupportedError
from leafscout.cli import main as leafscout

from fieldlog_backends import db_url, log  # noqa: E402,F401  (shared fixtures: SQLite + PostgreSQL)

REPO = Path(__file__).resolve().parents[1]

@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "coop" / "fieldlog.sqlite")
    assert leafscout(["log", "add-plot", "Doi A", "--crop", "coffee", "--area", "0.5", "--db", path]) == 0
    return path


@pytest.fixture
def leaf(tmp_path) -> Path:
    path = tmp_path / "leaf.jpg"
    cv2.imwrite(str(path), np.random.default_rng(3).integers(0, 255, (96, 96, 3), dtype=np.uint8))
    return path


def counts(log: FieldLog) -> tuple:
    with log._engine.connect() as conn:
        return tuple(conn.execute(text(f"select count(*) from {t}")).scalar()
                     for t in ("plots", "observations", "actions", "lots"))


def one_clean_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


# ------------------------------------------------------------------------------------------ item 7

@pytest.mark.parametrize("when", ["0001-01-01", "0001-01-01T00:00+01:00", "9999-12-31T23:00-05:00", "1969-07-20"])
def test_dates_outside_the_calendar_are_one_clear_line(db, capsys, when):
    capsys.readouterr()
    assert leafscout(["log", "act", "Doi A", "--what", "weeding", "--at", when, "--db", db]) == 2
    assert "outside the dates a field log can hold" in one_clean_line(capsys)


def test_export_to_an_unwritable_folder(db, capsys, tmp_path):
    capsys.readouterr()
    assert leafscout(["export", "Doi A", "--db", db, "--csv", "/proc/leafscout/x.csv", "--lang", "en"]) == 2
    assert "cannot write" in one_clean_line(capsys)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert leafscout(["export", "Doi A", "--db", db, "--html", str(blocker / "x.html"), "--lang", "en"]) == 2
    assert "choose a writable folder" in one_clean_line(capsys)


def test_backup_to_proc_is_one_line_and_leaves_nothing(db, capsys):
    capsys.readouterr()
    assert leafscout(["log", "backup", "/proc/self/leafscout.sqlite", "--db", db]) == 2
    assert "backup to" in one_clean_line(capsys)


def test_db_that_is_a_folder_a_text_file_or_a_server_that_is_down(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("shopping list\n" * 100)
    capsys.readouterr()
    for db, needle in ((str(tmp_path), "is a folder"), (str(notes), "is not an SQLite field log"),
                       ("postgresql://coop:s3cret@127.0.0.1:1/fieldlog", "cannot reach the PostgreSQL server")):
        assert leafscout(["log", "plots", "--db", db]) == 2
        err = one_clean_line(capsys)
        assert needle in err and "s3cret" not in err
    assert notes.read_text() == "shopping list\n" * 100  # not touched
    with pytest.raises(FieldLogError) as info:
        FieldLog.open(str(notes))
    assert info.value.code == "db_unavailable"


@pytest.mark.parametrize("bad", ["Đồi\x00A", "Doi \udcff"])
def test_nul_and_lone_surrogates_are_refused_on_both_backends(log, bad):
    plot = log.add_plot("Doi A", "coffee", 0.5)
    before = counts(log)
    for call in (lambda: log.add_plot(bad, "coffee", 0.5),
                 lambda: log.record_action(plot, f"weeding {bad}"),
                 lambda: log.record_action(plot, "weeding", by=bad),
                 lambda: log.history(bad),
                 lambda: log.get_lot(bad),
                 lambda: log.record_action(plot, "weeding", at=f"2025-01-01{bad}")):
        with pytest.raises(FieldLogError) as info:
            call()
        assert info.value.code in ("bad_text", "bad_time"), info.value
    assert counts(log) == before


def test_cli_surrogate_argument_is_one_line(db, capsys):
    capsys.readouterr()
    assert leafscout(["log", "history", "Doi \udcff", "--db", db]) == 2
    assert "not valid UTF-8" in one_clean_line(capsys)


# ------------------------------------------------------------------------------------------ item 8

def test_look_alike_plot_names_are_one_plot(log):
    nfc = "Đồi Cà phê"
    log.add_plot(nfc, "coffee", 1.0)
    log.add_plot("Doi A", "tea", 0.5)
    before = counts(log)
    for twin in ("doi a", "DOI A", "Doi\u200b A", "\ufeffDoi  A ", "Doi A\u00ad"):
        with pytest.raises(FieldLogError, match="already exists") as info:
            log.add_plot(twin, "tea", 0.5)
        assert info.value.code == "duplicate"
        assert log.get_plot(twin).name == "Doi A"  # and `log act "DOI A"` finds it
    nfd = unicodedata.normalize("NFD", nfc)
    assert nfd != nfc
    with pytest.raises(FieldLogError, match="already exists"):
        log.add_plot(nfd, "coffee", 1.0)
    assert log.get_plot(nfd).name == nfc and log.get_plot(nfc.upper()).name == nfc
    with pytest.raises(FieldLogError) as info:
        log.add_plot("Doi\x00A", "tea", 0.5)
    assert info.value.code == "bad_text"
    assert counts(log) == before


def test_a_plot_typed_without_accents_is_suggested_by_its_real_name(log):
    """On a phone without Vietnamese input "Đồi Bắc" is typed "Doi Bac": the error names the plot meant."""
    from leafscout.fieldlog.errors import UnknownPlotError
    log.add_plot("Đồi Bắc", "tea", 1.0)
    log.add_plot("Doi A", "coffee", 0.5)
    for typed in ("Doi Bac", "doi bac", "Dooi Bac"):
        with pytest.raises(UnknownPlotError, match="Did you mean 'Đồi Bắc'"):
            log.get_plot(typed)


def test_a_near_duplicate_is_refused_with_a_hint_unless_insisted(log):
    log.add_plot("Đồi A", "coffee", 1.0)
    with pytest.raises(FieldLogError, match="too close to the existing plot 'Đồi A'") as info:
        log.add_plot("Doi-A", "coffee", 1.0)
    assert info.value.code == "similar_name"
    assert log.add_plot("Doi-A", "coffee", 1.0, allow_similar=True).name == "Doi-A"
    assert log.add_plot("Doi B", "coffee", 1.0).name == "Doi B"  # different enough


def test_stored_names_are_nfc_without_invisible_characters(log):
    plot = log.add_plot(unicodedata.normalize("NFD", "Bản\u200bMòng  1"), "tea", 0.5)
    assert plot.name == "BảnMòng 1" and unicodedata.is_normalized("NFC", plot.name)


def test_migration_gives_existing_plots_a_key_even_when_they_clash(tmp_path):
    """A database made before revision 0002 already holds `Doi A` and `doi a`: both stay reachable."""
    from alembic import command

    from leafscout.fieldlog import db as fdb
    from leafscout.fieldlog import migrate

    path = tmp_path / "old.sqlite"
    engine = fdb.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0001")
    with sqlite3.connect(path) as raw:
        for i, name in enumerate(["Doi A", "doi a", unicodedata.normalize("NFD", "Đồi Cà phê")]):
            raw.execute("insert into plots (uid, name, crop, area_ha, organic_status, created_at) "
                        "values (?, ?, 'tea', 1.0, 'in_conversion', '2024-01-01 00:00:00')", (f"u{i}", name))
    engine.dispose()
    with FieldLog.open(str(path), photo_dir=tmp_path / "photos") as lg:
        assert migrate.current_revision(lg._engine) == migrate.head_revision()
        assert lg.get_plot("DOI A").name == "Doi A"       # the older one owns the key
        assert lg.get_plot("doi a").name == "doi a"       # the newer one by its exact name
        assert lg.get_plot("Đồi cà phê").id == 3          # NFD stored, NFC typed
        with pytest.raises(FieldLogError, match="already exists"):
            lg.add_plot("DOI a", "tea", 1.0)


# ------------------------------------------------------------------------------------------ item 9

def test_bordeaux_without_copper_is_worked_out_or_refused(log):
    plot = log.add_plot("Doi A", "coffee", 0.5)
    before = counts(log)
    with pytest.raises(FieldLogError, match="uses copper") as info:
        log.record_action(plot, "sprayed Bordeaux mixture")
    assert info.value.code == "copper_required"
    with pytest.raises(FieldLogError, match="uses copper"):
        log.record_action(plot, "phun thuốc gốc đồng", amount=3, unit="kg")  # copper product, content unknown
    assert counts(log) == before
    # 800 L/ha of a 1 % Bordeaux = 8 kg copper sulphate/ha = 2.036 kg Cu/ha
    a = log.record_action(plot, "sprayed Bordeaux 1%", amount=800, unit="L/ha", at="2025-05-01")
    assert a.copper_kg_ha == pytest.approx(8 * 0.2545)
    # 2 kg of a 35 % Cu product on 0.5 ha = 1.4 kg Cu/ha; the label's content beats the compound's
    b = log.record_action(plot, "spray", product="Kocide", active_substance="copper hydroxide", amount=2, unit="kg",
                          copper_content_pct=35, at="2025-06-01")
    assert b.copper_kg_ha == pytest.approx(1.4)
    assert log.copper_ledger(plot)[2025] == pytest.approx(2.036 + 1.4)
    assert log.record_action(plot, "dọn cỏ cánh đồng").copper_kg_ha == 0  # đồng = field here, not copper


@pytest.mark.parametrize("kg", [100.0, 6.5, 1e300])
def test_implausible_copper_doses_are_refused_with_the_range(log, kg):
    plot = log.add_plot("Doi A", "coffee", 0.5)
    with pytest.raises(FieldLogError, match="expected 0 to 6 kg Cu/ha"):
        log.record_action(plot, "copper spray", active_substance="copper hydroxide", copper_kg_ha=kg)
    with pytest.raises(FieldLogError, match="not plausible"):  # 50 kg of copper sulphate on 0.5 ha = 25 kg Cu/ha
        log.record_action(plot, "Bordeaux", active_substance="copper sulphate", amount=50, unit="kg")
    assert log.copper_ledger(plot) == {}


@pytest.mark.parametrize("area", [1e300, 5000, 0.00001])
def test_absurd_areas_are_refused_with_the_plausible_range(log, area):
    with pytest.raises(FieldLogError, match=r"expected 0.0001 to 1000 ha") as info:
        log.add_plot("Doi A", "coffee", area)
    assert info.value.code == "bad_value"


def test_made_up_labels_are_refused(log, leaf, tmp_path):
    plot = log.add_plot("Doi A", "tomato", 0.5)
    for label in ("made up", "Tomato.Late_Blight", "tomato", "<img src=x>.y"):
        with pytest.raises(FieldLogError, match="crop.problem") as info:
            log.record_observation(plot, leaf, label, "ok", 0.9, "v1")
        assert info.value.code == "bad_label"
    with FieldLog.open(log.url, photo_dir=tmp_path / "photos",
                       known_labels=["tomato.late_blight", "tomato.healthy"]) as strict:
        with pytest.raises(FieldLogError, match="Did you mean 'tomato.late_blight'"):
            strict.record_observation("Doi A", leaf, "tomato.late_blite", "ok", 0.9, "v1")
        assert strict.record_observation("Doi A", leaf, "tomato.late_blight", "ok", 0.9, "v1").id


def test_cli_bordeaux_without_copper_and_a_huge_area(db, capsys):
    capsys.readouterr()
    assert leafscout(["log", "act", "Doi A", "--what", "sprayed Bordeaux", "--db", db]) == 2
    assert "uses copper" in one_clean_line(capsys)
    assert leafscout(["log", "act", "Doi A", "--what", "sprayed Bordeaux", "--copper", "100", "--db", db]) == 2
    assert "expected 0 to 6 kg Cu/ha" in one_clean_line(capsys)
    assert leafscout(["log", "add-plot", "Big", "--crop", "tea", "--area", "1e300", "--db", db]) == 2
    assert "0.0001 to 1000 ha" in one_clean_line(capsys)
    assert leafscout(["log", "act", "Doi A", "--what", "sprayed Bordeaux 1%", "--amount", "400", "--unit", "L/ha",
                      "--db", db]) == 0
    assert "(1.018 kg Cu/ha)" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ item 12

def test_a_model_result_is_unconfirmed_until_a_person_confirms_it(log, leaf):
    plot = log.add_plot("Doi A", "mango", 0.5)
    blank = log.record_observation(plot, leaf, "mango.gall_midge", "ok", 0.81, "v1", observed_at="2025-03-01")
    assert blank.confirmed_by is None
    report = season_audit(log, "2025-01-01", "2026-01-01", checker=lambda s: (True, ""), copper_cap_kg_ha_7y=28)
    assert report.diagnoses == [] and [o.id for _, o in report.unconfirmed] == [blank.id]
    assert "0 confirmed diagnoses, 1 unconfirmed model results (not counted)" in report.to_text()
    confirmed = log.confirm_observation(blank.id, "Lò Thị Hoa")
    assert confirmed.confirmed_by == "Lò Thị Hoa" and confirmed.confirmed_at is not None
    report = season_audit(log, "2025-01-01", "2026-01-01", checker=lambda s: (True, ""), copper_cap_kg_ha_7y=28)
    assert [o.id for _, o in report.diagnoses] == [blank.id] and report.unconfirmed == []
    with pytest.raises(FieldLogError, match="already confirmed"):
        log.confirm_observation(blank.id, "someone else")


@pytest.mark.parametrize("status", ["not_a_leaf", "error"])
def test_a_non_ok_result_needs_a_person(log, leaf, status):
    plot = log.add_plot("Doi A", "mango", 0.5)
    before = counts(log)
    with pytest.raises(FieldLogError, match="not a diagnosis") as info:
        log.record_observation(plot, leaf, "mango.bacterial_canker", status, 0.996, "v1")
    assert info.value.code == "needs_confirmation"
    assert counts(log) == before and not any((log.photo_dir).rglob("*.jpg"))
    obs = log.record_observation(plot, leaf, "mango.bacterial_canker", status, 0.996, "v1",
                                 confirmed_by="extension officer Hà")
    assert obs.confirmed_by == "extension officer Hà"


def test_statuses_are_the_models(log, leaf):
    plot = log.add_plot("Doi A", "mango", 0.5)
    with pytest.raises(FieldLogError, match="expected one of ok, uncertain, not_a_leaf, error"):
        log.record_observation(plot, leaf, "mango.gall_midge", "diseased", 0.8, "v1")


def test_cli_observe_then_confirm(db, leaf, capsys):
    base = ["log", "observe", "Doi A", str(leaf), "--label", "coffee.leaf_rust", "--confidence", "0.9",
            "--model-version", "v1", "--db", db]
    capsys.readouterr()
    assert leafscout([*base, "--status", "not_a_leaf"]) == 2
    assert "--confirmed-by" in one_clean_line(capsys)
    assert leafscout([*base, "--status", "ok"]) == 0
    assert "UNCONFIRMED" in capsys.readouterr().out
    assert leafscout(["log", "history", "Doi A", "--db", db]) == 0
    assert "UNCONFIRMED" in capsys.readouterr().out
    assert leafscout(["log", "confirm", "1", "--by", "Hoa", "--db", db]) == 0
    assert leafscout(["log", "history", "Doi A", "--db", db]) == 0
    assert "confirmed by Hoa" in capsys.readouterr().out


# ------------------------------------------------------------------------------------------ item 5 (export CSV)

def test_export_csv_neutralises_formulas(db, leaf, tmp_path, capsys):
    evil = '=HYPERLINK("http://evil.example","click")'
    with FieldLog.open(db) as lg:
        lg.add_plot(evil, "tea", 0.5)
        lg.record_action(evil, "+SUM(1,2)", by="@SUM(1)", product="-2+3", unit="\tkg", amount=1.0,
                         at="2025-05-01")
        lg.record_observation(evil, leaf, "tea.blight", "ok", 0.8, "=1+2", observer="-cmd", observed_at="2025-05-02")
    out = tmp_path / "x.csv"
    assert leafscout(["export", evil, "--db", db, "--csv", str(out)]) == 0
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    cells = [c for row in rows[1:] for c in row]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")], cells
    for shown in ("'" + evil, "'+SUM(1,2)", "'@SUM(1)", "'-2+3", "'=1+2", "'-cmd"):
        assert shown in cells, shown


def test_csv_cell_keeps_numbers_numbers():
    from leafscout.fieldlog.export import csv_cell

    assert csv_cell(-33.9) == "-33.9" and csv_cell("-33.9") == "'-33.9" and csv_cell("\r=1") == "'\r=1"
    assert csv_cell("Đồi A") == "Đồi A" and csv_cell(None) == ""
    # leading whitespace hides nothing: Sheets and LibreOffice strip it before they evaluate
    assert csv_cell(" =HYPERLINK(\"http://x\")") == "' =HYPERLINK(\"http://x\")" and csv_cell("  -2+3") == "'  -2+3"
    assert csv_cell("\n=1") == "'\n=1" and csv_cell(" Đồi A") == " Đồi A"


def test_the_app_and_cli_csv_cells_defuse_a_formula_behind_spaces_too():
    from leafscout.safety import csv_cell
    assert csv_cell(" =1+1") == "' =1+1" and csv_cell("\u00a0@SUM(A1)") == "'\u00a0@SUM(A1)"
    assert csv_cell(" lá vàng") == " lá vàng" and csv_cell(-2.5) == -2.5


# ------------------------------------------------------------------------------------------ item 10

def test_exit_codes_are_documented_and_kept(db, capsys):
    for argv in (["log", "--help"], ["log", "act", "--help"], ["export", "--help"]):
        with pytest.raises(SystemExit) as done:
            leafscout(argv)
        assert done.value.code == 0
        shown = capsys.readouterr().out
        assert "exit codes:" in shown and "130" in shown, argv
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 130 |"):
        assert code in section, code
    assert leafscout(["log", "plots", "--db", db]) == 0
    assert leafscout(["log", "history", "No such plot", "--db", db]) == 2
    assert leafscout(["log", "act", "Doi A", "--what", "sprayed glyphosate", "--substance", "glyphosate",
                      "--at", f"{dt.date.today().year}-01-01", "--db", db]) == 0
    assert leafscout(["log", "audit", "--season", str(dt.date.today().year), "--db", db]) == 1
    with pytest.raises(SystemExit) as done:
        leafscout(["log", "act"])  # argparse: PLOT and --what missing
    assert done.value.code == 2


# ------------------------------------------------------------------------------------------ item 13

def test_sqlite_is_synchronous_full_by_default_normal_on_request(tmp_path, monkeypatch):
    monkeypatch.delenv("LEAFSCOUT_SQLITE_SYNC", raising=False)

    def level(lg):
        with lg._engine.connect() as conn:
            return conn.exec_driver_sql("PRAGMA synchronous").scalar()

    with FieldLog.open(str(tmp_path / "a.sqlite")) as lg:
        assert level(lg) == 2  # FULL
    with FieldLog.open(str(tmp_path / "b.sqlite"), synchronous="NORMAL") as lg:
        assert level(lg) == 1
    monkeypatch.setenv("LEAFSCOUT_SQLITE_SYNC", "normal")
    with FieldLog.open(str(tmp_path / "c.sqlite")) as lg:
        assert level(lg) == 1
    monkeypatch.setenv("LEAFSCOUT_SQLITE_SYNC", "OFF")
    with pytest.raises(FieldLogError, match="FULL \\(default\\) or NORMAL"):
        FieldLog.open(str(tmp_path / "d.sqlite"))


def test_postgresql_backup_uses_pg_dump_or_says_why_not(log, tmp_path, monkeypatch):
    if log.is_sqlite:
        pytest.skip("the PostgreSQL backup path")
    log.add_plot("Doi A", "coffee", 0.5)
    import shutil

    if shutil.which("pg_dump"):
        dest = log.backup(tmp_path / "coop.dump", include_photos=False)
        assert dest.read_bytes()[:5] == b"PGDMP" and not list(tmp_path.glob(".*.partial"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(BackupNotSupportedError, match="needs pg_dump"):
        log.backup(tmp_path / "again.dump")
    assert not (tmp_path / "again.dump").exists()


def test_write_benchmark_reports_full_vs_normal(tmp_path):
    out = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_fieldlog_write.py"), "--rows", "30",
                          "--dir", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "PYTHONPATH": str(REPO)})
    assert out.returncode == 0, out.stderr
    assert "FULL" in out.stdout and "NORMAL" in out.stdout and "ratio" in out.stdout

"""Restoring a backup (`leafscout log restore FILE`).

Copying the backup over the log file, the only way there was, is not a restore when a -wal file sits beside the
log (the app still running, or a crash or power cut while it ran): SQLite replays that -wal onto the copied file,
and the "restored" log came back with every record the backup was meant to undo, saying nothing.
"""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from leafscout.cli import main
from leafscout.fieldlog import FieldLog

ROOT = Path(__file__).resolve().parents[1]

CRASH = r"""
import os, signal, sqlite3, sys
sys.path.insert(0, sys.argv[2])
from leafscout.fieldlog import FieldLog
hold = sqlite3.connect(sys.argv[1]); hold.execute("select 1 from plots").fetchall()  # no checkpoint on close
log = FieldLog.open(sys.argv[1])
for i in range(5):
    log.add_plot(f"Đồi X{i}", "tea", 1.0)
log.record_action("Đồi A", "sprayed by mistake")
os.kill(os.getpid(), signal.SIGKILL)  # the app killed (power cut): the commits are in log.sqlite-wal only
"""


def crashed_log_and_backup(tmp_path) -> tuple[Path, Path]:
    db = tmp_path / "log.sqlite"
    with FieldLog.open(str(db)) as log:
        log.add_plot("Đồi A", "tea", 1.0)
        backup = log.backup(tmp_path / "bk" / "b.sqlite")
    subprocess.run([sys.executable, "-c", CRASH, str(db), str(ROOT)], check=False)
    wal = db.with_name(db.name + "-wal")
    assert wal.exists() and wal.stat().st_size > 0
    return db, backup


def plot_names(db: Path) -> list[str]:
    with FieldLog.open(str(db)) as log:
        return sorted(p.name for p in log.plots())


def test_copying_a_backup_over_the_log_is_not_a_restore(tmp_path):
    """What the officer did before there was `log restore` (shown, not fixed: a file copy cannot be)."""
    db, backup = crashed_log_and_backup(tmp_path)
    shutil.copyfile(backup, db)
    assert len(plot_names(db)) == 6  # the backup holds one plot; the stale -wal brought the others back


def test_restore_gives_exactly_the_backup_and_keeps_the_log_as_it_was(tmp_path, capsys):
    db, backup = crashed_log_and_backup(tmp_path)
    capsys.readouterr()
    assert main(["log", "restore", str(backup), "--db", str(db)]) == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "1 plot," in out and "kept in" in out, out
    assert plot_names(db) == ["Đồi A"]
    with FieldLog.open(str(db)) as log:
        assert log.history("Đồi A").actions == []
        log.record_action("Đồi A", "weeding")  # the restored log takes new records
    kept = sorted(tmp_path.glob("log.before-restore-*.sqlite"))
    assert len(kept) == 1 and len(plot_names(kept[0])) == 6  # nothing of the crashed log is lost either
    raw = sqlite3.connect(db)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert raw.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        raw.close()


def test_restore_from_an_older_schema_backup_with_photos(tmp_path, capsys):
    from test_officer_qa_old_schema import old_log

    bk = tmp_path / "usb"
    bk.mkdir()
    old = bk / "old.sqlite"
    old_log(old)
    (bk / "photos" / "ab").mkdir(parents=True)
    (bk / "photos" / "ab" / "ab.jpg").write_bytes(b"photo")
    before = old.read_bytes()
    db = tmp_path / "log" / "log.sqlite"
    assert main(["log", "restore", str(old), "--db", str(db)]) == 0, capsys.readouterr().err
    assert "kept in" not in capsys.readouterr().out  # a new, empty log: nothing to keep
    assert old.read_bytes() == before and sorted(p.name for p in bk.iterdir()) == ["old.sqlite", "photos"]
    with FieldLog.open(str(db)) as log:
        h = log.history("Đồi A")
        assert [o.label for o in h.observations] == ["tea.blister_blight"] and h.copper_by_year == {2024: 1.5}
        assert log.photo_path(h.observations[0]).read_bytes() == b"photo"


def test_restore_refuses_what_is_not_a_backup_and_changes_nothing(tmp_path, capsys):
    db = tmp_path / "log.sqlite"
    with FieldLog.open(str(db)) as log:
        log.add_plot("Đồi A", "tea", 1.0)
    other = tmp_path / "places.sqlite"  # some other program's SQLite file
    raw = sqlite3.connect(other)
    raw.execute("create table moz_places (id integer primary key, url text)")
    raw.commit()
    raw.close()
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all\n" * 100)
    for bad in (other, text, tmp_path / "missing.sqlite", db, Path(str(db) + "-wal")):
        capsys.readouterr()
        assert main(["log", "restore", str(bad), "--db", str(db)]) == 2, bad
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert plot_names(db) == ["Đồi A"], bad
    assert not list(tmp_path.glob("*before-restore*"))

"""Backups an officer makes by hand: `leafscout log backup FILE`."""
from __future__ import annotations

import sqlite3

import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_backup_onto_the_logs_own_side_files_is_refused(tmp_path, capsys, suffix):
    """`leafscout log backup log.sqlite-wal` (tab completion one file too far) said "Backed up ... to
    log.sqlite-wal (integrity check ok)", then the log's own close deleted that file as its WAL: no backup, and
    while the app had the log open, its WAL (commits not yet in the main file) was replaced by the copy."""
    db = tmp_path / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", str(db)]) == 0
    app = sqlite3.connect(db)  # the app keeps the log open: the next commits stay in the WAL
    app.execute("select count(*) from plots").fetchone()
    try:
        assert main(["log", "act", "Đồi A", "--what", "weeding", "--db", str(db)]) == 0
        wal = db.with_name(db.name + "-wal")
        assert wal.stat().st_size > 0
        before = wal.read_bytes() if suffix == "-wal" else None
        capsys.readouterr()
        assert main(["log", "backup", str(db) + suffix, "--db", str(db)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert "live" in err and "choose another file" in err, err
        if before is not None:
            assert wal.read_bytes() == before
        assert app.execute("select what from actions").fetchall() == [("weeding",)]
    finally:
        app.close()
    with FieldLog.open(str(db)) as log:
        assert [a.what for a in log.history("Đồi A").actions] == ["weeding"]

"""`leafscout corrections export DIR --db /media/stick/log.sqlite`: a field log on a read-only place (a
write-protected USB stick, a read-only share) is read, as `log history`, `export` and the other reading commands
read it (tests/test_fieldlog_ro_location.py); the export only reads the log. It was refused with "field log ... is
on a read-only place ... nothing was written", because its inner command was opened for writing."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from leafscout.cli import main

ROOT = Path(__file__).resolve().parents[1]
PHOTO = Path(__file__).parent / "fixtures" / "images" / "coffee_bracol" / "rust" / "764.jpg"


def _log_with_a_correction(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", str(db)]) == 0
    assert main(["log", "observe", "Đồi A", str(PHOTO), "--label", "coffee.rust", "--status", "ok", "--confidence",
                 "0.9", "--model-version", "3.1.0", "--db", str(db)]) == 0
    assert main(["log", "correct", "1", "--label", "coffee.cercospora_leaf_spot", "--by", "Hoa", "--db",
                 str(db)]) == 0
    return db


def _snapshot(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_corrections_export_reads_a_log_on_a_read_only_place(tmp_path, capsys, monkeypatch):
    """The place is said read-only as the field log finds out (db.location_writable: access(2), EROFS)."""
    stick = tmp_path / "stick"
    db = _log_with_a_correction(stick)
    before = _snapshot(stick)
    from leafscout.fieldlog import db as fdb
    real = fdb.location_writable
    monkeypatch.setattr(fdb, "location_writable", lambda p: False if stick in Path(p).parents else real(p))
    capsys.readouterr()
    out = tmp_path / "dataset"
    rc = main(["corrections", "export", str(out), "--db", str(db)])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert "Wrote 1 photo(s)" in captured.out, captured.out
    assert len(list((out / "coffee.cercospora_leaf_spot").glob("*.jpg"))) == 1
    assert _snapshot(stick) == before  # nothing written beside the log


def test_corrections_export_on_a_read_only_mount(tmp_path):
    """The real thing: the stick bind-mounted read-only (EROFS, refused for root too)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare/mount not available")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            f"mount --bind -o ro {tmp_path} {tmp_path} && ! touch {tmp_path}/probe 2>/dev/null"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace with a read-only bind mount here (needs CAP_SYS_ADMIN)")
    stick = tmp_path / "stick"
    db = _log_with_a_correction(stick)
    before = _snapshot(stick)
    out = tmp_path / "dataset"
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(stick)]
    p = subprocess.run([*wrap, sys.executable, "-m", "leafscout.cli", "corrections", "export", str(out), "--db",
                        str(db)], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       cwd=ROOT, timeout=300)
    assert p.returncode == 0 and "Wrote 1 photo(s)" in p.stdout, (p.stdout, p.stderr)
    assert _snapshot(stick) == before

"""A field log on a read-only place: an officer copies the log (SQLite, WAL) to a USB stick or a read-only share
and runs `leafscout log --db /mnt/stick/log.db history` there.

Before the fix every command, reading ones included, failed ("cannot be opened ... choose a writable file"):
SQLite in WAL mode wants to create the -wal/-shm files beside the log.

What each test proves:
* the API tests open with read_only=True on a chmod a-w folder and check, file by file (bytes, size, mtime), that
  nothing beside the log was created or changed: they hold as root too, where chmod does not stop writes, because
  they check that no write is *attempted*, not that one is refused;
* `test_cli_on_a_read_only_mount` runs the CLI inside a private mount namespace with a real read-only bind mount
  (EROFS, refused for root too): the user's situation itself. It is skipped where `unshare -m` is not allowed;
* `test_cli_as_an_unprivileged_user_on_a_chmod_folder` runs the CLI as an ordinary user on a chmod a-w folder
  (as `nobody` through setpriv when the tests run as root; skipped if that is not possible).
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from leafscout.fieldlog import FieldLog
from leafscout.fieldlog.errors import FieldLogError, ReadOnlyLogError

ROOT = Path(__file__).resolve().parents[1]


def snapshot(folder: Path) -> dict:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes()) for p in sorted(folder.iterdir())
            if p.is_file()}


def make_log(folder: Path) -> Path:
    db = folder / "log.sqlite"
    with FieldLog.open(str(db), photo_dir=folder / "photos") as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "sprayed Bordeaux", active_substance="copper hydroxide", copper_kg_ha=1.0,
                          at="2026-03-01")
        log.add_lot("L-1", ["Đồi A"], harvested_at="2026-06-01")
    return db


def copy_with_pending_wal(src_db: Path, dest: Path, *, with_shm: bool) -> None:
    """Copy the log while another program holds it open: the last commits are in log.sqlite-wal only."""
    holder = sqlite3.connect(src_db)  # keeps the WAL from being checkpointed and removed on close
    holder.execute("select count(*) from plots").fetchone()
    try:
        with FieldLog.open(str(src_db)) as log:
            log.add_plot("Đồi B (in the WAL only)", "tea", 1.0)
            log.record_action("Đồi A", "weeding", at="2026-04-01")
        wal = src_db.with_name(src_db.name + "-wal")
        assert wal.exists() and wal.stat().st_size > 0
        dest.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal") + (("-shm",) if with_shm else ()):
            shutil.copyfile(src_db.with_name(src_db.name + suffix), dest / (src_db.name + suffix))
    finally:
        holder.close()
    # the main file alone does not hold the new plot: reading it without the WAL would silently miss it
    raw = sqlite3.connect(f"file:{dest / src_db.name}?mode=ro&immutable=1", uri=True)
    try:
        names = [r[0] for r in raw.execute("select name from plots")]
    finally:
        raw.close()
    assert "Đồi B (in the WAL only)" not in names


@pytest.fixture
def ro_folder(tmp_path):
    made = []

    def lock(folder: Path) -> Path:
        for p in folder.iterdir():
            p.chmod(0o444)
        folder.chmod(0o555)
        made.append(folder)
        return folder

    yield lock
    for folder in made:
        if not folder.exists():
            continue
        folder.chmod(0o755)
        for p in folder.iterdir():
            p.chmod(0o644)


def test_read_only_open_reads_everything_and_writes_nothing(tmp_path, ro_folder):
    stick = tmp_path / "stick"
    stick.mkdir()
    db = make_log(stick)
    shutil.rmtree(stick / "photos", ignore_errors=True)
    ro_folder(stick)
    before = snapshot(stick)
    assert set(before) == {"log.sqlite"}
    with FieldLog.open(str(db), read_only=True) as log:
        assert log.read_only
        assert [p.name for p in log.plots()] == ["Đồi A"]
        h = log.history("Đồi A")
        assert [a.what for a in h.actions] == ["sprayed Bordeaux"] and h.copper_by_year == {2026: 1.0}
        assert [lot.code for lot in h.lots] == ["L-1"]
        assert log.get_lot("l-1").code == "L-1"
        assert snapshot(stick) == before, "a read wrote beside the log"
        # every write is refused, before anything is touched
        for write in (lambda: log.add_plot("Đồi C", "tea", 1.0),
                      lambda: log.record_action("Đồi A", "weeding"),
                      lambda: log.add_lot("L-2", ["Đồi A"]),
                      lambda: log.confirm_observation(1, "Hoa"),
                      lambda: log.record_observation("Đồi A", str(ROOT / "no-such.jpg"), "coffee.rust", "ok", 0.9,
                                                     "3.1.0")):
            with pytest.raises(ReadOnlyLogError) as info:
                write()
            assert info.value.code == "db_unavailable" and "read-only" in str(info.value)
            assert "\n" not in str(info.value)
        with pytest.raises(ReadOnlyLogError):
            with log.batch():
                pass
        # a backup of a read-only log to a writable place is a read of the log
        dest = log.backup(tmp_path / "out" / "backup.sqlite")
    assert snapshot(stick) == before
    with FieldLog.open(str(dest)) as copy:
        assert [p.name for p in copy.plots()] == ["Đồi A"]


@pytest.mark.parametrize("with_shm", [True, False], ids=["wal+shm", "wal-only"])
def test_commits_waiting_in_the_wal_are_read_not_lost(tmp_path, ro_folder, with_shm):
    """The log copied while the app had it open: the last commits sit in log.sqlite-wal. `immutable=1` alone would
    read the main file and silently miss them; they must show, and nothing on the stick may change."""
    src = tmp_path / "laptop"
    src.mkdir()
    db = make_log(src)
    stick = tmp_path / "stick"
    copy_with_pending_wal(db, stick, with_shm=with_shm)
    ro_folder(stick)
    before = snapshot(stick)
    log = FieldLog.open(str(stick / "log.sqlite"), read_only=True)
    try:
        assert sorted(p.name for p in log.plots()) == ["Đồi A", "Đồi B (in the WAL only)"]
        assert [a.what for a in log.history("Đồi A").actions] == ["sprayed Bordeaux", "weeding"]
        assert snapshot(stick) == before
        with pytest.raises(ReadOnlyLogError):
            log.add_plot("Đồi C", "tea", 1.0)
        copy = log._private_copy
        assert copy is not None and copy.exists() and stick not in copy.parents
    finally:
        log.close()
    assert not copy.exists(), "the private copy was left behind"
    assert snapshot(stick) == before


def test_an_older_schema_on_a_read_only_place_is_read_from_an_upgraded_copy(tmp_path, ro_folder):
    from alembic import command

    from leafscout.fieldlog import db as fdb
    from leafscout.fieldlog import migrate

    stick = tmp_path / "stick"
    stick.mkdir()
    path = stick / "old.sqlite"
    engine = fdb.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        command.upgrade(migrate._config(conn), "0001")
    engine.dispose()
    with sqlite3.connect(path) as raw:
        raw.execute("insert into plots (uid, name, crop, area_ha, organic_status, created_at) "
                    "values ('u1', 'Doi A', 'tea', 1.0, 'in_conversion', '2024-01-01 00:00:00')")
    raw.close()
    ro_folder(stick)
    before = snapshot(stick)
    with FieldLog.open(str(path), read_only=True) as log:
        assert log.get_plot("doi a").name == "Doi A"
        assert log.history("Doi A").observations == []
    assert snapshot(stick) == before


def test_a_damaged_wal_copy_is_said_not_read_as_empty(tmp_path, ro_folder):
    """A -wal holding data beside a main file that is not a SQLite log: one line, nothing read."""
    stick = tmp_path / "stick"
    stick.mkdir()
    (stick / "log.sqlite").write_bytes(b"not a database at all" * 100)
    (stick / "log.sqlite-wal").write_bytes(b"\0" * 4096)
    ro_folder(stick)
    import tempfile
    copies = set(Path(tempfile.gettempdir()).glob("leafscout-ro-*"))
    with pytest.raises(FieldLogError) as info:
        FieldLog.open(str(stick / "log.sqlite"), read_only=True)
    assert info.value.code == "db_unavailable" and "\n" not in str(info.value)
    assert "not an SQLite field log" in str(info.value), str(info.value)
    assert set(Path(tempfile.gettempdir()).glob("leafscout-ro-*")) == copies, "the private copy was left behind"


RUNS = {
    "plots": ["log", "plots"], "history": ["log", "history", "Đồi A"], "audit": ["log", "audit", "--season", "2026"],
    "qr": ["log", "qr", "L-1", "--out", "{out}/q.png"], "backup": ["log", "backup", "{out}/b.sqlite"],
    "export": ["export", "Đồi A", "--csv", "{out}/x.csv"],
    "act": ["log", "act", "Đồi A", "--what", "weeding"],
    "add-plot": ["log", "add-plot", "Đồi C", "--crop", "tea", "--area", "1"],
    "confirm": ["log", "confirm", "1", "--by", "Hoa"],
}


def run_all(wrap: list[str], db: Path, out: Path, env: dict) -> dict:
    res = {}
    for k, argv in RUNS.items():
        argv = [a.replace("{out}", str(out)) for a in argv]
        p = subprocess.run([*wrap, sys.executable, "-m", "leafscout.cli", *argv, "--db", str(db)],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        res[k] = [p.returncode, p.stdout, p.stderr]
    return res


def _check_cli_results(res: dict, stick: Path, before: dict, out: Path) -> None:
    for k in ("plots", "history", "audit", "qr", "backup", "export"):
        rc, stdout, err = res[k]
        assert rc in (0, 1) and "Traceback" not in err, (k, stdout, err)
    assert "Đồi B (in the WAL only)" in res["plots"][1]
    assert "weeding" in res["history"][1]
    assert (out / "q.png").exists() and (out / "x.csv").exists() and (out / "b.sqlite").exists()
    for k in ("act", "add-plot", "confirm"):
        rc, stdout, err = res[k]
        assert rc == 2 and "Traceback" not in err and err.count("\n") == 1, (k, err)
        assert "read-only" in err and "nothing was written" in err and "--db" in err, (k, err)
    assert snapshot(stick) == before


def _stick_with_pending_wal(tmp_path, *, pending: bool = True) -> tuple[Path, Path]:
    src = tmp_path / "laptop"
    src.mkdir()
    db = make_log(src)
    stick = tmp_path / "stick"
    copy_with_pending_wal(db, stick, with_shm=False)
    if not pending:  # the same log closed properly before it was copied: everything in the main file
        for suffix in ("", "-wal"):
            (stick / ("log.sqlite" + suffix)).unlink()
        with FieldLog.open(str(db)) as log:
            log.plots()
        assert not db.with_name(db.name + "-wal").exists()
        shutil.copyfile(db, stick / "log.sqlite")
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    return stick, out


@pytest.mark.parametrize("pending", [True, False], ids=["wal-with-commits", "no-wal"])
def test_cli_on_a_read_only_mount(tmp_path, pending):
    """The real thing: the stick's folder bind-mounted read-only (EROFS, refused for root too)."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare/mount not available")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            f"mount --bind -o ro {tmp_path} {tmp_path} && ! touch {tmp_path}/probe 2>/dev/null"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace with a read-only bind mount here (needs CAP_SYS_ADMIN)")
    stick, out = _stick_with_pending_wal(tmp_path, pending=pending)
    assert (stick / "log.sqlite-wal").exists() == pending
    before = snapshot(stick)
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(stick)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    _check_cli_results(run_all(wrap, stick / "log.sqlite", out, env), stick, before, out)
    # a new log on the stick: one line saying the folder is read-only (not that "reading commands work on it")
    p = subprocess.run([*wrap, sys.executable, "-m", "leafscout.cli", "log", "add-plot", "Đồi C", "--crop", "tea",
                        "--area", "1", "--db", str(stick / "new.sqlite")], capture_output=True, text=True, env=env,
                       cwd=ROOT, timeout=300)
    assert p.returncode == 2 and p.stderr.count("\n") == 1, p.stderr
    assert "cannot start a field log" in p.stderr and "read-only" in p.stderr, p.stderr
    assert snapshot(stick) == before


def test_cli_as_an_unprivileged_user_on_a_chmod_folder(ro_folder):
    """A folder the user may not write (a read-only share as it looks to an ordinary account)."""
    wrap: list[str] = []
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: chmod would not stop the writes")
        wrap = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    import tempfile
    base = Path(tempfile.mkdtemp(prefix="leafscout-test-ro-"))  # pytest's own tmp folder is root's alone (0700)
    base.chmod(0o755)
    try:
        stick, out = _stick_with_pending_wal(base)
        ro_folder(stick)
        before = snapshot(stick)
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HOME": str(out), "TMPDIR": str(out)}
        probe = subprocess.run([*wrap, sys.executable, "-c", "import leafscout.fieldlog.api"], capture_output=True,
                               env=env, cwd=ROOT)
        if probe.returncode != 0:
            pytest.skip(f"the unprivileged user cannot run this Python: {probe.stderr[-200:]!r}")
        _check_cli_results(run_all(wrap, stick / "log.sqlite", out, env), stick, before, out)
    finally:
        for p in (base / "stick", *(base / "stick").glob("*")):
            if p.exists():
                p.chmod(0o755)
        shutil.rmtree(base, ignore_errors=True)


LYING_SHARE = """
import sys
import leafscout.fieldlog.db as d
d.location_writable = lambda path: True  # access(2) says writable; the server refuses every write
from leafscout.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_cli_on_a_share_that_claims_to_be_writable(tmp_path):
    """A read-only SMB/NFS export mounted read-write: access() cannot tell, SQLite's -wal/-shm are refused when
    the log is opened. Reading commands fall back to the read-only open instead of failing."""
    if shutil.which("unshare") is None or shutil.which("mount") is None:
        pytest.skip("unshare/mount not available")
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            f"mount --bind -o ro {tmp_path} {tmp_path} && ! touch {tmp_path}/probe 2>/dev/null"],
                           capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no private mount namespace with a read-only bind mount here (needs CAP_SYS_ADMIN)")
    stick, out = _stick_with_pending_wal(tmp_path, pending=True)
    before = snapshot(stick)
    script = out / "lying_share.py"
    script.write_text(LYING_SHARE)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    wrap = ["unshare", "-m", "--propagation", "private", "sh", "-c", 'mount --bind -o ro "$0" "$0" && exec "$@"',
            str(stick)]
    res = {}
    for k, argv in (("history", ["log", "history", "Đồi A"]), ("act", ["log", "act", "Đồi A", "--what", "weed"])):
        p = subprocess.run([*wrap, sys.executable, str(script), *argv, "--db", str(stick / "log.sqlite")],
                           capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
        res[k] = p
    assert res["history"].returncode == 0, res["history"].stderr
    assert "weeding" in res["history"].stdout
    assert res["act"].returncode == 2 and res["act"].stderr.count("\n") == 1, res["act"].stderr
    assert "Traceback" not in res["act"].stderr
    assert snapshot(stick) == before

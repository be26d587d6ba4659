"""Where the log lives and how to talk to it safely.

SQLite is the embedded default (one file, WAL). Writers take the lock up front with
BEGIN IMMEDIATE, so a reader never has to upgrade to a writer mid-transaction (the classic
source of instant "database is locked"); the busy timeout makes them queue instead of fail,
and `run_write` retries the rare SQLITE_BUSY that still escapes. PostgreSQL is used as given.
"""
from __future__ import annotations

import os
import random
import shutil
import sqlite3
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError

from .errors import DatabaseUnavailableError, DriverMissingError, ReadOnlyLogError

DEFAULT_DB = Path("~/.local/share/leafscout/fieldlog.sqlite")
BUSY_TIMEOUT_S = 30.0
WRITE_RETRY_BUDGET_S = 120.0


def resolve_url(url_or_path: str | os.PathLike | None) -> str:
    """--db argument, else $LEAFSCOUT_DB, else the per-user default file."""
    from .text import check_text

    raw = url_or_path if url_or_path not in (None, "") else os.environ.get("LEAFSCOUT_DB") or DEFAULT_DB
    raw = check_text(str(raw), "--db")
    if "://" not in raw:
        path = Path(raw).expanduser().resolve()
        if path.is_dir():
            raise DatabaseUnavailableError(
                f"--db {raw}: is a folder; give the field log's file, e.g. {path / 'fieldlog.sqlite'}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseUnavailableError(f"--db {raw}: cannot create the folder {path.parent} "
                                           f"({exc.strerror or exc}); choose a writable place") from None
        return sqlite_url(path)
    try:
        url = make_url(raw)
    except Exception:
        raise DatabaseUnavailableError(f"--db: {raw!r} is neither a file path nor a database URL like "
                                       "postgresql://user@host/dbname") from None
    if url.drivername in ("postgresql", "postgres"):  # prefer psycopg 3 when psycopg2 is absent
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def sqlite_url(path: str | os.PathLike) -> str:
    """The URL of an SQLite file, quoted: '%20' or '?' in a folder name is part of the name, not URL syntax
    (`f"sqlite:///{path}"` opened `HTX Chiềng Ban/` for `HTX%20Chiềng Ban/`, and cut `Đồi ?A/log.sqlite` at '?')."""
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


SYNC_ENV = "LEAFSCOUT_SQLITE_SYNC"


def sqlite_synchronous(value: str | None = None) -> str:
    """FULL unless NORMAL is asked for (argument, else $LEAFSCOUT_SQLITE_SYNC).

    The log is a certification record: with WAL, FULL syncs every commit, so a power cut loses nothing
    that was reported as saved. NORMAL never corrupts either but may drop the last commits on a power cut;
    it is for bulk imports on a machine with a battery (benchmarks/bench_fieldlog_write.py measures both).
    """
    raw = (value if value is not None else os.environ.get(SYNC_ENV, "")).strip().upper()
    if raw in ("", "FULL", "2"):
        return "FULL"
    if raw in ("NORMAL", "1"):
        return "NORMAL"
    raise DatabaseUnavailableError(f"{SYNC_ENV}: expected FULL (default) or NORMAL, got {raw!r}")


def is_read_only_error(exc: BaseException) -> bool:
    """SQLite could not write where the log is (its -wal/-shm files, or the file itself)."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    return "unable to open" in text or "readonly" in text or "read-only" in text


def explain_open_error(exc: BaseException, url: str) -> DatabaseUnavailableError:
    """One line a person can act on, for a database that cannot be opened, read or reached."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        where = u.database
        low = text.lower()
        if is_read_only_error(orig) and where and not location_writable(Path(where)):
            return ReadOnlyLogError(read_only_message(Path(where)))
        if "not a database" in low or "malformed" in low:
            why = "is not an SQLite field log (a text file, or another format); point --db at the log file or a new name"
        elif "unable to open" in low:
            why = "cannot be opened (no permission, or a folder in the way); choose a writable file"
        elif "readonly" in low or "read-only" in low:
            why = "is read-only; choose a writable file"
        elif "locked" in low or "busy" in low:
            why = (f"is locked by another program (the app, another leafscout command, a database browser) and "
                   f"stayed locked for over {BUSY_TIMEOUT_S + WRITE_RETRY_BUDGET_S:.0f} s; nothing was written: "
                   "close that program, then run the command again")
        else:
            why = f"cannot be used ({text})"
        return DatabaseUnavailableError(f"field log {where} {why}.")
    shown = u.render_as_string(hide_password=True)
    low = text.lower()
    if any(w in low for w in ("connection refused", "could not connect", "connection failed", "timeout",
                               "name or service not known", "no route", "is the server running")):
        why = (f"cannot reach the PostgreSQL server at {u.host or 'localhost'}:{u.port or 5432}; "
               "is it running, and is the address right?")
    elif "authentication" in low or "password" in low:
        why = "the server refused the user name or password"
    elif "does not exist" in low:
        why = f"the server says: {text}"
    else:
        why = f"the database refused the request ({text})"
    return DatabaseUnavailableError(f"field log {shown}: {why}")


POSTGRES_EXTRA_HINT = 'install the \'postgres\' extra: pip install "leafscout[postgres]"'


def driver_missing(url: str, exc: BaseException | None = None) -> DatabaseUnavailableError:
    """One line for a URL whose driver (or SQLAlchemy dialect) is not installed, naming what to install."""
    u = make_url(url)
    shown = u.render_as_string(hide_password=True)
    backend = u.get_backend_name()
    missing = getattr(exc, "name", None) or (u.drivername.split("+", 1)[1] if "+" in u.drivername else backend)
    if backend == "postgresql":
        return DriverMissingError(f"field log {shown}: the PostgreSQL driver ({missing}) is not installed; "
                                  f"{POSTGRES_EXTRA_HINT}")
    if exc is not None and not isinstance(exc, ImportError):  # no such SQLAlchemy dialect at all
        return DatabaseUnavailableError(f"field log {shown}: {backend!r} is not a database this field log can use; "
                                        "give a file path (SQLite) or postgresql://user@host/dbname")
    return DriverMissingError(f"field log {shown}: the Python driver for {backend} ({missing}) is not installed; "
                              "install it with pip, or use a file path (SQLite) or postgresql://")


def check_driver(url: str) -> None:
    """Raise DriverMissingError (one line, naming the extra) when `url`'s database driver cannot be imported.
    Connects to nothing: the app calls it at start so a missing driver is said once, not at the first save."""
    from sqlalchemy.exc import NoSuchModuleError

    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        return
    try:
        u.get_dialect().import_dbapi()
    except (ImportError, NoSuchModuleError) as exc:
        raise driver_missing(url, exc) from None


def make_engine(url: str, synchronous: str | None = None) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        from sqlalchemy.exc import NoSuchModuleError
        try:
            return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
        except (ImportError, NoSuchModuleError) as exc:  # psycopg not installed (base install), or no dialect
            raise driver_missing(url, exc) from None
    if sqlite_path(url) is None:
        raise DatabaseUnavailableError("the field log needs a file, not an in-memory SQLite database")
    sync = sqlite_synchronous(synchronous)
    engine = create_engine(
        url,
        connect_args={"timeout": BUSY_TIMEOUT_S, "check_same_thread": False},
        pool_size=10,
        max_overflow=10,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (see _on_begin)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        # FULL by default: a commit reported as saved survives a power cut. NORMAL (opt-in) survives a
        # killed process but may drop the last commits on a power cut. See sqlite_synchronous().
        cur.execute(f"PRAGMA synchronous={sync}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        mode = "IMMEDIATE" if conn.get_execution_options().get("fieldlog_write") else "DEFERRED"
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database is busy" in text or "sqlite_busy" in text


def retry_busy(fn, *, budget_s: float = WRITE_RETRY_BUDGET_S):
    """Run fn(); if SQLite is still busy after its own timeout, back off and try again."""
    deadline = time.monotonic() + budget_s
    delay = 0.005
    while True:
        try:
            return fn()
        except OperationalError as exc:
            if not is_busy(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay * (1 + random.random()))
            delay = min(delay * 2, 0.5)


# ---- a log on a read-only place (a write-protected USB stick, a read-only share) -----------------------------
SIDE_FILES = ("-wal", "-journal")  # files beside the log that may hold committed data (WAL) or a hot rollback


def side_file(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def location_writable(path: Path) -> bool:
    """Whether this process can write the SQLite log at `path` and create its -wal and -shm files beside it.

    access(2) answers for the real user and says no on a read-only mount even for root (EROFS); on an ordinary
    folder root may write whatever the modes say, and then the log is writable."""
    if not os.access(path.parent, os.W_OK | os.X_OK):
        return False
    return all(not f.exists() or os.access(f, os.W_OK)
               for f in (path, side_file(path, "-wal"), side_file(path, "-shm"), side_file(path, "-journal")))


def read_only_message(path: Path) -> str:
    if not path.exists():
        return (f"cannot start a field log at {path}: the folder is on a read-only place (a write-protected USB "
                "stick, a read-only share, or a folder you cannot write); nothing was written. Choose a writable "
                "folder for --db.")
    return (f"field log {path} is on a read-only place (a write-protected USB stick, a read-only share, or a folder "
            "you cannot write): nothing was written. Reading commands (plots, history, audit, export, qr, backup) "
            "work on it; to add records, copy the log file with its -wal file and photos/ folder to a writable "
            "folder and give that copy as --db.")


def _readonly_engine(path: Path) -> Engine:
    """An engine that can only read `path` and never writes beside it: `mode=ro&immutable=1`, so SQLite neither
    creates -wal/-shm files nor takes locks. Only for a log whose committed data is all in the main file (no
    -wal or -journal with content): immutable=1 does not read a -wal, and would silently miss what it holds."""
    uri = f"file:{quote(str(path))}?mode=ro&immutable=1"

    def connect():
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn.execute("PRAGMA query_only=ON")
        return conn

    return create_engine(sqlite_url(path), creator=connect, pool_size=10, max_overflow=10)


def _stamp(path: Path) -> tuple:
    out = []
    for f in (path, *(side_file(path, s) for s in SIDE_FILES)):
        try:
            st = f.stat()
            out.append((f.name, st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append((f.name, None, None))
    return tuple(out)


def private_copy(path: Path, tries: int = 3) -> Path:
    """Copy the log and the side files that hold committed data (-wal, -journal; not -shm, which SQLite
    rebuilds) into a new private temporary folder, so SQLite can replay them there exactly as it would in place.
    Sizes and times are compared before and after: a copy taken while another machine writes is taken again."""
    for _ in range(tries):
        before = _stamp(path)
        tmp = Path(tempfile.mkdtemp(prefix="leafscout-ro-"))
        try:
            for f in (path, *(side_file(path, s) for s in SIDE_FILES)):
                if f.exists():
                    shutil.copyfile(f, tmp / ("fieldlog.sqlite" + f.name[len(path.name):]))
        except OSError as exc:
            shutil.rmtree(tmp, ignore_errors=True)
            raise DatabaseUnavailableError(
                f"field log {path} is on a read-only place and {side_file(path, '-wal').name} beside it holds commits "
                f"not yet in the main file; reading them needs a private copy in {tempfile.gettempdir()}, which "
                f"could not be made ({exc.strerror or exc}). Nothing was read: free space there (or set TMPDIR to a "
                "writable folder), or copy the log folder to a writable place and give that copy as --db.") from None
        if _stamp(path) == before:
            return tmp / "fieldlog.sqlite"
        shutil.rmtree(tmp, ignore_errors=True)
    raise DatabaseUnavailableError(
        f"field log {path} changed while it was being read {tries} times (another machine is writing it); nothing "
        "was read. Run the command again when that machine is done.")


def open_read_only(path: Path, head: str, current_revision, upgrade) -> tuple[Engine, Path | None]:
    """Open a SQLite log on a place this process cannot write, for reading only; never writes there.

    * all committed data in the main file (no -wal or -journal with content) and the newest schema: read in place
      with `mode=ro&immutable=1`;
    * a -wal with commits not yet merged (the log was copied while the app had it open), a hot -journal, or an
      older schema: read a private copy (main file and side files, in a temporary folder), where SQLite replays
      the -wal's committed transactions and the schema is upgraded; the copy is removed on close.
    Returns (engine, the copy's folder or None). Never reads the main file alone while a -wal holds data:
    that would silently miss commits.
    """
    if not path.is_file():
        raise DatabaseUnavailableError(f"no field log at {path}: check --db.")
    pending = [s for s in SIDE_FILES if side_file(path, s).exists() and side_file(path, s).stat().st_size > 0]
    if not pending:
        engine = _readonly_engine(path)
        try:
            if current_revision(engine) == head:
                return engine, None
        except Exception as exc:
            engine.dispose()
            raise explain_open_error(exc, sqlite_url(path)) from None
        engine.dispose()
    copy = private_copy(path)
    engine = make_engine(sqlite_url(copy))
    try:
        if current_revision(engine) is None:  # not made by LeafScout: never give it a schema and read it as empty
            raise DatabaseUnavailableError(f"field log {path} is not a LeafScout field log (an SQLite file without "
                                           "the log's schema version); point --db at the log file.")
        retry_busy(lambda: upgrade(engine))
        with engine.connect() as conn:
            check = conn.exec_driver_sql("PRAGMA quick_check").scalar()
        if check != "ok":
            raise DatabaseUnavailableError(
                f"field log {path}: its -wal or main file is damaged ({check}); nothing was read. Open the log "
                "where it was written (the machine that ran the app) and make a `leafscout log backup` there.")
    except DatabaseUnavailableError:
        engine.dispose()
        shutil.rmtree(copy.parent, ignore_errors=True)
        raise
    except Exception as exc:
        engine.dispose()
        shutil.rmtree(copy.parent, ignore_errors=True)
        raise explain_open_error(exc, sqlite_url(path)) from None
    return engine, copy.parent

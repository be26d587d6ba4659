"""Where the log lives and how to talk to it safely.

SQLite is the embedded default (one file, WAL). Writers take the lock up front with
BEGIN IMMEDIATE, so a reader never has to upgrade to a writer mid-transaction (the classic
source of instant "database is locked"); the busy timeout makes them queue instead of fail,
and `run_write` retries the rare SQLITE_BUSY that still escapes. PostgreSQL is used as given.
"""
from __future__ import annotations

import os
import random
import time
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import OperationalError

DEFAULT_DB = Path("~/.local/share/leafscout/fieldlog.sqlite")
BUSY_TIMEOUT_S = 30.0
WRITE_RETRY_BUDGET_S = 120.0


def resolve_url(url_or_path: str | os.PathLike | None) -> str:
    """--db argument, else $LEAFSCOUT_DB, else the per-user default file."""
    raw = url_or_path if url_or_path not in (None, "") else os.environ.get("LEAFSCOUT_DB") or DEFAULT_DB
    raw = str(raw)
    if "://" not in raw:
        path = Path(raw).expanduser().resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}"
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres"):  # prefer psycopg 3 when psycopg2 is absent
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path | None:
    u = make_url(url)
    if u.get_backend_name() != "sqlite" or not u.database or u.database == ":memory:":
        return None
    return Path(u.database)


def make_engine(url: str) -> Engine:
    if make_url(url).get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)
    if sqlite_path(url) is None:
        raise ValueError("the field log needs a file, not an in-memory SQLite database")
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
        # WAL + NORMAL never corrupts and survives a killed process; a power cut may drop the last
        # commits. LEAFSCOUT_SQLITE_SYNC=FULL trades ~4x slower writes for power-cut durability too.
        sync = "FULL" if os.environ.get("LEAFSCOUT_SQLITE_SYNC", "").upper() == "FULL" else "NORMAL"
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

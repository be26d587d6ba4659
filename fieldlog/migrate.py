"""Bring a database to the current schema with Alembic (`alembic upgrade head`)."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).with_name("migrations")


def _config(connection=None):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine) -> None:
    """Upgrade to head under a write lock, so two processes opening a new DB do not race.

    SQLite: revisions that change a table rebuild it (batch mode: copy, drop the old one, rename), and with
    foreign keys enforced, dropping `plots` trips over the observations, actions and lots that point at it
    ("FOREIGN KEY constraint failed": a log with records could not be opened at all). So foreign keys are off
    while the migration runs (the pragma has no effect inside a transaction: it is set before), every key is
    checked before the commit (`PRAGMA foreign_key_check`; any dangling one rolls the upgrade back), and they
    are on again before the connection goes back to the pool."""
    from alembic import command

    if current_revision(engine) == head_revision():
        return
    writer = engine.execution_options(fieldlog_write=True)
    if engine.dialect.name != "sqlite":
        with writer.begin() as conn:
            command.upgrade(_config(conn), "head")
        return
    with writer.connect() as conn:
        raw = conn.connection.driver_connection  # autocommit (isolation_level None): no transaction open yet
        raw.execute("PRAGMA foreign_keys=OFF")
        try:
            with conn.begin():
                command.upgrade(_config(conn), "head")
                dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if dangling:
                    raise RuntimeError(f"the upgraded log has {len(dangling)} records pointing at nothing "
                                       f"(first: table {dangling[0][0]}, row {dangling[0][1]}); it was not upgraded")
        finally:
            raw.execute("PRAGMA foreign_keys=ON")

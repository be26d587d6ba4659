"""The field log on both backends, for the storage and hostile-input tests: SQLite always, PostgreSQL when
LEAFSCOUT_TEST_PG_URL is set (tests/ci/setup_postgres.sh prints it). Import the fixtures by name:
`from fieldlog_backends import PG_URL, db_url, log  # noqa: F401`."""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine

from leafscout.fieldlog import FieldLog

PG_URL = os.environ.get("LEAFSCOUT_TEST_PG_URL")


def fresh_pg_database() -> tuple[str, callable]:
    """A new empty database on the test server, and a function that drops it."""
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"fieldlog_test_{uuid.uuid4().hex}"  # hex only, so safe to use as an identifier
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = admin.url.set(database=name).render_as_string(hide_password=False)

    def drop():
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()

    return url, drop


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "farm" / "fieldlog.sqlite")
        return
    if not PG_URL:
        pytest.skip("LEAFSCOUT_TEST_PG_URL not set (run tests/ci/setup_postgres.sh to test PostgreSQL)")
    url, drop = fresh_pg_database()
    yield url
    drop()


@pytest.fixture
def log(db_url, tmp_path):
    with FieldLog.open(db_url, photo_dir=tmp_path / "photos") as opened:
        yield opened

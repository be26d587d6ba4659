"""A PostgreSQL URL on an install without psycopg: one line naming the `postgres` extra, never a traceback.

The driver is hidden by putting None in sys.modules (what Python does for a module that is not installed
is raise ModuleNotFoundError; a None entry raises it too), so these run whether or not psycopg is installed.
"""
from __future__ import annotations

import sys

import pytest

PG_URL = "postgresql://u:p@127.0.0.1/x"
HINT = 'install the \'postgres\' extra: pip install "leafscout[postgres]"'


@pytest.fixture
def no_psycopg(monkeypatch):
    for name in ("psycopg", "psycopg2", "psycopg_binary"):
        monkeypatch.setitem(sys.modules, name, None)


def test_cli_log_says_which_extra_to_install(no_psycopg, capsys):
    from leafscout.cli import main
    assert main(["log", "plots", "--db", PG_URL]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafscout log: error: ") and err.endswith(HINT), err
    assert "\n" not in err and "Traceback" not in err and ":p@" not in err  # one line, password hidden


def test_cli_diagnose_log_says_it_too(no_psycopg, capsys, tmp_path):
    from conftest import LATE_BLIGHT_PHOTO
    from leafscout.cli import main
    assert main(["diagnose", str(LATE_BLIGHT_PHOTO), "--log", "Doi A", "--db", PG_URL]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("leafscout diagnose: error: ") and err[0].endswith(HINT), err


def test_fieldlog_and_service_give_an_error_code(no_psycopg):
    from leafscout.fieldlog import FieldLog
    from leafscout.fieldlog.errors import DatabaseUnavailableError
    from leafscout.errors import ServiceError
    from leafscout.service import DiagnosisService

    with pytest.raises(DatabaseUnavailableError) as ei:
        FieldLog.open(PG_URL)
    assert ei.value.code == "db_driver_missing" and HINT in str(ei.value)

    svc = DiagnosisService(db=PG_URL)
    with pytest.raises(ServiceError) as se:
        svc.check_log()
    assert (se.value.code, se.value.log_code) == ("log_error", "db_driver_missing")
    with pytest.raises(ServiceError) as se:  # a plot asked for: the log's real problem, not "unknown plot"
        svc.context(plot="Doi A")
    assert (se.value.code, se.value.log_code) == ("log_error", "db_driver_missing")
    assert HINT in str(se.value)


def test_app_translates_the_code_and_refuses_to_start(no_psycopg, capsys):
    from leafscout.webapp import app
    from leafscout.errors import ServiceError
    from leafscout.webapp import logbook as LB

    for lang in ("vi", "en"):
        msg = LB.refusal_text(ServiceError("log_error", "x", log_code="db_driver_missing"), lang)
        assert msg and "psycopg" not in msg and "x" != msg
    with pytest.raises(SystemExit) as ei:
        app.main(["--db", PG_URL])
    text = str(ei.value.code)
    assert text.startswith("LeafScout cannot start: ") and text.endswith(HINT) and "\n" not in text


def test_sqlite_and_a_present_driver_pass_the_check(tmp_path):
    from leafscout.fieldlog import db
    db.check_driver(db.resolve_url(str(tmp_path / "log.sqlite")))
    pytest.importorskip("psycopg")
    db.check_driver(db.resolve_url(PG_URL))  # connects to nothing


def test_unknown_scheme_is_one_line_too(capsys):
    from leafscout.cli import main
    assert main(["log", "plots", "--db", "foo://x/y"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("leafscout log: error: ") and "\n" not in err and "is not a database" in err

"""Dates an officer in Son La (UTC+7) types are read on the local clock; they must be shown on it too.

Before: `log act ... --at 2026-01-01` answered "on 2025-12-31 17:00 UTC", `log history` listed the spray on
"2025-12-31 17:00" (no zone named) right above "copper 2026", a lot harvested "2026-06-01" showed as
"2026-05-31 17:00", and `log audit --season 2026` said "Audit 2025-12-31 to 2026-12-31" and listed the New Year's
Day spray as "2025-12-31". The app's Log tab showed the same UTC dates without saying so.
"""
from __future__ import annotations

import time

import pytest

from leafscout.cli import main


@pytest.fixture
def son_la(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def _log(tmp_path, capsys) -> str:
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "coffee", "--area", "0.5", "--status", "certified",
                 "--db", db]) == 0
    assert main(["log", "act", "Đồi A", "--what", "sprayed glyphosate", "--substance", "glyphosate",
                 "--at", "2026-01-01", "--db", db]) == 0
    assert main(["log", "add-lot", "L1", "--plots", "Đồi A", "--harvested", "2026-06-01", "--db", db]) == 0
    capsys.readouterr()
    return db


def test_cli_shows_the_dates_the_officer_typed(tmp_path, capsys, son_la):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "coffee", "--area", "0.5", "--db", db]) == 0
    capsys.readouterr()
    assert main(["log", "act", "Đồi A", "--what", "weeding", "--at", "2026-01-01 07:30", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2026-01-01 07:30" in out and "UTC+07:00" in out and "2026-01-01 00:30 UTC" in out, out
    (tmp_path / "b").mkdir()
    db = _log(tmp_path / "b", capsys)
    assert main(["log", "history", "Đồi A", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2026-01-01 00:00  done   sprayed glyphosate" in out, out
    assert "harvest lot L1 on 2026-06-01 00:00" in out, out
    assert "2025-12-31" not in out and "2026-05-31" not in out, out
    assert "UTC+07:00" in out, out  # the zone the times are in is named
    assert main(["log", "audit", "--season", "2026", "--db", db]) == 1
    out = capsys.readouterr().out
    assert out.startswith("Audit 2026-01-01 to 2026-12-31"), out
    assert "FLAG 2026-01-01 Đồi A: sprayed glyphosate" in out, out
    assert "2025-12-31" not in out, out


def test_app_log_tab_shows_local_dates(tmp_path, son_la):
    from leafscout.fieldlog import FieldLog
    from webapp import logbook as LB

    class Services:
        def __init__(self, log):
            self.log = log
            from leafscout.service import default_advisor
            self.advisor = default_advisor()

    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        log.record_action("Đồi A", "sprayed glyphosate", active_substance="glyphosate", at="2026-01-01")
        s = Services(log)
        shown = LB.history_md(s, "Đồi A", "en")
        audit = LB.audit_md(s, 2026, "en")
    for text in (shown, audit):
        assert "2026-01-01" in text and "2025-12-31" not in text, text

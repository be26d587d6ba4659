"""The season audit as an extension officer runs it with `leafscout log audit` after a season of observations,
confirmations and corrections."""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "coop" / "log.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi Cà phê", "coffee", 0.5)
        for seed, day in ((1, "2025-03-01"), (2, "2025-03-02")):
            leaf = tmp_path / f"leaf{seed}.jpg"
            cv2.imwrite(str(leaf), np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8))
            log.record_observation("Đồi Cà phê", leaf, "coffee.rust", "uncertain", 0.5, "3.1.0", observed_at=day)
    return path


def test_a_corrected_observation_counts_as_a_persons_diagnosis(db, capsys):
    """The audit listed a corrected observation as an unconfirmed model result, "not counted until a person
    confirms it: leafscout log confirm 2 --by NAME", and that command is refused for a corrected record: the
    officer could never get it counted. A correction is a person's call: it counts."""
    assert main(["log", "confirm", "1", "--by", "Lò Thị Hoa", "--db", db]) == 0
    assert main(["log", "correct", "2", "--label", "coffee.berry_borer", "--by", "Lò Văn Nam", "--db", db]) == 0
    capsys.readouterr()
    assert main(["log", "confirm", "2", "--by", "Lò Thị Hoa", "--db", db]) == 2  # as before: the correction stands
    capsys.readouterr()
    assert main(["log", "audit", "--season", "2025", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "2 confirmed diagnoses" in out and "UNCF" not in out and "log confirm 2" not in out, out


def test_a_spray_logged_on_new_years_day_in_son_la_counts_in_that_years_copper(tmp_path, monkeypatch):
    """A date typed without a time is the recorder's midnight: in Son La (UTC+7) "2026-01-01" is stored as
    2025-12-31 17:00 UTC. The copper ledger counted it in 2025 while the season audit from 2026-01-01 listed
    the spray in 2026; both now read the recorder's calendar year."""
    import time

    from leafscout.fieldlog.api import FieldLog
    from leafscout.fieldlog.timeutil import local_year
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    try:
        log = FieldLog.open(str(tmp_path / "log.sqlite"))
        try:
            log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
            a = log.record_action("Đồi A", "sprayed Bordeaux", active_substance="copper hydroxide",
                                  copper_kg_ha=1.5, at="2026-01-01")
            assert a.at.year == 2025 and local_year(a.at) == 2026  # stored in UTC, read on the local calendar
            assert log.copper_ledger("Đồi A") == {2026: 1.5}
            assert log.copper_used("Đồi A", 2026) == (1.5, 1.5) and log.copper_used("Đồi A", 2025) == (0.0, 0.0)
        finally:
            log.close()
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()

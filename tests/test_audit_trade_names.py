"""A grower logs a spray by what is written on the bottle: `leafscout log act "Đồi A" --what phun --product
"Karate 2.5EC"`, no active substance. The season audit said "no active substance recorded (cultural or mechanical
measure)" and marked it `----`: a banned pyrethroid spray passed the certifier's review unseen. Now the audit checks
the product name through the same substance list (which knows trade names), flags a banned product, passes an allowed
one, and says of a product it does not know that its substance must be recorded, never "ok"."""
from __future__ import annotations

import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog


@pytest.fixture
def season(tmp_path) -> str:
    db = str(tmp_path / "coop.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        log.record_action("Đồi A", "phun trừ sâu", product="Karate 2.5EC", at="2025-05-02T08:00")
        log.record_action("Đồi A", "phun phòng gỉ sắt", product="COC 85", amount=2.0, unit="kg/ha",
                          at="2025-06-02T08:00")
        log.record_action("Đồi A", "bón phân", product="phân chuồng hoai", at="2025-07-02T08:00")
        log.record_action("Đồi A", "làm cỏ tay", at="2025-08-02T08:00")
    return db


def _rows(text: str) -> dict[str, str]:
    return {what: line for line in text.splitlines()
            for what in ("phun trừ sâu", "phun phòng gỉ sắt", "bón phân", "làm cỏ tay") if f": {what}" in line}


def test_a_banned_product_logged_by_its_trade_name_is_flagged(season, capsys):
    rc = main(["log", "audit", "--season", "2025", "--db", season])
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rc == 1, out  # something flagged
    assert rows["phun trừ sâu"].startswith("FLAG") and "(Karate 2.5EC)" in rows["phun trừ sâu"], out
    assert "Karate = lambda-cyhalothrin" in rows["phun trừ sâu"], out
    assert rows["phun phòng gỉ sắt"].startswith("ok") and "COC 85" in rows["phun phòng gỉ sắt"], out
    assert rows["bón phân"].startswith("----") and "record its active substance" in rows["bón phân"], out
    assert rows["làm cỏ tay"].startswith("----") and "cultural or mechanical" in rows["làm cỏ tay"], out


def test_the_same_in_vietnamese(season, capsys):
    rc = main(["log", "audit", "--season", "2025", "--db", season, "--lang", "vi"])
    out = capsys.readouterr().out
    rows = _rows(out)
    assert rc == 1, out
    assert rows["phun trừ sâu"].startswith("KHÔNG ĐẠT") and "Karate = lambda-cyhalothrin: Không được phép" in out, out
    assert rows["bón phân"].startswith("----") and "hãy ghi hoạt chất" in rows["bón phân"], out


def test_copper_sulphate_in_a_bordeaux_row_passes_and_a_banned_one_beside_bordeaux_does_not(tmp_path, capsys):
    """A Bordeaux spray logged with the substance it is made of ("copper sulphate", allowed only as Bordeaux's
    ingredient) was flagged KHÔNG ĐẠT by the season audit, though the log warned of nothing; fipronil written in a
    row that says Bordeaux stays flagged."""
    db = str(tmp_path / "coop.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        log.record_action("Đồi A", "Phun Bordeaux 1%", active_substance="copper sulphate", copper_kg_ha=0.4,
                          at="2025-05-02T08:00")
        log.record_action("Đồi A", "phun copper sulphate", active_substance="copper sulphate", copper_kg_ha=0.4,
                          at="2025-05-03T08:00")
        log.record_action("Đồi A", "Phun Bordeaux", active_substance="fipronil", copper_kg_ha=0.4,
                          at="2025-06-02T08:00")
    rc = main(["log", "audit", "--season", "2025", "--db", db, "--lang", "vi"])
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if "Đồi A: " in ln]
    assert rows[0].startswith("ĐẠT") and "Bordeaux" in rows[0], out
    assert rows[1].startswith("KHÔNG ĐẠT"), out  # copper sulphate for nothing it makes
    assert rows[2].startswith("KHÔNG ĐẠT") and "fipronil" in rows[2], out
    assert rc == 1


def test_the_log_warning_and_the_audit_judge_a_row_alike(tmp_path, capsys):
    """The warning said when an action is logged and the season audit read the same row two ways: copper sulphate
    written as the product of a Bordeaux spray was no alarm when logged but FLAG in the audit, and a substance the
    list does not know passed the audit in a row that said Bordeaux. One judgement now serves both."""
    from leafscout.service import default_advisor, substance_warning
    db = str(tmp_path / "coop.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        bordeaux = log.record_action("Đồi A", "Phun Bordeaux 1%", product="copper sulphate", copper_kg_ha=0.4,
                                     at="2025-05-02T08:00")
        unknown = log.record_action("Đồi A", "Phun Bordeaux 1%", active_substance="thuốc lạ xyz", copper_kg_ha=0.4,
                                    at="2025-05-03T08:00")
    assert substance_warning(bordeaux, default_advisor()) is None
    main(["log", "audit", "--season", "2025", "--db", db])
    rows = [ln for ln in capsys.readouterr().out.splitlines() if "Đồi A: " in ln]
    assert rows[0].startswith("ok") and "(copper sulphate)" in rows[0], rows
    assert rows[1].startswith("FLAG") and "thuốc lạ xyz" in rows[1], rows
    assert substance_warning(unknown, default_advisor()) is None  # unknown: the audit's to flag, no alarm when logged

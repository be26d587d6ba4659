"""An extension officer in Son La runs `leafscout log audit --season 2025 --lang vi` and hands the report to the
cooperative and the certifier: it read in English (heading, FLAG/OVER/UNCF marks, "no active substance recorded",
"not counted until a person confirms it", copper rows with a decimal point) and the substance check's reasons were
English too, although the advisor has them in Vietnamese. Without --lang the report stays English, word for word."""
from __future__ import annotations

import re
import time

import cv2
import numpy as np
import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog


@pytest.fixture(scope="module")
def advisor():
    from leafscout.service import default_advisor
    return default_advisor()


@pytest.fixture
def son_la(monkeypatch):
    """The recorder's clock is Son La's (UTC+7)."""
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def season(tmp_path) -> str:
    """A coffee plot's 2025: seven years of copper (29.75 kg Cu/ha, over the 28 cap), a prohibited insecticide,
    hand weeding, one confirmed and one unconfirmed photo."""
    db = str(tmp_path / "coop.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi Cà phê", "coffee", 0.25, organic_status="certified")
        for seed, day in ((1, "2025-03-01"), (2, "2025-05-02")):
            leaf = tmp_path / f"leaf{seed}.jpg"
            cv2.imwrite(str(leaf), np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8))
            log.record_observation("Đồi Cà phê", leaf, "coffee.rust", "uncertain", 0.5, "3.1.0", observed_at=day)
        log.confirm_observation(1, "Lò Thị Hoa")
        for year in range(2019, 2026):
            log.record_action("Đồi Cà phê", "phun Bordeaux", active_substance="copper hydroxide", copper_kg_ha=4.25,
                              at=f"{year}-04-01")
        log.record_action("Đồi Cà phê", "phun thuốc sâu", active_substance="chlorpyrifos", at="2025-04-02")
        log.record_action("Đồi Cà phê", "làm cỏ tay", at="2025-04-03")
    return db


def _audit(capsys, db, *lang) -> tuple[int, str]:
    rc = main(["log", "audit", "--season", "2025", "--db", db, *lang])
    return rc, capsys.readouterr().out


def test_the_vi_audit_report_reads_in_vietnamese(season, capsys, advisor, son_la):
    rc, out = _audit(capsys, season, "--lang", "vi")
    assert rc == 1, out  # as in English: something to look at
    lines = out.splitlines()
    assert lines[0] == ("Kiểm tra mùa vụ từ 2025-01-01 đến 2025-12-31 (ngày theo giờ UTC+07:00): 3 việc đã làm, "
                        "1 việc không được phép, 1 lô ruộng vượt giới hạn đồng; 1 chẩn đoán đã xác nhận, "
                        "1 kết quả của máy chưa xác nhận (không tính)"), lines[0]
    # the advisor's own Vietnamese reasons, not its English ones
    for substance in ("copper hydroxide", "chlorpyrifos"):
        reason = advisor.check_substance(substance).reason
        assert reason["vi"] in out and reason["en"] not in out, (substance, out)
    assert re.search(r"^KHÔNG ĐẠT +2025-04-02 Đồi Cà phê: phun thuốc sâu \(chlorpyrifos\) — ", out, re.M), out
    assert re.search(r"^ĐẠT +2025-04-01 Đồi Cà phê: phun Bordeaux \(copper hydroxide\) — ", out, re.M), out
    assert re.search(r"^---- +2025-04-03 Đồi Cà phê: làm cỏ tay — không ghi hoạt chất \(biện pháp canh tác hoặc "
                     r"cơ giới\)$", out, re.M), out
    assert re.search(r"^CHƯA XÁC NHẬN 2025-05-02 Đồi Cà phê: #2 coffee.rust \(chưa chắc chắn, 50%\) — chưa được "
                     r"tính cho đến khi có người xác nhận: leafscout log confirm 2 --by TÊN$", out, re.M), out
    # kg with a decimal comma, as every other vi number the CLI writes
    assert re.search(r"^VƯỢT +đồng Đồi Cà phê: 4,25 kg/ha năm nay, 29,75 kg/ha trong 7 năm \(giới hạn 28\)$",
                     out, re.M), out
    for english in ("Audit ", "actions", "not allowed", "this year", "over 7 years", "FLAG", "OVER", "UNCF",
                    "not counted", "no active substance", "(cap ", "uncertain", "4.25", "29.75"):
        assert english not in out, (english, out)


def test_the_vi_report_rows_line_up(season, capsys):
    """The marks differ in length in Vietnamese (ĐẠT, KHÔNG ĐẠT, CHƯA XÁC NHẬN): padded to one width, every row's
    date or 'đồng' starts in the same column, as the English report's 4-letter marks do."""
    _, out = _audit(capsys, season, "--lang", "vi")
    starts = {re.search(r" (\d{4}-\d\d-\d\d|đồng) ", line).start() for line in out.splitlines()[1:]}
    assert len(starts) == 1 and len(out.splitlines()) == 1 + 3 + 1 + 1, out


def test_without_lang_the_report_is_english_word_for_word(season, capsys, advisor, son_la):
    rc, out = _audit(capsys, season)
    assert rc == 1
    ok, no = (advisor.check_substance(s).reason["en"] for s in ("copper hydroxide", "chlorpyrifos"))
    assert out.splitlines() == [
        "Audit 2025-01-01 to 2025-12-31 (dates in UTC+07:00): 3 actions, 1 not allowed, 1 plots over the copper cap; "
        "1 confirmed diagnoses, 1 unconfirmed model results (not counted)",
        f"ok   2025-04-01 Đồi Cà phê: phun Bordeaux (copper hydroxide) — {ok}",
        f"FLAG 2025-04-02 Đồi Cà phê: phun thuốc sâu (chlorpyrifos) — {no}",
        "---- 2025-04-03 Đồi Cà phê: làm cỏ tay — no active substance recorded (cultural or mechanical measure)",
        "UNCF 2025-05-02 Đồi Cà phê: #2 coffee.rust (uncertain, 50%) — not counted until a person confirms it: "
        "leafscout log confirm 2 --by NAME",
        "OVER copper Đồi Cà phê: 4.25 kg/ha this year, 29.75 kg/ha over 7 years (cap 28)"], out
    assert main(["log", "audit", "--season", "2025", "--db", season, "--lang", "en"]) == 1
    assert capsys.readouterr().out == out


def test_a_note_cannot_forge_a_line_in_the_vi_report(tmp_path, capsys):
    """What was done is typed by anyone: a line break in it is printed escaped in Vietnamese as in English, so it
    cannot add a fake 'ĐẠT' row under its own."""
    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "làm cỏ\nĐẠT           2025-04-09 Đồi A: phun dầu neem", at="2025-04-09")
    rc, out = _audit(capsys, db, "--lang", "vi")
    assert rc == 0 and len(out.splitlines()) == 3, out
    assert "làm cỏ\\nĐẠT" in out


def test_a_checker_that_answers_yes_or_no_reads_in_the_audits_language(tmp_path):
    """A substance checker may answer a bare bool (tests, a certifier's own list): its reason was "allowed" /
    "not allowed" in English whatever the audit's language."""
    from leafscout.fieldlog.audit import season_audit
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "phun", active_substance="neem oil", at="2025-04-01")
        log.record_action("Đồi A", "phun", active_substance="glyphosate", at="2025-04-02")
        check = lambda s: s == "neem oil"  # noqa: E731
        vi = season_audit(log, "2025-01-01", "2026-01-01", check, 28.0, lang="vi")
        en = season_audit(log, "2025-01-01", "2026-01-01", check, 28.0)
    assert [r.reason for r in vi.rows] == ["được phép", "không được phép"]
    assert [r.reason for r in en.rows] == ["allowed", "not allowed"]
    assert vi.to_text().startswith("Kiểm tra mùa vụ") and en.to_text().startswith("Audit ")
    assert vi.to_text("en").startswith("Audit ")  # the words follow to_text's language; the reasons were read vi

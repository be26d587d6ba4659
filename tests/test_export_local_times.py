"""Exports show times on the recorder's clock, as the CLI and the Log tab do (commit 20490b3).

Before: a lot harvested on 1 June in Son La (UTC+7, typed "2026-06-01") read "Harvested 2026-05-31 17:00 UTC" in
the HTML a buyer opens from the QR code, the PDF said the same and its time columns were headed "(UTC)", and the
CSV's time column held "2026-05-31 17:00 UTC": every date a day early for anything done before 07:00, while the
copper year beside it was the local one. Human-facing times are now local with the zone named; the CSV's `time`
is ISO 8601 with the offset (unambiguous, sorts as text), and a `time_utc` column holds UTC for spreadsheets.
"""
from __future__ import annotations

import csv
import io
import re
import time
from pathlib import Path

import numpy as np
import pytest

from leafscout.fieldlog import FieldLog, export

pypdf = pytest.importorskip("pypdf")


@pytest.fixture
def son_la(monkeypatch):
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    yield
    monkeypatch.delenv("TZ")
    time.tzset()


def _photo(path: Path) -> Path:
    from PIL import Image
    Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def log(tmp_path, son_la):
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        obs = log.record_observation("Đồi A", _photo(tmp_path / "a.jpg"), "coffee.rust", "uncertain", 0.5, "3.1.0",
                                     observed_at="2026-03-02T06:30")
        log.correct_observation(obs.id, "coffee.leaf_miner", "Lò Thị Hoa")  # now: its time is the clock's
        log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=1.0,
                          at="2026-01-01")
        log.add_lot("L1", ["Đồi A"], harvested_at="2026-06-01")
        yield log


def test_html_shows_local_times_with_the_zone(log):
    page = export.to_html(export.build(log, "L1"), log)
    assert "2026-05-31" not in page and "2025-12-31" not in page and "17:00" not in page, page
    assert "Harvested <time datetime='2026-06-01T00:00+07:00'>2026-06-01 00:00 UTC+07:00</time>" in page, page
    assert "2026-01-01 00:00 UTC+07:00" in page and "2026-03-02 06:30 UTC+07:00" in page
    assert " UTC<" not in page and " UTC " not in page  # nothing labelled plain UTC any more
    assert "<td>2026</td><td>1</td>" in page  # the ledger's year: the spray's local year, as the times now read


def test_csv_time_is_iso_with_offset_and_utc_beside_it(log):
    rows = list(csv.DictReader(io.StringIO(export.to_csv(export.build(log, "L1")))))
    by_kind = {r["kind"]: r for r in rows}
    assert by_kind["lot"]["time"] == "2026-06-01T00:00+07:00"
    assert by_kind["lot"]["time_utc"] == "2026-05-31 17:00"
    assert by_kind["action"]["time"] == "2026-01-01T00:00+07:00"
    assert by_kind["action"]["time_utc"] == "2025-12-31 17:00"
    assert by_kind["observation"]["time"] == "2026-03-02T06:30+07:00"
    assert by_kind["correction"]["time"].endswith("+07:00")
    assert by_kind["plot"]["time"] == by_kind["plot"]["time_utc"] == ""
    header = next(csv.reader(io.StringIO(export.to_csv(export.build(log, "L1")))))
    # appended: the older columns keep their place
    assert header[:3] == ["kind", "plot", "time"] and header.index("time_utc") > header.index("buffer_notes")


def test_pdf_shows_local_times_and_names_the_zone(log):
    for lang, heading in (("vi", "Thời gian (UTC+07:00)"), ("en", "Time (UTC+07:00)")):
        text = " ".join(p.extract_text() for p in
                        pypdf.PdfReader(io.BytesIO(export.to_pdf(export.build(log, "L1"), lang=lang))).pages)
        text = re.sub(r"\s+", " ", text)
        assert "2026-05-31" not in text and "2025-12-31" not in text, text
        assert "2026-06-01 00:00 UTC+07:00" in text and "2026-01-01 00:00" in text, text
        assert heading in text and "(UTC)" not in text, text


def test_a_utc_clock_still_says_utc(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
            log.add_plot("Đồi A", "coffee", 0.5)
            log.add_lot("L1", ["Đồi A"], harvested_at="2026-06-01T08:00")
            page = export.to_html(export.build(log, "L1"), log)
            rows = list(csv.DictReader(io.StringIO(export.to_csv(export.build(log, "L1")))))
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "2026-06-01 08:00 UTC</time>" in page
    assert rows[0]["time"] == "2026-06-01T08:00+00:00" and rows[0]["time_utc"] == "2026-06-01 08:00"


def test_pdf_with_summer_time_names_the_zone_in_each_cell(tmp_path, monkeypatch):
    """Where the clock changes (a certifier's office in Europe), one table holds two offsets: the heading cannot
    name one zone, so each time carries its own."""
    monkeypatch.setenv("TZ", "Europe/Berlin")
    time.tzset()
    try:
        with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
            log.add_plot("Đồi A", "coffee", 0.5)
            log.record_action("Đồi A", "weeding", at="2026-01-10T09:00")
            log.record_action("Đồi A", "neem", at="2026-07-10T09:00")
            text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(
                export.to_pdf(export.build(log, "Đồi A"), lang="en"))).pages)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    text = re.sub(r"\s+", " ", text)
    assert "2026-01-10 09:00 UTC+01:00" in text and "2026-07-10 09:00 UTC+02:00" in text, text
    assert "Time (UTC" not in text, text

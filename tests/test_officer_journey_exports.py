"""An extension officer's season, read back from the exports: every record there, complete, and nothing a
spreadsheet or a PDF writer chokes on. Found walking the journey (plots, sprays, corrections, lots, exports)."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog

pypdf = pytest.importorskip("pypdf")


def _photo(path: Path, seed: int) -> Path:
    from PIL import Image
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
    return path


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return re.sub(r"\s+", "", "".join(p.extract_text() for p in reader.pages))


def test_a_long_treatment_note_is_exported_whole_not_a_traceback(tmp_path, capsys):
    """The log keeps 2,000 characters of 'what was done'; the PDF table cannot split a row over pages, so the PDF
    export died with fpdf2's ValueError traceback (after the HTML was written). The cell is now cut with a [n]
    mark and the full text printed under the table."""
    db = str(tmp_path / "log.sqlite")
    what = "phun dầu neem lên toàn bộ hàng cà phê phía đông " * 40  # ~1,900 characters, Vietnamese words
    with FieldLog.open(db) as log:
        log.add_plot("Đồi Cà phê", "coffee", 0.5)
        log.record_action("Đồi Cà phê", what, product="Ư" * 200, by="Lò Văn Nam", at="2026-05-01")
        log.add_lot("LOT-1", ["Đồi Cà phê"], harvested_at="2026-11-01", notes="ghi chú " * 400)
    out = tmp_path / "lot.pdf"
    capsys.readouterr()
    assert main(["export", "LOT-1", "--db", db, "--pdf", str(out), "--lang", "en"]) == 0, capsys.readouterr().err
    text = _pdf_text(out)
    assert re.sub(r"\s+", "", what.strip()) in text  # the whole note, once, in the PDF
    assert "Ư" * 200 in text and "LòVănNam" in text


def test_a_pdf_the_writer_cannot_lay_out_is_one_line(tmp_path, capsys, monkeypatch):
    from leafscout.fieldlog import export

    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5)

    def broken(*a, **k):
        raise ValueError("The row with index 1 is too high and cannot be rendered on a single page")
    monkeypatch.setattr(export, "to_pdf", broken)
    capsys.readouterr()
    assert main(["export", "Đồi A", "--db", db, "--pdf", str(tmp_path / "a.pdf"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "cannot lay out the PDF" in err, err
    assert not (tmp_path / "a.pdf").exists()


def test_csv_and_html_exports_carry_the_corrections(tmp_path, capsys):
    """The PDF showed "corrected to ..." but the CSV and HTML, the auditor's machine-readable copies, held only
    the model's wrong label: the person's correction was missing from them. Each correction is now a CSV row
    (kind "correction": new and previous label, who, when, note, the photo's hash) and a line in the HTML."""
    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi Cà phê", "coffee", 0.5)
        obs = log.record_observation("Đồi Cà phê", _photo(tmp_path / "a.jpg", 1), "coffee.rust", "uncertain", 0.5,
                                     "3.1.0", observed_at="2026-03-02T08:00")
        log.correct_observation(obs.id, "coffee.berry_borer", "=Lò Văn Nam", note="@quả có lỗ đục")
        log.correct_observation(obs.id, "coffee.leaf_miner", "Lò Thị Hoa")
    out, page = tmp_path / "plot.csv", tmp_path / "plot.html"
    assert main(["export", "Đồi Cà phê", "--db", db, "--csv", str(out), "--html", str(page), "--lang", "en"]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["plot", "observation", "correction", "correction"]
    first, second = rows[2], rows[3]
    assert (first["label"], first["previous_label"], first["by"], first["note"], first["observation_id"]) == (
        "coffee.berry_borer", "coffee.rust", "'=Lò Văn Nam", "'@quả có lỗ đục", str(obs.id))
    assert (second["label"], second["previous_label"], second["by"]) == ("coffee.leaf_miner", "coffee.berry_borer",
                                                                         "Lò Thị Hoa")
    assert first["photo_sha256"] == rows[1]["photo_sha256"]
    # local ISO 8601 with the offset, and UTC beside it (test_export_local_times.py)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d[+-]\d\d:\d\d", first["time"]) and first["time_utc"]
    html = page.read_text(encoding="utf-8")
    # the knowledge base's name, the stored label after it (test_export_html_names.py)
    assert "corrected to Coffee berry borer (Coffee) <code class='id'>coffee.berry_borer</code> by =Lò Văn Nam" in html
    assert "corrected to Coffee leaf miner (Coffee) <code class='id'>coffee.leaf_miner</code>" in html


def test_csv_plot_rows_carry_location_and_buffer_zone_defused(tmp_path):
    """The HTML and PDF show each plot's location and buffer zone (what a certifier checks against drift from
    neighbours); the CSV left both out."""
    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi Cà phê", "coffee", 0.5, location="=HYPERLINK(\"http://x\")",
                     buffer_notes="-hàng cây keo 10 m phía bắc")
    out = tmp_path / "plot.csv"
    assert main(["export", "Đồi Cà phê", "--db", db, "--csv", str(out)]) == 0
    (plot,) = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert plot["location"] == "'=HYPERLINK(\"http://x\")" and plot["buffer_notes"] == "'-hàng cây keo 10 m phía bắc"


def test_the_html_export_marks_a_plot_over_the_copper_cap(tmp_path):
    """The PDF names the cap; the HTML page a certifier opens showed the 7-year copper with no mark at all."""
    from leafscout.fieldlog import export
    from leafscout.fieldlog.api import FieldLog
    log = FieldLog.open(str(tmp_path / "log.sqlite"))
    try:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        log.add_plot("Đồi B", "coffee", 0.5, organic_status="certified")
        for year in range(2020, 2026):
            log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=5.0,
                              at=f"{year}-06-01")
        over = export.to_html(export.build(log, "Đồi A"), log, copper_cap=28)
        fine = export.to_html(export.build(log, "Đồi B"), log, copper_cap=28)
        assert "class='over'>30 kg/ha: over the 28 kg/ha cap" in over
        assert "over the" not in fine and "0 kg/ha (cap 28)" in fine
    finally:
        log.close()


def test_leafscout_export_marks_a_plot_over_the_cap_in_its_default_html(tmp_path, capsys, monkeypatch):
    """`leafscout export PLOT` writes HTML by default: the command looked the cap up only for --pdf, so the page a
    certifier opens from the command line had no over-cap mark although the HTML knows how to draw it."""
    from leafscout.fieldlog.api import FieldLog
    db = str(tmp_path / "log.sqlite")
    log = FieldLog.open(db)
    try:
        log.add_plot("Đồi A", "coffee", 0.5, organic_status="certified")
        for year in range(2020, 2026):
            log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=5.0,
                              at=f"{year}-06-01")
    finally:
        log.close()
    monkeypatch.chdir(tmp_path)
    assert main(["export", "Đồi A", "--db", db, "--html", str(tmp_path / "a.html"), "--lang", "en"]) == 0
    assert "class='over'>30 kg/ha: over the 28 kg/ha cap" in (tmp_path / "a.html").read_text(encoding="utf-8")

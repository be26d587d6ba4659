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
    assert main(["export", "Đồi A", "--db", db, "--pdf", str(tmp_path / "a.pdf")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1 and "cannot lay out the PDF" in err, err
    assert not (tmp_path / "a.pdf").exists()

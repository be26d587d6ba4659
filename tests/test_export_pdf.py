"""`leafscout export LOT --pdf` in the user's language (issue 18): the knowledge base's names instead of raw
labels, whole-percentage confidences (never 0.928934), the person who confirmed each diagnosis (the CSV already
kept it), Vietnamese diacritics rendered (DejaVu), user text written as text. Read back with pypdf."""
from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pytest

from leafscout.fieldlog import FieldLog
from leafscout.cli import main

pypdf = pytest.importorskip("pypdf")
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _photo(path: Path, seed: int) -> Path:
    from PIL import Image
    Image.fromarray(np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(path)
    return path


@pytest.fixture
def season(tmp_path) -> str:
    db = str(tmp_path / "log.sqlite")
    with FieldLog.open(db) as log:
        log.add_plot("Đồi Chè 2", "coffee", 1.5, organic_status="certified",
                     buffer_notes="<b>10 m</b> rừng & =HYPERLINK(\"x\")")
        log.record_observation("Đồi Chè 2", _photo(tmp_path / "a.jpg", 1), "coffee.rust", "ok", 0.928934,
                               "effnet-lite0-v3", observer="Quàng Thị Mai", observed_at="2025-07-01T08:00",
                               confirmed_by="Lò Thị Hoa")
        log.record_observation("Đồi Chè 2", _photo(tmp_path / "b.jpg", 2), "coffee.leaf_miner", "uncertain",
                               0.41234567, "effnet-lite0-v3", observed_at="2025-07-03T08:00")
        log.record_action("Đồi Chè 2", "phun đồng hydroxit", product="Kocide", active_substance="copper hydroxide",
                          amount=1.0, unit="kg", copper_kg_ha=1.2345678, by="Quàng Thị Mai", at="2025-07-02")
        log.add_lot("CB-2025-11", ["Đồi Chè 2"], harvested_at="2025-11-20", quantity_kg=640)
    return db


@pytest.fixture(scope="module")
def advisor():
    from leafscout.service import default_advisor
    return default_advisor()


def _pdf_text(path: Path) -> str:
    reader = pypdf.PdfReader(io.BytesIO(path.read_bytes()))
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in reader.pages))


def _name(advisor, label, lang) -> str:
    p = advisor.kb.problems[label]
    return f"{p['names'][lang]} ({advisor.kb.crops[p['crop']][lang]})"


@pytest.mark.skipif(not DEJAVU.is_file(), reason="the DejaVu font (.ci/run installs fonts-dejavu-core)")
def test_lot_pdf_in_vietnamese_by_default(season, advisor, tmp_path, capsys):
    out = tmp_path / "lot.pdf"
    assert main(["export", "CB-2025-11", "--db", season, "--pdf", str(out)]) == 0, capsys.readouterr().err
    text = _pdf_text(out)
    for expected in ("Lô thu hoạch CB-2025-11", "Lô ruộng Đồi Chè 2", "đã chứng nhận hữu cơ",
                     _name(advisor, "coffee.rust", "vi"), _name(advisor, "coffee.leaf_miner", "vi"),
                     "Lò Thị Hoa", "CHƯA XÁC NHẬN", "93%", "41%", "Người xác nhận", "Quàng Thị Mai",
                     "giới hạn 28 kg Cu/ha", "1,235"):
        assert expected in text, (expected, text)
    assert "coffee.rust" not in text and "coffee.leaf_miner" not in text  # names, not raw labels
    assert not re.search(r"\d[.,]\d{4,}", text), text  # no raw floats such as 0.928934 or 1.2345678
    assert "<b>10 m</b> rừng & =HYPERLINK" in text  # user text as it was typed, nothing interpreted


def test_lot_pdf_in_english(season, advisor, tmp_path, capsys):
    out = tmp_path / "lot-en.pdf"
    assert main(["export", "CB-2025-11", "--db", season, "--pdf", str(out), "--lang", "en"]) == 0
    text = _pdf_text(out)
    for expected in ("Harvest lot CB-2025-11", _name(advisor, "coffee.rust", "en"), "Confirmed by", "Lò Thị Hoa"
                     if DEJAVU.is_file() else "Lo Thi Hoa", "UNCONFIRMED", "93%", "cap 28 kg Cu/ha"):
        assert expected in text, (expected, text)
    assert "coffee.rust" not in text and not re.search(r"\d[.,]\d{4,}", text)


def test_export_csv_keeps_stored_values_and_a_bad_lang_is_refused(season, tmp_path, capsys):
    out = tmp_path / "lot.csv"
    assert main(["export", "CB-2025-11", "--db", season, "--csv", str(out), "--lang", "vi"]) == 0
    csv_text = out.read_text(encoding="utf-8")
    assert "coffee.rust" in csv_text and "Lò Thị Hoa" in csv_text  # machine output: ids, not names
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:  # argparse's refusal: usage and one error line, exit 2
        main(["export", "CB-2025-11", "--db", season, "--pdf", str(tmp_path / "x.pdf"), "--lang", "fr"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "--lang" in err and "Traceback" not in err and not (tmp_path / "x.pdf").exists()


def test_the_app_exports_the_pdf_in_the_page_language(season, advisor, tmp_path):
    from types import SimpleNamespace

    from leafscout.webapp.logbook import export_files

    with FieldLog.open(season) as log:
        services = SimpleNamespace(log=log, advisor=advisor)
        msg, files = export_files(services, "CB-2025-11", "vi")
        assert msg == "" and len(files) == 3
        text = _pdf_text(Path(next(f for f in files if f.endswith(".pdf"))))
    assert _name(advisor, "coffee.rust", "vi") in text and "Lò Thị Hoa" in text and "93%" in text

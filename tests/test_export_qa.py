"""The exports read as a certifier and a buyer read them (QA after the local-times change): every figure as it was
recorded, every record there, and a PDF on any computer."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest

from leafscout.fieldlog import FieldLog, export

pypdf = pytest.importorskip("pypdf")


def _gps_photo(path: Path, lat=(21, 19, 30.0), lon=(103, 54, 36.99)) -> Path:
    from PIL import Image
    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: lat, 3: "E", 4: lon}
    img.save(path, exif=exif)
    return path


def _pdf_text(data: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages))


def test_csv_and_html_keep_every_digit_and_never_print_an_exponent(tmp_path):
    """`_fmt` printed floats with '%g' (6 significant digits): the photo's longitude 103.910275 (Chiềng Mung)
    became 103.91 in the CSV and HTML, 30 m off, and a sprayed 1.2345678 kg Cu/ha became 1.23457, so the
    action rows no longer added up to the plot's total (1.234568) in the same file; a lot of 1,234,567.5 kg read
    '1.23457e+06 kg' on the buyer's page and '1,23457e+06 kg' in the Vietnamese PDF."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        obs = log.record_observation("Đồi A", _gps_photo(tmp_path / "a.jpg"), "coffee.rust", "ok", 0.928934,
                                     "3.1.0", confirmed_by="Lò Thị Hoa", observed_at="2026-03-02T08:00")
        lat, lon = obs.gps_lat, obs.gps_lon
        log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=1.2345678,
                          at="2026-03-03")
        log.add_lot("L1", ["Đồi A"], harvested_at="2026-06-01", quantity_kg=1234567.5)
        page = export.build(log, "L1")
        rows = {r["kind"]: r for r in csv.DictReader(io.StringIO(export.to_csv(page)))}
        html = export.to_html(page, log)
        pdf_vi = _pdf_text(export.to_pdf(page, lang="vi"))
        pdf_en = _pdf_text(export.to_pdf(page, lang="en"))
    assert abs(lon - 103.910275) < 1e-6
    assert float(rows["observation"]["gps_lat"]) == lat and float(rows["observation"]["gps_lon"]) == lon, rows
    assert rows["action"]["copper_kg_ha"] == "1.2345678" and rows["lot"]["quantity_kg"] == "1234567.5"
    assert f"<td>{lon!r}</td>" in html and "<td>1.2345678</td>" in html, html
    assert "1234567.5 kg" in html and "e+0" not in re.sub(r"src='[^']*'", "", html)
    assert "1234567,5 kg" in pdf_vi and "1234567.5 kg" in pdf_en and "e+" not in pdf_vi + pdf_en, pdf_vi


def test_pdf_never_rounds_a_recorded_amount_to_zero(tmp_path):
    """The PDF rounds kg figures to 3 decimals for reading: a 4 m² nursery bed (0.0004 ha) read '0 ha' and a
    copper dose of 0.0004 kg Cu/ha '0' in its own column, though copper is never silently 0 in the log."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Vườn ươm", "coffee", 0.0004)
        log.record_action("Vườn ươm", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=0.0004,
                          at="2026-03-03")
        text = _pdf_text(export.to_pdf(export.build(log, "Vườn ươm"), lang="vi"))
    assert "0,0004 ha" in text and "Đồng năm" in text and " 0 kg Cu/ha" not in text, text
    assert re.search(r"Bordeaux copper hydroxide 0,0004\b", text), text


def test_a_long_note_without_the_dejavu_font_is_a_pdf_not_a_traceback(tmp_path, monkeypatch, capsys):
    """Where DejaVu is not at one of its Linux paths (Windows, macOS) the PDF folds text to ASCII for Helvetica,
    but the mark `_pdf_cell` puts on a cut cell is '…', which Helvetica cannot encode: every export of a log with
    a 'what was done' over 240 characters died with fpdf2's FPDFUnicodeEncodingException traceback."""
    from leafscout.cli import main

    db = str(tmp_path / "log.sqlite")
    what = "phun dầu neem lên toàn bộ hàng cà phê phía đông " * 10
    with FieldLog.open(db) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", what, by="Lò Văn Nam", at="2026-05-01")
    monkeypatch.setattr(export, "FONT_CANDIDATES", ())
    out = tmp_path / "a.pdf"
    assert main(["export", "Đồi A", "--db", db, "--pdf", str(out), "--lang", "en"]) == 0, capsys.readouterr().err
    text = _pdf_text(out.read_bytes())
    assert "... [1]" in text and "[1] phun dau neem" in text and "Lo Van Nam" in text, text


def test_html_and_pdf_show_the_correction_note_and_when(tmp_path, monkeypatch):
    """A correction's note (why the officer changed the label) was only in the CSV: the HTML showed who and when but
    not the note, and the PDF a certifier signs off showed neither the note nor the date of the correction."""
    import time
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    try:
        with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
            log.add_plot("Đồi A", "coffee", 0.5)
            obs = log.record_observation("Đồi A", _gps_photo(tmp_path / "a.jpg"), "coffee.rust", "uncertain", 0.5,
                                         "3.1.0", observed_at="2026-03-02T08:00")
            c = log.correct_observation(obs.id, "coffee.leaf_miner", "Lò Thị Hoa", note="<b>lá có đường hầm</b>")
            page = export.build(log, "Đồi A")
            html = export.to_html(page, log)
            vi = _pdf_text(export.to_pdf(page, lang="vi"))
            en = _pdf_text(export.to_pdf(page, lang="en"))
            from leafscout.fieldlog.timeutil import fmt_local
            day = fmt_local(c.at, "%Y-%m-%d")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert "&lt;b&gt;lá có đường hầm&lt;/b&gt;" in html and "<b>lá" not in html, html
    assert f"sửa thành: coffee.leaf_miner (Lò Thị Hoa, {day}): <b>lá có đường hầm</b>" in vi, vi
    assert f"corrected to coffee.leaf_miner (Lò Thị Hoa, {day}): <b>lá có đường hầm</b>" in en, en


def test_csv_observation_rows_carry_their_id_so_corrections_and_actions_point_somewhere(tmp_path):
    """A correction row and an action row name their observation (`observation_id`), but the observation rows had
    no id at all: with the same photo logged twice (two dates, one photo) a certifier could not tell which
    observation was corrected or treated."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        photo = _gps_photo(tmp_path / "a.jpg")
        first = log.record_observation("Đồi A", photo, "coffee.rust", "uncertain", 0.5, "3.1.0",
                                       observed_at="2026-03-02T08:00")
        second = log.record_observation("Đồi A", photo, "coffee.rust", "uncertain", 0.5, "3.1.0",
                                        observed_at="2026-03-09T08:00")
        log.correct_observation(second.id, "coffee.leaf_miner", "Lò Thị Hoa")
        log.record_action("Đồi A", "neem", at="2026-03-10", observation_id=second.id)
        rows = list(csv.DictReader(io.StringIO(export.to_csv(export.build(log, "Đồi A")))))
        html = export.to_html(export.build(log, "Đồi A"), log)
    assert f"<tr><td>#{first.id}<br>" in html and f"<tr><td>#{second.id}<br>" in html  # the id actions name
    obs = [r for r in rows if r["kind"] == "observation"]
    assert [r["observation_id"] for r in obs] == [str(first.id), str(second.id)], obs
    for kind in ("correction", "action"):
        (row,) = [r for r in rows if r["kind"] == kind]
        assert row["observation_id"] == str(second.id)


def test_exports_say_when_an_observation_was_confirmed_and_when_records_were_entered(tmp_path, monkeypatch):
    """A confirmation is a person vouching for the model's label; the exports named who but never when (one made
    the day of the photo and one made after the harvest read the same), and the CSV had no trace of when a record
    was entered, so a spray typed in months later with `--at` looked like one logged on the day."""
    import time
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    try:
        with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
            log.add_plot("Đồi A", "coffee", 0.5)
            obs = log.record_observation("Đồi A", _gps_photo(tmp_path / "a.jpg"), "coffee.rust", "uncertain", 0.5,
                                         "3.1.0", observed_at="2026-03-02T08:00")
            obs = log.confirm_observation(obs.id, "Lò Thị Hoa")
            act = log.record_action("Đồi A", "neem", at="2026-03-10")
            page = export.build(log, "Đồi A")
            rows = {r["kind"]: r for r in csv.DictReader(io.StringIO(export.to_csv(page)))}
            html = export.to_html(page, log)
            vi = _pdf_text(export.to_pdf(page, lang="vi"))
            from leafscout.fieldlog.timeutil import fmt_local, iso_local
            confirmed, day = iso_local(obs.confirmed_at), fmt_local(obs.confirmed_at, "%Y-%m-%d")
            recorded = iso_local(act.recorded_at)
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    assert rows["observation"]["confirmed_at"] == confirmed and confirmed.endswith("+07:00")
    assert rows["action"]["recorded_at"] == recorded and rows["observation"]["recorded_at"]
    assert f"Lò Thị Hoa on <time datetime='{confirmed}'>" in html, html
    assert f"Lò Thị Hoa ({day})" in vi, vi


def test_a_plot_export_lists_the_lots_harvested_from_it(tmp_path):
    """A plot's page showed its observations, actions and copper but not one of its harvest lots: a certifier
    exporting a plot could not see what was harvested from it, when, or which lot codes to trace."""
    with FieldLog.open(str(tmp_path / "log.sqlite"), trace_base_url="https://trace.example/htx") as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.add_plot("Đồi B", "coffee", 0.5)
        first = log.add_lot("CB-2025-11", ["Đồi A"], harvested_at="2025-11-20", quantity_kg=640,
                            notes="<i>quả chín</i>")
        log.add_lot("CB-2026-01", ["Đồi A", "Đồi B"], harvested_at="2026-01-15")
        page = export.build(log, "Đồi A")
        rows = [r for r in csv.DictReader(io.StringIO(export.to_csv(page))) if r["kind"] == "lot"]
        html = export.to_html(page, log)
        vi = _pdf_text(export.to_pdf(page, lang="vi"))
        en = _pdf_text(export.to_pdf(page, lang="en"))
        lot_page = [r["kind"] for r in csv.DictReader(io.StringIO(export.to_csv(export.build(log, "CB-2026-01"))))]
    assert [(r["lot"], r["plot"], r["quantity_kg"], r["lot_notes"]) for r in rows] == [
        ("CB-2025-11", "Đồi A", "640.0", "<i>quả chín</i>"), ("CB-2026-01", "Đồi A", "", "")], rows
    assert rows[0]["trace_id"] == f"https://trace.example/htx/lot/{first.uid}" and rows[0]["time"].startswith("20")
    assert "Harvest lots (2)" in html and "<td>CB-2025-11</td>" in html and "&lt;i&gt;quả chín&lt;/i&gt;" in html
    assert "Lô thu hoạch (2)" in vi and "CB-2025-11" in vi and "CB-2026-01" in vi and "640" in vi, vi
    assert "Harvest lots (2)" in en, en
    assert lot_page.count("lot") == 1  # a lot's own page does not list the plots' other lots


def test_csv_says_which_year_copper_year_kg_ha_is(tmp_path):
    """`copper_year_kg_ha` is the harvest year's copper on a lot's page and this year's on a plot's page, but the
    CSV never said which year: a certifier reading 0 for a lot harvested in 2025 could not tell it from 2026's."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=1.5,
                          at="2025-06-01T12:00")
        log.add_lot("L1", ["Đồi A"], harvested_at="2025-11-20T12:00")
        lot = {r["kind"]: r for r in csv.DictReader(io.StringIO(export.to_csv(export.build(log, "L1"))))}
        plot = {r["kind"]: r for r in csv.DictReader(io.StringIO(export.to_csv(export.build(log, "Đồi A"))))}
    from leafscout.fieldlog.timeutil import local_year
    assert (lot["plot"]["copper_year"], lot["plot"]["copper_year_kg_ha"]) == ("2025", "1.5")
    assert plot["plot"]["copper_year"] == str(local_year())


def test_html_keeps_the_line_breaks_typed_in_notes(tmp_path):
    """The log keeps line breaks as typed ('1. ...' on one line, '2. ...' on the next); the HTML page ran them
    together ('1. phun lần 1 2. phun lần 2'), in the tables and in the lot's notes alike."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "1. phun lần 1\n2. phun lần 2", at="2026-03-03")
        log.add_lot("L1", ["Đồi A"], harvested_at="2026-06-01", notes="bao 1-20\nbao 21-40")
        html = export.to_html(export.build(log, "L1"), log)
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)
    assert "td,.notes{white-space:pre-line" in style, style
    assert "<p class='notes'>bao 1-20\nbao 21-40</p>" in html and "<td>1. phun lần 1\n2. phun lần 2</td>" in html


def test_pdf_keeps_a_typed_tab_as_space(tmp_path):
    """DejaVu has no glyph for TAB, so fpdf2 dropped it: a buffer zone typed '10 m<TAB>rừng keo' read
    '10 mrừng keo' in the PDF, two words run into one."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5, buffer_notes="10 m\trừng keo")
        log.record_action("Đồi A", "phun\tneem", at="2026-03-03")
        text = _pdf_text(export.to_pdf(export.build(log, "Đồi A"), lang="vi"))
    assert "10 m rừng keo" in text and "phun neem" in text, text


def test_pdf_marks_a_plot_over_the_copper_cap(tmp_path):
    """The HTML marks a plot whose 7-year copper is over the cap; the PDF only printed both figures side by side
    ('30 kg Cu/ha (cap 28 kg Cu/ha in 7 years)'), a breach a buyer reads past."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.add_plot("Đồi B", "coffee", 0.5)
        for year in range(2020, 2026):
            log.record_action("Đồi A", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=5.0,
                              at=f"{year}-06-01T12:00")
        log.record_action("Đồi B", "Bordeaux", active_substance="copper hydroxide", copper_kg_ha=5.0,
                          at="2025-06-01T12:00")
        log.add_lot("L1", ["Đồi A", "Đồi B"], harvested_at="2025-11-20T12:00")
        page = export.build(log, "L1")
        vi = _pdf_text(export.to_pdf(page, lang="vi", copper_cap=28))
        en = _pdf_text(export.to_pdf(page, lang="en", copper_cap=28))
    assert vi.count("VƯỢT GIỚI HẠN") == 1 and en.count("OVER THE CAP") == 1, (vi, en)
    assert vi.index("VƯỢT GIỚI HẠN") < vi.index("Lô ruộng Đồi B")  # on Đồi A, not on Đồi B


def test_html_thumbnails_of_a_season_of_phone_photos_are_decoded_small(tmp_path, monkeypatch):
    """Each 160-px thumbnail decoded the whole 12-megapixel phone photo first (~45 ms here): a season of 2,000
    observations took a minute and a half to export as HTML, the app's Export button blocking all that time.
    JPEGs are now decoded at 1/8, 1/4 or 1/2 scale, whichever still gives 160 px."""
    import cv2
    photo = tmp_path / "big.jpg"
    img = cv2.GaussianBlur(np.random.default_rng(0).integers(0, 255, (3000, 4000, 3), dtype=np.uint8), (15, 15), 0)
    cv2.imwrite(str(photo), img)
    small = tmp_path / "small.jpg"
    cv2.imwrite(str(small), img[:200, :300])
    decoded = []
    real = cv2.imdecode

    def spy(buf, flags):
        out = real(buf, flags)
        decoded.append(None if out is None else out.shape[:2])
        return out
    monkeypatch.setattr(cv2, "imdecode", spy)
    thumb = export._thumbnail(photo)
    assert thumb and max(max(s) for s in decoded) <= 500, decoded  # 1/8 of 4000
    decoded.clear()
    assert export._thumbnail(small) and max(decoded[-1]) == 300, decoded  # a small photo: as it is
    import base64
    data = np.frombuffer(base64.b64decode(thumb.split(",", 1)[1]), np.uint8)
    assert real(data, cv2.IMREAD_COLOR).shape[:2] == (120, 160)


def test_a_corrected_observation_is_not_called_unconfirmed_and_the_html_names_unconfirmed_ones(tmp_path):
    """A correction is a person's call (the season audit counts it as a diagnosis), yet the PDF put 'CHƯA XÁC NHẬN'
    (UNCONFIRMED) beside 'sửa thành: ... (Lò Thị Hoa)' on the same row. The HTML, the page a buyer's QR scan
    opens, left an unconfirmed model result's 'confirmed by' empty, so it read like any recorded diagnosis."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        photo = _gps_photo(tmp_path / "a.jpg")
        corrected = log.record_observation("Đồi A", photo, "coffee.rust", "uncertain", 0.5, "3.1.0",
                                           observed_at="2026-03-02T08:00")
        log.correct_observation(corrected.id, "coffee.leaf_miner", "Lò Thị Hoa")
        log.record_observation("Đồi A", photo, "coffee.rust", "uncertain", 0.5, "3.1.0",
                               observed_at="2026-03-09T08:00")
        page = export.build(log, "Đồi A")
        vi = _pdf_text(export.to_pdf(page, lang="vi"))
        en = _pdf_text(export.to_pdf(page, lang="en"))
        html = export.to_html(page, log)
        rows = [r for r in csv.DictReader(io.StringIO(export.to_csv(page))) if r["kind"] == "observation"]
    assert vi.count("CHƯA XÁC NHẬN") == 1 and "Lò Thị Hoa (đã sửa)" in vi, vi
    assert en.count("UNCONFIRMED") == 1 and "Lò Thị Hoa (corrected)" in en, en
    assert html.count("<td>UNCONFIRMED</td>") == 1 and "<td>Lò Thị Hoa (corrected)</td>" in html, html
    assert [r["confirmed_by"] for r in rows] == ["", ""]  # the CSV keeps the stored value


def test_pdf_writes_vietnamese_typed_decomposed_as_whole_letters(tmp_path):
    """Notes are stored as typed, and some keyboards (macOS, text pasted from a PDF) send Vietnamese decomposed:
    'ồ' as o + U+0302 + U+0300. fpdf2 drew the marks as separate glyphs (stacked on one another, no shaping), and
    a cell cut at 240 characters could end on a bare mark; the PDF writes the composed letters (NFC)."""
    import unicodedata
    what = unicodedata.normalize("NFD", "phun dầu neem trên đồi chè, lá bị bệnh gỉ sắt")
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5, buffer_notes=unicodedata.normalize("NFD", "rừng keo phía bắc"))
        log.record_action("Đồi A", what, at="2026-03-03")
        text = " ".join(p.extract_text() for p in
                        pypdf.PdfReader(io.BytesIO(export.to_pdf(export.build(log, "Đồi A"), lang="vi"))).pages)
    text = re.sub(r"\s+", " ", text)
    assert "rừng keo phía bắc" in text and "phun dầu neem trên đồi chè" in text, ascii(text)
    assert unicodedata.is_normalized("NFC", text), ascii(text)


def test_exports_name_the_farm_or_cooperative_and_its_certifier(tmp_path):
    """A plot belongs to a farm or cooperative with its certifier (`add-plot --farm`, `add-farm --certifier`), but
    no export named either: a buyer scanning a lot's QR code could not see which cooperative grew it, nor a
    certifier whose certificate it is under."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_farm("HTX Chiềng Ban", kind="cooperative", location="Mai Sơn, Sơn La", certifier="<b>CU</b> & Co")
        log.add_plot("Đồi A", "coffee", 0.5, farm="HTX Chiềng Ban")
        log.add_plot("Đồi B", "coffee", 0.5)
        log.add_lot("L1", ["Đồi A", "Đồi B"], harvested_at="2026-06-01")
        page = export.build(log, "L1")
        rows = {r["plot"]: r for r in csv.DictReader(io.StringIO(export.to_csv(page))) if r["kind"] == "plot"}
        html = export.to_html(page, log)
        vi = _pdf_text(export.to_pdf(page, lang="vi"))
        en = _pdf_text(export.to_pdf(page, lang="en"))
    assert (rows["Đồi A"]["farm"], rows["Đồi A"]["certifier"]) == ("HTX Chiềng Ban", "<b>CU</b> & Co")
    assert (rows["Đồi B"]["farm"], rows["Đồi B"]["certifier"]) == ("", "")
    assert "<td colspan='3'>HTX Chiềng Ban (cooperative), Mai Sơn, Sơn La; certifier: &lt;b&gt;CU&lt;/b&gt; &amp; Co" \
        in html, html
    assert "Hợp tác xã: HTX Chiềng Ban, Mai Sơn, Sơn La. Tổ chức chứng nhận: <b>CU</b> & Co." in vi, vi
    assert "Cooperative: HTX Chiềng Ban, Mai Sơn, Sơn La. Certifier: <b>CU</b> & Co." in en, en


def test_pdf_never_rounds_a_model_confidence_up_to_100_percent(tmp_path):
    """A confidence of 0.997 read '100%' in the PDF, as if the model could not be wrong; a person reading
    'Độ tin cậy 100%' beside CHƯA XÁC NHẬN sees no reason to look. Below 1 it is at most 99%."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_observation("Đồi A", _gps_photo(tmp_path / "a.jpg"), "coffee.rust", "ok", 0.997, "3.1.0",
                               observed_at="2026-03-02T08:00")
        text = _pdf_text(export.to_pdf(export.build(log, "Đồi A"), lang="vi"))
    assert "100%" not in text and "99%" in text, text
    assert export._percent(1.0) == "100%" and export._percent(0.928934) == "93%"


def test_a_lot_page_marks_what_was_done_after_that_harvest(tmp_path):
    """A lot's page lists its plots' whole history, so a buyer of the 2025 harvest read next year's sprays as if
    they had been on that coffee, undated but for a time stamp among the others. Records after the lot's harvest
    stay listed (nothing is hidden from a certifier) and are marked as after the harvest."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "neem 2025", at="2025-06-01T08:00")
        log.record_action("Đồi A", "glyphosate 2026", active_substance="glyphosate", at="2026-03-01T08:00")
        log.add_lot("L1", ["Đồi A"], harvested_at="2025-11-20T08:00")
        page = export.build(log, "L1")
        html = export.to_html(page, log)
        rows = {r["what"]: r for r in csv.DictReader(io.StringIO(export.to_csv(page))) if r["kind"] == "action"}
        vi = _pdf_text(export.to_pdf(page, lang="vi"))
        en = _pdf_text(export.to_pdf(page, lang="en"))
        plot_page = export.to_html(export.build(log, "Đồi A"), log)
    assert (rows["neem 2025"]["after_harvest"], rows["glyphosate 2026"]["after_harvest"]) == ("", "yes")
    assert html.count("after this harvest") == 1 and re.search(r"<tr class='after'>[^\n]*glyphosate 2026", html)
    assert vi.count("sau đợt thu hoạch này") == 1 and en.count("after this harvest") == 1, en
    assert re.search(r"sau đợt thu hoạch này\)? glyphosate 2026", vi), vi
    assert "after this harvest" not in plot_page


def test_a_spray_on_the_harvest_day_is_not_marked_after_it(tmp_path):
    """A harvest typed as a date is that whole day: a spray logged at 08:00 that day is the lot's own record
    (the pre-harvest interval a certifier checks), not one 'after this harvest'."""
    with FieldLog.open(str(tmp_path / "log.sqlite")) as log:
        log.add_plot("Đồi A", "coffee", 0.5)
        log.record_action("Đồi A", "neem", at="2025-11-20T08:00")
        log.add_lot("L1", ["Đồi A"], harvested_at="2025-11-20")
        (row,) = [r for r in csv.DictReader(io.StringIO(export.to_csv(export.build(log, "L1"))))
                  if r["kind"] == "action"]
    assert row["after_harvest"] == ""

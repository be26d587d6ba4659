"""A cooperative's officer exports a harvest lot's page for the buyer and the certifier with `leafscout export LOT`
(default --lang vi) or from the app's Log tab on the Vietnamese page: the PDF was Vietnamese but the HTML page was
English only (<html lang="en">, "Harvest lot", "Observations", "after this harvest", "UNCONFIRMED", "over the 28 kg/ha
cap", 0.25 ha) and the command said "Wrote lot.html". Now both follow the language; English reads as before, and
what anyone typed (a plot named <script>, a note with markup) is escaped in Vietnamese too."""
from __future__ import annotations

import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog

HOSTILE = "Đồi <script>alert(1)</script>"


@pytest.fixture
def db(tmp_path) -> str:
    """A lot harvested 2025-04-02 from a plot over the copper cap: a confirmed, a corrected and an unconfirmed
    photo (the last after the harvest), sprays before and weeding after it; a second plot named like a script."""
    path = str(tmp_path / "coop.sqlite")
    with FieldLog.open(path) as log:
        log.add_farm("HTX <b>Chiềng Ban</b>", "cooperative", location="Sơn La", certifier="Control Union")
        log.add_plot("Đồi B", "coffee", 0.25, organic_status="certified", farm="HTX <b>Chiềng Ban</b>")
        log.add_plot(HOSTILE, "coffee", 0.5, location="<img src=x onerror=alert(2)>")
        for seed, day in ((1, "2025-03-01"), (2, "2025-03-02"), (3, "2025-05-02")):
            leaf = tmp_path / f"leaf{seed}.jpg"
            cv2.imwrite(str(leaf), np.random.default_rng(seed).integers(0, 255, (64, 64, 3), dtype=np.uint8))
            log.record_observation("Đồi B", leaf, "coffee.rust", "uncertain", 0.5, "3.1.0", observed_at=day)
        log.confirm_observation(1, "Lò Thị Hoa")
        log.correct_observation(2, "coffee.berry_borer", "Lò Văn Nam", note="<script>alert(3)</script>")
        for year in range(2019, 2026):
            log.record_action("Đồi B", "phun Bordeaux", active_substance="copper hydroxide", copper_kg_ha=4.25,
                              amount=1.5, unit="kg", at=f"{year}-04-01")
        log.record_action("Đồi B", "làm cỏ", at="2025-04-03")
        log.record_action(HOSTILE, "<script>alert(4)</script>", at="2025-04-04")
        log.add_lot("LOT-1", ["Đồi B", HOSTILE], harvested_at="2025-04-02", quantity_kg=12.5,
                    notes="<b>kho</b> =SUM(A1)")
    return path


def _export(capsys, db, tmp_path, *args) -> tuple[str, str]:
    out = tmp_path / "lot.html"
    assert main(["export", "LOT-1", "--db", db, "--html", str(out), *args]) == 0, capsys.readouterr().err
    return out.read_text(encoding="utf-8"), capsys.readouterr().out


def test_the_default_export_is_a_vietnamese_page(db, tmp_path, capsys):
    page, said = _export(capsys, db, tmp_path)  # --lang vi is the default
    assert said == f"Đã ghi {tmp_path / 'lot.html'}\n", said
    assert page.startswith("<!doctype html><html lang='vi'>")
    for vi in ("<title>Lô thu hoạch LOT-1</title>", "<h1>Lô thu hoạch LOT-1</h1>", "Mã truy xuất: <code>",
               "Thu hoạch lúc <time", ", 12,5 kg.</p>", "<h2>Lô ruộng Đồi B</h2>", "<th>Cây trồng</th>",
               "<td>0,25 ha</td>", "<td>đã chứng nhận hữu cơ</td>", "(Hợp tác xã), Sơn La; tổ chức chứng nhận: ",
               "<th>Đồng năm 2025</th><td>4,25 kg/ha</td>",
               "<td class='over'>29,75 kg/ha: VƯỢT giới hạn 28 kg/ha</td>",  # the cap from the advisor
               "<h3>Quan sát (3)</h3>", "<th>Người xác nhận</th>", "<td>chưa chắc chắn</td>",
               "<td><data value='0.5'>50%</data></td>",  # the PDF's percentage, the stored figure for programs
               "<td>Cà phê <code class='id'>coffee</code></td>",  # the knowledge base's names (test_export_html_names)
               "Lò Thị Hoa lúc <time",
               "<br>sửa thành Mọt đục quả cà phê (Cà phê) <code class='id'>coffee.berry_borer</code>, "
               "người sửa: Lò Văn Nam, lúc <time",
               "<td>Lò Văn Nam (đã sửa)</td>", "<td>CHƯA XÁC NHẬN</td>", "<br>sau đợt thu hoạch này</td>",
               "<h3>Việc đã làm (8)</h3>", "<th>Hoạt chất</th>", "<td>1,5</td>", "<h3>Sổ theo dõi đồng</h3>",
               "<th>Năm</th>"):
        assert vi in page, vi
    assert "<tr class='after'>" in page  # the weeding after the harvest, greyed as in English
    text = re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1])
    for english in ("Harvest lot", "Trace ID", "Generated", "Plot ", "Crop", "Organic status", "Observations",
                    "Actions", "Copper", "UNCONFIRMED", "corrected", "after this harvest", "over the", "(cap",
                    "certifier:", "certified organic", "uncertain", "observed at", "12.5", "0.25", "4.25"):
        assert english not in text, (english, text)


def test_a_vietnamese_page_still_escapes_what_anyone_typed(db, tmp_path, capsys):
    page, _ = _export(capsys, db, tmp_path, "--lang", "vi")
    assert "<script" not in page and "<img src=x" not in page and "<b>" not in page, page
    for escaped in ("<h2>Lô ruộng Đồi &lt;script&gt;alert(1)&lt;/script&gt;</h2>",
                    "&lt;img src=x onerror=alert(2)&gt;", "&lt;script&gt;alert(3)&lt;/script&gt;",
                    "&lt;script&gt;alert(4)&lt;/script&gt;", "HTX &lt;b&gt;Chiềng Ban&lt;/b&gt;",
                    "&lt;b&gt;kho&lt;/b&gt; =SUM(A1)"):
        assert escaped in page, escaped


def test_english_is_asked_for_and_reads_as_before(db, tmp_path, capsys):
    page, said = _export(capsys, db, tmp_path, "--lang", "en")
    assert said == f"Wrote {tmp_path / 'lot.html'}\n", said
    assert page.startswith("<!doctype html><html lang='en'>")
    for en in ("<h1>Harvest lot LOT-1</h1>", ", 12.5 kg.</p>", "<td>0.25 ha</td>", "<td>certified</td>",
               "(cooperative), Sơn La; certifier: Control Union", "<th>Copper 2025</th><td>4.25 kg/ha</td>",
               "<td class='over'>29.75 kg/ha: over the 28 kg/ha cap</td>", "<th>observed at</th>",
               "<td>uncertain</td>",
               "<br>corrected to Coffee berry borer (Coffee) <code class='id'>coffee.berry_borer</code> "
               "by Lò Văn Nam on <time",
               "<td>Lò Văn Nam (corrected)</td>", "<td>UNCONFIRMED</td>", "<br>after this harvest</td>",
               "<h3>Copper ledger</h3><table><tr><th>Year</th><th>kg/ha</th></tr>",
               "<h2>Plot Đồi &lt;script&gt;alert(1)&lt;/script&gt;</h2>"):
        assert en in page, en
    assert "<script" not in page


def test_the_csv_is_the_same_in_either_language_and_still_defused(db, tmp_path, capsys):
    """The CSV is for spreadsheets and programs: no language, and a note starting like a formula stays text."""
    csvs = {}
    for lang in ("vi", "en"):
        out = tmp_path / f"{lang}.csv"
        assert main(["export", "LOT-1", "--db", db, "--csv", str(out), "--lang", lang]) == 0
        csvs[lang] = out.read_bytes()
    said = capsys.readouterr().out
    assert f"Đã ghi {tmp_path / 'vi.csv'}\n" in said and f"Wrote {tmp_path / 'en.csv'}\n" in said
    assert csvs["vi"] == csvs["en"]
    with FieldLog.open(db) as log:
        log.record_action("Đồi B", "=HYPERLINK(\"http://x\")", at="2025-04-05")
    out = tmp_path / "f.csv"
    assert main(["export", "LOT-1", "--db", db, "--csv", str(out), "--lang", "vi"]) == 0
    assert "'=HYPERLINK" in out.read_text(encoding="utf-8-sig")


def test_the_log_tabs_export_follows_the_pages_language(db):
    """The app's Log tab made the PDF in the page's language but the HTML in English."""
    from leafscout.service import default_advisor
    from leafscout.webapp import logbook as LB

    log = FieldLog.open(db)
    try:
        services = SimpleNamespace(log=log, advisor=default_advisor())
        pages = {}
        for lang in ("vi", "en"):
            msg, files = LB.export_files(services, "LOT-1", lang)
            (html_file,) = [f for f in files if f.endswith(".html")]
            with open(html_file, encoding="utf-8") as fh:
                pages[lang] = fh.read()
    finally:
        log.close()
    assert pages["vi"].startswith("<!doctype html><html lang='vi'>") and "<h1>Lô thu hoạch LOT-1</h1>" in pages["vi"]
    assert "29,75 kg/ha: VƯỢT giới hạn 28 kg/ha" in pages["vi"] and "<script" not in pages["vi"]
    assert pages["en"].startswith("<!doctype html><html lang='en'>") and "<h1>Harvest lot LOT-1</h1>" in pages["en"]


def test_the_log_tabs_audit_reads_in_the_pages_language(db):
    """The Log tab's audit on the vi page: the substance check's reasons and the copper rows in Vietnamese."""
    from leafscout.service import default_advisor
    from leafscout.webapp import logbook as LB

    log = FieldLog.open(db)
    try:
        adv = default_advisor()
        services = SimpleNamespace(log=log, advisor=adv)
        with FieldLog.open(db) as other:
            other.record_action("Đồi B", "phun thuốc sâu", active_substance="chlorpyrifos", at="2025-04-06")
        vi, en = LB.audit_md(services, 2025, "vi"), LB.audit_md(services, 2025, "en")
    finally:
        log.close()
    reason = adv.check_substance("chlorpyrifos").reason
    first = lambda text: re.sub(r"\\(.)", r"\1", text.split(":")[0])  # noqa: E731 (md escapes '.')
    assert first(reason["vi"]) in vi and first(reason["en"]) not in vi, vi
    assert "29,75 kg/ha trong 7 năm" in vi and "Copper" not in vi and "this year" not in vi
    assert first(reason["en"]) in en and "29.75 kg/ha over 7 years" in en

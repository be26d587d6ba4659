"""An officer exports a plot's page with `leafscout export PLOT --html` (or from the app's Log tab) and hands it to
the cooperative and the buyer. The PDF of the same export read "Bệnh gỉ sắt cà phê (Cà phê)" and "51%", but the HTML
showed the stored ids and floats ("coffee", "coffee.rust", "0,5123"), which a farmer or a buyer cannot read. The page
now shows the knowledge base's names in its language with the stored id after them for the certifier, confidences
as the PDF writes them, an id the knowledge base does not know as it is; everything stays escaped, and the CSV keeps
the stored values."""
from __future__ import annotations

import csv
import io
import re
from types import SimpleNamespace

import cv2
import numpy as np
import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog

RUST_VI = "Bệnh gỉ sắt cà phê (Cà phê)"
BORER_VI = "Mọt đục quả cà phê (Cà phê)"


def _photo(path, seed):
    cv2.imwrite(str(path), np.random.default_rng(seed).integers(0, 255, (48, 48, 3), dtype=np.uint8))
    return path


@pytest.fixture
def db(tmp_path) -> str:
    """A coffee plot with a rust photo at 51.23 % (corrected to berry borer), a confirmed one at 99.7 %, and a
    researcher's dragon fruit plot (a crop the knowledge base does not know) with a label it does not know."""
    path = str(tmp_path / "coop.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi B", "coffee", 0.25)
        log.add_plot("Vườn thanh long", "dragonfruit", 0.1)
        log.record_observation("Đồi B", _photo(tmp_path / "a.jpg", 1), "coffee.rust", "uncertain", 0.5123, "3.1.0",
                               observed_at="2025-03-01")
        log.record_observation("Đồi B", _photo(tmp_path / "b.jpg", 2), "coffee.rust", "ok", 0.997, "3.1.0",
                               observed_at="2025-03-02")
        log.correct_observation(1, "coffee.berry_borer", "Lò Văn Nam")
        log.confirm_observation(2, "Lò Thị Hoa")
        log.record_observation("Vườn thanh long", _photo(tmp_path / "c.jpg", 3), "dragonfruit.stem_canker",
                               "uncertain", 0.42, "research-0.1", observed_at="2025-03-03")
    return path


def _export(capsys, db, tmp_path, target, lang) -> str:
    out = tmp_path / f"{lang}.html"
    assert main(["export", target, "--db", db, "--html", str(out), "--lang", lang]) == 0, capsys.readouterr().err
    capsys.readouterr()
    return out.read_text(encoding="utf-8")


def _text(page: str) -> str:
    """What a reader sees: the page without its tags and styles."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page.split("</style>", 1)[1]))


def test_the_vietnamese_page_names_the_crop_and_problems_as_the_pdf_does(db, tmp_path, capsys):
    page = _export(capsys, db, tmp_path, "Đồi B", "vi")
    for shown in ("<td>Cà phê <code class='id'>coffee</code></td>",
                  f"<td>{RUST_VI} <code class='id'>coffee.rust</code><br>sửa thành {BORER_VI} "
                  "<code class='id'>coffee.berry_borer</code>, người sửa: Lò Văn Nam, lúc <time",
                  "<td><data value='0.5123'>51%</data></td>",
                  "<td><data value='0.997'>99%</data></td>"):  # below 1 is never '100%', as in the PDF
        assert shown in page, shown
    text = _text(page)
    assert "0,5123" not in text and "0,997" not in text, text


def test_the_english_page_names_them_in_english(db, tmp_path, capsys):
    page = _export(capsys, db, tmp_path, "Đồi B", "en")
    for shown in ("<td>Coffee <code class='id'>coffee</code></td>",
                  "<td>Coffee leaf rust (Coffee) <code class='id'>coffee.rust</code><br>corrected to "
                  "Coffee berry borer (Coffee) <code class='id'>coffee.berry_borer</code> by Lò Văn Nam on <time",
                  "<td><data value='0.5123'>51%</data></td>"):
        assert shown in page, shown
    assert RUST_VI not in page and "Cà phê" not in page
    assert "0.5123" not in _text(page)


def test_a_crop_and_label_the_knowledge_base_does_not_know_show_their_ids(db, tmp_path, capsys):
    """A researcher's new crop: the page is written, with the ids as stored and no empty name before them."""
    for lang in ("vi", "en"):
        page = _export(capsys, db, tmp_path, "Vườn thanh long", lang)
        assert "<td>dragonfruit</td>" in page, page
        assert "<td>dragonfruit.stem_canker</td>" in page and "<data value='0.42'>42%</data>" in page, page
        assert "<code class='id'>dragon" not in page


def test_the_log_tabs_export_names_them_too(db):
    """The web app's Log tab passes the same names for its HTML as for its PDF."""
    from leafscout.service import default_advisor
    from leafscout.webapp import logbook as LB

    log = FieldLog.open(db)
    try:
        services = SimpleNamespace(log=log, advisor=default_advisor())
        pages = {}
        for lang in ("vi", "en"):
            msg, files = LB.export_files(services, "Đồi B", lang)
            assert not msg, msg
            (html_file,) = [f for f in files if f.endswith(".html")]
            with open(html_file, encoding="utf-8") as fh:
                pages[lang] = fh.read()
    finally:
        log.close()
    assert f"{RUST_VI} <code class='id'>coffee.rust</code>" in pages["vi"]
    assert "<td>Cà phê <code class='id'>coffee</code></td>" in pages["vi"] and ">51%</data>" in pages["vi"]
    assert "Coffee leaf rust (Coffee) <code class='id'>coffee.rust</code>" in pages["en"]


def test_without_a_readable_knowledge_base_the_page_shows_ids_and_says_why(db, tmp_path, capsys, monkeypatch):
    """The export must not fail on the knowledge base: the ids as stored, and a warning on stderr."""
    import leafscout.service as service

    def broken():
        raise OSError("kb/crops.yaml: no such file")
    monkeypatch.setattr(service, "default_advisor", broken)
    out = tmp_path / "plot.html"
    assert main(["export", "Đồi B", "--db", db, "--html", str(out), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "names left as stored ids (kb/crops.yaml: no such file)" in err, err
    page = out.read_text(encoding="utf-8")
    assert "<td>coffee</td>" in page and "<td>coffee.rust<br>corrected to coffee.berry_borer by" in page
    assert "<code class='id'>" not in page and ">51%</data>" in page


def test_names_and_ids_are_escaped(db, tmp_path):
    """A knowledge-base name is text like any other (a YAML edited by hand can hold '<'), and a crop is typed."""
    from leafscout.fieldlog import export

    with FieldLog.open(db) as log:
        log.add_plot("Ruộng <b>thử</b>", "<img src=x onerror=alert(1)>", 0.2)
        log.record_observation("Ruộng <b>thử</b>", _photo(tmp_path / "d.jpg", 4), "coffee.rust", "uncertain", 0.5,
                               "3.1.0", observed_at="2025-03-04")
        page = export.build(log, "Ruộng <b>thử</b>")
        names = {"coffee.rust": "Gỉ sắt <script>alert(2)</script> & \"đốm\"",
                 "<img src=x onerror=alert(1)>": "<i>Cà phê</i>"}
        out = export.to_html(page, log, lang="vi", names=names)
    assert "<script" not in out and "<img src=x" not in out and "<i>" not in out and "<b>" not in out, out
    assert ("<td>Gỉ sắt &lt;script&gt;alert(2)&lt;/script&gt; &amp; &quot;đốm&quot; "
            "<code class='id'>coffee.rust</code>") in out
    assert "<td>&lt;i&gt;Cà phê&lt;/i&gt; <code class='id'>&lt;img src=x onerror=alert(1)&gt;</code></td>" in out


def test_the_csv_keeps_the_stored_ids_and_figures(db, tmp_path):
    """The CSV is for spreadsheets and programs: the same bytes in either language, ids and floats as stored."""
    csvs = {}
    for lang in ("vi", "en"):
        out = tmp_path / f"{lang}.csv"
        assert main(["export", "Đồi B", "--db", db, "--csv", str(out), "--lang", lang]) == 0
        csvs[lang] = out.read_bytes()
    assert csvs["vi"] == csvs["en"]
    rows = list(csv.DictReader(io.StringIO(csvs["vi"].decode("utf-8-sig"))))
    obs = [r for r in rows if r["kind"] == "observation"]
    assert [(r["label"], r["confidence"]) for r in obs] == [("coffee.rust", "0.5123"), ("coffee.rust", "0.997")]
    assert [r["label"] for r in rows if r["kind"] == "correction"] == ["coffee.berry_borer"]
    text = csvs["vi"].decode("utf-8-sig")
    assert "Cà phê" not in text and "Coffee" not in text and "%" not in text

"""Traceability stories: an officer logs a season from the command line, a buyer scans a lot's
QR code, an auditor reads the export and the season audit, and a backup is taken while the
cooperative keeps working.
"""
from __future__ import annotations

import csv
import io
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from leafscout.fieldlog import FieldLog, FieldLogError
from leafscout.fieldlog.audit import season_audit
from leafscout.cli import main as leafscout

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db(tmp_path) -> str:
    return str(tmp_path / "coop" / "fieldlog.sqlite")


def gps_photo(path: Path, lat=(21, 19, 30.0), lon=(103, 54, 36.0)) -> Path:
    """A JPEG leaf photo carrying a phone's GPS fix in EXIF (Chiềng Mung, Sơn La)."""
    from PIL import Image

    img = Image.fromarray(np.random.default_rng(1).integers(0, 255, (80, 80, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x8825] = {1: "N", 2: lat, 3: "E", 4: lon}
    img.save(path, exif=exif)
    return path


def decode_qr(png: Path) -> str:
    """Read the QR as a phone would. OpenCV's classic detector misses ~3% of valid codes (measured on 60 random
    lot URLs: 2 misses, none for the ArUco-based detector), so a miss there is read again with the other."""
    image = cv2.imread(str(png))
    for detector in (cv2.QRCodeDetector(), cv2.QRCodeDetectorAruco()):
        text, points, _ = detector.detectAndDecode(image)
        if points is not None and text:
            return text
    raise AssertionError(f"no QR code found in {png}")


@pytest.fixture
def season(db, tmp_path):
    """A coffee plot with a diagnosis, a copper spray that answered it, and a harvest lot."""
    with FieldLog.open(db) as log:
        log.add_farm("HTX Cà phê Chiềng Ban", kind="cooperative", location="Chiềng Ban, Mai Sơn")
        log.add_plot("Đồi Chè 2", "coffee", 1.5, organic_status="certified", farm="HTX Cà phê Chiềng Ban",
                     buffer_notes="10 m forest strip")
        obs = log.record_observation("Đồi Chè 2", gps_photo(tmp_path / "rust.jpg"), "coffee.leaf_rust",
                                     "ok", 0.93, "effnet-lite0-v3", observer="Quàng Thị Mai",
                                     observed_at="2025-07-01T08:00")
        log.record_action("Đồi Chè 2", "sprayed copper hydroxide", product="Kocide", active_substance="copper hydroxide",
                          amount=1.0, unit="kg", copper_kg_ha=2.0, by="Quàng Thị Mai", at="2025-07-02",
                          observation_id=obs.id)
        log.add_lot("CB-2025-11", ["Đồi Chè 2"], harvested_at="2025-11-20", quantity_kg=640)
    return db


def test_photo_gps_comes_from_exif(season):
    with FieldLog.open(season) as log:
        (obs,) = log.history("Đồi Chè 2").observations
    assert obs.gps_lat == pytest.approx(21 + 19 / 60 + 30 / 3600)
    assert obs.gps_lon == pytest.approx(103 + 54 / 60 + 36 / 3600)


def test_a_buyer_scans_the_lot_qr_and_finds_the_lot(season, tmp_path, capsys):
    png = tmp_path / "lot.png"
    assert leafscout(["log", "qr", "CB-2025-11", "--out", str(png), "--db", season]) == 0
    scanned = decode_qr(png)
    with FieldLog.open(season) as log:
        lot = log.resolve_qr(scanned)
        assert lot.code == "CB-2025-11"
        assert [p.name for p in log.lot_plots(lot)] == ["Đồi Chè 2"]
        assert log.resolve_qr(scanned).uid == lot.uid  # the ID is stable, scan after scan


def test_with_a_trace_url_the_qr_opens_the_lot_page(season, tmp_path):
    from leafscout.fieldlog import qr

    with FieldLog.open(season, trace_base_url="https://trace.example.vn/") as log:
        lot = log.get_lot("CB-2025-11")
        png = tmp_path / "lot-url.png"
        png.write_bytes(qr.png_bytes(lot, log.trace_base_url))
        scanned = decode_qr(png)
        assert scanned == f"https://trace.example.vn/lot/{lot.uid}"
        assert log.resolve_qr(scanned).code == "CB-2025-11"
        with pytest.raises(FieldLogError, match="not a LeafScout"):
            log.resolve_qr("https://example.com/something-else")


def test_export_makes_a_self_contained_lot_page(season, tmp_path, capsys):
    out = tmp_path / "out"
    rc = leafscout(["export", "CB-2025-11", "--db", season, "--html", str(out / "lot.html"),
                    "--csv", str(out / "lot.csv"), "--pdf", str(out / "lot.pdf"), "--lang", "en"])
    assert rc == 0, capsys.readouterr().err
    page = (out / "lot.html").read_text(encoding="utf-8")
    for expected in ("Harvest lot CB-2025-11", "Đồi Chè 2", "coffee.leaf_rust", "sprayed copper hydroxide",
                     "Quàng Thị Mai", "certified", "Copper 2025</th><td>2 kg/ha", "data:image/svg+xml",
                     "data:image/jpeg;base64"):
        assert expected in page, expected
    assert "http://" not in page and "https://" not in page.replace("http://www.w3.org", "")  # nothing fetched

    raw = (out / "lot.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel on Windows opens the Vietnamese names right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["kind"] for r in rows] == ["lot", "plot", "observation", "action"]  # the lot itself first
    assert (rows[0]["lot"], rows[0]["quantity_kg"], rows[0]["time"][:10]) == ("CB-2025-11", "640.0", "2025-11-20")
    assert rows[1]["copper_7y_kg_ha"] == "2.0" and rows[3]["active_substance"] == "copper hydroxide"

    pdf = (out / "lot.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and b"/Image" in pdf


def test_export_of_a_plot_and_of_something_unknown(season, tmp_path, capsys):
    assert leafscout(["export", "đồi chè 2", "--db", season, "--html", str(tmp_path / "p.html"), "--lang", "en"]) == 0
    assert "Plot Đồi Chè 2" in (tmp_path / "p.html").read_text(encoding="utf-8")
    assert leafscout(["export", "CB-2025-12", "--db", season, "--csv", str(tmp_path / "x.csv"), "--lang", "en"]) == 2
    err = capsys.readouterr().err
    assert "Did you mean 'CB-2025-11'" in err and "Traceback" not in err
    assert not (tmp_path / "x.csv").exists()


def test_an_officer_keeps_the_log_from_the_command_line(db, tmp_path, capsys):
    photo = gps_photo(tmp_path / "leaf.jpg")
    assert leafscout(["log", "add-plot", "Bản Mòng 1", "--crop", "tea", "--area", "0.6", "--db", db]) == 0
    assert leafscout(["log", "observe", "Bản Mòng 1", str(photo), "--label", "tea.blister_blight",
                      "--status", "ok", "--confidence", "0.81", "--model-version", "v3", "--db", db]) == 0
    assert "GPS 21.32500,103.91000" in capsys.readouterr().out
    assert leafscout(["log", "act", "Bản Mòng 1", "--what", "sprayed neem oil", "--substance", "azadirachtin",
                      "--observation", "1", "--by", "Lò Thị Hoa", "--db", db]) == 0
    capsys.readouterr()
    assert leafscout(["log", "history", "Bản Mòng 1", "--db", db]) == 0
    shown = capsys.readouterr().out
    assert "tea.blister_blight" in shown and "sprayed neem oil" in shown and "answers #1" in shown
    assert leafscout(["log", "plots", "--db", db]) == 0
    assert "Bản Mòng 1" in capsys.readouterr().out


@pytest.mark.parametrize("argv, message", [
    (["log", "history", "Ban Mong 1"], "Did you mean 'Bản Mòng 1'"),
    (["log", "add-plot", "P", "--crop", "tea", "--area", "-0.5"], "expected a number greater than 0, got -0.5"),
    (["log", "act", "Bản Mòng 1", "--what", "weeding", "--at", "2999-01-01"], "in the future"),
    (["log", "act", "Bản Mòng 1", "--what", "weeding", "--at", "last tuesday"], "expected an ISO date"),
    (["log", "observe", "Bản Mòng 1", "README.md", "--label", "tea.x", "--status", "ok", "--confidence", "0.5",
      "--model-version", "v"], "not an image"),
])
def test_cli_mistakes_get_a_clear_message_and_change_nothing(db, capsys, argv, message):
    assert leafscout(["log", "add-plot", "Bản Mòng 1", "--crop", "tea", "--area", "0.6", "--db", db]) == 0
    (Path(db).parent / "README.md").write_text("not a photo")
    before = sqlite3.connect(db).execute("select (select count(*) from plots), (select count(*) from actions),"
                                         " (select count(*) from observations)").fetchone()
    capsys.readouterr()
    argv = [a if a != "README.md" else str(Path(db).parent / "README.md") for a in argv]
    assert leafscout([*argv, "--db", db]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    after = sqlite3.connect(db).execute("select (select count(*) from plots), (select count(*) from actions),"
                                        " (select count(*) from observations)").fetchone()
    assert after == before


def test_backup_is_a_consistent_copy_taken_while_writers_work(db, tmp_path, capsys):
    with FieldLog.open(db) as log:
        log.add_plot("Live plot", "coffee", 2.0)
        stop, errors = threading.Event(), []

        def writer(n):
            try:
                while not stop.is_set():
                    with log.batch():
                        for i in range(20):
                            log.record_action("Live plot", f"writer {n} row {i}")
            except Exception as exc:
                errors.append(repr(exc))

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
        for t in threads:
            t.start()
        try:
            while len(log.history("Live plot").actions) < 200:
                pass
            before = len(log.history("Live plot").actions)
            assert leafscout(["log", "backup", str(tmp_path / "bk" / "copy.sqlite"), "--db", db]) == 0
            after = len(log.history("Live plot").actions)
        finally:
            stop.set()
            for t in threads:
                t.join()
        assert errors == []
    copy = tmp_path / "bk" / "copy.sqlite"
    assert "integrity check ok" in capsys.readouterr().out
    with sqlite3.connect(copy) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        copied = raw.execute("select count(*) from actions").fetchone()[0]
    assert before <= copied <= after and copied % 20 == 0  # a moment in time: whole batches only
    with FieldLog.open(copy) as restored:
        assert restored.get_plot("Live plot").crop == "coffee"


def test_backup_refuses_to_overwrite_the_live_database(db, capsys):
    FieldLog.open(db).close()
    assert leafscout(["log", "backup", db, "--db", db]) == 2
    assert "is the live database" in capsys.readouterr().err


ORGANIC_SUBSTANCES = {"copper hydroxide", "azadirachtin", "bacillus thuringiensis"}


def test_season_audit_flags_what_the_standard_forbids_and_copper_over_the_cap(season):
    def checker(substance):  # stands in for advisor.Advisor.load().check_substance
        ok = substance.lower() in ORGANIC_SUBSTANCES
        return ok, "on the organic list" if ok else "synthetic pesticide, not allowed under TCVN 11041"

    with FieldLog.open(season) as log:
        log.add_plot("Neighbour", "coffee", 1.0)
        log.record_action("Đồi Chè 2", "sprayed glyphosate on weeds", active_substance="glyphosate", at="2025-08-01")
        log.record_action("Neighbour", "hand weeding", at="2025-08-02")
        for month in range(3, 8):  # 27 kg/ha in 2021, five sprays of 5.4 (one spray is at most 6 kg/ha)
            log.record_action("Neighbour", "copper spray", active_substance="copper hydroxide", copper_kg_ha=5.4,
                              at=f"2021-{month:02d}-01")
        log.record_action("Neighbour", "copper spray", active_substance="copper hydroxide", copper_kg_ha=2.0,
                          at="2025-05-01")
        report = season_audit(log, "2025-01-01", "2026-01-01", checker=checker, copper_cap_kg_ha_7y=28.0)

    assert [(r.plot, r.action.what) for r in report.flagged] == [("Đồi Chè 2", "sprayed glyphosate on weeds")]
    assert "TCVN 11041" in report.flagged[0].reason
    assert len(report.rows) == 4  # the 2021 sprays are outside the season
    copper = {c.plot: c for c in report.copper}
    assert copper["Neighbour"].over_cap and copper["Neighbour"].seven_years_kg_ha == 29.0
    assert not copper["Đồi Chè 2"].over_cap and copper["Đồi Chè 2"].year_kg_ha == 2.0
    assert not report.ok and "FLAG" in report.to_text() and "OVER" in report.to_text()


def test_season_audit_with_the_advisors_own_list(season):
    from leafscout.service import audit_season
    with FieldLog.open(season) as log:
        log.record_action("Đồi Chè 2", "sprayed chlorpyrifos", active_substance="chlorpyrifos", at="2025-08-01")
        log.record_action("Đồi Chè 2", "home-made brew", active_substance="mystery brew 7", at="2025-08-02")
        report = audit_season(log, "2025-01-01", "2026-01-01")
        with pytest.raises(FieldLogError, match="substance checker"):
            season_audit(log, "2025-01-01", "2026-01-01")  # the log has no list of its own
    flagged = {r.action.active_substance: r.reason for r in report.flagged}
    assert set(flagged) == {"chlorpyrifos", "mystery brew 7"}  # copper hydroxide passes; unknown is flagged
    assert "Not allowed" in flagged["chlorpyrifos"] and "certifier" in flagged["mystery brew 7"]
    assert report.copper[0].cap_kg_ha_7y == 28.0


def test_the_cli_module_imports_nothing_heavy():
    code = "import sys, leafscout.cli_log; print(sorted(m for m in ('sqlalchemy', 'cv2', 'fpdf', 'segno', 'alembic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("extra", [["--out", "lot.txt"], ["--out", "lot.jpg"], ["--out", "lot.png", "--scale", "0"],
                                   ["--out", "lot.png", "--scale", "100000"]])
def test_a_qr_file_name_or_size_it_cannot_make_is_one_line(season, tmp_path, capsys, monkeypatch, extra):
    monkeypatch.chdir(tmp_path)
    assert leafscout(["log", "qr", "CB-2025-11", "--db", season] + extra) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("leafscout log: error: ") and extra[-2] in err, err
    assert not any(tmp_path.glob("lot.*"))
    assert leafscout(["log", "qr", "CB-2025-11", "--db", season, "--out", "LOT.SVG"]) == 0
    assert (tmp_path / "LOT.SVG").read_text().lstrip().startswith("<?xml")


def test_a_cooperative_is_added_from_the_cli_and_its_plots_belong_to_it(tmp_path, capsys):
    db = str(tmp_path / "coop.sqlite")
    plot = ["log", "add-plot", "Đồi A", "--crop", "coffee", "--area", "0.5", "--farm", "HTX Chiềng Ban", "--db", db]
    assert leafscout(plot) == 2
    assert "leafscout log add-farm" in capsys.readouterr().err  # the way to make it, not a Python method
    assert leafscout(["log", "add-farm", "HTX Chiềng Ban", "--kind", "cooperative", "--certifier", "Cert VN",
                      "--db", db]) == 0
    assert leafscout(plot) == 0
    assert leafscout(["log", "add-farm", "HTX Chiềng Ban", "--db", db]) == 2  # a second one of the same name
    capsys.readouterr()
    assert leafscout(["log", "farms", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert "HTX Chiềng Ban" in listed and "cooperative" in listed and "Cert VN" in listed
    with FieldLog.open(db) as log:
        (p,) = log.plots()
        assert p.farm_id == log.farms()[0].id


def test_a_long_vietnamese_plot_name_still_exports_to_a_file(tmp_path, capsys, monkeypatch):
    name = "Đồi chè Shan tuyết cổ thụ bản Hua Tát " * 5  # ~190 characters, ~250 bytes in UTF-8
    db = str(tmp_path / "long.sqlite")
    assert leafscout(["log", "add-plot", name.strip(), "--crop", "tea", "--area", "1", "--db", db]) == 0
    monkeypatch.chdir(tmp_path)
    assert leafscout(["export", name.strip(), "--db", db]) == 0, capsys.readouterr().err
    (html_file,) = tmp_path.glob("*.html")
    assert len(html_file.name.encode("utf-8")) <= 255 and html_file.name.startswith("Đồi_chè_Shan")

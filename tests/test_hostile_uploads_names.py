"""File names from strangers shown back on the Batch tab, in its CSV and in its PDF (webapp/batch.py)."""
from __future__ import annotations

import csv
import zipfile

import cv2
import pytest

from leafscout.safety import one_line
from leafscout.webapp import batch as B
from leafscout.webapp.services import Services


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from leafscout.model.testing import toy_model

    folder = tmp_path_factory.mktemp("toy")
    return Services(model_path=toy_model(folder / "toy.onnx"), db=str(folder / "log.sqlite"))


def test_one_line_escapes_controls_and_direction_overrides_only():
    assert one_line("a.jpg\n2. b.jpg\r\x1b[31m\x00") == "a.jpg\\n2. b.jpg\\r\\x1b[31m\\x00"
    assert one_line("evil\u202egpj.exe") == "evil\\u202egpj.exe"
    assert one_line("Lá đậu 🌿 (1).jpg") == "Lá đậu 🌿 (1).jpg" and one_line(None) == ""


def test_a_member_name_cannot_fake_another_row_or_turn_round(services, tmp_path):
    """'a.jpg\\n2. fake.jpg' showed as two lines in the PDF block and the CSV cell; U+202E showed
    'x\\u202egpj.exe' as 'xexe.jpg'. Both are now shown escaped on one line; the photo is still read."""
    from leafscout.model.testing import TOY_COLOURS, flat_photo

    ok, buf = cv2.imencode(".png", cv2.cvtColor(flat_photo(TOY_COLOURS["ok"]), cv2.COLOR_RGB2BGR))
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a.jpg\n2. fake.jpg", buf.tobytes())
        zf.writestr("x\u202egpj.exe", buf.tobytes())
    res = B.run_batch(services, [archive], tmp_path / "work", check_paths=False)
    assert [r["file"] for r in res["rows"]] == ["photos.zip/a.jpg\\n2. fake.jpg", "photos.zip/x\\u202egpj.exe"]
    assert [r["status"] for r in res["rows"]] == ["ok", "ok"]
    out = B.write_csv(services.advisor, res, "vi", tmp_path / "r.csv")
    text = out.read_text(encoding="utf-8-sig")
    assert "\u202e" not in text and len(list(csv.reader(text.splitlines()))) == 3  # header + 2 rows, one line each

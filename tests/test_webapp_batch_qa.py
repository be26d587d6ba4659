"""The Batch tab for an extension officer: a zip of a season's photos, one folder a farm or plot."""
from __future__ import annotations

import csv
import zipfile

import cv2
import pytest

from leafscout.webapp import batch as B
from leafscout.webapp.services import Services


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from leafscout.model.testing import toy_model

    folder = tmp_path_factory.mktemp("toy")
    return Services(model_path=toy_model(folder / "toy.onnx"), db=str(folder / "log.sqlite"))


def _png(kind: str) -> bytes:
    from leafscout.model.testing import TOY_COLOURS, flat_photo

    ok, buf = cv2.imencode(".png", cv2.cvtColor(flat_photo(TOY_COLOURS[kind]), cv2.COLOR_RGB2BGR))
    return buf.tobytes()


def test_photos_of_the_same_name_in_two_folders_of_a_zip_are_told_apart(services, tmp_path):
    """Two farmers' phones both name photos IMG_0001.jpg; the officer zips one folder a farm. The rows, the CSV
    and the PDF dropped the folders and showed 'mua-2026.zip/IMG_0001.jpg' twice, one healthy and one not: which
    farm's plant was sick could not be told. The member's folders are kept (never read as a path: '..' and a
    leading '/' are left out)."""
    archive = tmp_path / "mua-2026.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Ban Chieng/IMG_0001.jpg", _png("ok"))
        zf.writestr("Ban Mong/IMG_0001.jpg", _png("uncertain"))
        zf.writestr("../../etc/IMG_0002.jpg", _png("ok"))
        zf.writestr("/abs/./IMG_0003.jpg", _png("ok"))
        zf.writestr("IMG_0004.jpg", _png("ok"))
    res = B.run_batch(services, [archive], tmp_path / "work", check_paths=False)
    names = [r["file"] for r in res["rows"]]
    assert names == ["mua-2026.zip/Ban Chieng/IMG_0001.jpg", "mua-2026.zip/Ban Mong/IMG_0001.jpg",
                     "mua-2026.zip/etc/IMG_0002.jpg", "mua-2026.zip/abs/IMG_0003.jpg", "mua-2026.zip/IMG_0004.jpg"]
    out = B.write_csv(services.advisor, res, "vi", tmp_path / "r.csv")
    rows = list(csv.reader(out.read_text(encoding="utf-8-sig").splitlines()))
    assert [r[1] for r in rows[1:3]] == names[:2]

"""`python -m leafscout.model.quantize` (int8 copy of a retrained model): a wrong path is one error line, checked
before the calibration runs, never a traceback."""
from __future__ import annotations

import pytest

pytest.importorskip("onnxruntime")

from leafscout.model.quantize import main  # noqa: E402

from conftest import FIXTURE_IMAGES, REPO  # noqa: E402

SHIPPED = str(REPO / "model" / "leafscout.onnx")


def test_wrong_paths_are_one_error_line(tmp_path, capsys):
    cases = [([str(tmp_path / "nope.onnx"), str(tmp_path / "q.onnx"), str(FIXTURE_IMAGES)], "no model file"),
             ([SHIPPED, str(tmp_path / "q.onnx"), str(tmp_path / "nope")], "is not a folder"),
             ([SHIPPED, str(tmp_path / "q.onnx"), str(tmp_path)], "no calibration photos"),
             ([SHIPPED, str(tmp_path / "no" / "such" / "q.onnx"), str(FIXTURE_IMAGES)], "does not exist")]
    for argv, why in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and why in err and "Traceback" not in err
    assert not list(tmp_path.rglob("*.onnx"))

"""A researcher trains a new crop in (README: "add a crop"), then diagnoses with the new model before anyone has
written its knowledge-base entries: the answers come, without advice, and the CLI says which labels lack an
entry, instead of a KnowledgeBaseError traceback."""
from __future__ import annotations

import pytest



def test_a_model_label_without_a_kb_entry_is_answered_without_advice(tmp_path, capsys, red_leaf):
    pytest.importorskip("onnx")
    from leafscout.cli import main
    from leafscout.model.testing import toy_model
    from leafscout.service import DiagnosisService
    model = toy_model(tmp_path / "new.onnx", labels=["durian.leaf_spot", "coffee.rust", "background.no_leaf"])
    svc = DiagnosisService(model_path=str(model), db=str(tmp_path / "log.sqlite"))
    assert svc.advisor.unadvised == ("durian.leaf_spot",)
    d = svc.diagnose(red_leaf)
    assert d.label == "durian.leaf_spot" and d.status in ("ok", "uncertain") and d.advice is None
    assert main(["diagnose", "--model", str(model), "--db", str(tmp_path / "log.sqlite"), str(red_leaf),
                 "--lang", "vi"]) == 0
    out, err = capsys.readouterr()
    assert "durian.leaf_spot" in err and "chưa có mục trong cơ sở kiến thức" in err and "Traceback" not in err
    assert "Sầu riêng (leaf spot)" in out  # its own words, not "another problem"

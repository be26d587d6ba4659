"""The ship check counts what a farmer reads: a rice photo answered "ok" with another crop's disease is the one
mistake rule 2 forbids, so the scorer must tell it apart from an honest "rice, not a disease I know"."""
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "benchmarks" / "rice_answers.py"


def _row(path, label, status="ok", conf=0.9):
    return {"path": path, "label": label, "status": status, "confidence": conf, "error": None}


def _run(tmp_path, rows, *extra):
    f = tmp_path / "answers.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return subprocess.run([sys.executable, str(SCRIPT), str(f), *extra], capture_output=True, text=True)


def test_each_kind_of_answer_is_counted_apart(tmp_path):
    root = "../shared/datasets/rice_leaf_ph/val"
    rows = [
        _row(f"{root}/blast/a.jpg", "rice.blast"),                              # right
        _row(f"{root}/blast/b.jpg", "apple.cedar_apple_rust"),                  # another crop, ok: forbidden
        _row(f"{root}/brownspot/c.jpg", "rice.other", "uncertain", 0.6),        # honest: rice, unknown disease
        _row(f"{root}/brownspot/d.jpg", "rice.blast"),                          # wrong, same crop
        _row(f"{root}/Bacterial_leaf_blight/e.jpg", "corn.common_rust", "uncertain", 0.3),  # abstained
        _row("/elsewhere/f.jpg", "rice.blast"),                                 # not in a mapped folder
    ]
    out = _run(tmp_path, rows, "--wrong")
    assert out.returncode == 0, out.stderr
    line = out.stdout.splitlines()[0]
    assert "right 1/5" in line
    assert "ANOTHER CROP ok 1" in line
    assert "crop.other 1" in line and "abstained 1" in line and "wrong same crop ok 1" in line
    assert "b.jpg: truth rice.blast -> apple.cedar_apple_rust ok" in out.stdout


def test_unreadable_or_unmapped_input_says_what_was_expected(tmp_path):
    bad = tmp_path / "answers.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(SCRIPT), str(bad)], capture_output=True, text=True)
    assert out.returncode == 2 and "leafscout diagnose --json" in out.stderr and "Traceback" not in out.stderr
    out = _run(tmp_path, [_row("/nowhere/x.jpg", "rice.blast")])
    assert out.returncode == 2 and "labels.yaml" in out.stderr


def test_ship_check_refuses_a_missing_model_in_one_line(tmp_path):
    out = subprocess.run(["bash", str(REPO / "benchmarks" / "ship_check.sh"), str(tmp_path / "none.onnx")],
                         capture_output=True, text=True)
    assert out.returncode == 2 and "no such model file" in out.stderr and out.stderr.count("\n") == 1
    assert not (tmp_path / "ship_check").exists()  # nothing measured, nothing written

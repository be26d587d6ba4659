"""`leafscout log import FILE`: a --plot that is not in the log is one refusal before anything is read into the
log (it was the same refusal once per record: 500 lines for a season's export), and a damaged record (a
photo_type that is not text, an id with control characters) is refused on its own line, never a traceback."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from leafscout.cli import main

PHOTO = Path(__file__).parent / "fixtures" / "images" / "coffee_bracol" / "rust" / "764.jpg"
PLOT = "Đồi A"


def _rec(i, **kw):
    return {"id": f"rec-{i}", "plot": PLOT, "observed_at": f"2026-12-01T08:{i:02d}:00Z", "label": "coffee.rust",
            "status": "ok", "confidence": 0.9, "model_version": "3.1.0", "photo_type": "image/jpeg",
            "photo_base64": base64.b64encode(PHOTO.read_bytes()).decode(), **kw}


@pytest.fixture
def db(tmp_path):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", PLOT, "--crop", "cà phê", "--area", "0.5", "--db", db]) == 0
    return db


def _file(tmp_path, records):
    path = tmp_path / "export.json"
    path.write_text(json.dumps({"format": "leafscout-phone-log", "version": 1, "records": records}), "utf-8")
    return str(path)


def _count(db):
    from leafscout.fieldlog import FieldLog
    with FieldLog.open(db) as log:
        return len(log.history(PLOT).observations)


def test_an_unknown_plot_option_is_one_refusal_and_imports_nothing(db, tmp_path, capsys):
    capsys.readouterr()
    rc = main(["log", "import", _file(tmp_path, [_rec(i) for i in range(5)]), "--plot", "Doi B", "--db", db])
    out, err = capsys.readouterr()
    assert rc == 2 and out == "" and err.count("\n") == 1, err
    assert err.startswith("leafscout log: error: --plot Doi B: no plot named 'Doi B'") and "Did you mean 'Đồi A'?" in err
    assert _count(db) == 0
    assert main(["log", "import", _file(tmp_path, [_rec(i, plot="Đồi B") for i in range(5)]), "--plot", PLOT,
                 "--db", db]) == 0
    assert _count(db) == 5  # a plot the log has: every record in it


def test_a_damaged_record_is_refused_on_one_line(db, tmp_path, capsys):
    capsys.readouterr()
    records = [_rec(0, photo_type=["image/png"]),  # not text: read as the default type, not a TypeError traceback
               _rec(1, id="x\x1b[31m\nrecord fake", status="weird"), _rec(2)]
    rc = main(["log", "import", _file(tmp_path, records), "--db", db])
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "\x1b" not in err
    assert out.startswith("imported 2 record(s), 0 already in the log, 1 refused"), out
    assert rc == 2 and _count(db) == 2
    assert err.splitlines() == ["leafscout log import: refused record x\\x1b[31m\\nrecord fake: status 'weird' is not "
                                "a diagnosis the phone saves"], err

"""`leafscout log import FILE`: the phone app's export into the field log, in-process (no browser needed).

No record lost (a refused record is named; fix the cause and import the same file again), none doubled
(re-imports and overlapping exports skip what is there), bad files are one line and exit 2, never a traceback.
"""
from __future__ import annotations

import base64
import json

import pytest

from conftest import LATE_BLIGHT_PHOTO, fixture_photos

PLOT = "Đồi A"


def _rec(i, photo, plot=PLOT, **kw):
    return {"id": f"rec-{i}", "plot": plot, "observer": "Lan", "observed_at": f"2026-12-0{1 + i % 4}T08:0{i % 10}:01.250Z",
            "label": "tomato.late_blight", "status": "ok", "confidence": 0.93, "model_version": "2.0.0",
            "photo_type": "image/jpeg", "photo_base64": base64.b64encode(photo.read_bytes()).decode(), **kw}


def _write(path, records, **top):
    path.write_text(json.dumps({"format": "leafscout-phone-log", "version": 1, "records": records, **top}), "utf-8")
    return path


@pytest.fixture
def db(tmp_path):
    from leafscout.fieldlog import FieldLog

    url = str(tmp_path / "log.sqlite")
    with FieldLog.open(url) as log:
        log.add_plot(PLOT, crop="tomato", area_ha=0.5)
    return url


def _run(capsys, *argv):
    from leafscout.cli import main

    code = main(["log", "import", *argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _count(db):
    from leafscout.fieldlog import FieldLog

    with FieldLog.open(db) as log:
        return len(log.history(PLOT).observations)


def test_import_twice_and_overlapping_exports_double_nothing(tmp_path, db, capsys):
    photos = fixture_photos()[:3]
    first = _write(tmp_path / "a.json", [_rec(i, p) for i, p in enumerate(photos[:2])])
    both = _write(tmp_path / "b.json", [_rec(i, p) for i, p in enumerate(photos)])  # a later export: all three
    code, out, err = _run(capsys, str(first), "--db", db)
    assert code == 0 and "imported 2 record(s), 0 already" in out, out + err
    code, out, _ = _run(capsys, str(first), "--db", db)
    assert code == 0 and "imported 0 record(s), 2 already" in out
    code, out, _ = _run(capsys, str(both), "--db", db)
    assert code == 0 and "imported 1 record(s), 2 already" in out
    assert _count(db) == 3
    from leafscout.fieldlog import FieldLog
    with FieldLog.open(db) as log:
        obs = log.history(PLOT).observations
    assert all(o.confirmed_by is None and o.observer == "Lan" for o in obs)  # unconfirmed, as diagnose --log


def test_a_refused_record_is_named_and_not_lost(tmp_path, db, capsys):
    f = _write(tmp_path / "x.json", [_rec(0, LATE_BLIGHT_PHOTO), _rec(1, LATE_BLIGHT_PHOTO, plot="Đồi B")])
    code, out, err = _run(capsys, str(f), "--db", db)
    assert code == 2 and "imported 1 record(s)" in out and "rec-1" in err and "Đồi B" in err
    from leafscout.fieldlog import FieldLog
    with FieldLog.open(db) as log:
        log.add_plot("Đồi B", crop="tomato", area_ha=0.2)
    code, out, err = _run(capsys, str(f), "--db", db)  # the same file again, once the plot exists
    assert code == 0 and "imported 1 record(s), 1 already" in out, out + err


def test_plot_option_puts_everything_in_one_plot(tmp_path, db, capsys):
    f = _write(tmp_path / "x.json", [_rec(0, LATE_BLIGHT_PHOTO, plot="typed on the phone")])
    code, out, err = _run(capsys, str(f), "--db", db, "--plot", PLOT)
    assert code == 0 and _count(db) == 1, out + err


@pytest.mark.parametrize("content, words", [
    (b"", "not a phone field-log export"),
    (b"\xff\xfe\x00garbage", "not a phone field-log export"),
    (b'{"format": "something-else", "records": []}', "not a phone field-log export"),
    (b'[1, 2, 3]', "not a phone field-log export"),
    (b'{"format": "leafscout-phone-log", "version": 9, "records": []}', "version 9"),
])
def test_bad_files_are_one_line(tmp_path, db, capsys, content, words):
    from leafscout.cli import main

    f = tmp_path / "bad.json"
    f.write_bytes(content)
    code = main(["log", "import", str(f), "--db", db])
    err = capsys.readouterr().err
    assert code == 2 and words in err and "Traceback" not in err and err.count("\n") == 1


def test_bad_records_are_refused_one_by_one(tmp_path, db, capsys):
    good = _rec(0, LATE_BLIGHT_PHOTO)
    recs = [good, "not a record", {**good, "id": "b64", "photo_base64": "@@@"}, {**good, "id": "time",
            "observed_at": "yesterday"}, {**good, "id": "st", "status": "not_a_leaf"},
            {**good, "id": "conf", "confidence": "high"}, {**good, "id": "noimg", "photo_base64": "aGVsbG8="},
            {**good, "id": "lab", "label": "<script>"}]
    code, out, err = _run(capsys, str(_write(tmp_path / "x.json", recs)), "--db", db)
    assert code == 2 and "imported 1 record(s), 0 already in the log, 7 refused" in out, out + err
    assert "Traceback" not in err and "leafscout-import-" not in err and _count(db) == 1

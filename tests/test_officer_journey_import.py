"""`leafscout log import FILE` fed what an officer might pick by mistake, or a hostile phone export: one line on
stderr, exit 2, nothing written."""
from __future__ import annotations

import os

import pytest

from leafscout.cli import main
from leafscout.fieldlog import FieldLog


@pytest.fixture
def db(tmp_path) -> str:
    path = str(tmp_path / "log.sqlite")
    with FieldLog.open(path) as log:
        log.add_plot("Đồi chè", "tea", 0.5)
    return path


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.count("\n") == 1, err
    return err


def test_a_deeply_nested_file_is_one_line_not_a_recursion_traceback(db, tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text('{"format": "leafscout-phone-log", "version": 1, "records": ' + "[" * 100_000)
    capsys.readouterr()
    assert main(["log", "import", str(deep), "--db", db]) == 2
    assert "is not a phone field-log export" in _one_line(capsys)
    with FieldLog.open(db) as log:
        assert log.history("Đồi chè").observations == []


def test_a_folder_or_pipe_is_named_as_such_not_as_missing(db, tmp_path, capsys):
    fifo = tmp_path / "export.json"
    os.mkfifo(fifo)
    capsys.readouterr()
    for path in (tmp_path, fifo):
        assert main(["log", "import", str(path), "--db", db]) == 2
        err = _one_line(capsys)
        assert "not a file (a folder, pipe or device)" in err and "no such file" not in err, err
    assert main(["log", "import", str(tmp_path / "nope.json"), "--db", db]) == 2
    assert "no such file" in _one_line(capsys)

"""What `--help` tells a person: `leafscout --help` said "The `leafscout` command: a thin dispatcher." (the module's
developer docstring); `advise --help` did not say --lang's default (Vietnamese) nor what --days-to-harvest does."""
from __future__ import annotations

import pytest

from leafscout.cli import main


def _help(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as ei:
        main([*argv, "--help"])
    assert ei.value.code == 0
    return capsys.readouterr().out


def test_the_top_help_says_what_leafscout_does(capsys):
    out = _help(capsys)
    assert "dispatcher" not in out
    assert "organic advice" in out and "hướng dẫn cách xử lý hữu cơ" in out
    assert "--lang vi|en" in out and "Each command has its own --help" in out


def test_advise_help_documents_its_language_and_days_to_harvest(capsys):
    out = " ".join(_help(capsys, "advise").split())
    assert "--lang {vi,en} language of the advice and of every refusal (default vi)" in out
    assert "--days-to-harvest N days until harvest (0 to 10000)" in out


def test_log_import_help_is_wrapped_and_gives_its_own_exit_codes(capsys):
    """`log import --help` printed its description as one 900-character line, and the log's exit codes, whose
    "2 ... nothing was written" is not so for an import where only some records were refused."""
    out = _help(capsys, "log", "import")
    assert max(len(ln) for ln in out.splitlines()) <= 110, max(out.splitlines(), key=len)
    assert "nothing was written" not in out
    assert "some records were\n     refused (each named on stderr; the others are imported" in out, out


def test_corrections_export_help_says_what_dir_is(capsys):
    out = " ".join(_help(capsys, "corrections", "export").split())
    assert "DIR the folder to write into: new, empty, or an earlier export (replaced)" in out

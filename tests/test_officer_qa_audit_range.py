"""`leafscout log audit --from DATE --to DATE`: the last day asked for is in the audit."""
from __future__ import annotations

from leafscout.cli import main


def test_to_date_includes_that_whole_day(tmp_path, capsys):
    """A glyphosate spray on 30 June was left out of `audit --from 2026-06-01 --to 2026-06-30` (the end was read
    as 30 June 00:00, exclusive), so the audit said ok and exited 0; `--from 2026-06-30 --to 2026-06-30` was
    refused as an empty period."""
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "1", "--db", db]) == 0
    assert main(["log", "act", "Đồi A", "--what", "sprayed glyphosate", "--substance", "glyphosate",
                 "--at", "2026-06-30 15:00", "--db", db]) == 0
    assert main(["log", "act", "Đồi A", "--what", "weeding", "--at", "2026-07-01 00:00", "--db", db]) == 0
    capsys.readouterr()
    for start in ("2026-06-01", "2026-06-30"):
        assert main(["log", "audit", "--from", start, "--to", "2026-06-30", "--db", db]) == 1, start
        out = capsys.readouterr().out
        assert f"Audit {start} to 2026-06-30: 1 actions, 1 not allowed" in out, out
        assert "FLAG 2026-06-30 Đồi A: sprayed glyphosate" in out and "weeding" not in out, out
    # a time given with --to is taken as it is (up to, not including, that moment)
    assert main(["log", "audit", "--from", "2026-06-01", "--to", "2026-06-30T15:00", "--db", db]) == 0
    assert "0 actions" in capsys.readouterr().out

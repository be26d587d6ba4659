"""`leafscout log correct ID --label L`: a label typed with capitals or spaces (" Coffee.Rust") is the label, as
`leafscout advise` and the service read it ("ids are lower case"); it was refused as unknown, with
"Did you mean 'coffee.rust'?"."""
from __future__ import annotations

from pathlib import Path

from leafscout.cli import main

PHOTO = Path(__file__).parent / "fixtures" / "images" / "coffee_bracol" / "rust" / "764.jpg"


def test_a_corrected_label_typed_with_capitals_or_spaces_is_the_label(tmp_path, capsys):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", db]) == 0
    assert main(["log", "observe", "Đồi A", str(PHOTO), "--label", "coffee.rust", "--status", "ok", "--confidence",
                 "0.9", "--model-version", "3.1.0", "--db", db]) == 0
    capsys.readouterr()
    assert main(["log", "correct", "1", "--label", " Coffee.Cercospora_Leaf_Spot ", "--by", "Hoa", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "coffee.rust -> coffee.cercospora_leaf_spot by Hoa" in out, out
    assert main(["log", "correct", "1", "--label", "coffee.rst", "--by", "Hoa", "--db", db]) == 2  # still refused
    assert "Did you mean 'coffee.rust'?" in capsys.readouterr().err

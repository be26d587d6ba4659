"""Under `--lang vi` a farmer never reads an English refusal: argparse's own (a bad number, an unknown option, a
missing argument: wherever --lang stands on the line), and every refusal of `advise`, `diagnose`, `diagnose
--group` and `batch` (unknown label, crop or plot, a value out of range, the field log's refusals). The error code
stays visible beside a translated refusal; option names, labels and names stay as typed; English runs read as
before; --json/--csv stay language-free."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from leafscout.cli import main

FIX = Path(__file__).parent / "fixtures"
PHOTO = FIX / "images/coffee_bracol/rust/764.jpg"
SHIPPED = Path(__file__).resolve().parents[1] / "model" / "leafscout.onnx"
needs_model = pytest.mark.skipif(not SHIPPED.is_file(), reason="needs the shipped model")

# words only an English refusal holds (none is Vietnamese; option names are taken out first)
ENGLISH = ("error", "argument", "invalid", "expected", "unrecognized", "required", "must", "unknown", "label",
           "did you mean", "the", "and", "give", "got", "between", "choose", "usage", "ambiguous", "could match",
           "no plot", "known", "not", "value", "field log", "such", "with", "or", "to", "of")


def _english(text: str) -> list[str]:
    """English words in `text`, less option names (--days-to-harvest), `commands`, quoted values and ids."""
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"'[^']*'", " ", text)
    text = re.sub(r"(?<![\w-])--?[\w-]+", " ", text)
    text = re.sub(r"\[[a-z_]+\]", " ", text)  # the error code
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", " ", text)  # labels
    text = re.sub(r"^leafscout(?: \w+)?:", " ", text, flags=re.M)
    return sorted({w for w in ENGLISH if re.search(rf"(?<![\w-]){w}(?![\w-])", text, re.I)})


def _run(capsys, *argv) -> tuple[int, str, str]:
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv", [
    ["advise", "tomato.late_blight", "--days-to-harvest", "abc", "--lang", "vi"],   # --lang after the mistake
    ["advise", "--lang", "vi", "tomato.late_blight", "--copper-used", "nhiều"],
    ["advise", "tomato.late_blight", "--organic-status", "bio", "--lang=vi"],
    ["advise", "tomato.late_blight", "--days-to-harvest", "abc"],                    # advise speaks vi by default
    ["advise", "tomato.late_blight", "--frob", "--lang", "vi"],                      # an unknown option
    ["advise", "tomato.late_blight", "--co", "3", "--lang", "vi"],                    # an ambiguous one
    ["diagnose", "--lang", "vi"],                                                    # a missing argument
    ["diagnose", str(PHOTO), "--top-k", "nhiều", "--lang", "vi"],
    ["diagnose", str(PHOTO), "--top-k", "--lang", "vi"],                              # an option without its value
    ["diagnose", str(PHOTO), "--top-k", "x", "--advise"],                             # --advise alone: vi
    ["advise", "--lang", "fr"],                                                      # advise's default language
])
def test_argparse_refusals_follow_the_run_language(capsys, argv):
    rc, out, err = _run(capsys, *argv)
    assert rc == 2 and out == ""
    assert re.search(r"^leafscout(?: \w+)?: lỗi: ", err, re.M), err
    assert err.startswith("cách dùng: leafscout"), err
    last = err.strip().splitlines()[-1]
    assert not _english(last), (last, _english(last))


def test_argparse_refusals_in_vietnamese_keep_the_names_and_the_hint(capsys):
    _, _, err = _run(capsys, "advise", "tomato.late_blight", "--days-to-harvest", "abc", "--lang", "vi")
    assert err.strip().endswith("leafscout advise: lỗi: --days-to-harvest: 'abc' không phải là số nguyên."), err
    _, _, err = _run(capsys, "advise", "--orgnic-status", "certified", "--lang", "vi")
    assert "không hiểu tham số: --orgnic-status" in err and "Có phải ý bạn là '--organic-status'?" in err, err
    _, _, err = _run(capsys, "advise", "x", "--organic-status", "bio", "--lang", "vi")
    assert ("--organic-status: không có lựa chọn 'bio'; hãy chọn một trong: 'certified', 'in_conversion', "
            "'conventional'") in err, err


def test_argparse_refusals_stay_english_in_english_runs(capsys):
    _, _, err = _run(capsys, "advise", "tomato.late_blight", "--days-to-harvest", "abc", "--lang", "en")
    assert err.startswith("usage: leafscout advise") and err.strip().endswith(
        "leafscout advise: error: argument --days-to-harvest: invalid int value: 'abc'."), err
    _, _, err = _run(capsys, "diagnose", str(PHOTO), "--top-k", "x")  # diagnose speaks English by default
    assert "error: argument --top-k: invalid int value: 'x'." in err, err
    _, _, err = _run(capsys, "diagnos", "x", "--lang", "en")
    assert "error: argument COMMAND: invalid choice: 'diagnos'" in err and "Did you mean 'diagnose'?" in err

"""`leafscout diagnose ... --advise vi` says everything a farmer reads in Vietnamese (issue 18): the result line,
why it is uncertain, the insects counted, the closing count. Names come from the knowledge base, never raw
labels. `--advise en` keeps the English lines; --json stays language-free.

Runs the shipped model (and the shipped insect detector when it is there) on committed fixture photos."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from leafscout.cli import main

FIX = Path(__file__).parent / "fixtures"
LEAF_PHOTOS = [FIX / "images/plantvillage/Tomato___Late_blight", FIX / "images/coffee_bracol/rust/764.jpg",
               FIX / "ood/wall_brick.jpg", FIX / "bad/empty.jpg"]
PEST_PHOTOS = FIX / "rice_pest/images"
SHIPPED = Path(__file__).resolve().parents[1] / "model" / "leafscout.onnx"
PESTS = SHIPPED.with_name("pests.onnx")

# words only an untranslated English line would hold (tests/test_advisor_vi.py's list, plus the CLI's own)
GIVEAWAY = ("not", "verified", "cause", "none", "settled", "unknown", "the", "and",
            "insects", "uncertain", "photo", "photos", "then", "confidence", "leaf", "retake", "unreadable",
            "model", "warning", "error", "found", "threshold", "ok")

pytestmark = pytest.mark.skipif(not SHIPPED.is_file(), reason="needs the shipped model")


@pytest.fixture(scope="module")
def advisor():
    from leafscout.service import default_advisor
    return default_advisor()


@pytest.fixture(scope="module")
def labels(advisor) -> set[str]:
    """Every label a model or the detector can give, and every knowledge-base id."""
    from leafscout.service import model_labels
    out = set(model_labels()) | set(advisor.kb.problems)
    if PESTS.is_file():
        from leafscout.model.detect import Detector
        out |= set(Detector(PESTS, threads=1).labels)
    return out


def _reader_text(text: str, paths, advisor) -> str:
    """What a person reads, less what is not ours to translate: photo paths (file names), legal citations in
    their original language (as tests/test_advisor_vi.py), URLs, and the model's version number."""
    for p in sorted({str(x) for x in paths}, key=len, reverse=True):
        text = text.replace(p, "@@")
    heads = {advisor.rules["ui"]["citations"][lang] for lang in ("en", "vi")}
    text = "\n".join(ln for ln in text.splitlines() if not any(h in ln for h in heads))
    return re.sub(r"https?://\S+", " ", text)


def _english(line: str) -> list[str]:
    return sorted({w for w in GIVEAWAY if re.search(rf"(?<![\w-]){w}(?![\w-])", line, re.I)})


def _run(capsys, *args) -> tuple[int, str, str]:
    rc = main(["diagnose", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def _all_photos(*roots) -> list[Path]:
    out = []
    for r in roots:
        out += sorted(p for p in r.rglob("*") if p.is_file()) if r.is_dir() else [r]
    return out


@pytest.mark.parametrize("roots", [LEAF_PHOTOS, [PEST_PHOTOS]], ids=["leaf-fixtures", "rice-pest-fixture"])
def test_advise_vi_prints_no_english_and_no_raw_labels(capsys, advisor, labels, roots):
    rc, out, err = _run(capsys, *roots, "--advise", "vi")
    assert rc == 0 and "Traceback" not in out + err
    text = _reader_text(out + err, _all_photos(*roots), advisor)
    bad = {ln.strip(): _english(ln) for ln in text.splitlines() if _english(ln)}
    assert not bad, f"English under --advise vi: {bad}"
    raw = sorted(lab for lab in labels if re.search(rf"(?<![\w.]){re.escape(lab)}(?![\w])", text))
    assert not raw, f"raw labels under --advise vi: {raw}"
    n = len(_all_photos(*roots))
    assert re.search(rf"^{n} ảnh: \d+ có kết quả, \d+ chưa chắc chắn, \d+ không thấy lá, \d+ không đọc được",
                     err, re.M), err


def test_advise_vi_names_the_problem_and_says_why_in_vietnamese(capsys, advisor):
    rc, out, err = _run(capsys, *LEAF_PHOTOS, "--advise", "vi")
    lines = {Path(ln.split(": ", 1)[0]).name: ln.split(": ", 1)[1] for ln in out.splitlines()
             if not ln.startswith(" ") and ": " in ln}
    blight = next(v for k, v in lines.items() if "GHLB2_Leaf_8613" in k)
    assert blight.startswith("Bệnh mốc sương (Cà chua) ") and re.search(r" \d{1,3}%", blight)
    assert lines["wall_brick.jpg"].startswith("không thấy lá: ")
    assert lines["empty.jpg"] == "không đọc được ảnh: tệp rỗng (0 byte)"


@pytest.mark.skipif(not PESTS.is_file(), reason="needs the shipped insect detector")
def test_insects_are_counted_in_vietnamese_and_english(capsys):
    _, vi, _ = _run(capsys, PEST_PHOTOS, "--advise", "vi")
    _, en, en_err = _run(capsys, PEST_PHOTOS, "--advise", "en")
    vi_lines = [ln.strip() for ln in vi.splitlines() if ln.strip().startswith("Côn trùng: ")]
    en_lines = [ln.strip() for ln in en.splitlines() if ln.strip().startswith("insects: ")]
    assert vi_lines and len(vi_lines) == len(en_lines)
    assert any(re.match(r"Côn trùng: \d+ con rầy nâu: Ảnh có", ln) for ln in vi_lines), vi_lines
    assert any(re.match(r"insects: \d+ x rice\.brown_planthopper: ", ln) for ln in en_lines), en_lines
    assert "photo(s):" in en_err  # English output as before


def test_json_stays_language_free_under_advise_vi(capsys, labels):
    _, out, _ = _run(capsys, FIX / "images/coffee_bracol/rust/764.jpg", FIX / "bad/empty.jpg", "--json",
                     "--advise", "vi")
    rows = [json.loads(ln) for ln in out.splitlines()]
    assert [r["status"] for r in rows][1] == "error"
    assert rows[0]["status"] in ("ok", "uncertain") and rows[0]["label"] in labels
    assert all(t["label"] in labels for t in rows[0]["top_k"])


def test_a_photo_of_another_crop_is_noted_in_vietnamese(capsys):
    rc, out, err = _run(capsys, FIX / "images/coffee_bracol/rust/764.jpg", "--crop", "tomato", "--advise", "vi")
    head = out.splitlines()[0]
    assert rc == 0 and re.search(r"\[ảnh này giống cà phê \(\d+%\) hơn là cà chua; kiểm tra lại cây trồng đã chọn\]$",
                                 head), head


def test_lang_vi_gives_vietnamese_lines_without_the_advice(capsys, advisor):
    """An officer checking a folder wants the answers in Vietnamese, not a page of advice per photo:
    `--lang vi` as in `leafscout advise --lang vi`."""
    _, with_advice, _ = _run(capsys, *LEAF_PHOTOS, "--advise", "vi")
    rc, out, err = _run(capsys, *LEAF_PHOTOS, "--lang", "vi")
    assert rc == 0 and "TƯ VẤN LEAFSCOUT" in with_advice and "TƯ VẤN LEAFSCOUT" not in out
    heads = [ln for ln in with_advice.splitlines() if ln and not ln.startswith(" ")]
    assert [ln for ln in out.splitlines() if ln and not ln.startswith(" ")] == heads  # the same result lines
    assert re.search(r"^\d+ ảnh: ", err, re.M), err
    # --lang gives --advise its language; two different languages are refused, not guessed
    _, en_advice, _ = _run(capsys, FIX / "images/coffee_bracol/rust/764.jpg", "--lang", "en", "--advise")
    assert "LEAFSCOUT ADVICE" in en_advice.upper() and "TƯ VẤN" not in en_advice
    rc, _, err = _run(capsys, FIX / "images/coffee_bracol/rust/764.jpg", "--lang", "en", "--advise", "vi")
    assert rc == 2 and "two languages" in err and "Traceback" not in err


def test_a_problem_name_that_names_its_crop_is_not_followed_by_the_crop_again():
    """'Lúa: không phải bệnh nào LeafScout biết (Lúa)' read the crop twice; other names keep '(crop)'."""
    from leafscout.advisor import Advisor
    from leafscout.i18n import problem_name
    from leafscout.webapp.handlers import problem_name as card_name
    adv = Advisor.load()
    for name in (problem_name, card_name):
        assert name(adv, "rice.other", "vi") == "Lúa: không phải bệnh nào LeafScout biết"
        assert name(adv, "rice.other", "en") == "Rice: not one of the diseases LeafScout knows"
        assert name(adv, "rice.blast", "vi").endswith("(Lúa)")
        assert name(adv, "coffee.rust", "en") == "Coffee leaf rust (Coffee)"  # a name that starts with its crop


def test_a_vietnamese_run_is_refused_in_vietnamese(tmp_path, capsys):
    """`--lang vi` with a crop the model has no labels for, or a plot the log does not have: the refusal, its
    'lỗi' and the names to choose from are Vietnamese (they were the service's English)."""
    from pathlib import Path

    from leafscout.cli import main
    photo = str(next((Path(__file__).parent / "fixtures" / "ood").glob("*.jpg")))
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", db]) == 0
    capsys.readouterr()
    assert main(["diagnose", photo, "--crop", "chuối", "--lang", "vi", "--db", db]) == 2
    err = capsys.readouterr().err
    assert err.startswith("leafscout diagnose: lỗi [unknown_crop]: mô hình chưa có nhãn nào cho cây 'chuối'") \
        and "Cà phê (coffee)" in err  # the code beside 'lỗi', for support
    assert main(["diagnose", photo, "--log", "Đồi B", "--lang", "vi", "--db", db]) == 2
    err = capsys.readouterr().err
    assert "lỗi [unknown_plot]: --log Đồi B: không có lô nào tên 'Đồi B' (các lô đã có: Đồi A)" in err
    assert main(["diagnose", photo, "--crop", "chuối", "--db", db]) == 2  # English run: English, as before
    assert "error: the model has no labels for crop 'chuối'" in capsys.readouterr().err

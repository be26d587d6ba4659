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
    text = re.sub(r"\S*/\S*", " ", text)  # paths
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


# ---------------------------------------------------------------------------------------------- advise

@pytest.mark.parametrize("argv, code", [
    (["tomato.late_blit"], "unknown_label"),
    (["tomato.late_blight", "--days-to-harvest", "-3"], "bad_input"),
    (["tomato.late_blight", "--days-to-harvest", "10001"], "bad_input"),
    (["tomato.late_blight", "--copper-used", "-1"], "bad_input"),
    (["tomato.late_blight", "--copper-used-7y", "nan"], "bad_input"),
    (["--list", "--crop", "banana"], "unknown_crop"),
    (["tomato.late_blight", "--crop", "chuối"], "unknown_crop"),
    ([], None),
    (["--list", "coffee"], None),
    (["tomato.late_blight", "--crop", "cà phê"], None),
])
def test_advise_refuses_in_vietnamese_with_the_code(capsys, argv, code):
    rc, out, err = _run(capsys, "advise", *argv, "--lang", "vi")
    assert rc == 2 and out == "" and "Traceback" not in err
    prefix = f"leafscout advise: lỗi [{code}]: " if code else "leafscout advise: lỗi: "
    assert err.startswith(prefix) and err.count("\n") == 1, err
    assert not _english(err), (err, _english(err))


def test_advise_names_the_nearest_label_in_vietnamese_and_english(capsys):
    _, _, err = _run(capsys, "advise", "tomato.late_blit", "--lang", "vi")
    assert err.strip() == ("leafscout advise: lỗi [unknown_label]: không có vấn đề 'tomato.late_blit' trong cơ sở "
                           "kiến thức (có phải ý bạn là 'tomato.late_blight': Bệnh mốc sương (Cà chua)?); hãy nhập "
                           "mã dạng cây.vấn_đề, ví dụ tomato.late_blight (xem danh sách bằng `leafscout advise "
                           "--list`)"), err
    _, _, err = _run(capsys, "advise", "tomato.late_blight", "--days-to-harvest", "-3", "--lang", "vi")
    assert err.strip().endswith("--days-to-harvest -3: số ngày đến khi thu hoạch phải từ 0 đến 10000"), err
    _, _, err = _run(capsys, "advise", "--list", "--crop", "banana", "--lang", "vi")
    assert "cơ sở kiến thức không có cây 'banana'" in err and "Cà phê (coffee)" in err and "(background)" not in err
    # English: the advisor's and the service's own words, as before, with no code
    _, _, err = _run(capsys, "advise", "tomato.late_blit", "--lang", "en")
    assert err.startswith("leafscout advise: error: unknown label 'tomato.late_blit' (did you mean "
                          "'tomato.late_blight'?)"), err
    _, _, err = _run(capsys, "advise", "tomato.late_blight", "--days-to-harvest", "-3", "--lang", "en")
    assert err.strip() == "leafscout advise: error: days to harvest must be between 0 and 10000, got -3", err


def test_the_vietnamese_limits_are_the_services(capsys):
    """The Vietnamese refusal names the limits; the service decides them: at the limit accepted, past it refused."""
    for argv in (["--days-to-harvest", "10000"], ["--days-to-harvest", "0"], ["--copper-used", "999.9"]):
        rc, _, err = _run(capsys, "advise", "tomato.late_blight", *argv, "--lang", "vi")
        assert rc == 0, (argv, err)
    for argv in (["--days-to-harvest", "10001"], ["--copper-used", "1000"], ["--copper-used-7y", "-0.1"]):
        rc, _, err = _run(capsys, "advise", "tomato.late_blight", *argv, "--lang", "vi")
        assert rc == 2 and "[bad_input]" in err, (argv, err)


def test_advise_plot_unknown_in_vietnamese_with_the_nearest_plot(tmp_path, capsys):
    db = str(tmp_path / "log.sqlite")
    assert main(["log", "add-plot", "Đồi Bắc", "--crop", "cà phê", "--area", "0.5", "--db", db]) == 0
    capsys.readouterr()
    rc, _, err = _run(capsys, "advise", "coffee.rust", "--plot", "Doi Bac", "--db", db, "--lang", "vi")
    assert rc == 2 and err.strip() == (
        "leafscout advise: lỗi [unknown_plot]: không có lô nào tên 'Doi Bac' (các lô đã có: Đồi Bắc). Có phải ý bạn "
        "là 'Đồi Bắc'? Xem danh sách bằng `leafscout log plots` hoặc thêm lô bằng `leafscout log add-plot`"), err


def test_advise_plot_on_a_log_that_is_not_there_creates_nothing(tmp_path, capsys):
    """A typo in --db made `advise --plot` start a new, empty field log there and answer 'no plot named ...'."""
    db = tmp_path / "typo.sqlite"
    for lang, words in (("vi", "lỗi [log_error]: không có sổ ghi chép nào ở"), ("en", "error: no field log at")):
        rc, out, err = _run(capsys, "advise", "coffee.rust", "--plot", "Đồi A", "--db", str(db), "--lang", lang)
        assert rc == 2 and out == "" and words in err and str(db) in err, err
        assert not db.exists() and list(tmp_path.iterdir()) == []


# -------------------------------------------------------------------------------------------- diagnose

@needs_model
@pytest.mark.parametrize("argv, code", [
    (["--days-to-harvest", "-3"], "bad_input"),
    (["--copper-used", "nan"], "bad_input"),
    (["--copper-used-7y", "1000"], "bad_input"),
    (["--group", "--days-to-harvest", "-1"], "bad_input"),
    (["--group", "--crop", "chuối"], "unknown_crop"),
    (["--top-k", "0"], None),
    (["--threads", "0"], None),
    (["--confirmed-by", "Hoa"], None),
    (["--group", "--csv", "x.csv"], None),
    (["--csv", "/no/such/folder/x.csv"], None),
    (["--csv", str(FIX)], None),
    (["--heatmaps", str(PHOTO)], None),
    (["--advise", "fr"], None),
    (["--advise", "en"], None),  # --lang vi --advise en: two languages
    (["--model", "/no/such/model.onnx"], None),
    (["--model", str(PHOTO)], None),
])
def test_diagnose_refuses_in_vietnamese(capsys, argv, code):
    rc, out, err = _run(capsys, "diagnose", PHOTO, *argv, "--lang", "vi")
    assert rc == 2 and out == "" and "Traceback" not in err
    prefix = f"leafscout diagnose: lỗi [{code}]: " if code else "leafscout diagnose: lỗi: "
    assert err.startswith(prefix) and err.count("\n") == 1, err
    assert not _english(err), (err, _english(err))


@needs_model
def test_diagnose_refusals_stay_english_in_english_runs(capsys):
    for argv, line in ((["--days-to-harvest", "-3"], "error: days to harvest must be between 0 and 10000, got -3"),
                       (["--top-k", "0"], "error: --top-k must be 1 or more, got 0"),
                       (["--group", "--crop", "chuối"], "error: the model has no labels for crop 'chuối'")):
        rc, _, err = _run(capsys, "diagnose", PHOTO, *argv)
        assert rc == 2 and err.startswith(f"leafscout diagnose: {line}"), err


@needs_model
def test_diagnose_log_refusals_in_vietnamese(tmp_path, capsys):
    """--log on a --db that is not there creates nothing; a plot typed without its accents is named; a photo the
    field log will not keep says why in Vietnamese, with the log's code."""
    db = tmp_path / "log.sqlite"
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Đồi A", "--db", db, "--lang", "vi")
    assert rc == 2 and "lỗi [log_error]: không có sổ ghi chép nào ở" in err and not db.exists(), err
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", str(db)]) == 0
    capsys.readouterr()
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Doi A", "--db", db, "--lang", "vi")
    assert rc == 2 and "lỗi [unknown_plot]: --log Doi A: không có lô nào tên 'Doi A' (các lô đã có: Đồi A). Có " \
                       "phải ý bạn là 'Đồi A'?" in err, err
    far = FIX / "plants_far_away" / "image_(94).jpg"  # plant colour, no leaf seen: the log wants a person's name
    rc, _, err = _run(capsys, "diagnose", far, "--log", "Đồi A", "--db", db, "--lang", "vi")
    warn = [ln for ln in err.splitlines() if "chưa được ghi vào sổ" in ln]
    assert warn == [f"leafscout diagnose: cảnh báo: {far} chưa được ghi vào sổ (needs_confirmation): máy không thấy "
                    "lá trong ảnh này nên chưa phải là chẩn đoán; chỉ ghi vào sổ khi có người đã xem ảnh và xác nhận "
                    "(--confirmed-by TÊN)"], err


@needs_model
def test_confirmed_by_someone_not_an_officer_in_vietnamese(tmp_path, capsys, monkeypatch):
    db = tmp_path / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", str(db)]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("mat-khau-dai-12345\n"))
    assert main(["officers", "add", "Lò Thị Hoa", "--password-stdin", "--db", str(db)]) == 0
    capsys.readouterr()
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Đồi A", "--db", db, "--confirmed-by", "Lo Thi Hoa",
                      "--lang", "vi")
    assert rc == 2 and err.startswith("leafscout diagnose: lỗi [unknown_officer]: --confirmed-by 'Lo Thi Hoa' không phải là cán bộ "
                                      "trong ") and "(có phải ý bạn là 'Lò Thị Hoa'?); các cán bộ: Lò Thị Hoa" in err, err
    assert not _english(err), err
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Đồi A", "--db", db, "--confirmed-by", "Lo Thi Hoa")
    assert rc == 2 and "error: --confirmed-by 'Lo Thi Hoa' is not an officer" in err, err


@needs_model
def test_confirmed_by_refusals_say_what_is_wrong_not_always_not_an_officer(tmp_path, capsys, monkeypatch):
    """--confirmed-by is refused for what is wrong, with its code, as `log confirm --by` is: a name too long for
    the officers file is a bad name (it used to be answered "not an officer", listing the officers), and an
    officers file others can read is the file's fault, not the name's."""
    import os
    db = tmp_path / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", str(db)]) == 0
    monkeypatch.setattr("sys.stdin", __import__("io").StringIO("mat-khau-dai-12345\n"))
    assert main(["officers", "add", "Lò Thị Hoa", "--password-stdin", "--db", str(db)]) == 0
    capsys.readouterr()
    from leafscout.officers import MAX_NAME, default_file
    long_name = "Lò " * (MAX_NAME // 3 + 5)
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Đồi A", "--db", db, "--confirmed-by", long_name,
                      "--lang", "vi")
    assert rc == 2 and "lỗi [bad_name]: --confirmed-by: " in err and "Lò Thị Hoa" not in err, err
    assert not _english(err), err
    path = default_file(str(db))
    os.chmod(path, 0o644)
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--log", "Đồi A", "--db", db, "--confirmed-by", "Lò Thị Hoa",
                      "--lang", "vi")
    assert rc == 2 and "lỗi [officers_file]: " in err and "0644" in err, err
    assert not _english(err), err


@needs_model
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_photo_not_logged_is_named_on_one_line(tmp_path, capsys, lang):
    """A file name with a newline or an escape sequence (a stranger's photos copied in) broke the 'not logged'
    warning in two, the second half reading like a result line, and sent the escape to the terminal."""
    import shutil
    db = tmp_path / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà phê", "--area", "0.5", "--db", str(db)]) == 0
    folder = tmp_path / "photos"
    folder.mkdir()
    shutil.copy(FIX / "plants_far_away" / "image_(94).jpg", folder / "x\nfake.jpg: Bệnh\x1b[31m.jpg")
    capsys.readouterr()
    rc, out, err = _run(capsys, "diagnose", folder, "--log", "Đồi A", "--db", db, "--lang", lang)
    assert "\x1b" not in out + err
    assert all(ln.startswith(("leafscout diagnose: ", "1 ")) for ln in err.splitlines()), err
    assert any("x\\nfake.jpg: Bệnh\\x1b[31m.jpg" in ln and "(needs_confirmation)" in ln for ln in err.splitlines()), err


@needs_model
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_ctrl_c_still_says_what_was_logged(tmp_path, capsys, monkeypatch, lang):
    """Ctrl-C in the middle of `diagnose --log` used to end in silence (exit 130): the photos logged UNCONFIRMED
    so far, and their ids to confirm, were never named, nor how far the run got."""
    import leafscout.batch
    db = tmp_path / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "cà chua", "--area", "0.5", "--db", str(db)]) == 0
    capsys.readouterr()
    real, calls = leafscout.batch.sha256_of, []

    def sha_then_ctrl_c(path):
        calls.append(path)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(path)
    monkeypatch.setattr(leafscout.batch, "sha256_of", sha_then_ctrl_c)
    import shutil
    folder = tmp_path / "photos"
    folder.mkdir()
    for p in sorted((FIX / "images/plantvillage").glob("Tomato___*/*.jpg"))[:6]:
        shutil.copy(p, folder / p.name)
    n = len(list(folder.iterdir()))
    assert n == 6
    rc, out, err = _run(capsys, "diagnose", folder, "--log", "Đồi A", "--db", db, "--lang", lang,
                        "--csv", tmp_path / "r.csv")
    assert rc == 130 and len(out.splitlines()) >= 2
    if lang == "vi":
        assert "đã ghi 2 kết quả vào lô 'Đồi A' nhưng CHƯA XÁC NHẬN" in err, err
        assert f"leafscout diagnose: đã dừng (Ctrl-C) sau 3 trên {n} ảnh; {tmp_path / 'r.csv'} có kết quả" in err, err
        assert not _english(err.splitlines()[-1]), err
    else:
        assert "2 diagnosis(es) logged to plot 'Đồi A' UNCONFIRMED" in err, err
        assert f"leafscout diagnose: interrupted (Ctrl-C) after 3 of {n} photo(s)" in err, err
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 1 + 2  # header + the two photos done


# ------------------------------------------------------------------------------------ where output goes

FULL = Path("/dev/full")


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("argv, lang, line", [
    (["advise", "coffee.rust", "--lang", "vi"], "vi",  # a big page: fails while printing
     "leafscout advise: lỗi: không ghi được kết quả ra (ổ đĩa đã đầy); hãy giải phóng bớt dung lượng hoặc ghi ra chỗ "
     "khác, rồi chạy lại"),
    (["advise", "--check-substance", "copper hydroxide", "--lang", "en"], "en",  # one short line: fails at the end
     "leafscout advise: error: cannot write the output (No space left on device); free some space or write it "
     "somewhere else, and run again"),
])
def test_a_full_disk_under_the_output_is_one_line_not_a_traceback(argv, lang, line):
    """`leafscout diagnose photos/ --json > /media/usb/results.jsonl` on a full USB stick ended in a traceback
    (OSError: No space left on device), or in 'Exception ignored ... <stdout>' at exit."""
    import subprocess
    import sys
    with FULL.open("w") as full:
        p = subprocess.run([sys.executable, "-m", "leafscout.cli", *argv], stdout=full, stderr=subprocess.PIPE,
                           text=True, timeout=120)
    assert p.returncode == 1 and p.stderr.strip() == line, p.stderr


@pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full (Linux)")
@needs_model
def test_a_full_disk_under_csv_is_said_in_vietnamese(capsys):
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--csv", FULL, "--lang", "vi")
    assert rc == 2 and err.strip() == ("leafscout diagnose: lỗi: --csv /dev/full: không ghi tiếp được (ổ đĩa đã đầy) "
                                       "sau 0 dòng ảnh; hãy giải phóng bớt dung lượng hoặc chọn đường dẫn khác, rồi "
                                       "chạy lại"), err
    rc, _, err = _run(capsys, "diagnose", PHOTO, "--csv", FULL)
    assert rc == 2 and "cannot write it (No space left on device) after 0 photo row(s)" in err, err


def test_an_empty_substance_name_is_refused(capsys):
    """`advise --check-substance ''` answered ": '' is not in the knowledge base" as if a substance was named."""
    rc, out, err = _run(capsys, "advise", "--check-substance", "  ", "--lang", "vi")
    assert rc == 2 and out == "" and err.strip() == (
        "leafscout advise: lỗi: --check-substance: hãy nhập tên một chất hoặc sản phẩm, ví dụ 'đồng hydroxit'")
    rc, out, err = _run(capsys, "advise", "--check-substance", "", "--lang", "en")
    assert rc == 2 and out == "" and "give the name of a substance or product" in err


@needs_model
def test_batch_log_on_a_log_that_is_not_there_creates_nothing(tmp_path, capsys):
    """`batch --log PLOT --db TYPO` started a new, empty field log at the typo (then refused the plot)."""
    pytest.importorskip("pyarrow")
    db = tmp_path / "typo.sqlite"
    rc, _, err = _run(capsys, "batch", PHOTO, "--out", tmp_path / "out", "--log", "Đồi A", "--db", db)
    assert rc == 2 and err.startswith(f"leafscout batch: error: no field log at {db}"), err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_a_database_password_is_never_shown(capsys, lang):
    """The Vietnamese 'cannot open the field log' refusal named --db as typed, password included."""
    url = "postgresql://hoa:bi-mat-123@127.0.0.1:1/fieldlog"
    rc, out, err = _run(capsys, "advise", "coffee.rust", "--plot", "Đồi A", "--db", url, "--lang", lang)
    assert rc == 2 and out == "" and "bi-mat-123" not in err, err
    assert ("lỗi [db_" if lang == "vi" else "error: ") in err, err


def test_a_photo_named_like_an_option_is_explained_in_vietnamese(tmp_path, capsys, monkeypatch):
    import shutil
    monkeypatch.chdir(tmp_path)
    shutil.copy(PHOTO, tmp_path / "-leaf.jpg")
    rc, _, err = _run(capsys, "diagnose", "--lang", "vi", "-leaf.jpg")
    assert rc == 2 and err.strip().endswith(
        "'-leaf.jpg' là một tệp nhưng bị đọc như một tùy chọn: hãy viết ./-leaf.jpg hoặc đặt -- trước nó."), err

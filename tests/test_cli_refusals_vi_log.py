"""Under `--lang vi` the field-log commands refuse in Vietnamese, as `advise` and `diagnose` do: `leafscout log ...`,
`export` (Vietnamese by default, as its PDF), `log import`, `corrections export`, `officers` and `batch`, every
refusal from its error code (the field log's, never its English words) with the code beside it, names and paths as
typed; their warnings too (a copper cap passed, a photo `batch` could not log). English runs read word for word as
before. And a value that starts with '-' (`--by -2+3`) is refused with how to give it (`--by=-2+3`)."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from leafscout.cli import main

FIX = Path(__file__).parent / "fixtures"
PHOTO = FIX / "images/coffee_bracol/rust/764.jpg"
OTHER = FIX / "images/coffee_bracol/rust/1508.jpg"  # not in the log yet
SHIPPED = Path(__file__).resolve().parents[1] / "model" / "leafscout.onnx"
needs_model = pytest.mark.skipif(not SHIPPED.is_file(), reason="needs the shipped model")

# words only an English sentence holds (option names, `commands`, quoted names, codes and paths are taken out first)
ENGLISH = ("error", "warning", "argument", "invalid", "expected", "required", "must", "unknown", "did you mean",
           "the", "and", "give", "got", "choose", "known", "not", "no", "value", "field log", "with", "or", "to",
           "of", "is", "cannot", "already", "exists", "refused", "record", "file", "folder", "plot", "officer",
           "password", "nothing", "photo", "logged", "read-only")


def _english(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    text = re.sub(r"(?<![\w-])--?[\w-]+(?:=\S+)?", " ", text)
    text = re.sub(r"\[[a-z_]+\]", " ", text)  # the error code
    text = re.sub(r"\S*/\S*", " ", text)  # paths
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", " ", text)  # labels, file names
    text = re.sub(r"^leafscout(?: [\w-]+)*:", " ", text, flags=re.M)
    return sorted({w for w in ENGLISH if re.search(rf"(?<![\w-]){w}(?![\w-])", text, re.I)})


def _run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    try:
        rc = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse
        rc = exc.code
    out, err = capsys.readouterr()
    return rc, out, err


def _vi_refusal(err: str, code: str) -> str:
    """The one refusal line, checked: Vietnamese, with its code, no English sentence in it."""
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert re.match(rf"^leafscout [\w -]+: lỗi \[{code}\]: ", err), err
    assert not _english(err), (err, _english(err))
    return err


@pytest.fixture
def db(tmp_path):
    d = tmp_path / "coop" / "log.sqlite"
    assert main(["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "0.5", "--db", str(d)]) == 0
    assert main(["log", "observe", "Đồi A", str(PHOTO), "--label", "coffee.rust", "--status", "ok", "--confidence",
                 "0.9", "--model-version", "3.1.0", "--db", str(d)]) == 0
    assert main(["log", "add-lot", "LOT-1", "--plots", "Đồi A", "--db", str(d)]) == 0
    return str(d)


# each: the command (after `leafscout`), the code its refusal shows, words the Vietnamese must hold
LOG_REFUSALS = [
    (["log", "history", "Doi B"], "unknown_plot", ["'Doi B'", "Đồi A", "có phải ý bạn là 'Đồi A'"]),
    (["log", "act", "Doi A", "--what", "làm cỏ", "--at", "2026-13-01"], "bad_time", ["2026-03-01"]),
    (["log", "act", "Đồi A", "--what", "phun", "--copper", "9"], "bad_value", ["6 kg Cu/ha"]),
    (["log", "act", "Đồi A", "--what", "phun", "--substance", "copper hydroxide"], "copper_required", ["--copper"]),
    (["log", "add-plot", "Đồi A", "--crop", "tea", "--area", "1"], "duplicate", ["'Đồi A'"]),
    (["log", "add-plot", "Doi-A", "--crop", "tea", "--area", "1"], "similar_name", ["--allow-similar"]),
    (["log", "add-plot", "Đồi C", "--crop", "tea", "--area", "5000"], "bad_value", ["--area 5000", "1000 ha"]),
    (["log", "add-plot", "Đồi C", "--crop", "tea", "--area", "1", "--farm", "HTX X"], "bad_value", ["--farm HTX X"]),
    (["log", "confirm", "9", "--by", "Hoa"], "bad_value", ["số 9"]),
    (["log", "correct", "1", "--label", "coffee.rust", "--by", "Hoa"], "duplicate", ["coffee.rust"]),
    (["log", "correct", "1", "--label", "coffee.rst", "--by", "Hoa"], "bad_label", ["'coffee.rust'", "--new-label"]),
    (["log", "observe", "Đồi A", "/nope/leaf.jpg", "--label", "coffee.rust", "--status", "ok", "--confidence", "0.9",
      "--model-version", "3"], "not_an_image", ["/nope/leaf.jpg"]),
    (["log", "observe", "Đồi A", str(PHOTO), "--label", "coffee.rust", "--status", "error", "--confidence",
      "0.5", "--model-version", "3"], "needs_confirmation", ["--confirmed-by", "error"]),
    (["log", "add-lot", "LOT-1", "--plots", "Đồi A"], "duplicate", ["'LOT-1'"]),
    (["log", "qr", "LOT-2", "--out", "q.png"], "unknown_plot", ["'LOT-2'", "có phải ý bạn là 'LOT-1'"]),
    (["log", "qr", "LOT-1", "--out", "q.jpg"], "bad_value", ["--out q.jpg", ".png"]),
    (["log", "qr", "LOT-1", "--out", "q.png", "--scale", "0"], "bad_value", ["--scale"]),
    (["log", "audit", "--season", "12"], "bad_value", ["--season"]),
    (["log", "audit"], "bad_value", ["--season NĂM"]),
    (["log", "restore", "/nope/b.sqlite"], "backup_failed", ["/nope/b.sqlite"]),
    (["log", "backup", "/proc/leafscout/b.sqlite"], "backup_failed", ["/proc/leafscout/b.sqlite"]),
]


@pytest.mark.parametrize("argv,code,words", LOG_REFUSALS, ids=[" ".join(a[:2]) + f" {c}" for a, c, _ in LOG_REFUSALS])
def test_log_refusals_in_vietnamese(db, capsys, argv, code, words):
    rc, out, err = _run(capsys, *argv, "--db", db, "--lang", "vi")
    assert rc == 2 and out == "", (out, err)
    err = _vi_refusal(err, code)
    for w in words:
        assert w.lower() in err.lower(), (w, err)


@pytest.mark.parametrize("argv,code,words", LOG_REFUSALS[:6] + LOG_REFUSALS[14:16],
                         ids=[" ".join(a[:2]) + f" {c}" for a, c, _ in LOG_REFUSALS[:6] + LOG_REFUSALS[14:16]])
def test_log_refusals_stay_english_in_english_runs(db, capsys, argv, code, words):
    rc, _, err = _run(capsys, *argv, "--db", db)
    assert rc == 2 and err.count("\n") == 1 and err.startswith("leafscout log: error: ") and "[" not in err[:30], err
    assert "lỗi" not in err and not re.search(r"[ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ]", err.split(": ", 2)[2]
                                              .replace("Đồi", "").replace("'Doi", "")), err


def test_english_refusal_lines_read_as_before(db, capsys):
    _, _, err = _run(capsys, "log", "history", "Doi B", "--db", db)
    assert err == ("leafscout log: error: no plot named 'Doi B' (known plots: Đồi A). Did you mean 'Đồi A'? List plots "
                   "with `leafscout log plots` or add one with `leafscout log add-plot`.\n")
    _, _, err = _run(capsys, "log", "qr", "LOT-1", "--out", "q.jpg", "--db", db)
    assert err == "leafscout log: error: --out q.jpg: expected a .png or .svg file name (a printed label needs one of those)\n"
    _, _, err = _run(capsys, "log", "audit", "--season", "12", "--db", db)
    assert err == "leafscout log: error: --season: expected a year from 1970 to 9998, got 12\n"
    missing = str(Path(db).with_name("nope.sqlite"))
    _, _, err = _run(capsys, "log", "history", "Đồi A", "--db", missing)
    assert err == (f"leafscout log: error: no field log at {missing}: check --db (or $LEAFSCOUT_DB); nothing was "
                   "created. A new log starts with `leafscout log add-plot NAME --crop C --area HA` (or add-farm).\n")
    _, _, err = _run(capsys, "log", "correct", "1", "--label", "coffee.rst", "--by", "Hoa", "--db", db)
    assert err == ("leafscout log: error: --label 'coffee.rst' is not a problem the model or the knowledge base knows. "
                   "Did you mean 'coffee.rust'? For a new problem to train on, add --new-label.\n")


def test_a_log_that_is_not_there_in_vietnamese(db, capsys):
    missing = str(Path(db).with_name("nope.sqlite"))
    for argv in (["log", "history", "Đồi A"], ["log", "act", "Đồi A", "--what", "cắt cỏ"], ["export", "Đồi A"],
                 ["corrections", "export", str(Path(db).parent / "ds")], ["log", "import", str(PHOTO)]):
        rc, _, err = _run(capsys, *argv, "--db", missing, "--lang", "vi")
        if argv[1] == "import":  # the file is judged first: a photo is no phone export
            assert rc == 2 and "không phải tệp sổ xuất từ điện thoại" in _vi_refusal(err, "bad_input")
            continue
        assert rc == 2 and f"không có sổ ghi chép nào ở {missing}" in _vi_refusal(err, "db_unavailable"), err
    assert not Path(missing).exists()


def test_a_write_on_a_read_only_place_in_vietnamese(db, capsys, monkeypatch):
    from leafscout.fieldlog import db as fdb
    monkeypatch.setattr(fdb, "location_writable", lambda p: False)
    rc, out, err = _run(capsys, "log", "act", "Đồi A", "--what", "cắt cỏ", "--db", db, "--lang", "vi")
    assert rc == 2 and "nơi chỉ đọc được" in _vi_refusal(err, "db_unavailable") and "--db" in err
    rc, out, err = _run(capsys, "log", "history", "Đồi A", "--db", db, "--lang", "vi")
    assert rc == 0 and "Đồi A" in out  # reading still works there


def test_export_refuses_in_its_default_language_vietnamese_and_in_english_when_asked(db, capsys, tmp_path):
    rc, _, err = _run(capsys, "export", "LOT-2", "--db", db, "--csv", str(tmp_path / "x.csv"))
    assert rc == 2 and "'LOT-2'" in _vi_refusal(err, "unknown_plot") and "Có phải ý bạn là 'LOT-1'?" in err
    rc, _, err = _run(capsys, "export", "LOT-1", "--db", db, "--csv", "/proc/leafscout/x.csv")
    assert rc == 2 and "/proc/leafscout/x.csv" in _vi_refusal(err, "export_failed")
    rc, _, err = _run(capsys, "export", "LOT-2", "--db", db, "--csv", str(tmp_path / "x.csv"), "--lang", "en")
    assert err == ("leafscout export: error: no plot named 'LOT-2' (known plots: LOT-1, Đồi A). Did you mean "
                   "'LOT-1'? List plots with `leafscout log plots` or add one with `leafscout log add-plot`.\n"), err
    assert not (tmp_path / "x.csv").exists()


def test_the_copper_cap_warning_of_log_act_speaks_the_run_language(db, capsys):
    for at in ("2026-01-01", "2026-02-01", "2026-03-01", "2026-04-01", "2026-05-01"):
        rc, _, err = _run(capsys, "log", "act", "Đồi A", "--what", "phun", "--copper", "6", "--at", at, "--db", db,
                          "--lang", "vi")
        assert rc == 0
    assert err.startswith("leafscout log act: CẢNH BÁO: ") and "28 kg Cu/ha" in err, err
    rc, _, err = _run(capsys, "log", "act", "Đồi A", "--what", "phun", "--copper", "1", "--at", "2026-06-01", "--db", db)
    assert err.startswith("leafscout log act: WARNING: ") and "lỗi" not in err, err


def _export(tmp_path, records) -> Path:
    import json
    f = tmp_path / "phone.json"
    f.write_text(json.dumps({"format": "leafscout-phone-log", "version": 1, "records": records}), encoding="utf-8")
    return f


def test_log_import_in_vietnamese(db, capsys, tmp_path):
    import base64
    rc, _, err = _run(capsys, "log", "import", tmp_path / "none.json", "--db", db, "--lang", "vi")
    assert rc == 2 and "không có tệp này" in _vi_refusal(err, "bad_input")
    (tmp_path / "x.json").write_text('{"format": "other"}')
    rc, _, err = _run(capsys, "log", "import", tmp_path / "x.json", "--db", db, "--lang", "vi")
    assert rc == 2 and "không phải tệp sổ xuất từ điện thoại" in _vi_refusal(err, "bad_input")
    photo = base64.b64encode(PHOTO.read_bytes()).decode()
    good = {"id": "r1", "plot": "Đồi A", "label": "coffee.rust", "status": "ok", "confidence": 0.9,
            "model_version": "3.1.0", "photo_base64": photo, "observed_at": "2026-01-01T07:00"}
    f = _export(tmp_path, [good, {**good, "id": "r2", "plot": "Doi Z"}, 5, {**good, "id": "r4", "status": "bad"},
                           {**good, "id": "r5", "observed_at": "hôm qua"}])
    rc, _, err = _run(capsys, "log", "import", f, "--plot", "Doi Q", "--db", db, "--lang", "vi")
    assert rc == 2 and "--plot Doi Q: không có lô nào tên 'Doi Q'" in _vi_refusal(err, "unknown_plot")
    rc, out, err = _run(capsys, "log", "import", f, "--db", db, "--lang", "vi")
    assert rc == 2 and out.startswith("đã nhập 1 bản ghi, 0 bản ghi đã có trong sổ, bỏ qua 4 bản ghi"), out
    lines = err.splitlines()
    assert len(lines) == 4 and all(x.startswith("leafscout log import: bỏ qua bản ghi ") for x in lines), err
    assert "r2: không có lô nào tên 'Doi Z'" in lines[0] and lines[0].endswith("[unknown_plot]"), lines[0]
    assert "#3: không phải một bản ghi" in lines[1] and "r4: trạng thái 'bad'" in lines[2], err
    assert "r5: thời gian quan sát hôm qua" in lines[3] and lines[3].endswith("[bad_time]"), lines[3]
    assert not _english(err), _english(err)
    rc, out, err = _run(capsys, "log", "import", f, "--db", db)  # English as before
    assert out.startswith("imported 0 record(s), 1 already in the log, 4 refused"), out
    assert "leafscout log import: refused record #3: not a record\n" in err
    assert "leafscout log import: refused record r4: status 'bad' is not a diagnosis the phone saves\n" in err


def _officer(capsys, path, name, password="secret-123", *extra):
    import io
    sys_stdin = sys.stdin
    sys.stdin = io.StringIO(password + "\n")
    try:
        return _run(capsys, "officers", "add", name, "--password-stdin", "--file", path, *extra)
    finally:
        sys.stdin = sys_stdin


def test_officers_refuse_in_vietnamese(capsys, tmp_path, db):
    path = tmp_path / "officers.json"
    assert _officer(capsys, path, "Lò Thị Hoa")[0] == 0
    rc, _, err = _officer(capsys, path, "Lò Thị Hoa", "secret-123", "--lang", "vi")
    assert rc == 2 and "đã có cán bộ 'Lò Thị Hoa'" in _vi_refusal(err, "duplicate")
    rc, _, err = _officer(capsys, path, "Lò Văn Nam", "ngắn", "--lang", "vi")
    assert rc == 2 and "ít nhất 8 ký tự" in _vi_refusal(err, "bad_password")
    rc, _, err = _officer(capsys, path, "   ", "secret-123", "--lang", "vi")
    assert rc == 2 and "hãy nhập tên cán bộ" in _vi_refusal(err, "bad_name")
    rc, _, err = _run(capsys, "officers", "remove", "Lo Thi Hao", "--file", path, "--lang", "vi")
    assert rc == 2 and "'Lo Thi Hao'" in _vi_refusal(err, "unknown_officer") and "'Lò Thị Hoa'" in err
    path.chmod(0o644)
    rc, _, err = _run(capsys, "officers", "list", "--file", path, "--lang", "vi")
    assert rc == 2 and f"chmod 600 {path}" in _vi_refusal(err, "officers_file")
    rc, _, err = _run(capsys, "officers", "list", "--file", path)  # English as before
    assert err == (f"leafscout officers: error: {path}: other users can read or change it (mode 0644); run: chmod 600 "
                   f"{path}\n"), err
    path.chmod(0o600)
    rc, _, err = _officer(capsys, path, "Lò Thị Hoa")
    assert err == "leafscout officers: error: officer 'Lò Thị Hoa' already exists; to set a new password add --replace\n"
    # --by on the log's commands: one of the officers, the nearest named
    import os
    os.environ["LEAFSCOUT_OFFICERS"] = str(path)
    try:
        rc, _, err = _run(capsys, "log", "confirm", "1", "--by", "Lo Thi Hoa", "--db", db, "--lang", "vi")
        assert rc == 2 and "--by 'Lo Thi Hoa' không phải là cán bộ" in _vi_refusal(err, "unknown_officer")
        assert "có phải ý bạn là 'Lò Thị Hoa'" in err
        rc, _, err = _run(capsys, "log", "confirm", "1", "--by", "Lo Thi Hoa", "--db", db)
        assert err == (f"leafscout log: error: --by 'Lo Thi Hoa' is not an officer in {path}; did you mean "
                       "'Lò Thị Hoa'?\n"), err
    finally:
        del os.environ["LEAFSCOUT_OFFICERS"]


def test_corrections_export_refuses_in_vietnamese(db, capsys, tmp_path):
    rc, _, err = _run(capsys, "corrections", "export", tmp_path / "a", "--licence", " ", "--db", db, "--lang", "vi")
    assert rc == 2 and "--licence" in _vi_refusal(err, "bad_input")
    rc, _, err = _run(capsys, "corrections", "export", tmp_path / "a", "--aside", "2", "--db", db, "--lang", "vi")
    assert rc == 2 and "--aside 2" in _vi_refusal(err, "bad_input")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "luan-van.docx").write_text("x")
    rc, _, err = _run(capsys, "corrections", "export", tmp_path / "mine", "--db", db, "--lang", "vi")
    assert rc == 2 and "thư mục không trống" in _vi_refusal(err, "bad_input")
    rc, _, err = _run(capsys, "corrections", "export", tmp_path / "mine", "--db", db)
    assert err == (f"leafscout corrections: error: {tmp_path / 'mine'}: is not empty and holds no LeafScout "
                   "corrections export; choose a new or empty folder\n"), err
    assert (tmp_path / "mine" / "luan-van.docx").exists()


@needs_model
def test_batch_refuses_and_warns_in_vietnamese(db, capsys, tmp_path, monkeypatch):
    pytest.importorskip("pyarrow")
    folder = PHOTO.parent
    rc, _, err = _run(capsys, "batch", folder, "--workers", "0", "--lang", "vi")
    assert rc == 2 and "--workers phải từ 1 trở lên" in _vi_refusal(err, "bad_input")
    (tmp_path / "afile").write_text("x")
    rc, _, err = _run(capsys, "batch", folder, "--out", tmp_path / "afile", "--lang", "vi")
    assert rc == 2 and "đây là một tệp" in _vi_refusal(err, "bad_input")
    rc, _, err = _run(capsys, "batch", folder, "--out", tmp_path / "o1", "--log", "Doi Z", "--db", db, "--lang", "vi")
    assert rc == 2 and "--log Doi Z: không có lô nào tên 'Doi Z'" in _vi_refusal(err, "unknown_plot")
    assert not (tmp_path / "o1").exists()
    with monkeypatch.context() as m:  # the scale extra missing
        m.setitem(sys.modules, "pyarrow.parquet", None)
        rc, _, err = _run(capsys, "batch", folder, "--out", tmp_path / "o2", "--lang", "vi")
        assert rc == 2 and 'pip install "leafscout[scale]"' in _vi_refusal(err, "scale_missing")
        rc, _, err = _run(capsys, "batch", folder, "--out", tmp_path / "o2")
        assert err == ("leafscout batch: error: writing Parquet needs pyarrow, which is not installed; install the "
                       "'scale' extra: pip install \"leafscout[scale]\"\n"), err
    # a photo the field log refuses: the warning in Vietnamese, from the field log's code
    from leafscout.errors import ServiceError
    from leafscout.service import DiagnosisService

    def refuse(self, *a, **k):
        raise ServiceError("log_error", "text that cannot be stored", log_code="bad_text")
    monkeypatch.setattr(DiagnosisService, "record_result", refuse)
    rc, _, err = _run(capsys, "batch", OTHER, "--out", tmp_path / "o3", "--log", "Đồi A", "--db", db, "--lang", "vi")
    warn = [x for x in err.splitlines() if "cảnh báo" in x]
    assert warn and f"leafscout batch: cảnh báo: {OTHER} chưa được ghi vào sổ (bad_text): có chữ không lưu được" \
        in warn[0], err
    assert not _english("\n".join(warn)), warn
    rc, _, err = _run(capsys, "batch", OTHER, "--out", tmp_path / "o4", "--log", "Đồi A", "--db", db)
    assert f"leafscout batch: warning: {OTHER} not logged (bad_text): text that cannot be stored\n" in err, err


@pytest.mark.parametrize("lang,words", [("en", "write --by=-2+3 (joined with =)"), ("vi", "hãy viết --by=-2+3")])
def test_a_name_that_starts_with_a_dash_is_refused_with_how_to_give_it(db, capsys, lang, words):
    """`--by "-2+3"` (a team named that way, a name pasted with a dash): argparse reads it as an option and said
    only 'expected one argument'; the refusal now says to write --by=-2+3 (which works)."""
    rc, _, err = _run(capsys, "log", "act", "Đồi A", "--what", "cắt cỏ", "--by", "-2+3", "--db", db, "--lang", lang)
    assert rc == 2 and words in err.splitlines()[-1], err
    rc, out, err = _run(capsys, "log", "act", "Đồi A", "--what", "cắt cỏ", "--by=-2+3", "--db", db, "--lang", lang)
    assert rc == 0, err
    _, out, _ = _run(capsys, "log", "history", "Đồi A", "--db", db)
    assert "by -2+3" in out
    rc, _, err = _run(capsys, "officers", "add", "-Hoa", "--password-stdin", "--lang", lang)
    assert rc == 2 and "-- -Hoa" in err.splitlines()[-1], err
    rc, _, err = _run(capsys, "log", "act", "Đồi A", "--what", "cắt cỏ", "--by", "--lang", lang, "--db", db)
    assert rc == 2 and "=" not in err.splitlines()[-1].split(":", 2)[2], err  # a value really missing: no such hint

"""Under `--lang vi` what `leafscout log ...` says when it has done its work (stdout: added, logged, confirmed,
corrected, backed up, restored, written, the listings' headers, the plot's history) is Vietnamese, as its refusals
are; names, labels, paths and stored values stay as typed. English runs read word for word as before."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from leafscout.cli import main

FIX = Path(__file__).parent / "fixtures"
PHOTO = FIX / "images/coffee_bracol/rust/764.jpg"

# words only an English sentence holds (commands, quoted names, paths and labels are taken out first)
ENGLISH = ("added", "logged", "observation", "confirmed", "corrected", "action", "copper on", "backed up",
           "restored", "wrote", "encoding", "harvest", "plot", "plots", "farm", "kind", "certifier", "location",
           "status", "crop", "yet", "unconfirmed", "times", "clock", "seen", "done", "model", "trace", "id", "by",
           "on", "over", "years", "the", "no", "of", "in", "is", "was", "photo", "integrity", "answers")


def _english(text: str) -> list[str]:
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"'[^']*'|\"[^\"]*\"", " ", text)
    text = re.sub(r"leafscout log [\w-]+[^;.)]*", " ", text)  # a command to type
    text = re.sub(r"(?<![\w-])--?[\w-]+(?:=\S+)?", " ", text)
    text = re.sub(r"\S*/\S*", " ", text)  # paths, kg/ha
    text = re.sub(r"\b[a-z_]+\.[a-z_]+\b", " ", text)  # labels, file names
    text = re.sub(r"\b(in_conversion|certified|conventional|ok|uncertain|UTC[+:\d]*)\b", " ", text)  # stored values
    return sorted({w for w in ENGLISH if re.search(rf"(?<![\w-]){w}(?![\w-])", text, re.I)})


def _out(capsys, *argv) -> str:
    capsys.readouterr()
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert rc == 0, (argv, out, err)
    return out


def _vi(capsys, *argv) -> str:
    out = _out(capsys, *argv, "--lang", "vi")
    assert out.strip() and not _english(out), (argv, out, _english(out))
    return out


def test_log_says_what_it_did_in_vietnamese(capsys, tmp_path):
    db = tmp_path / "coop" / "log.sqlite"
    d = ("--db", db)
    out = _vi(capsys, "log", "plots", *d)
    assert out.startswith(f"Chưa có sổ ghi chép ở {db}."), out
    out = _vi(capsys, "log", "farms", *d)
    assert out.startswith("Chưa có sổ ghi chép"), out
    out = _vi(capsys, "log", "add-farm", "HTX Chiềng Ban", "--kind", "cooperative", *d)
    assert out.startswith("Đã thêm hợp tác xã 'HTX Chiềng Ban' (mã 1)"), out
    assert "Chưa có lô nào" in _vi(capsys, "log", "plots", *d)
    out = _vi(capsys, "log", "add-plot", "Đồi A", "--crop", "coffee", "--area", "0.36", "--farm", "HTX Chiềng Ban",
              *d)
    assert out.startswith("Đã thêm lô 'Đồi A' (mã 1, coffee, 0,36 ha, in_conversion)."), out
    out = _vi(capsys, "log", "plots", *d)
    assert out.splitlines()[0].split() == ["mã", "lô", "cây", "trồng", "ha", "trạng", "thái", "đồng", "kg/ha",
                                           "(năm", "/", "7", "năm)"], out
    assert "Đồi A" in out and "0,36" in out
    out = _vi(capsys, "log", "farms", *d)
    assert out.splitlines()[0].split()[:3] == ["mã", "tên", "loại"] and "HTX Chiềng Ban" in out, out
    out = _vi(capsys, "log", "observe", "Đồi A", PHOTO, "--label", "coffee.rust", "--status", "ok",
              "--confidence", "0.9", "--model-version", "3.1.0", *d)
    assert out.startswith("Đã ghi quan sát số 1: coffee.rust (ok, 90%)") and "CHƯA XÁC NHẬN" in out, out
    out = _vi(capsys, "log", "confirm", "1", "--by", "Hoa", *d)
    assert out == "Quan sát số 1 (coffee.rust) đã được Hoa xác nhận.\n", out
    out = _vi(capsys, "log", "act", "Đồi A", "--what", "phun Bordeaux", "--copper", "1.5", "--at", "2026-03-01", *d)
    assert out.startswith("Đã ghi công việc số 1 (1,5 kg Cu/ha) lúc 2026-03-01") and "năm 2026" in out, out
    out = _vi(capsys, "log", "correct", "1", "--label", "coffee.cercospora", "--new-label", "--by", "Hoa", *d)
    assert out.startswith("Đã sửa nhãn quan sát số 1: coffee.rust -> coffee.cercospora, do Hoa sửa lúc"), out
    out = _vi(capsys, "log", "history", "Đồi A", *d)
    assert out.startswith("Lô Đồi A — coffee, 0,36 ha, in_conversion\n  (giờ theo đồng hồ của máy này"), out
    assert "  thấy   #1 coffee.rust" in out and "  làm    phun Bordeaux" in out, out
    assert "đã sửa thành coffee.cercospora" in out and "  đồng năm 2026: 1,5 kg/ha" in out, out
    out = _vi(capsys, "log", "add-lot", "LOT-1", "--plots", "Đồi A", *d)
    assert out.startswith("Đã thêm lô thu hoạch LOT-1 từ Đồi A; mã truy xuất "), out
    assert "  lô thu hoạch LOT-1 ngày " in _vi(capsys, "log", "history", "Đồi A", *d)
    out = _vi(capsys, "log", "qr", "LOT-1", "--out", tmp_path / "q.svg", *d)
    assert out.startswith(f"Đã ghi {tmp_path / 'q.svg'}, mã QR chứa "), out
    out = _vi(capsys, "log", "backup", tmp_path / "b.sqlite", *d)
    assert out == f"Đã sao lưu {db} vào {tmp_path / 'b.sqlite'} (kiểm tra toàn vẹn: tốt).\n", out
    out = _vi(capsys, "log", "restore", tmp_path / "b.sqlite", *d)
    assert out.startswith(f"Đã khôi phục {db} từ {tmp_path / 'b.sqlite'}: 1 lô, đúng như bản sao lưu."), out


def test_log_says_what_it_did_in_english_as_before(capsys, tmp_path):
    db = tmp_path / "log.sqlite"
    d = ("--db", db)
    assert _out(capsys, "log", "plots", *d) == (f"No field log at {db} yet. Start one: leafscout log add-plot NAME "
                                                f"--crop coffee --area 0.5 --db {db}\n")
    assert _out(capsys, "log", "add-farm", "HTX", "--kind", "cooperative", *d) == \
        "Added cooperative 'HTX' (id 1); give its plots --farm 'HTX'.\n"
    assert _out(capsys, "log", "add-plot", "A", "--crop", "coffee", "--area", "0.36", *d).startswith(
        "Added plot 'A' (id 1, coffee, 0.36 ha, in_conversion).\n")
    assert _out(capsys, "log", "plots", *d).splitlines()[0] == \
        "  id  plot                     crop              ha  status         copper kg/ha (year / 7y)"
    assert _out(capsys, "log", "farms", *d).splitlines()[0] == \
        "  id  name                             kind         certifier                location"
    _out(capsys, "log", "observe", "A", PHOTO, "--label", "coffee.rust", "--status", "ok", "--confidence", "0.9",
         "--model-version", "3.1.0", "--observer", "Lan", *d)
    assert _out(capsys, "log", "confirm", "1", "--by", "Hoa", *d) == "Observation 1 (coffee.rust) confirmed by Hoa.\n"
    out = _out(capsys, "log", "act", "A", "--what", "spray", "--copper", "1.5", "--at", "2026-03-01", "--by", "Ba",
               "--observation", "1", *d)
    assert out.startswith("Logged action 1 (1.5 kg Cu/ha) on 2026-03-01") and out.endswith(
        "Copper on this plot: 1.5 kg/ha in 2026, 1.5 kg/ha over 7 years.\n"), out
    out = _out(capsys, "log", "history", "A", *d).splitlines()
    assert out[0] == "Plot A — coffee, 0.36 ha, in_conversion" and out[1].startswith("  (times on this computer's")
    assert re.fullmatch(r"  \S+ \S+  seen   #1 coffee.rust \(ok, 90%, model 3.1.0, by Lan; confirmed by Hoa\)",
                        out[3]), out
    assert re.fullmatch(r"  \S+ \S+  done   spray \[Cu 1.5 kg/ha\], by Ba \(answers #1\)", out[2]), out
    assert out[4] == "  copper 2026: 1.5 kg/ha", out


SHIPPED = Path(__file__).resolve().parents[1] / "model" / "leafscout.onnx"


@pytest.mark.skipif(not SHIPPED.is_file(), reason="needs the shipped model")
def test_batch_says_what_it_did_in_the_run_language(capsys, tmp_path):
    """batch's closing count (on stderr: stdout stays free for a pipe) follows --lang; Parquet and CSV do not."""
    pytest.importorskip("pyarrow")
    capsys.readouterr()
    assert main(["batch", str(PHOTO), "--out", str(tmp_path / "o"), "--lang", "vi"]) == 0
    out, err = capsys.readouterr()
    assert not out and err.startswith(f"1 ảnh: 0 đã có trong {tmp_path / 'o'} (bỏ qua), 1 ảnh được khám"), err
    assert not _english(err), (err, _english(err))
    assert main(["batch", str(PHOTO), "--out", str(tmp_path / "o"), "--lang", "en"]) == 0
    out, err = capsys.readouterr()
    assert not out and err.startswith(f"1 photo(s): 1 already in {tmp_path / 'o'} (skipped), 0 scored"), err


def test_corrections_export_warns_in_vietnamese_with_the_code(capsys, tmp_path):
    """Both warnings of `corrections export` (a photo missing from the log's folder, labels the model does not
    have yet) read in the run's language with their code; English as before."""
    db = tmp_path / "log.sqlite"
    d = ("--db", db)
    _out(capsys, "log", "add-plot", "Đồi A", "--crop", "tomato", "--area", "0.5", *d)
    _out(capsys, "log", "observe", "Đồi A", PHOTO, "--label", "tomato.early_blight", "--status", "ok",
         "--confidence", "0.9", "--model-version", "3", *d)
    _out(capsys, "log", "correct", "1", "--label", "tomato.tuta_absoluta", "--by", "Hoa", *d)
    capsys.readouterr()
    assert main(["corrections", "export", str(tmp_path / "vi"), "--db", str(db), "--lang", "vi"]) == 0
    err = capsys.readouterr().err
    line = next(x for x in err.splitlines() if "cảnh báo" in x)
    assert line.startswith("leafscout corrections: cảnh báo [labels_not_trained]: 1 ảnh mang nhãn mà mô hình chưa "
                           "có: tomato.tuta_absoluta."), err
    assert "does not have" not in err and "stops on" not in err, err
    from leafscout.fieldlog.api import FieldLog
    log = FieldLog.open(str(db))
    try:  # the log's copy of the photo is gone (a folder not copied with the log)
        for f in [f for f in log.photo_dir.rglob("*") if f.is_file()]:
            f.unlink()
    finally:
        log.close()
    assert main(["corrections", "export", str(tmp_path / "vi2"), "--db", str(db), "--lang", "vi"]) == 0
    err = capsys.readouterr().err
    assert "leafscout corrections: cảnh báo [photo_missing]: quan sát số 1: ảnh không có trong thư mục ảnh của " \
           "sổ; bỏ qua\n" in err, err
    assert main(["corrections", "export", str(tmp_path / "en"), "--db", str(db), "--lang", "en"]) == 0
    err = capsys.readouterr().err
    assert "leafscout corrections: warning: observation 1: its photo is not in the log's photo folder; left out\n" \
        in err, err


def test_officers_and_corrections_export_say_what_they_did_in_vietnamese(capsys, tmp_path, monkeypatch):
    import io
    f = tmp_path / "officers.json"
    assert _vi(capsys, "officers", "list", "--file", f) == \
        f"Chưa có cán bộ nào trong {f}. Thêm bằng: leafscout officers add TÊN --file {f}\n"
    for replace in ((), ("--replace",)):
        monkeypatch.setattr("sys.stdin", io.StringIO("mật khẩu dài\n"))
        out = _out(capsys, "officers", "add", "Lò Thị Hoa", "--password-stdin", *replace, "--file", f, "--lang", "vi")
        assert out.startswith("Đã đặt mật khẩu mới cho cán bộ 'Lò Thị Hoa'" if replace
                              else f"Đã thêm cán bộ 'Lò Thị Hoa' vào {f}."), out
    out = _vi(capsys, "officers", "list", "--file", f)
    assert out.startswith("Lò Thị Hoa\tthêm lúc ") and ", đổi mật khẩu lúc " in out, out
    out = _out(capsys, "officers", "list", "--file", f, "--lang", "en")
    assert out.startswith("Lò Thị Hoa\tadded ") and ", password changed " in out, out
    out = _vi(capsys, "officers", "remove", "Lò Thị Hoa", "--file", f)
    assert out.startswith(f"Đã xoá cán bộ 'Lò Thị Hoa' khỏi {f}; người này không đăng nhập được nữa"), out
    db = tmp_path / "log.sqlite"
    _out(capsys, "log", "add-plot", "Đồi A", "--crop", "coffee", "--area", "0.5", "--db", db)
    out = _vi(capsys, "corrections", "export", tmp_path / "c", "--db", db)
    assert out == f"Đã ghi 0 ảnh vào {tmp_path / 'c'} (không có nhãn nào); manifest.csv, manifest.json, README.md.\n"
    out = _out(capsys, "corrections", "export", tmp_path / "c2", "--db", db, "--aside", "0.2")
    assert out == (f"Wrote 0 photo(s) to {tmp_path / 'c2'} (none); manifest.csv, manifest.json, README.md. 0 of them "
                   f"kept aside in {tmp_path / 'c2'}/aside/ (not for training).\n"), out

"""A photo recorded against a plot is read with what the plot grows: the answer keeps to that crop's labels, as with
--crop, and a plot of a crop the model cannot name (plum, longan) never gets another crop's disease as "ok"."""
from __future__ import annotations

import pytest

from leafscout.plot_crop import crop_phrases, resolve_crop

from conftest import toy_crop_service
CROPS = {"coffee": {"en": "Coffee", "vi": "Cà phê"}, "tea": {"en": "Tea", "vi": "Chè"},
         "grape": {"en": "Grape", "vi": "Nho"}, "plum": {"en": "Plum (mận Hậu)", "vi": "Mận (mận Hậu)"},
         "corn": {"en": "Maize", "vi": "Ngô"}, "citrus": {"en": "Citrus", "vi": "Cây có múi"},
         "brassica": {"en": "Cabbage and other brassicas", "vi": "Bắp cải và rau họ cải"}}
PHRASES = crop_phrases(CROPS, {"maize": "corn", "pomelo": "citrus"})


@pytest.mark.parametrize("text, crop", [
    ("Cà phê", "coffee"), ("arabica coffee", "coffee"), ("Cà phê chè", "coffee"),  # chè = tea, but not here
    ("ca phe che", "coffee"), ("Chè Shan tuyết", "tea"), ("Mận Hậu", "plum"), ("mận", "plum"),
    ("Ngô lai", "corn"), ("ngo", "corn"), ("MAIZE", "corn"), ("Bưởi Diễn", "citrus"), ("pomelo", "citrus"),
    ("Bắp cải", "brassica"), ("bắp", "corn"), ("nho", "grape"),
    ("cà_phê", "coffee"), ("ca_phe_che", "coffee"), ("Mận_Hậu", "plum"),  # underscores for spaces, as in --crop ids
])
def test_the_plot_text_names_its_crop(text, crop):
    assert resolve_crop(text, PHRASES) == crop


@pytest.mark.parametrize("text", [
    "", None, "chuối",                 # no crop the knowledge base has
    "cây nhỏ",                         # "small tree": accents count, nhỏ is not nho (grape)
    "Coffee and tea", "Cà phê xen chè",  # two crops on one plot: no guess
])
def test_no_crop_or_two_crops_give_no_answer(text):
    assert resolve_crop(text, PHRASES) is None


@pytest.fixture
def svc(tmp_path):
    s = toy_crop_service(tmp_path)
    for name, crop in (("Vuon ca phe", "Cà phê chè"), ("Ruong ca chua", "Cà chua"), ("Vuon man", "Mận Hậu"),
                       ("Vuon chuoi", "chuối")):
        s.log.add_plot(name, crop, 0.5, organic_status="certified")
    return s


def test_the_plot_crop_keeps_the_answer_to_its_labels_and_says_where_the_crop_came_from(svc, red_leaf):
    free = svc.diagnose(red_leaf)
    assert free.label == "tomato.late_blight" and free.crop_from is None
    d = svc.diagnose(red_leaf, plot="Vuon ca phe")
    assert d.label == "coffee.rust" and d.crop == "coffee" and d.crop_from == "plot"
    assert "looks more like tomato" in d.crop_note  # as when the grower names a crop the photo does not look like
    assert d.to_dict()["crop_from"] == "plot"
    given = svc.diagnose(red_leaf, plot="Vuon ca phe", crop="tomato")  # a crop named with the photo wins
    assert given.label == "tomato.late_blight" and given.crop_from == "given"
    same = svc.diagnose(red_leaf, plot="Ruong ca chua")
    assert (same.status, same.label, same.crop_from) == ("ok", "tomato.late_blight", "plot")


def test_a_plot_of_a_crop_the_model_cannot_name_gets_no_borrowed_diagnosis(svc, red_leaf):
    d = svc.diagnose(red_leaf, plot="Vuon man")
    assert d.status == "uncertain" and d.reason_code == "crop_not_learned"
    assert d.label == "tomato.late_blight"  # the model's own nearest label stays, for whoever checks
    assert d.advice is None and "plot grows plum" in d.crop_note
    many = list(svc.diagnose_many([red_leaf, red_leaf], plot="Vuon man"))
    assert [x.reason_code for x in many] == ["crop_not_learned"] * 2
    group, each = svc.diagnose_group([red_leaf, red_leaf], plot="Vuon man")
    assert group.status == "uncertain" and group.reason_code == "crop_not_learned" and group.advice is None
    # a plot whose crop text names no crop LeafScout has changes nothing
    other = svc.diagnose(red_leaf, plot="Vuon chuoi")
    assert (other.status, other.label, other.crop_from) == ("ok", "tomato.late_blight", None)


def test_the_group_keeps_to_the_plot_crop_too(svc, red_leaf):
    group, each = svc.diagnose_group([red_leaf, red_leaf], plot="Vuon ca phe")
    assert group.label == "coffee.rust" and group.crop_from == "plot"
    assert all(x.label == "coffee.rust" and x.crop_from == "plot" for x in each)


def test_the_app_card_says_the_crop_came_from_the_plot(svc, red_leaf):
    from leafscout.webapp import handlers as H
    state, _ = H.diagnose_upload(svc, red_leaf, plot="Vuon ca phe", check_path=False, heatmap=False)
    assert state["crop_from"] == "plot" and state["label"] == "coffee.rust"
    assert "Cây trồng theo lô Vuon ca phe: Cà phê" in H.render_card(svc, state, "vi")
    plain, _ = H.diagnose_upload(svc, red_leaf, check_path=False, heatmap=False)
    assert "theo lô" not in H.render_card(svc, plain, "vi")


def test_the_app_card_says_the_model_cannot_name_this_crop(svc, red_leaf):
    from leafscout.webapp import handlers as H
    state, _ = H.diagnose_upload(svc, red_leaf, plot="Vuon man", check_path=False, heatmap=False)
    card = H.render_card(svc, state, "vi")
    assert "Mận Hậu" in card and "chưa gọi tên được" in card
    assert "đừng xử lý" in card
    assert H.readvise(svc, state, plot="Vuon man") is state  # no advice to work out for a borrowed label


def test_the_cli_says_the_crop_came_from_the_plot(svc, red_leaf, tmp_path, capsys):
    from leafscout.cli import main
    args = ["diagnose", "--model", str(tmp_path / "toy.onnx"), "--db", str(tmp_path / "log.sqlite"), "--lang", "en"]
    assert main(args + ["--log", "Vuon ca phe", str(red_leaf)]) == 0
    out = capsys.readouterr()
    assert "crop taken from plot 'Vuon ca phe': Coffee" in out.err and "coffee.rust" in out.out
    assert main(args[:-1] + ["vi", "--log", "Vuon man", str(red_leaf)]) == 0
    out = capsys.readouterr()
    assert "lô này trồng Mận Hậu" in out.out
    assert main(args + ["--json", "--log", "Vuon ca phe", str(red_leaf)]) == 0
    import json
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (row["label"], row["crop"], row["crop_from"]) == ("coffee.rust", "coffee", "plot")


def test_batch_logged_to_a_plot_reads_photos_as_diagnose_does(svc, red_leaf, tmp_path):
    pytest.importorskip("pyarrow", reason="leafscout batch writes Parquet (installed by .[scale])")
    import csv

    from leafscout import batch as B
    s = B.run([red_leaf], tmp_path / "out", engine="local", model_path=str(tmp_path / "toy.onnx"),
              log_plot="Vuon ca phe", log_service=svc)
    with open(s.csv, newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert (row["label"], row["crop"]) == ("coffee.rust", "coffee")
    s = B.run([red_leaf], tmp_path / "out2", engine="local", model_path=str(tmp_path / "toy.onnx"),
              log_plot="Vuon man", log_service=svc)
    with open(s.csv, newline="", encoding="utf-8") as f:
        row = next(csv.DictReader(f))
    assert (row["status"], row["reason_code"]) == ("uncertain", "crop_not_learned")


def test_making_a_plot_says_what_leafscout_can_do_for_its_crop(svc, tmp_path, monkeypatch, capsys):
    from leafscout.cli import main
    from leafscout.webapp import logbook as LB
    monkeypatch.setenv("LEAFSCOUT_MODEL", str(tmp_path / "toy.onnx"))
    db = ["--db", str(tmp_path / "log.sqlite")]
    assert main(["log", "add-plot", "Doi C", "--crop", "arabica coffee", "--area", "0.3"] + db) == 0
    assert "names coffee problems from a photo" in capsys.readouterr().out
    assert main(["log", "add-plot", "Doi D", "--crop", "Mận Hậu", "--area", "0.3"] + db) == 0
    assert "cannot name its problems from a photo yet" in capsys.readouterr().out
    assert main(["log", "add-plot", "Doi E", "--crop", "chuối", "--area", "0.3"] + db) == 0
    out = capsys.readouterr().out
    assert "finds no crop it knows in 'chuối'" in out and "coffee, tomato" in out
    msg = LB.add_plot(svc, "Doi F", "Cà phê", 0.2, "certified", "vi")
    assert "nhận biết vấn đề của cây cà phê qua ảnh" in msg
    msg = LB.add_plot(svc, "Doi G", "<b>chuối</b>", 0.2, "certified", "en")
    assert "finds no crop it knows" in msg and "<b>" not in msg  # the officer's text is escaped

"""The Diagnose page's state after a user's actions, played through the app's own event wiring (no browser).

`Page` keeps every component's value and fires an event the way the browser does: each function bound to
(component, event), then the `.then` chain after it, each fed the current values of its inputs and its
answers written back (a `gr.update(value=...)` sets the value, `gr.skip()` leaves it). So a test sees what the
page would show after "photo, then choose a plot", with the handlers the server runs.

Model: the two-crop toy model (conftest.TOY_CROP_LABELS): a red photo is tomato late blight, a green one coffee rust.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import cv2
import pytest

from conftest import TOY_CROP_LABELS

REPO = Path(__file__).resolve().parent.parent
BAD = REPO / "tests" / "fixtures" / "bad"


@pytest.fixture
def svc(tmp_path):
    pytest.importorskip("onnx", reason="the toy model needs the onnx package (installed by .[train])")
    from leafscout.model.testing import toy_model
    from leafscout.webapp.services import Services

    model = toy_model(tmp_path / "toy.onnx", labels=TOY_CROP_LABELS)
    return Services(model_path=model, db=str(tmp_path / "log.sqlite"))


@pytest.fixture
def uploads(tmp_path, monkeypatch) -> Path:
    up = tmp_path / "up"
    up.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(up))
    return up


def flat(folder: Path, name: str, rgb) -> str:
    from leafscout.model.testing import flat_photo

    p = folder / name
    img = flat_photo(rgb)
    img[0, 0, 0] ^= 1 + sum(name.encode()) % 7  # each name its own bytes
    cv2.imwrite(str(p), cv2.cvtColor(img, cv2.COLOR_RGB2BGR))
    return str(p)


RED, GREEN = (200, 20, 20), (20, 200, 20)  # tomato.late_blight, coffee.rust


class Page:
    """The app's components and event wiring, driven like a browser would drive them."""

    def __init__(self, demo):
        self.demo = demo
        self.c = demo.ui.c
        self.values = {}
        self.visible = {}  # what an update said last about a component's visibility
        for block in demo.blocks.values():
            v = getattr(block, "value", None)
            if callable(v):
                v = None
            self.values[block._id] = v

    def get(self, key):
        return self.values[self.c[key]._id]

    def set(self, key, value):
        self.values[self.c[key]._id] = value

    def fire(self, key, event: str, meanwhile=None):
        """Run the event's functions, then their `.then` chains. `meanwhile()` is what the user did while the server
        was busy (a slow queue): it runs after the event's own functions read their inputs and worked out their
        answers, and before those answers reach the page."""
        comp = self.c[key]
        fns = list(self.demo.fns.values())
        first = [f for f in fns if (comp._id, event) in [(t[0], t[1]) for t in f.targets]]
        answers = [(f, self._call(f)) for f in first if f.fn is not None]
        if meanwhile is not None:
            meanwhile()
        for f, out in answers:
            self._apply(f, out)
        ran, todo = list(first), [g for f in first for g in fns if g.trigger_after == f._id]
        while todo:
            f = todo.pop(0)
            ran.append(f)
            if f.fn is not None:
                self._apply(f, self._call(f))
            todo += [g for g in fns if g.trigger_after == f._id]
        return ran

    def _call(self, f):
        return f.fn(*[self.values.get(i._id) for i in f.inputs])

    def _run(self, f):
        self._apply(f, self._call(f))

    def _apply(self, f, out):
        import gradio as gr

        outs = f.outputs
        if len(outs) == 1:
            out = [out]
        for comp, v in zip(outs, out):
            if isinstance(v, dict) and v.get("__type__") == "update":
                if "value" in v:
                    self.values[comp._id] = v["value"]
                if "visible" in v:
                    self.visible[comp._id] = v["visible"]
            elif v is gr.skip() or (isinstance(v, dict) and v.get("__type__") == "skip"):
                continue
            else:
                self.values[comp._id] = v

    def shown(self, key) -> bool:
        return self.visible.get(self.c[key]._id, getattr(self.c[key], "visible", True)) is not False

    def upload(self, key, path):
        self.set(key, path)
        return self.fire(key, "upload")

    def text(self, key) -> str:
        v = self.get(key) or ""
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", str(v)))


def _page(svc) -> Page:
    from leafscout.webapp import app

    return Page(app.build_app(svc))


def test_a_plot_chosen_after_the_photo_reads_the_photo_as_the_plots_crop(svc, uploads, tmp_path):
    """A tomato photo, then the coffee plot picked in "About your field": the crop picker turned to coffee but the
    card kept "tomato late blight" with its copper dose, and Save recorded tomato late blight in the coffee plot.
    The CLI (`diagnose --log PLOT`) and a photo taken after the plot was picked answer crop_mismatch."""
    from leafscout.webapp import handlers as H

    svc.log.add_plot("Doi ca phe", crop="coffee", area_ha=0.5, organic_status="in_conversion")
    photo = flat(uploads, "leaf.png", RED)
    want = svc.diagnose(photo, plot="Doi ca phe")
    assert want.reason_code == "crop_mismatch"  # what the CLI says for this photo and plot

    page = _page(svc)
    page.upload("photo", photo)
    assert page.get("state")["label"] == "tomato.late_blight" and page.get("state")["status"] == "ok"
    page.set("plot", "Doi ca phe")
    page.fire("plot", "input")
    st = page.get("state")
    assert page.get("crop") == "coffee"
    assert (st["status"], st["reason_code"]) == (want.status, want.reason_code), st
    assert st["context"]["plot"] == "Doi ca phe"
    assert 'data-reason="crop_mismatch"' in page.get("card")
    # and back to no plot, no crop: the photo is read among all crops again
    page.set("plot", "")
    page.set("crop", "")
    page.fire("crop", "input")
    page.fire("plot", "input")
    assert page.get("state")["label"] == "tomato.late_blight" and page.get("state")["status"] == "ok"
    assert H.problem_name(svc.advisor, "tomato.late_blight", "vi") in page.text("card")


def test_a_plot_chosen_after_a_group_reads_every_photo_as_the_plots_crop(svc, uploads):
    svc.log.add_plot("Doi ca phe", crop="coffee", area_ha=0.5, organic_status="in_conversion")
    a, b = flat(uploads, "a.png", RED), flat(uploads, "b.png", RED)
    page = _page(svc)
    page.upload("photo", a)
    page.upload("photo_more", b)
    assert page.get("state")["group"]["photos"] == 2 and page.get("state")["status"] == "ok"
    page.set("plot", "Doi ca phe")
    page.fire("plot", "input")
    st = page.get("state")
    assert st["group"]["photos"] == 2 and st["reason_code"] == "crop_mismatch", st
    assert len(page.get("group")) == 2


def test_the_plot_line_under_the_field_form_shows_a_plot_name_as_text(svc, uploads):
    """A plot named '[Nhận thuốc miễn phí](http://evil.example) **GẤP**' (anyone can name a plot with Save) became
    a link and bold text in the line under the field form; '<img ...>' stays text too. Its copper figures are
    written with the Vietnamese decimal comma on the vi page, as the advice below them (27,5 not 27.5)."""
    from leafscout.webapp.handlers import md_name
    from leafscout.webapp.i18n import t

    name = "[Nhận thuốc miễn phí](http://evil.example) **GẤP** <img src=x onerror=alert(1)>"
    svc.log.add_plot(name, crop="tomato", area_ha=0.5, organic_status="certified")
    svc.log.record_action(name, "phun đồng", active_substance="copper hydroxide", copper_kg_ha=2.5)
    page = _page(svc)
    page.upload("photo", flat(uploads, "leaf.png", RED))
    page.set("plot", name)
    page.fire("plot", "input")
    line = page.get("ctx_md")
    assert md_name(name) in line, line
    assert "](http" not in line and "http://" not in line and "**" not in line and "<img" not in line
    assert t("ctx_from_plot", "vi", plot="\x00", org="\x00", seven="", year="", cap="").split("\x00")[0] in line
    assert "2,5 kg/ha" in line and "2.5" not in line, line
    page.set("lang", "en")
    page.fire("lang", "change")
    assert "2.5 kg/ha" in page.get("ctx_md") and md_name(name) in page.get("ctx_md")


def test_a_refused_batch_says_why_on_the_page_and_takes_the_last_reports_away(svc, uploads, monkeypatch):
    """Too many photos in one batch: Gradio's red "Error" badge (English, on the Vietnamese page) covered the
    summary, and the previous batch's CSV and PDF buttons stayed, so "Tải báo cáo CSV" downloaded the last batch's
    report as if it were this one's. Now the summary says why, in the page's language, and the buttons go."""
    from leafscout.webapp import batch as B
    from leafscout.webapp.handlers import error_text

    page = _page(svc)
    page.set("files_state", [flat(uploads, "a.png", RED), flat(uploads, "b.png", GREEN)])
    page.fire("batch_btn", "click")
    assert page.shown("csv_btn") and page.get("batch_state")["rows"]
    monkeypatch.setattr(B, "MAX_FILES", 2)
    page.set("files_state", [flat(uploads, f"{i}.png", RED) for i in range(3)])
    page.fire("batch_btn", "click")  # raised gr.Error before
    assert error_text("batch_too_big", "vi") in page.get("batch_sum")
    assert not page.shown("csv_btn") and not page.shown("pdf_btn")
    assert page.get("batch_state") is None and not page.get("batch_html")


def test_a_problem_the_knowledge_base_does_not_have_says_so_instead_of_the_last_advice(svc):
    """The Knowledge tab's problem box takes typed text: an unknown one left the previous problem's advice on the
    page under Gradio's English "Error" badge. The advice panel now says, in the page's language, that the knowledge
    base has no such problem (the text typed is never echoed)."""
    from leafscout.webapp.handlers import error_text

    page = _page(svc)
    page.set("kb_problem", "tomato.late_blight")
    page.fire("kb_problem", "change")
    assert "Phytophthora" in page.get("kb_md")
    page.set("kb_problem", "<b>không có</b>")
    page.fire("kb_problem", "change")
    md = page.get("kb_md")
    assert error_text("unknown_label", "vi") in md and "Phytophthora" not in md and "<b>" not in md
    page.set("lang", "en")
    page.fire("lang", "change")
    assert error_text("unknown_label", "en") in page.get("kb_md")


@pytest.mark.parametrize("where", ["save_plot", "save_new"])
def test_save_to_a_plot_of_another_crop_records_what_the_cli_records(svc, uploads, where):
    """A tomato photo saved to the coffee plot picked under Save (not in the field form): the log got 'tomato late
    blight, ok' in a coffee plot, where `diagnose --log PLOT` records the photo read as that plot's crop
    (crop_mismatch). Save now reads the photo with the plot it saves to, shows that answer, and records it."""
    svc.log.add_plot("Doi ca phe", crop="coffee", area_ha=0.5, organic_status="in_conversion")
    photo = flat(uploads, "leaf.png", RED)
    want = svc.diagnose(photo, plot="Doi ca phe")
    page = _page(svc)
    page.upload("photo", photo)
    page.set(where, "Doi ca phe" if where == "save_plot" else "doi ca phe")  # a typed name finds its plot too
    page.set("save_by", "Lò Văn A")
    page.fire("save_btn", "click")
    obs = svc.log.history("Doi ca phe").observations
    assert [(o.label, o.status) for o in obs] == [(want.label, want.status)], obs
    st = page.get("state")
    assert (st["label"], st["status"], st["reason_code"]) == (want.label, want.status, want.reason_code)
    assert 'data-reason="crop_mismatch"' in page.get("card")  # the card shows the answer that was saved
    assert page.get("plot") == "Doi ca phe" and page.get("organic") == "in_conversion"


def test_save_to_the_plot_already_chosen_keeps_the_form_as_it_is(svc, uploads):
    """The plot chosen in the field form, then the organic status changed by hand: Save does not read the photo
    again nor put the plot's status back."""
    svc.log.add_plot("Ruong ca chua", crop="tomato", area_ha=0.5, organic_status="in_conversion")
    page = _page(svc)
    page.upload("photo", flat(uploads, "leaf.png", RED))
    page.set("plot", "Ruong ca chua")
    page.fire("plot", "input")
    page.set("organic", "conventional")
    page.fire("organic", "input")
    before = page.get("state")
    page.set("save_plot", "Ruong ca chua")
    page.fire("save_btn", "click")
    assert page.get("organic") == "conventional"
    assert page.get("state")["context"] == before["context"]
    obs = svc.log.history("Ruong ca chua").observations
    assert [(o.label, o.status) for o in obs] == [("tomato.late_blight", "ok")]


def test_the_crop_mismatch_card_names_the_crop_mid_sentence_in_lower_case(svc, uploads):
    """'Ảnh này không giống Cà phê, cây trồng đã chọn: ... của Cà phê' / 'does not look like Coffee': a crop's
    name inside a sentence is written as a word (as the crop note beside it already was)."""
    page = _page(svc)
    page.upload("photo", flat(uploads, "leaf.png", RED))
    page.set("crop", "coffee")
    page.fire("crop", "input")
    assert page.get("state")["reason_code"] == "crop_mismatch"
    assert "không giống cà phê, cây trồng đã chọn" in page.text("card") and "Cà phê," not in page.text("card")
    page.set("lang", "en")
    page.fire("lang", "change")
    assert "does not look like coffee, the crop you chose" in page.text("card")


def test_the_log_tabs_export_files_are_titled_in_the_pages_language(svc):
    """The Log tab's exported files sat under Gradio's default title "File" on the Vietnamese page."""
    import gradio as gr

    from leafscout.webapp import app
    from leafscout.webapp.i18n import t

    demo = app.build_app(svc)
    files = [b for b in demo.blocks.values() if isinstance(b, gr.File) and b.elem_id]  # the page's, not the API's
    assert files
    bound = {id(comp): keys for comp, keys in demo.ui.bound}
    for f in files:
        key = bound.get(id(f), {}).get("label")
        assert key and f.label == t(key, "vi") and t(key, "en") != t(key, "vi"), f.elem_id


def test_the_batch_reports_follow_the_language_switch(svc, uploads):
    """A batch run on the Vietnamese page, then English chosen: the table and the buttons turned English ("Download
    CSV report") but the buttons still downloaded the Vietnamese CSV and PDF. Both languages' reports are made with
    the batch and each button gives the page's language."""
    from leafscout.webapp.i18n import t

    page = _page(svc)
    page.set("files_state", [flat(uploads, "a.png", RED), flat(uploads, "b.png", GREEN)])
    page.fire("batch_btn", "click")

    def header(key):
        path = page.get(key)
        path = getattr(path, "path", None) or path
        return Path(path).read_text(encoding="utf-8-sig").splitlines()[0] if key == "csv_btn" else Path(path)

    assert header("csv_btn").startswith(t("col_no", "vi") + "," + t("col_file", "vi"))
    vi_pdf = header("pdf_btn")
    page.set("lang", "en")
    page.fire("lang", "change")
    assert header("csv_btn").startswith(t("col_no", "en") + "," + t("col_file", "en"))
    en_pdf = header("pdf_btn")
    assert en_pdf != vi_pdf and en_pdf.is_file() and en_pdf.stat().st_size > 1000
    page.set("lang", "vi")
    page.fire("lang", "change")
    assert header("csv_btn").startswith(t("col_no", "vi")) and header("pdf_btn") == vi_pdf


def test_the_language_switch_after_the_batchs_folder_was_cleaned_keeps_the_reports_it_has(svc, uploads):
    """Other officers' batches since this one removed its folder (batch.Workspace keeps the latest two): the switch
    must not hand Gradio a report file that is gone (the whole switch then failed); the buttons keep the
    report they have (Gradio serves its own copy of it)."""
    import shutil

    page = _page(svc)
    page.set("files_state", [flat(uploads, "a.png", RED)])
    page.fire("batch_btn", "click")
    before = page.get("csv_btn"), page.get("pdf_btn")
    shutil.rmtree(Path(page.get("batch_state")["reports"]["en"]["csv"]).parent.parent)
    page.set("lang", "en")
    page.fire("lang", "change")
    assert (page.get("csv_btn"), page.get("pdf_btn")) == before
    assert "files" in page.get("batch_sum")


def test_the_language_switch_keeps_the_names_of_the_files_chosen_for_a_batch(svc, uploads):
    """'Đã chọn 2 tệp. a.png, b.png' became '2 files chosen.' after the switch: the names the officer checks
    before pressing "Check all" were gone."""
    page = _page(svc)
    page.set("batch_files", [flat(uploads, "a.png", RED), flat(uploads, "b.png", GREEN)])
    page.fire("batch_files", "upload")
    assert "a\\.png" in page.get("chosen_md") and "b\\.png" in page.get("chosen_md")
    page.set("lang", "en")
    page.fire("lang", "change")
    assert page.get("chosen_md").startswith("2 files chosen.") and "a\\.png, b\\.png" in page.get("chosen_md")


def test_a_language_chosen_while_the_photo_waited_in_the_queue_is_the_answers_language(svc, uploads):
    """A busy server (several phones at once): the farmer chose English while the photo waited in the queue. The
    page turned English, then the answer arrived in Vietnamese, rendered in the language the photo was sent with.
    After each diagnosis the answer is rendered again when the page's language changed meanwhile."""
    from leafscout.webapp.handlers import problem_name
    from leafscout.webapp.i18n import t

    def english():
        page.set("lang", "en")
        page.fire("lang", "change")  # the switch ran at once, while the answer was still on its way

    page = _page(svc)
    photo = flat(uploads, "leaf.png", RED)
    page.set("photo", photo)
    # the upload's own functions (the diagnosis among them) ran with "vi"; the page is English by the time it lands
    page.fire("photo", "upload", meanwhile=english)
    assert problem_name(svc.advisor, "tomato.late_blight", "en") in page.text("card"), page.text("card")
    assert t("card_today", "en") in page.text("card") and t("card_today", "vi") not in page.text("card")
    # a photo of the same plant, and a crop chosen, likewise
    page.set("lang", "vi")
    page.fire("lang", "change")
    page.set("photo_more", flat(uploads, "b.png", RED))
    page.fire("photo_more", "upload", meanwhile=english)
    assert t("group_agree", "en", k=2, n=2) in page.text("card"), page.text("card")
    page.set("lang", "vi")
    page.fire("lang", "change")
    page.set("crop", "tomato")
    page.fire("crop", "input", meanwhile=english)
    assert t("card_today", "en") in page.text("card")


def test_a_language_chosen_while_a_batch_ran_is_the_batchs_language(svc, uploads):
    from leafscout.webapp.i18n import t

    def english():
        page.set("lang", "en")
        page.fire("lang", "change")

    page = _page(svc)
    page.set("files_state", [flat(uploads, "a.png", RED)])
    page.fire("batch_btn", "click", meanwhile=english)
    assert page.get("batch_sum").startswith(t("batch_summary", "en", n=1, ok=1, unsure=0, noleaf=0, err=0)[:8])
    csv_path = page.get("csv_btn")
    assert Path(getattr(csv_path, "path", None) or csv_path).read_text(encoding="utf-8-sig").startswith("No.,File")

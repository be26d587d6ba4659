"""LeafScout web app: `python app.py` serves the Gradio app farmers and extension officers use.

Layout follows the house style: pure handlers live in `webapp/` (testable without a server), the one
diagnosis service in `leafscout/service.py` (shared with the CLI), then one builder per tab, then the
API-only endpoints, then the `__main__` guard. Nothing heavy happens at import; the model loads once at
start (`Services.warm_up`) and every request shares it.

    python app.py [--model PATH] [--db PATH_OR_URL] [--host 127.0.0.1] [--port 7860] [--auth user:pass]
                  [--officers FILE]
"""
from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field

from leafscout.errors import ServiceError
from leafscout.safety import html_text, md_text
from leafscout.webapp import batch as B
from leafscout.webapp import handlers as H
from leafscout.webapp import logbook as LB
from leafscout.webapp.i18n import DEFAULT_LANG, norm_lang, t
from leafscout.webapp.services import Services

AUTH_ENV = "LEAFSCOUT_AUTH"
OFFICERS_ENV = "LEAFSCOUT_OFFICERS"  # as leafscout.officers (not imported here: nothing heavy at import)
# Diagnoses that run at once (the "model" queue). Each gets cores / MODEL_WORKERS onnxruntime threads, so
# together they use every core once: with all cores per session, 2 requests ran 4 spinning threads on 2 cores,
# and the server's CPU a request under a 20-request burst was ~2x (benchmarks/bench_app_load.py).
MODEL_WORKERS = 2
# Queue positions are sent to waiting browsers once a second, not to every waiting request each time one
# starts (Gradio's "auto": 20 waiting requests got ~200 messages per burst; each costs CPU at both ends).
QUEUE_STATUS_EVERY_S = 1.0
DEFAULT_MAX_FILE_SIZE = "50mb"
LANG_CHOICES = [("Tiếng Việt", "vi"), ("English", "en")]
PRIMARY = "#9a3412"        # white on it: 7.3:1 (WCAG AA asks 4.5:1)
PRIMARY_HOVER = "#7c2d12"

CSS = """
.gradio-container {max-width: 960px !important; margin: 0 auto !important; padding: 4px !important;}
.gradio-container .main.fillable {padding: 0 6px !important;}
/* a 48 px tall accordion header stretched its rotated arrow 48 px wide, out of the box */
.gradio-container .label-wrap {align-items: center;} .gradio-container .label-wrap .icon {align-self: center;}
#header {gap: 2px !important;}
#lang .wrap {gap: 6px; flex-wrap: nowrap;} #lang label {padding: 2px 10px; min-height: 36px;}
#photo {width: 100%;}
/* Gradio's screen-reader status line says raw English keys ("common.complete") on a Vietnamese page */
.sr-only[role=status][aria-live] {display: none !important;}
.gradio-container button {min-height: 48px; font-size: 1.05rem;}
#batch-btn {min-height: 56px; font-size: 1.2rem;}
.gradio-container input, .gradio-container textarea {font-size: 1.05rem;}
.gradio-container .prose {overflow-wrap: anywhere;}
.gradio-container .prose table {display: block; max-width: 100%; overflow-x: auto;}
#title-md h2 {margin: 0; font-size: 1.25rem;} #title-md p {margin: 0;}
.tab-wrapper, .tab-container {flex-wrap: wrap !important; height: auto !important; overflow: visible !important;}
.tab-container button {padding: 4px 8px !important; font-size: 1rem !important; visibility: visible !important;
  position: static !important;}
.overflow-menu {display: none !important;}
#lang .wrap {flex-wrap: nowrap;}
#preview img {max-height: 130px; object-fit: contain;}
#preview {padding: 2px !important;}
.card {border-radius: 10px; padding: 10px 12px; border: 2px solid #475569; background: #fff; color: #111827;}
.card p {margin: 4px 0;}
.card-title {font-size: 1.25rem; font-weight: 700; line-height: 1.2;}
.card-sub {color: #374151;}
.card-row {margin: 4px 0; line-height: 1.3;} .card-k {font-weight: 700; display: block; color: #7c2d12;}
.card-healthy {border-color: #166534;} .card-healthy .card-title {color: #14532d;}
.card-error, .card-retake {border-color: #9a3412;}
.card-warn {font-weight: 700; color: #991b1b;}
.card-note {color: #92400e;}
#batch-results .brow {border-bottom: 1px solid #d1d5db; padding: 6px 0; overflow-wrap: anywhere; word-break: break-word;}
#batch-results .bname {font-weight: 700;}
#batch-chosen, #batch-results {max-width: 100%; overflow-wrap: anywhere;}
.group-box {border-top: 1px solid #d1d5db; margin-top: 6px; padding-top: 4px;}
.group-title {font-weight: 700;} .group-agree {margin: 2px 0;}
.group-photos {margin: 2px 0 0 1.2em; padding: 0; font-size: 0.95rem;}
.group-photo {margin: 2px 0; overflow-wrap: anywhere;}
.group-file {color: #4b5563; font-size: 0.85rem;}
#group-row {gap: 6px;} #group-msg p {margin: 2px 0;}
#sub-check {border-bottom: 1px solid #d1d5db; padding-bottom: 6px;}
#sub-md h3 {margin: 4px 0; font-size: 1.2rem;}
"""

# Runs in the page: (1) photos shrink in the browser before upload (canvas, longest side 1600 px, JPEG 0.85),
# so a 3G upload takes seconds, not tens of seconds; (2) the crop picker is remembered in the browser;
# (3) the photo input opens the camera or gallery on a phone (accept=image/*); (4) the answer card, the batch summary
# and the save message are polite live regions (a screen reader reads the answer when it arrives).
HEAD = r"""
<script>
(() => {
  const MAX_SIDE = 1600, QUALITY = 0.85, MIN_BYTES = 400 * 1024;
  async function shrink(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type)) return file;
    let bmp;
    try { bmp = await createImageBitmap(file, {imageOrientation: 'from-image'}); } catch (e) { return file; }
    const scale = Math.min(1, MAX_SIDE / Math.max(bmp.width, bmp.height));
    if (scale === 1 && file.size < MIN_BYTES) { bmp.close && bmp.close(); return file; }
    const c = document.createElement('canvas');
    c.width = Math.round(bmp.width * scale); c.height = Math.round(bmp.height * scale);
    c.getContext('2d').drawImage(bmp, 0, 0, c.width, c.height);
    bmp.close && bmp.close();
    const blob = await new Promise(r => c.toBlob(r, 'image/jpeg', QUALITY));
    if (!blob || blob.size >= file.size) return file;
    const name = file.name.replace(/\.[^.]+$/, '') + '.jpg';
    return new File([blob], name, {type: 'image/jpeg', lastModified: file.lastModified});
  }
  // An upload button's hidden <input type=file> sits beside the button (#photo, #batch-files), not inside it.
  const OWNERS = ['photo', 'photo-more', 'batch-files'];
  const owned = (input) => [input.previousElementSibling, input.nextElementSibling, input.parentElement]
    .some(e => e && (OWNERS.includes(e.id) || (e.closest && e.closest('#photo, #photo-more, #batch-files'))));
  document.addEventListener('change', async (ev) => {
    const input = ev.target;
    if (!(input instanceof HTMLInputElement) || input.type !== 'file' || input.dataset.lsShrunk === '1') return;
    if (!owned(input)) return;
    const files = Array.from(input.files || []);
    if (!files.some(f => /^image\/(jpeg|png|webp)$/.test(f.type))) return;
    ev.stopImmediatePropagation();
    const dt = new DataTransfer();
    for (const f of files) dt.items.add(await shrink(f));
    input.files = dt.files;
    input.dataset.lsShrunk = '1';
    input.dispatchEvent(new Event('change', {bubbles: true}));
    setTimeout(() => { delete input.dataset.lsShrunk; }, 0);
  }, true);
  // the answer card and the batch summary are read out when they change (Gradio's own status line is hidden)
  const LIVE = ['card', 'batch-summary', 'save-msg'];
  const fix = () => {
    document.querySelectorAll('input[type=file]').forEach(i => {
      const cam = (e) => e && (e.id === 'photo' || e.id === 'photo-more');
      if (cam(i.previousElementSibling) || cam(i.nextElementSibling)) i.accept = 'image/*';
    });
    for (const id of LIVE) {
      const e = document.getElementById(id);
      if (e && e.getAttribute('aria-live') !== 'polite') e.setAttribute('aria-live', 'polite');
    }
  };
  new MutationObserver(fix).observe(document.documentElement, {childList: true, subtree: true});
})();
</script>
"""

# The crop picker's value is kept in the browser (localStorage) and restored on the next visit.
CROP_LOAD_JS = "() => { try { return localStorage.getItem('leafscout.crop') || ''; } catch (e) { return ''; } }"
# Bound to the crop picker's re-diagnosis, whose inputs are (photo, lang, crop, *context): it gets them all and must
# hand them all back; the crop is the third (a one-argument function saved the photo and returned only it).
CROP_SAVE_JS = ("(...a) => { try { localStorage.setItem('leafscout.crop', a[2] || ''); } catch (e) {} "
                "return a; }")
# So is the name of the person who confirms saved diagnoses (one phone, usually one person).
BY_LOAD_JS = "() => { try { return localStorage.getItem('leafscout.confirmed_by') || ''; } catch (e) { return ''; } }"
BY_SAVE_JS = "(b) => { try { localStorage.setItem('leafscout.confirmed_by', b || ''); } catch (e) {} return b; }"
# The page's language on <html lang>: Gradio writes "en", and a phone's screen reader then read Vietnamese with an
# English voice. Set when the page opens and by the language switch.
HTML_LANG_JS = "(l) => { document.documentElement.lang = (l === 'en') ? 'en' : 'vi'; return l; }"


@dataclass
class UI:
    """Components shared between tabs, and every (component, {attr: i18n key}) the language switch re-writes."""
    bound: list = field(default_factory=list)
    c: dict = field(default_factory=dict)
    officers: object = None      # leafscout.officers.Officers with --officers: who may confirm and correct
    shared_user: str | None = None  # the one --auth account's name (a shared login: the typed name counts)

    def L(self, component, **keys):
        self.bound.append((component, keys))
        return component


# an API parameter -> H.context_for's keyword for it
_API_FIELDS = {"organic_status": "organic", "days_to_harvest": "days", "copper_used_7y": "copper_7y"}


def _api_error(services, exc: ServiceError, lang: str, refused: tuple = (), why: str = "", **given):
    """An API refusal a script can read whatever `lang` it asked for: the message in `lang`, for bad_input the
    parameters refused (by their API names), and the error code last in brackets:
    'Lỗi: giá trị nhập chưa đúng: days_to_harvest [bad_input]'. `refused`: parameters the endpoint already knows
    were refused (/check_substance's name); `why`: a few words in `lang` after them ('name (no product name)')."""
    import gradio as gr
    lang = norm_lang(lang)
    msg = t("error", lang, msg=H.error_text(exc.code, lang))
    if exc.code == "bad_input":
        bad = list(refused)
        for name, value in given.items():
            try:
                H.context_for(services, **{_API_FIELDS[name]: value})
            except ServiceError:
                bad.append(name)
        if bad:
            msg += ": " + ", ".join(bad)
        if why:
            msg += f" ({why})"
    return gr.Error(f"{html_text(msg)} [{exc.code}]", print_exception=False)


def _refusal_md(code: str, lang: str) -> str:
    """A refusal said in a Markdown panel of the page, in its language ("**Lỗi: ...**")."""
    return f"**{H.md_text_soft(t('error', lang, msg=H.error_text(code, lang)))}**"


# ------------------------------------------------------------------------------------------- layout

def build_diagnose_tab(services, ui: UI, lang: str):
    import gradio as gr
    L, c = ui.L, ui.c
    with L(gr.Tab(t("tab_diagnose", lang), id="diagnose", elem_id="tab-diagnose"), label="tab_diagnose"):
        c["crop"] = L(gr.Dropdown(H.model_crop_choices(services, lang), value="", label=t("crop_pick", lang),
                                  elem_id="crop"), label="crop_pick")
        # An upload button, not gr.Image/gr.File: Gradio never opens the upload itself (the project's image
        # gate does), the button speaks the page's language (no "Drop File Here"), and there is no webcam
        # source to fail on a plain-http LAN page: on a phone the file input itself offers the camera.
        c["photo"] = L(gr.UploadButton(t("photo_btn", lang), file_count="single", type="filepath",
                                       variant="primary", elem_id="photo"), label="photo_btn")
        # alt text: Gradio wraps the picture in a button, which a screen reader otherwise calls just "button"
        c["preview"] = L(gr.Image(interactive=False, show_label=False, height=130, visible=False, format="jpeg",
                                  elem_id="preview", buttons=[], alt_text=t("preview_alt", lang)),
                         alt_text="preview_alt")
        c["card"] = gr.HTML(H.render_card(services, None, lang), elem_id="card")
        build_group_controls(services, ui, lang)
        with L(gr.Accordion(t("card_details", lang), open=False, elem_id="details"), label="card_details"):
            c["details"] = gr.Markdown("", elem_id="details-md")
        with L(gr.Accordion(t("card_why", lang), open=False, elem_id="why"), label="card_why"):
            # no share/download/fullscreen buttons: English tooltips over the Vietnamese caption, and nothing to
            # share from an offline app
            c["overlay"] = L(gr.Image(label=t("heatmap", lang), interactive=False, format="jpeg", height=240,
                                      elem_id="heatmap", buttons=[], alt_text=t("heatmap", lang)),
                             label="heatmap", alt_text="heatmap")
            c["citations"] = gr.Markdown("", elem_id="citations-md")
        with L(gr.Accordion(t("context_title", lang), open=False, elem_id="context"), label="context_title"):
            c["plot"] = L(gr.Dropdown([""] + LB.plot_names(services), value="", label=t("diag_plot", lang),
                                      elem_id="diag-plot"), label="diag_plot")
            c["organic"] = L(gr.Radio(H.organic_choices(lang), value="certified", label=t("organic_status", lang),
                                      elem_id="organic"), label="organic_status")
            with gr.Row():
                # a text box, not gr.Number: Gradio's number box shows and sends 0 once the form opens, and 0 days
                # to harvest blocks every product with a pre-harvest interval ("no spray needed"); empty = not given
                c["days"] = L(gr.Textbox("", label=t("days_to_harvest", lang), max_lines=1, elem_id="days"),
                              label="days_to_harvest")
                c["copper"] = L(gr.Number(0, label=t("copper_7y", lang), minimum=0, elem_id="copper"),
                                label="copper_7y")
            c["ctx_md"] = gr.Markdown("", elem_id="ctx-md")
        with L(gr.Accordion(t("save_title", lang), open=False, elem_id="save"), label="save_title"):
            c["save_plot"] = L(gr.Dropdown(LB.plot_names(services), value=None, label=t("plot", lang),
                                           elem_id="save-plot"), label="plot")
            with gr.Row():
                c["save_new"] = L(gr.Textbox(label=t("new_plot", lang), elem_id="save-new"), label="new_plot")
                # a new plot's area (a text box: the vi page's "0,5"); copper per ha is worked out from it, so a
                # new plot is not made without it (logbook.ensure_plot)
                c["save_area"] = L(gr.Textbox("", label=t("new_plot_area", lang), max_lines=1,
                                              elem_id="save-area"), label="new_plot_area")
            c["save_by"] = L(gr.Textbox(label=t("confirmed_by", lang), max_lines=1, max_length=200,
                                        elem_id="save-by"), label="confirmed_by")
            c["save_btn"] = L(gr.Button(t("save_btn", lang), elem_id="save-btn"), value="save_btn")
            c["save_msg"] = gr.Markdown("", elem_id="save-msg")
            build_review_box(services, ui, lang)


def build_review_box(services, ui: UI, lang: str):
    """Under Save: once the result is in the log, an officer confirms it or picks the right answer."""
    import gradio as gr
    L, c = ui.L, ui.c
    c["rev_obs"] = gr.State(None)  # the id of the observation Save just wrote
    with gr.Group(visible=False, elem_id="review") as box:
        L(gr.Markdown(f"{t('review_title', lang)}\n{t('review_hint', lang)}", elem_id="review-hint"),
          value=("review_title", "review_hint"))
        c["rev_label"] = L(gr.Dropdown(LB.label_choices(services, lang), value=None, label=t("review_label", lang),
                                       elem_id="rev-label"), label="review_label")
        with gr.Row():
            c["rev_confirm"] = L(gr.Button(t("review_confirm_btn", lang), elem_id="rev-confirm"),
                                 value="review_confirm_btn")
            c["rev_correct"] = L(gr.Button(t("review_correct_btn", lang), elem_id="rev-correct"),
                                 value="review_correct_btn")
        c["rev_msg"] = gr.Markdown("", elem_id="rev-msg")
    c["rev_box"] = box


def wire_diagnose_tab(services, ui: UI, demo):
    import gradio as gr
    c = ui.c
    ctx_in = [c["plot"], c["organic"], c["days"], c["copper"]]
    outs = [c["state"], c["preview"], c["card"], c["details"], c["overlay"], c["citations"], c["ctx_md"]]

    def do_diagnose(photo, lang, crop, plot, organic, days, copper_7y):
        lang = norm_lang(lang)
        if not photo:
            return None, gr.update(value=None, visible=False), H.render_card(services, None, lang), "", None, "", ""
        days, copper_7y, warn = H.clean_form(services, days, copper_7y, lang)
        st, ov = H.diagnose_upload(services, photo, crop, plot, organic, days, copper_7y)
        preview = None
        if st and st.get("status") != "error" and st.get("photo"):
            preview = _preview(st["photo"], st)
        card, details, cit = H.render_all(services, st, lang)
        info = st.get("context") if st else None
        return (_shown_in(st, lang), gr.update(value=preview, visible=preview is not None), card, details, ov, cit,
                _ctx_line(services, info, lang, warn))

    c["photo_dep"] = c["photo"].upload(do_diagnose, [c["photo"], c["lang"], c["crop"], *ctx_in], outs, api_visibility="private",
                      concurrency_limit=MODEL_WORKERS, concurrency_id="model")
    c["crop_dep"] = c["crop"].input(do_diagnose, [c["photo"], c["lang"], c["crop"], *ctx_in], outs,
                                    api_visibility="private", concurrency_limit=MODEL_WORKERS,
                                    concurrency_id="model", js=CROP_SAVE_JS)

    def rerender(st, lang, plot, organic, days, copper_7y):
        days, copper_7y, warn = H.clean_form(services, days, copper_7y, lang)
        st = H.readvise(services, st, plot, organic, days, copper_7y)
        card, details, cit = H.render_all(services, st, lang)
        return st, card, details, cit, _ctx_line(services, (st or {}).get("context"), lang, warn)

    for comp in (c["organic"], c["days"], c["copper"]):
        comp.input(rerender, [c["state"], c["lang"], *ctx_in],
                   [c["state"], c["card"], c["details"], c["citations"], c["ctx_md"]], api_visibility="private",
                   queue=False)

    def plot_chosen(plot, st, lang, crop, days):
        pc = LB.plot_context(services, plot)
        if pc is None:
            return (gr.update(), gr.update(), gr.update()) + rerender(st, lang, None, None, days, None)
        org, seven, pcrop = pc
        crop_up = gr.update(value=pcrop) if pcrop in services.crops else gr.update()
        return (gr.update(value=org), gr.update(value=seven), crop_up) + rerender(st, lang, plot, org, days, seven)

    # the form at once; the photo is then read again (wire_group_photos): the plot may name another crop
    c["plot_dep"] = c["plot"].input(plot_chosen, [c["plot"], c["state"], c["lang"], c["crop"], c["days"]],
                                    [c["organic"], c["copper"], c["crop"], c["state"], c["card"], c["details"],
                                     c["citations"], c["ctx_md"]], api_visibility="private", queue=False)
    c["do_diagnose"] = do_diagnose  # for wire_group_photos: one photo read again after a plot is chosen

    def do_save(st, plot, new, lang, organic, crop, by, diag_plot=None, area=None):
        if not plot and not (new or "").strip():
            plot = diag_plot or None  # the plot already chosen in the field form above
        crop = crop or ((st or {}).get("label") or "").split(".")[0] or None
        msg, obs_id = LB.save_for_review(services, st, plot, new, lang, organic, crop=crop, confirmed_by=by,
                                         new_area=area)
        msg = H.group_save_note(st, msg, lang)  # several photos: says the combined answer was saved
        names = LB.plot_names(services)
        chosen = (new or "").strip() or plot
        saved = obs_id is not None
        keep = not saved  # refused (a new plot without its area): the typed name and area stay for the next try
        return (msg, gr.update(choices=names, value=chosen if chosen in names else None), gr.update() if keep else "",
                gr.update(choices=names), gr.update(choices=[""] + names), gr.update(choices=names),
                obs_id, gr.update(visible=saved),
                gr.update(value=(st or {}).get("label") if saved else None), "", st, gr.update() if keep else "")

    def save_to_plot(st, plot, new, diag_plot, photo, group, lang, crop, days):
        """Before Save: a plot in the log other than the one the answer was read with (picked or typed under Save)
        is chosen in the field form and the photo read again with it, as choosing it there does and as
        `diagnose --log PLOT` reads it: the plot can name another crop. The page then shows the answer saved."""
        skip = (gr.skip(),) * (4 + len(reread_outs))
        target = (new or "").strip() or plot or diag_plot
        if not st or st.get("status") == "error" or not target:
            return skip
        try:
            p = services.log.get_plot(target)
        except Exception:  # a new plot: made with the answer's crop, nothing to read again
            return skip
        if p.name == (st.get("context") or {}).get("plot"):
            return skip
        found = LB.plot_context(services, p.name)
        if found is None:  # its copper ledger could not be read: the answer stays as it was read
            return skip
        org, seven, pcrop = found
        crop = pcrop if pcrop in services.crops else crop
        again = c["read_again"](photo, group, lang, crop, p.name, org, days, seven)
        if again is None:
            return skip
        return (p.name, org, seven, crop if crop in services.crops else gr.skip()) + tuple(again)

    reread_outs = _reread_outs(c)
    c["save_btn"].click(save_to_plot, [c["state"], c["save_plot"], c["save_new"], c["plot"], c["photo"], c["group"],
                                       c["lang"], c["crop"], c["days"]],
                        [c["plot"], c["organic"], c["copper"], c["crop"], *reread_outs], api_visibility="private",
                        concurrency_limit=MODEL_WORKERS, concurrency_id="model").then(
        do_save, [c["state"], c["save_plot"], c["save_new"], c["lang"], c["organic"], c["crop"], c["save_by"],
                  c["plot"], c["save_area"]],
        [c["save_msg"], c["save_plot"], c["save_new"], c["log_plot"], c["plot"], c["lot_plots"], c["rev_obs"],
         c["rev_box"], c["rev_label"], c["rev_msg"], c["state"], c["save_area"]], api_visibility="private")
    demo.load(None, None, c["crop"], js=CROP_LOAD_JS, api_visibility="private", queue=False)
    c["save_by"].change(None, c["save_by"], None, js=BY_SAVE_JS, api_visibility="private", queue=False)
    demo.load(None, None, c["save_by"], js=BY_LOAD_JS, api_visibility="private", queue=False)
    wire_group_photos(services, ui)
    wire_review_box(services, ui)


def _takes_request(fn):
    """Gradio passes the gr.Request (its `username`: who logged in) to a parameter annotated with it; this
    module's annotations are strings (`from __future__ import annotations`) naming a `gr` imported inside
    functions, which Gradio cannot resolve, so the real class is set here."""
    import gradio as gr
    fn.__annotations__ = {"request": gr.Request}
    return fn


def _who(ui: UI, request, typed) -> dict:
    """The reviewer's identity for LB.confirm / LB.correct: the logged-in name (gr.Request.username), the
    typed name, and what the login was configured with."""
    return dict(username=getattr(request, "username", None), typed=typed, officers=ui.officers,
                shared_user=ui.shared_user)


def wire_review_box(services, ui: UI):
    """Confirm / Correct under Save (the observation Save wrote); a new photo hides them again."""
    import gradio as gr
    c = ui.c

    @_takes_request
    def do_confirm(obs_id, by, lang, request: gr.Request):
        return LB.confirm(services, obs_id, lang, **_who(ui, request, by))

    @_takes_request
    def do_correct(obs_id, label, by, lang, request: gr.Request):
        return LB.correct(services, obs_id, label, lang, **_who(ui, request, by))

    c["rev_confirm"].click(do_confirm, [c["rev_obs"], c["save_by"], c["lang"]], c["rev_msg"],
                           api_visibility="private")
    c["rev_correct"].click(do_correct, [c["rev_obs"], c["rev_label"], c["save_by"], c["lang"]], c["rev_msg"],
                           api_visibility="private")
    # ... and clears "Saved to plot ..." (it spoke of the answer before, not of the new photo's, unsaved one)
    hide = lambda *_: (None, gr.update(visible=False), "", "")  # noqa: E731
    for event in (c["photo"].upload, c["photo_more"].upload, c["photo_new"].click):
        event(hide, None, [c["rev_obs"], c["rev_box"], c["rev_msg"], c["save_msg"]], api_visibility="private",
              queue=False)


def build_group_controls(services, ui: UI, lang: str):
    """Under the answer card: "add another photo of the same plant" (2-6 photos, one combined answer) and
    "new plant" (clears the group). Both hidden until a first photo is taken."""
    import gradio as gr
    L, c = ui.L, ui.c
    c["group"] = gr.State([])  # the upload paths of the plant's photos, in order (server side)
    with gr.Row(elem_id="group-row", visible=False) as row:
        c["photo_more"] = L(gr.UploadButton(t("group_add_btn", lang), file_count="single", type="filepath",
                                            variant="secondary", elem_id="photo-more"), label="group_add_btn")
        c["photo_new"] = L(gr.Button(t("group_new_btn", lang), variant="secondary", elem_id="photo-new"),
                           value="group_new_btn")
    c["group_row"] = row
    # re-said by the language switch from the group (6 photos: "full", not "add up to 6"), so not bound to one key
    c["group_msg"] = gr.Markdown(t("group_hint", lang), visible=False, elem_id="group-msg")


def wire_group_photos(services, ui: UI):
    """Several photos of one plant: the first photo (the main button) starts the group, each "add another
    photo" re-runs the whole group through the service (every upload through the image gate), "new plant"
    clears it. The combined answer is the page's state, so the language switch, the field form and Save use it."""
    import gradio as gr
    c = ui.c
    ctx_in = [c["plot"], c["organic"], c["days"], c["copper"]]
    outs = _reread_outs(c)

    def started(photo, lang):
        first = [photo] if photo else []
        return (first, gr.update(visible=bool(first)), gr.update(visible=True),
                gr.update(value=t("group_hint", norm_lang(lang)), visible=bool(first)))

    c["photo"].upload(started, [c["photo"], c["lang"]], [c["group"], c["group_row"], c["photo_more"], c["group_msg"]],
                      api_visibility="private", queue=False)

    def run_group(group, lang, crop, plot, organic, days, copper_7y):
        lang = norm_lang(lang)
        days, copper_7y, warn = H.clean_form(services, days, copper_7y, lang)
        st, ov = H.diagnose_group_upload(services, group, crop, plot, organic, days, copper_7y)
        read = ([e.get("status") != "error" for e in st["group_photos"]] if H.is_group(st)
                else [bool(st) and st.get("status") != "error"] * len(group))
        last = next((p for p, ok in zip(reversed(group), reversed(read)) if ok), None)  # the newest readable photo
        preview = _preview(last) if last else None
        card, details, cit = H.render_all(services, st, lang)
        full = len(group) >= H.GROUP_MAX
        return (group, _shown_in(st, lang), gr.update(value=preview, visible=preview is not None), card, details, ov,
                cit,
                _ctx_line(services, (st or {}).get("context"), lang, warn), gr.update(visible=not full),
                gr.update(value=_group_msg(group, lang), visible=True))

    def add(new, group, lang, crop, plot, organic, days, copper_7y):
        group = list(group or [])
        if not new or len(group) >= H.GROUP_MAX:
            return (gr.skip(),) * len(outs)
        return run_group(group + [new], lang, crop, plot, organic, days, copper_7y)

    c["more_dep"] = c["photo_more"].upload(add, [c["photo_more"], c["group"], c["lang"], c["crop"], *ctx_in], outs,
                           api_visibility="private", concurrency_limit=MODEL_WORKERS, concurrency_id="model")

    def crop_changed(group, lang, crop, plot, organic, days, copper_7y):
        if len(group or []) < 2:
            return (gr.skip(),) * len(outs)
        return run_group(list(group), lang, crop, plot, organic, days, copper_7y)

    c["crop_then"] = c["crop_dep"].then(crop_changed, [c["group"], c["lang"], c["crop"], *ctx_in], outs, api_visibility="private",
                       concurrency_limit=MODEL_WORKERS, concurrency_id="model")

    def read_again(photo, group, lang, crop, plot, organic, days, copper_7y):
        """The photo, or the plant's photos, read again with this form (answers for `_reread_outs`); None without
        a photo."""
        if len(group or []) >= 2:
            return run_group(list(group), lang, crop, plot, organic, days, copper_7y)
        if not photo:
            return None
        return (gr.skip(), *c["do_diagnose"](photo, lang, crop, plot, organic, days, copper_7y), gr.skip(), gr.skip())

    c["read_again"] = read_again  # also Save's, to a plot other than the field form's

    def plot_changed(photo, group, st, lang, crop, plot, organic, days, copper_7y):
        """A plot chosen (or cleared) after the photo: the photo, or the plant's photos, read again with the plot,
        as a photo taken after choosing it is (and as `diagnose --log PLOT`): the plot can name the crop (its
        answer then crop_mismatch or crop_not_learned), and the answer kept was read without it."""
        again = read_again(photo, group, lang, crop, plot, organic, days, copper_7y) if st else None
        return (gr.skip(),) * len(outs) if again is None else again

    c["plot_then"] = c["plot_dep"].then(plot_changed, [c["photo"], c["group"], c["state"], c["lang"], c["crop"], *ctx_in], outs,
                       api_visibility="private", concurrency_limit=MODEL_WORKERS, concurrency_id="model")

    def new_plant(lang):
        lang = norm_lang(lang)
        return ([], None, None, gr.update(value=None, visible=False), H.render_card(services, None, lang), "", None,
                "", "", "", gr.update(visible=False), gr.update(visible=True), gr.update(visible=False))

    c["photo_new"].click(new_plant, [c["lang"]],
                         [c["group"], c["state"], c["photo"], c["preview"], c["card"], c["details"], c["overlay"],
                          c["citations"], c["ctx_md"], c["save_msg"], c["group_row"], c["photo_more"], c["group_msg"]],
                         api_visibility="private", queue=False)


def _reread_outs(c) -> list:
    """What reading the Diagnose tab's photo (or the plant's photos) again writes, in `run_group`'s order."""
    return [c["group"], c["state"], c["preview"], c["card"], c["details"], c["overlay"], c["citations"],
            c["ctx_md"], c["photo_more"], c["group_msg"]]


def _group_msg(group, lang) -> str:
    """The line under "add another photo": add up to 6, or (6 taken) press New plant."""
    return t("group_full" if len(group or []) >= H.GROUP_MAX else "group_hint", lang)


def _preview(path, state=None):
    """A small copy of the photo as the gate decoded it (EXIF-rotated), for the page; with the numbered boxes of
    the leaves looked at and the insects found, when `state` has any, so they are seen with the answer on the
    first screen (the "why" section's larger copy stays folded)."""
    if state and (state.get("leaves") or state.get("pests")):
        from leafscout.webapp.pests import photo_with_boxes
        boxed = photo_with_boxes(path, state.get("pests") or [], max_side=480, leaves=state.get("leaves"))
        if boxed is not None:
            return boxed
    try:
        import cv2

        from leafscout.model.imageio import read_image
        rgb = read_image(path, min_short_side=300)
        h, w = rgb.shape[:2]
        s = min(1.0, 480 / max(h, w))
        return cv2.resize(rgb, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA)
    except Exception:
        return None


def _ctx_line(services, info, lang, warning: str = ""):
    """Under the field form: a value it could not take (H.clean_form), then what the chosen plot brought."""
    line = ""
    if info and info.get("plot"):
        from leafscout.service import ContextInfo
        line = H.context_line(services, ContextInfo(**info), lang)
    return "\n\n".join(x for x in (warning, line) if x)


def build_batch_tab(services, ui: UI, lang: str):
    import gradio as gr
    L, c = ui.L, ui.c
    with L(gr.Tab(t("tab_batch", lang), id="batch", elem_id="tab-batch"), label="tab_batch"):
        L(gr.Markdown(t("batch_intro", lang)), value=("batch_intro",))
        c["batch_files"] = L(gr.UploadButton(t("batch_files", lang), file_count="multiple", type="filepath",
                                             elem_id="batch-files"), label="batch_files")
        c["files_state"] = gr.State([])
        c["chosen_md"] = gr.Markdown(t("batch_none", lang), elem_id="batch-chosen")
        c["batch_btn"] = L(gr.Button(t("batch_btn", lang), variant="primary", elem_id="batch-btn"), value="batch_btn")
        c["batch_sum"] = gr.Markdown("", elem_id="batch-summary")
        c["batch_html"] = gr.HTML("", elem_id="batch-results")
        with gr.Row():
            # a download button's text is its label; its value is the report file (the language switch re-wrote
            # the value with the text, and the next tap downloaded nothing)
            c["csv_btn"] = L(gr.DownloadButton(t("csv", lang), visible=False, elem_id="csv-btn"), label="csv")
            c["pdf_btn"] = L(gr.DownloadButton(t("pdf", lang), visible=False, elem_id="pdf-btn"), label="pdf")


def batch_html(services, batch, lang) -> str:
    """Batch rows as stacked blocks: fit a 390 px screen, full file names, everything escaped."""
    if not batch:
        return ""
    tab = B.table(services.advisor, batch, lang)
    h = tab["headers"]
    out = []
    for row in tab["data"]:
        parts = [html_text(x) for x in (row[2], row[3], row[4]) if x not in (None, "")]
        extra = row[6] or row[5]
        out.append(f'<div class="brow"><div class="bname">{row[0]}. {html_text(row[1])}</div>'
                   f'<div>{" · ".join(parts)}</div>' + (f'<div>{html_text(extra)}</div>' if extra else "") + "</div>")
    return f'<div class="blist" aria-label="{html_text(h[1])}">' + "".join(out) + "</div>"


def _chosen_md(files, lang: str) -> str:
    """'Đã chọn 3 tệp. a.jpg, b.jpg, c.zip' (the first 50 names, escaped for the Markdown box), or 'none chosen'."""
    if not files:
        return t("batch_none", lang)
    names = ", ".join(md_text(os.path.basename(str(getattr(f, "name", f)))) for f in files[:50])
    return t("batch_chosen", lang, n=len(files)) + (f" {names}" if names else "")


def wire_batch_tab(services, ui: UI):
    import gradio as gr
    c = ui.c

    def chosen(files, lang):
        files = files or []
        return files, _chosen_md(files, norm_lang(lang))

    c["batch_files"].upload(chosen, [c["batch_files"], c["lang"]], [c["files_state"], c["chosen_md"]],
                            api_visibility="private")

    def do_batch(files, lang, crop):
        lang = norm_lang(lang)
        if not files:
            return (None, t("batch_none", lang), "", gr.update(visible=False), gr.update(visible=False))
        try:
            result, csv_path, pdf_path = B.run_request(services, files, lang, crop=crop or None)
        except ServiceError as exc:
            # said on the page, in its language (gr.Error's badge and toast title are Gradio's English "Error"),
            # and the last batch's reports go with its rows: their buttons would download that batch as this one's
            return (None, _refusal_md(exc.code, lang), "", gr.update(value=None, visible=False),
                    gr.update(value=None, visible=False))
        return (_shown_in(result, lang), B.summary(result, lang), batch_html(services, result, lang),
                gr.update(value=str(csv_path), visible=True), gr.update(value=str(pdf_path), visible=True))

    c["batch_dep"] = c["batch_btn"].click(do_batch, [c["files_state"], c["lang"], c["crop"]],
                         [c["batch_state"], c["batch_sum"], c["batch_html"], c["csv_btn"], c["pdf_btn"]],
                         api_visibility="private", concurrency_limit=1, concurrency_id="batch")


def build_knowledge_tab(services, ui: UI, lang: str):
    import gradio as gr
    L, c = ui.L, ui.c
    adv = services.advisor
    with L(gr.Tab(t("tab_knowledge", lang), id="knowledge", elem_id="tab-knowledge"), label="tab_knowledge"):
        # "may I use this product?" first: a farmer with a pack in hand needs no crop or problem picked
        # the box and the button one above the other: side by side on a 390 px phone the box's label took two lines
        # and its example was cut off
        with gr.Column(elem_id="sub-check"):
            c["sub_q"] = L(gr.Textbox("", label=t("sub_box", lang), placeholder=t("sub_placeholder", lang),
                                      max_lines=1, elem_id="sub-box"), label="sub_box", placeholder="sub_placeholder")
            c["sub_btn"] = L(gr.Button(t("sub_btn", lang), variant="primary", elem_id="sub-btn"), value="sub_btn")
            c["sub_asked"] = gr.State(None)  # handlers.substance_query of the last question: the switch says it again
            c["sub_md"] = gr.Markdown(t("sub_hint", lang), elem_id="sub-md")
        L(gr.Markdown(t("kb_intro", lang)), value=("kb_intro",))
        c["kb_crop"] = L(gr.Dropdown(H.crop_choices(adv, lang), value="tomato", label=t("kb_crop", lang),
                                     elem_id="kb-crop"), label="kb_crop")
        c["kb_problem"] = L(gr.Dropdown(H.problem_choices(adv, "tomato", lang), value="tomato.late_blight",
                                        label=t("kb_problem", lang), allow_custom_value=True,
                                        elem_id="kb-problem"), label="kb_problem")
        c["kb_md"] = gr.Markdown(t("kb_pick", lang), elem_id="kb-md")


def wire_knowledge_tab(services, ui: UI):
    import gradio as gr
    c = ui.c

    def kb_crop_change(crop, lang):
        choices = H.problem_choices(services.advisor, crop, lang)
        return gr.update(choices=choices, value=choices[0][1] if choices else None)

    c["kb_crop"].input(kb_crop_change, [c["kb_crop"], c["lang"]], c["kb_problem"], api_visibility="private",
                       queue=False)

    def show(label, lang, plot, organic, days, copper_7y):
        days, copper_7y, _ = H.clean_form(services, days, copper_7y, lang)  # the Diagnose tab says which is wrong
        try:
            return H.api_advise(services, label, lang, organic, days, plot, copper_7y)
        except ServiceError as exc:  # a typed label: said in the panel, in place of the last advice, never echoed
            return _refusal_md(exc.code, norm_lang(lang))

    ctx = [c["plot"], c["organic"], c["days"], c["copper"]]
    c["kb_problem"].change(show, [c["kb_problem"], c["lang"], *ctx], c["kb_md"], api_visibility="private",
                           queue=False)
    c["show_kb"] = show

    def check(name, lang):
        """The button (or Enter in the box): the answer in the page's language, and the question kept."""
        asked = H.substance_query(name)
        return H.render_substance(services, asked, lang), asked

    for event in (c["sub_btn"].click, c["sub_q"].submit):
        event(check, [c["sub_q"], c["lang"]], [c["sub_md"], c["sub_asked"]], api_visibility="private", queue=False)


def build_log_tab(services, ui: UI, lang: str):
    import gradio as gr
    L, c = ui.L, ui.c
    adv = services.advisor
    names = LB.plot_names(services)
    with L(gr.Tab(t("tab_log", lang), id="log", elem_id="tab-log"), label="tab_log"):
        L(gr.Markdown(t("log_intro", lang)), value=("log_intro",))
        c["log_plot"] = L(gr.Dropdown(names, value=None, label=t("log_plot", lang), elem_id="log-plot"),
                          label="log_plot")
        c["log_md"] = gr.Markdown("", elem_id="log-md")
        with L(gr.Accordion(t("review_title", lang), open=False, elem_id="log-review"),
               label="review_title") as c["lr_acc"]:
            L(gr.Markdown(t("review_hint", lang)), value=("review_hint",))
            c["lr_obs"] = L(gr.Dropdown([], value=None, label=t("review_obs", lang), elem_id="lr-obs"),
                            label="review_obs")
            c["lr_md"] = gr.Markdown("", elem_id="lr-md")
            c["lr_label"] = L(gr.Dropdown(LB.label_choices(services, lang), value=None, label=t("review_label", lang),
                                          elem_id="lr-label"), label="review_label")
            c["lr_by"] = L(gr.Textbox(label=t("review_by", lang), max_lines=1, max_length=200, elem_id="lr-by"),
                           label="review_by")
            with gr.Row():
                c["lr_confirm"] = L(gr.Button(t("review_confirm_btn", lang), elem_id="lr-confirm"),
                                    value="review_confirm_btn")
                c["lr_correct"] = L(gr.Button(t("review_correct_btn", lang), elem_id="lr-correct"),
                                    value="review_correct_btn")
            c["lr_msg"] = gr.Markdown("", elem_id="lr-msg")
        with L(gr.Accordion(t("log_spray_title", lang), open=False, elem_id="spray"), label="log_spray_title"):
            c["sp_prod"] = L(gr.Dropdown(LB.copper_product_choices(lang), value="copper_hydroxide",
                                         label=t("log_product", lang), elem_id="sp-prod"), label="log_product")
            with gr.Row():
                c["sp_g"] = L(gr.Number(None, label=t("log_per_tank", lang), minimum=0, elem_id="sp-g"),
                              label="log_per_tank")
                c["sp_n"] = L(gr.Number(None, label=t("log_tanks", lang), minimum=0, precision=0, elem_id="sp-n"),
                              label="log_tanks")
            c["sp_pct"] = L(gr.Number(None, label=t("log_cu_pct", lang), minimum=0, maximum=100, elem_id="sp-pct"),
                            label="log_cu_pct")
            c["sp_btn"] = L(gr.Button(t("log_spray_btn", lang), elem_id="sp-btn"), value="log_spray_btn")
            c["sp_msg"] = gr.Markdown("", elem_id="sp-msg")
        with L(gr.Accordion(t("log_action_title", lang), open=False, elem_id="act"), label="log_action_title"):
            c["act_what"] = L(gr.Textbox(label=t("log_what", lang), elem_id="act-what"), label="log_what")
            c["act_sub"] = L(gr.Textbox(label=t("log_substance", lang), elem_id="act-sub"), label="log_substance")
            c["act_cu"] = L(gr.Number(None, label=t("log_copper", lang), minimum=0, elem_id="act-cu"),
                            label="log_copper")
            c["act_btn"] = L(gr.Button(t("log_record_btn", lang), elem_id="act-btn"), value="log_record_btn")
            c["act_msg"] = gr.Markdown("")
        with L(gr.Accordion(t("log_lot_title", lang), open=False, elem_id="lot"), label="log_lot_title"):
            c["lot_code"] = L(gr.Textbox(label=t("log_lot_code", lang), elem_id="lot-code"), label="log_lot_code")
            c["lot_plots"] = L(gr.Dropdown(names, value=[], multiselect=True, label=t("log_lot_plots", lang),
                                           elem_id="lot-plots"), label="log_lot_plots")
            c["lot_btn"] = L(gr.Button(t("log_lot_btn", lang), elem_id="lot-btn"), value="log_lot_btn")
            c["lot_msg"] = gr.Markdown("", elem_id="lot-msg")
            c["lot_qr"] = L(gr.Image(label=t("log_qr", lang), interactive=False, visible=False, height=220,
                                     elem_id="lot-qr"), label="log_qr")
        with L(gr.Accordion(t("log_export_title", lang), open=False, elem_id="export"), label="log_export_title"):
            c["ex_target"] = L(gr.Dropdown(LB.lot_codes(services) + names, value=None, allow_custom_value=True,
                                           label=t("log_export_target", lang), elem_id="ex-target"),
                               label="log_export_target")
            c["ex_btn"] = L(gr.Button(t("log_export_btn", lang), elem_id="ex-btn"), value="log_export_btn")
            c["ex_msg"] = gr.Markdown("")
            c["ex_files"] = L(gr.File(file_count="multiple", interactive=False, visible=False,
                                      label=t("log_export_files", lang), elem_id="ex-files"), label="log_export_files")
        with L(gr.Accordion(t("log_audit_title", lang), open=False, elem_id="audit"), label="log_audit_title"):
            import datetime as _dt
            c["au_year"] = L(gr.Number(_dt.date.today().year, precision=0, label=t("log_audit_year", lang),
                                       elem_id="au-year"), label="log_audit_year")
            c["au_btn"] = L(gr.Button(t("log_audit_btn", lang), elem_id="au-btn"), value="log_audit_btn")
            c["au_md"] = gr.Markdown("", elem_id="au-md")
        with L(gr.Accordion(t("log_add_plot", lang), open=False, elem_id="add-plot"), label="log_add_plot"):
            c["np_name"] = L(gr.Textbox(label=t("log_plot_name", lang), elem_id="np-name"), label="log_plot_name")
            with gr.Row():
                c["np_crop"] = L(gr.Dropdown(H.crop_choices(adv, lang), value="coffee", label=t("crop", lang),
                                             elem_id="np-crop"), label="crop")
                # empty, not 0.5: an area nobody typed would set the copper per ha of every spray logged there; a
                # text box (as the days box): Gradio's number box sends 0 when left empty, and the vi page's "0,5"
                c["np_area"] = L(gr.Textbox("", label=t("area_ha", lang), max_lines=1, elem_id="np-area"),
                                 label="area_ha")
            c["np_org"] = L(gr.Radio(H.organic_choices(lang), value="in_conversion",
                                     label=t("organic_status", lang), elem_id="np-org"), label="organic_status")
            c["np_btn"] = L(gr.Button(t("log_add_btn", lang), elem_id="np-btn"), value="log_add_btn")
            c["np_msg"] = gr.Markdown("", elem_id="np-msg")


def wire_log_tab(services, ui: UI):
    import gradio as gr
    c = ui.c
    hist = lambda p, lg: LB.history_md(services, p, lg)  # noqa: E731
    c["log_plot"].change(hist, [c["log_plot"], c["lang"]], c["log_md"], api_visibility="private")
    wire_log_review(services, ui)

    def do_spray(p, prod, g, n, pct, lang):
        return LB.record_copper_spray(services, p, prod, g, n, pct, lang), LB.history_md(services, p, lang)

    c["sp_btn"].click(do_spray, [c["log_plot"], c["sp_prod"], c["sp_g"], c["sp_n"], c["sp_pct"], c["lang"]],
                      [c["sp_msg"], c["log_md"]], api_visibility="private")

    def do_act(p, what, sub, cu, lang):
        return LB.record_action(services, p, what, sub, cu, lang), LB.history_md(services, p, lang)

    c["act_btn"].click(do_act, [c["log_plot"], c["act_what"], c["act_sub"], c["act_cu"], c["lang"]],
                       [c["act_msg"], c["log_md"]], api_visibility="private")

    def do_lot(code, plots, lang):
        msg, png = LB.add_lot(services, code, plots, lang)
        targets = LB.lot_codes(services) + LB.plot_names(services)
        return msg, gr.update(value=png, visible=png is not None), gr.update(choices=targets,
                                                                             value=(code or "").strip() if png else None)

    c["lot_btn"].click(do_lot, [c["lot_code"], c["lot_plots"], c["lang"]], [c["lot_msg"], c["lot_qr"], c["ex_target"]],
                       api_visibility="private")

    def do_export(target, lang):
        msg, files = LB.export_files(services, target, lang)
        return msg, gr.update(value=files or None, visible=bool(files))

    c["ex_btn"].click(do_export, [c["ex_target"], c["lang"]], [c["ex_msg"], c["ex_files"]], api_visibility="private")
    c["au_btn"].click(lambda y, lg: LB.audit_md(services, y, lg), [c["au_year"], c["lang"]], c["au_md"],
                      api_visibility="private")

    def do_add_plot(name, crop, area, org, lang):
        msg = LB.add_plot(services, name, crop, area, org, lang)
        names = LB.plot_names(services)
        v = (name or "").strip()
        return (msg, gr.update(choices=names, value=v if v in names else None), gr.update(choices=names),
                gr.update(choices=[""] + names), gr.update(choices=names),
                gr.update(choices=LB.lot_codes(services) + names))

    c["np_btn"].click(do_add_plot, [c["np_name"], c["np_crop"], c["np_area"], c["np_org"], c["lang"]],
                      [c["np_msg"], c["log_plot"], c["save_plot"], c["plot"], c["lot_plots"], c["ex_target"]],
                      api_visibility="private")


def wire_log_review(services, ui: UI):
    """The Log tab's review: the chosen plot's recent observations; Confirm or Correct the one picked, as the
    logged-in officer (else the typed name, else the Diagnose tab's "confirmed by" name)."""
    import gradio as gr
    c = ui.c

    def listed(plot, lang, keep=None):
        choices = LB.review_choices(services, plot, lang)
        ids = [v for _, v in choices]
        value = keep if keep in ids else None
        return gr.update(choices=choices, value=value), LB.review_md(services, value, lang) if value else (
            "" if choices or not plot else t("review_none", lang))

    c["log_plot"].change(lambda p, lg: listed(p, lg) + ("",), [c["log_plot"], c["lang"]],
                         [c["lr_obs"], c["lr_md"], c["lr_msg"]], api_visibility="private")
    c["lr_obs"].input(lambda o, lg: LB.review_md(services, o, lg), [c["lr_obs"], c["lang"]], c["lr_md"],
                      api_visibility="private", queue=False)
    # opened again after a Save on the Diagnose tab (or another phone's): the list is the log's as it is now
    c["lr_acc"].expand(lambda p, o, lg: listed(p, lg, keep=o), [c["log_plot"], c["lr_obs"], c["lang"]],
                       [c["lr_obs"], c["lr_md"]], api_visibility="private", queue=False)

    def after(msg, plot, obs, lang):
        return (msg, LB.history_md(services, plot, lang)) + listed(plot, lang, keep=obs)

    @_takes_request
    def do_confirm(plot, obs, by, save_by, lang, request: gr.Request):
        msg = LB.confirm(services, obs, lang, **_who(ui, request, (by or "").strip() or save_by))
        return after(msg, plot, obs, lang)

    @_takes_request
    def do_correct(plot, obs, label, by, save_by, lang, request: gr.Request):
        msg = LB.correct(services, obs, label, lang, **_who(ui, request, (by or "").strip() or save_by))
        return after(msg, plot, obs, lang)

    outs = [c["lr_msg"], c["log_md"], c["lr_obs"], c["lr_md"]]
    c["lr_confirm"].click(do_confirm, [c["log_plot"], c["lr_obs"], c["lr_by"], c["save_by"], c["lang"]], outs,
                          api_visibility="private")
    c["lr_correct"].click(do_correct, [c["log_plot"], c["lr_obs"], c["lr_label"], c["lr_by"], c["save_by"],
                                       c["lang"]], outs, api_visibility="private")


def build_review_api(services, ui: UI):
    """/confirm and /correct for gradio_client (a researcher's script): the same handlers as the buttons; who is
    the logged-in officer, else `by`. Answer: the record (model answer and version, photo hash, who, when)."""
    import gradio as gr

    with gr.Column(visible=False):
        # the id as text, checked by LB._obs_id: a number box rounded 1.5 to 2 and confirmed another record, and
        # answered "abc" with Gradio's English TypeError
        obs_in, label_in, by_in, lang_in = gr.Textbox(""), gr.Textbox(""), gr.Textbox(""), gr.Textbox(DEFAULT_LANG)
        out_json = gr.JSON()
        b1, b2 = gr.Button(), gr.Button()

    def run(write, obs, lang, by, request):
        lang = norm_lang(lang)
        try:
            write(LB.reviewer(**_who(ui, request, by)))
            return LB.review_record(services, obs)
        except Exception as exc:
            import html
            raise gr.Error(html.unescape(LB.review_error(exc, lang, markdown=False)), print_exception=False) from None

    @_takes_request
    def confirm(observation_id, by="", lang="vi", request: gr.Request = None):
        """Confirm a logged observation (the model's answer is right), as the logged-in officer (else `by`)."""
        return run(lambda who: LB.confirm_record(services, observation_id, who), observation_id, lang, by, request)

    @_takes_request
    def correct(observation_id, label, by="", lang="vi", request: gr.Request = None):
        """Correct a logged observation to `label` (one of the model's labels), as the logged-in officer."""
        return run(lambda who: LB.correct_record(services, observation_id, label, who), observation_id, lang, by,
                   request)

    b1.click(confirm, [obs_in, by_in, lang_in], out_json, api_name="confirm")
    b2.click(correct, [obs_in, label_in, by_in, lang_in], out_json, api_name="correct")


def build_api(services, ui: UI):
    """API-only endpoints for gradio_client, with named parameters: /diagnose, /advise, /batch (and /diagnose_group,
    /confirm, /correct, /check_substance below). A refused request
    raises (gradio_client: AppError) with its message in `lang`, the parameters refused, and its error code last in
    brackets (`_api_error`)."""
    import gradio as gr

    with gr.Column(visible=False):
        image = gr.File(type="filepath")
        files = gr.File(type="filepath", file_count="multiple")
        lang_in = gr.Textbox(DEFAULT_LANG)
        org_in = gr.Textbox("")
        days_in = gr.Number(None)
        plot_in = gr.Textbox("")
        crop_in = gr.Textbox("")
        cu_in = gr.Number(None)
        label_in = gr.Textbox("")
        out_json = gr.JSON()
        out_md = gr.Markdown()
        out_csv = gr.File()
        b1, b2, b3 = gr.Button(), gr.Button(), gr.Button()

    def diagnose(image, lang="vi", organic_status="", days_to_harvest=None, plot="", crop="", copper_used_7y=None):
        """One photo -> status, label, plain name, context used (plot's 7-year copper), copper decision, advice."""
        try:
            return H.api_diagnose(services, image, lang, organic_status or None, days_to_harvest, plot or None,
                                  crop or None, copper_used_7y)
        except ServiceError as exc:
            raise _api_error(services, exc, lang, organic_status=organic_status, days_to_harvest=days_to_harvest,
                             copper_used_7y=copper_used_7y)

    def advise(label, lang="vi", organic_status="", days_to_harvest=None, plot="", copper_used_7y=None):
        """Advice Markdown for a knowledge-base problem id, e.g. tomato.late_blight."""
        try:
            return H.api_advise(services, label, lang, organic_status or None, days_to_harvest, plot or None,
                                copper_used_7y)
        except ServiceError as exc:
            raise _api_error(services, exc, lang, organic_status=organic_status, days_to_harvest=days_to_harvest,
                             copper_used_7y=copper_used_7y)

    def batch(files, lang="vi", crop=""):
        """Many photos or zips -> rows (file, status, label, confidence, error_code) and the CSV report."""
        try:
            result, csv_path, _ = B.run_request(services, files or [], norm_lang(lang), crop=crop or None)
        except ServiceError as exc:
            raise _api_error(services, exc, lang)
        # the same fields, rounded the same way, as /diagnose's JSON (reason_code says why a row is not "ok")
        # ... and error_message, the code in `lang`, as /diagnose and /diagnose_group's photos give it
        rows = [{**{k: r.get(k) for k in ("no", "file", "status", "label", "error_code", "reason_code")},
                 "confidence": None if r.get("confidence") is None else round(float(r["confidence"]), 4),
                 "error_message": H.error_text(r["error_code"], norm_lang(lang)) if r.get("error_code") else None}
                for r in result["rows"]]
        return {"rows": rows, "summary": B.summary(result, lang), "model_version": result["model_version"]}, str(csv_path)

    b1.click(diagnose, [image, lang_in, org_in, days_in, plot_in, crop_in, cu_in], out_json, api_name="diagnose",
             concurrency_limit=MODEL_WORKERS, concurrency_id="model")
    b2.click(advise, [label_in, lang_in, org_in, days_in, plot_in, cu_in], out_md, api_name="advise")
    b3.click(batch, [files, lang_in, crop_in], [out_json, out_csv], api_name="batch", concurrency_limit=1,
             concurrency_id="batch")
    build_group_api(services)
    build_review_api(services, ui)
    build_substance_api(services)


def build_substance_api(services):
    """/check_substance for a cooperative's script checking its purchase list: (name, lang) -> {query, allowed
    (true / false / null = not known), verdict, reason, conditions, treatment_id}, the Knowledge tab's answer as
    data. An empty or 500+ character name is refused like every API refusal: '... : name (...) [bad_input]'."""
    import gradio as gr

    with gr.Column(visible=False):
        name_in, lang_in = gr.Textbox(""), gr.Textbox(DEFAULT_LANG)
        out_json = gr.JSON()
        btn = gr.Button()

    # gr.Textbox str()-s what a script sends, so "['Karate', 'Bt']" was answered as one product: a list, dict or bool
    # reaches the handler as it came, to be refused. Set on this one box, not by subclassing: a gr.Textbox subclass
    # makes gradio write a .pyi stub beside this file (ComponentMeta), which fails on a read-only install.
    def _raw_or_text(payload, _text=name_in.preprocess):
        return payload if isinstance(payload, (list, dict, bool)) else _text(payload)

    name_in.preprocess = _raw_or_text

    def check_substance(name, lang="vi"):
        """Whether a product (trade name, e.g. Karate 2.5EC) or active substance may be used in organic farming."""
        try:
            return H.check_substance(services, name, lang)
        except ServiceError as exc:
            asked = H.substance_query(name)
            raise _api_error(services, exc, lang, refused=("name",) if "refused" in asked else (),
                             why=H.substance_refusal(asked, norm_lang(lang), api=True) if "refused" in asked else "")

    btn.click(check_substance, [name_in, lang_in], out_json, api_name="check_substance")


def build_group_api(services):
    """/diagnose_group: 2-6 photos of one plant -> one combined answer, how many photos agree, each photo's own."""
    import gradio as gr

    with gr.Column(visible=False):
        files = gr.File(type="filepath", file_count="multiple")
        lang_in, org_in, plot_in, crop_in = gr.Textbox(DEFAULT_LANG), gr.Textbox(""), gr.Textbox(""), gr.Textbox("")
        days_in, cu_in = gr.Number(None), gr.Number(None)
        out_json = gr.JSON()
        btn = gr.Button()

    def diagnose_group(files, lang="vi", organic_status="", days_to_harvest=None, plot="", crop="",
                       copper_used_7y=None):
        """Several photos of one plant -> the combined answer (as /diagnose), `group` {photos, voted, agree}
        and `photos` (each photo's own answer; a photo with no leaf, or unreadable, does not vote)."""
        try:
            return H.api_diagnose_group(services, files or [], lang, organic_status or None, days_to_harvest,
                                        plot or None, crop or None, copper_used_7y)
        except ServiceError as exc:
            raise _api_error(services, exc, lang, organic_status=organic_status, days_to_harvest=days_to_harvest,
                             copper_used_7y=copper_used_7y)

    btn.click(diagnose_group, [files, lang_in, org_in, days_in, plot_in, crop_in, cu_in], out_json,
              api_name="diagnose_group", concurrency_limit=MODEL_WORKERS, concurrency_id="model")


def build_app(services: Services, lang: str = DEFAULT_LANG, officers=None, shared_user: str | None = None):
    """The gr.Blocks app wired to `services`: one builder and one wiring function per tab.

    `officers` (leafscout.officers.Officers, `--officers FILE`) and `shared_user` (the `--auth` account) say who
    the logged-in person is when they confirm or correct a result (webapp/logbook.py `reviewer`)."""
    import gradio as gr

    lang = norm_lang(lang)
    ui = UI(officers=officers, shared_user=shared_user)
    L, c = ui.L, ui.c
    with gr.Blocks(title="LeafScout", analytics_enabled=False) as demo:
        c["state"] = gr.State(None)          # last diagnosis (language-free dict)
        c["batch_state"] = gr.State(None)    # last batch (language-free rows)
        with gr.Column(elem_id="header"):
            L(gr.Markdown(f"## {t('app_title', lang)}\n{t('app_intro', lang)}", elem_id="title-md"),
              value=("app_title", "app_intro"))
            c["lang"] = L(gr.Radio(LANG_CHOICES, value=lang, label=t("language", lang), show_label=False,
                                   container=False, elem_id="lang"), label="language")
        with gr.Tabs(overflow_behavior="wrap", elem_id="tabs"):
            build_diagnose_tab(services, ui, lang)
            build_batch_tab(services, ui, lang)
            build_knowledge_tab(services, ui, lang)
            build_log_tab(services, ui, lang)
        build_api(services, ui)
        wire_diagnose_tab(services, ui, demo)
        wire_batch_tab(services, ui)
        wire_knowledge_tab(services, ui)
        wire_log_tab(services, ui)
        wire_language(services, ui)
        wire_language_catch_up(services, ui)
        wire_plot_refresh(services, ui, demo)
        demo.load(c["show_kb"], [c["kb_problem"], c["lang"], c["plot"], c["organic"], c["days"], c["copper"]],
                  c["kb_md"], api_visibility="private", queue=False)
        demo.load(None, c["lang"], None, js=HTML_LANG_JS, api_visibility="private", queue=False)
        c["lang"].change(None, c["lang"], None, js=HTML_LANG_JS, api_visibility="private", queue=False)
    demo.i18n_bound = ui.bound  # for tests: every label the language switch re-writes
    demo.ui = ui
    return demo


def _shown_in(state, lang: str):
    """The state (a diagnosis, a batch) marked with the language its panels were just rendered in (`shown_in`), so
    `wire_language_catch_up` can tell when the page's language changed while it was being worked out."""
    if state:
        state["shown_in"] = norm_lang(lang)
    return state


def wire_language_catch_up(services, ui: UI):
    """A busy server: the language switch ran while a photo or a batch waited in the queue (it re-rendered the
    panels as they were), then the answer arrived rendered in the language it was sent with. After each diagnosis
    and batch, its panels are rendered again when the page's language is another by then."""
    import gradio as gr
    c = ui.c
    answer = [c["state"], c["card"], c["details"], c["citations"], c["ctx_md"], c["group_msg"]]

    def again(st, lang, days, copper_7y, group):
        lang = norm_lang(lang)
        if not st or st.get("shown_in", lang) == lang:
            return (gr.skip(),) * len(answer)
        days, copper_7y, warn = H.clean_form(services, days, copper_7y, lang)
        card, details, cit = H.render_all(services, st, lang)
        return (_shown_in(st, lang), card, details, cit, _ctx_line(services, st.get("context"), lang, warn),
                gr.update(value=_group_msg(group, lang)))

    for dep in ("photo_dep", "more_dep", "crop_then", "plot_then"):
        c[dep].then(again, [c["state"], c["lang"], c["days"], c["copper"], c["group"]], answer,
                    api_visibility="private", queue=False)

    def batch_again(bt, lang):
        lang = norm_lang(lang)
        if not bt or bt.get("shown_in", lang) == lang:
            return (gr.skip(),) * 5
        reports = (bt.get("reports") or {}).get(lang) or {}
        files = [gr.update(value=reports[k]) if os.path.isfile(reports.get(k) or "") else gr.skip()
                 for k in ("csv", "pdf")]
        return (_shown_in(bt, lang), B.summary(bt, lang), batch_html(services, bt, lang), *files)

    c["batch_dep"].then(batch_again, [c["batch_state"], c["lang"]],
                        [c["batch_state"], c["batch_sum"], c["batch_html"], c["csv_btn"], c["pdf_btn"]],
                        api_visibility="private", queue=False)


def wire_plot_refresh(services, ui: UI, demo):
    """Every plot picker offers the field log's plots as they are when the page opens: plots and lots added
    from the CLI or another phone since the server started are there without a restart."""
    import gradio as gr
    c = ui.c

    def refresh():
        names = LB.plot_names(services)
        return (gr.update(choices=[""] + names), gr.update(choices=names), gr.update(choices=names),
                gr.update(choices=names), gr.update(choices=LB.lot_codes(services) + names))

    demo.load(refresh, None, [c["plot"], c["save_plot"], c["log_plot"], c["lot_plots"], c["ex_target"]],
              api_visibility="private", queue=False)


def wire_language(services, ui: UI):
    """The language switch: every bound label, and every rendered panel, in the new language."""
    import gradio as gr
    c = ui.c
    adv = services.advisor
    dynamic = [c["card"], c["details"], c["citations"], c["batch_sum"], c["batch_html"], c["kb_crop"],
               c["kb_problem"], c["kb_md"], c["log_md"], c["organic"], c["np_org"], c["np_crop"], c["chosen_md"],
               c["crop"], c["sp_prod"], c["ctx_md"], c["rev_label"], c["lr_label"], c["lr_obs"], c["lr_md"],
               c["sub_md"], c["group_msg"]]

    def switch(lg, st, bt, crop, prob, plot, np_c, files, dcrop, prod, dplot, org, days, cu, rev_lab, lr_lab, lr_obs,
               group, sub_asked=None):
        lg = norm_lang(lg)
        ups = []
        for comp, keys in ui.bound:
            kw = {}
            report = {id(c["csv_btn"]): "csv", id(c["pdf_btn"]): "pdf"}.get(id(comp))
            if report and bt and (bt.get("reports") or {}).get(lg):  # the batch's report in the page's language
                path = bt["reports"][lg][report]
                if os.path.isfile(path):  # else cleaned away by later batches: the button keeps the one it has
                    kw["value"] = path
            for attr, key in keys.items():
                if attr == "value" and isinstance(key, tuple):
                    if key == ("app_title", "app_intro"):
                        kw["value"] = f"## {t('app_title', lg)}\n{t('app_intro', lg)}"
                    else:
                        kw["value"] = "\n".join(t(k, lg) for k in key)
                else:
                    kw[attr] = t(key, lg)
            ups.append(gr.update(**kw))
        card, details, cit = H.render_all(services, st, lg)
        days, cu, warn = H.clean_form(services, days, cu, lg)
        try:
            kb_text = H.api_advise(services, prob, lg, org, days, dplot, cu) if prob else t("kb_pick", lg)
        except ServiceError as exc:
            kb_text = _refusal_md(exc.code, lg)
        ups += [card, details, cit,
                B.summary(bt, lg) if bt else "",
                batch_html(services, bt, lg),
                gr.update(choices=H.crop_choices(adv, lg), value=crop),
                gr.update(choices=H.problem_choices(adv, crop, lg), value=prob),
                kb_text,
                LB.history_md(services, plot, lg) if plot else "",
                gr.update(choices=H.organic_choices(lg), value=org),
                gr.update(choices=H.organic_choices(lg)),
                gr.update(choices=H.crop_choices(adv, lg), value=np_c),
                _chosen_md(files, lg),
                gr.update(choices=H.model_crop_choices(services, lg), value=dcrop or ""),
                gr.update(choices=LB.copper_product_choices(lg), value=prod),
                _ctx_line(services, (st or {}).get("context"), lg, warn),
                gr.update(choices=LB.label_choices(services, lg), value=rev_lab),
                gr.update(choices=LB.label_choices(services, lg), value=lr_lab),
                gr.update(choices=LB.review_choices(services, plot, lg), value=lr_obs),
                LB.review_md(services, lr_obs, lg) if lr_obs else "",
                H.render_substance(services, sub_asked, lg),  # the Knowledge tab's last "may I use it?" answer
                _group_msg(group, lg)]
        return ups

    c["lang"].change(switch, [c["lang"], c["state"], c["batch_state"], c["kb_crop"], c["kb_problem"], c["log_plot"],
                              c["np_crop"], c["files_state"], c["crop"], c["sp_prod"], c["plot"], c["organic"],
                              c["days"], c["copper"], c["rev_label"], c["lr_label"], c["lr_obs"], c["group"],
                              c["sub_asked"]],
                     [comp for comp, _ in ui.bound] + dynamic, api_visibility="private")


# ------------------------------------------------------------------------------------------- serving

def parse_auth(value: str | None):
    """'user:pass' -> (user, pass); None/'' -> None."""
    if not value:
        return None
    user, sep, pw = value.partition(":")
    if not sep or not user or not pw:
        raise SystemExit("--auth / $LEAFSCOUT_AUTH must look like user:password")
    return (user, pw)


def load_officers(path: str | None):
    """--officers FILE -> leafscout.officers.Officers (None without the option). A missing, broken, empty or
    world-readable file stops the start with one line saying what to do."""
    if not path:
        return None
    from leafscout.officers import Officers, OfficersError
    try:
        officers = Officers(os.path.expanduser(path))
    except OfficersError as exc:
        raise SystemExit(f"LeafScout cannot start: --officers {exc}") from None
    if not officers.names():
        raise SystemExit(f"LeafScout cannot start: --officers {path}: no officers in it; add one: "
                         f"leafscout officers add NAME --file {path}")
    return officers


def theme():
    import gradio as gr
    return gr.themes.Default(primary_hue="orange").set(
        button_primary_background_fill=PRIMARY, button_primary_background_fill_hover=PRIMARY_HOVER,
        button_primary_text_color="#ffffff", button_primary_background_fill_dark=PRIMARY,
        button_primary_text_color_dark="#ffffff")


def launch_kwargs(host="127.0.0.1", port=7860, auth=None, max_file_size=DEFAULT_MAX_FILE_SIZE, routes=None,
                  officers=None, lang: str = DEFAULT_LANG) -> dict:
    """`auth` (user, password) and/or `officers` (leafscout.officers.Officers: one account per officer, salted
    PBKDF2 hashes) become a LoginGuard: a delay after each wrong password and a lockout. Gradio awaits it, so
    the hashing and the delay run in a worker thread, never on the server's event loop."""
    from starlette.middleware import Middleware

    from leafscout.webapp.security import LoggedOutPageGuard, LoginGuard
    guard = None
    if auth or officers is not None:
        guard = LoginGuard({auth[0]: auth[1]} if auth else {},
                           verify=officers.verify if officers is not None else None).check_async
    # FastAPI's own /openapi.json would list the routes to anyone (Gradio serves its API description
    # behind the login); the logged-out login page carries no API description (LoggedOutPageGuard).
    # ... and speaks the app's language (`lang`: the login form is Gradio's English otherwise)
    app_kwargs = {"openapi_url": None, "middleware": [Middleware(LoggedOutPageGuard, lang=norm_lang(lang))]}
    if routes:  # served before Gradio's own routes: the offline phone app at /phone/ (webapp/phone.py)
        app_kwargs["routes"] = list(routes)
    return dict(server_name=host, server_port=port, auth=guard, max_file_size=max_file_size, css=CSS, head=HEAD,
                theme=theme(), footer_links=[], show_error=True, allowed_paths=[], quiet=True, ssr_mode=False,
                app_kwargs=app_kwargs)


def default_threads() -> int:
    """onnxruntime threads for each of the MODEL_WORKERS diagnoses that run at once: the cores shared out."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // MODEL_WORKERS)


def main(argv=None):
    ap = argparse.ArgumentParser(description="LeafScout web app (offline crop-leaf diagnosis, organic advice)")
    ap.add_argument("--model", help="ONNX model (default: $LEAFSCOUT_MODEL, else model/leafscout.onnx)")
    ap.add_argument("--db", help="field log: SQLite path or database URL (default: $LEAFSCOUT_DB, else "
                                 "~/.local/share/leafscout/fieldlog.sqlite)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 to share on the LAN)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("LEAFSCOUT_PORT", 7860)))
    ap.add_argument("--auth", default=os.environ.get(AUTH_ENV), help="user:password for basic login "
                    f"(default: ${AUTH_ENV}); recommended with --host 0.0.0.0")
    ap.add_argument("--officers", metavar="FILE", default=os.environ.get(OFFICERS_ENV) or None,
                    help="officer accounts (`leafscout officers add NAME`; default: $LEAFSCOUT_OFFICERS): the app "
                    "asks for a login, and confirmations and corrections are recorded under the officer's name")
    ap.add_argument("--lang", default=DEFAULT_LANG, choices=["vi", "en"], help="language the page opens in")
    ap.add_argument("--max-file-size", default=DEFAULT_MAX_FILE_SIZE, help="upload cap, e.g. 50mb")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime threads a diagnosis (default: the "
                    f"cores shared by the {MODEL_WORKERS} diagnoses that run at once)")
    args = ap.parse_args(argv)
    auth = parse_auth(args.auth)
    officers = load_officers(args.officers)
    services = Services(model_path=args.model, db=args.db, threads=args.threads or default_threads())
    try:
        services.warm_up()  # the model loads once, here; requests never load it again
    except Exception as exc:  # ModelError says what is missing and how to fix it
        raise SystemExit(f"LeafScout cannot start: {exc}")
    try:
        services.check_log()  # a PostgreSQL URL without psycopg: one line naming the extra, not a later traceback
    except ServiceError as exc:
        raise SystemExit(f"LeafScout cannot start: {exc}")
    B.clean_stale()  # what a previous server left in the temp folder
    # Gradio's queue rebuilds a pandas summary of its event analytics after every event unless told otherwise
    # (4-11 ms of the 2 cores a request; benchmarks/bench_app_load.py --server-env measured p95 x0.85 without it).
    # Read when the queue is built, so it must be set before build_app; a user's own setting wins.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    demo = build_app(services, lang=args.lang, officers=officers, shared_user=auth[0] if auth else None)
    demo.queue(default_concurrency_limit=2, status_update_rate=QUEUE_STATUS_EVERY_S)
    print(f"LeafScout: model {services.model_path} (version {services.predictor.version}); "
          f"open http://{args.host}:{args.port}", flush=True)
    from leafscout.webapp.phone import mount_routes
    phone = mount_routes(services.model_path)  # built from the model in use; explains itself if npm is missing
    print(f"LeafScout phone app (offline, runs in the phone's browser; when it could not be built, the page "
          f"says why): http://{args.host}:{args.port}/phone/",
          flush=True)
    demo.launch(**launch_kwargs(args.host, args.port, auth, args.max_file_size, routes=phone, officers=officers,
                                lang=args.lang))


if __name__ == "__main__":
    main()

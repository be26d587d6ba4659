"""LeafScout web app: `python app.py` serves the Gradio app farmers and extension officers use.

Layout follows the house style: pure handlers live in `webapp/` (testable without a server), then the
gr.Blocks layout, then the wiring, then the `__main__` guard. Nothing heavy happens at import; the model
loads once at start (`Services.warm_up`) and every request shares it.

    python app.py [--model PATH] [--db PATH_OR_URL] [--host 127.0.0.1] [--port 7860] [--auth user:pass]
"""
from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from webapp import batch as B
from webapp import handlers as H
from webapp import logbook as LB
from webapp.i18n import DEFAULT_LANG, norm_lang, t
from webapp.services import Services

AUTH_ENV = "LEAFSCOUT_AUTH"
DEFAULT_MAX_FILE_SIZE = "50mb"
LANG_CHOICES = [("Tiếng Việt", "vi"), ("English", "en")]

CSS = """
.gradio-container {max-width: 960px !important; margin: 0 auto !important; padding: 6px !important;}
.gradio-container button {min-height: 48px; font-size: 1.05rem;}
#diagnose-btn, #batch-btn {min-height: 60px; font-size: 1.3rem;}
.gradio-container input, .gradio-container textarea {font-size: 1.05rem;}
.gradio-container .prose {overflow-wrap: anywhere;}
.gradio-container .prose table {display: block; max-width: 100%; overflow-x: auto;}
#result-md h1 {font-size: 1.6rem; margin: 0.2em 0;}
.tab-container button {padding-left: 6px !important; padding-right: 6px !important; font-size: 1.05rem !important;}
#lang .wrap {flex-wrap: nowrap;}
"""


# ------------------------------------------------------------------------------------------- layout

def build_app(services: Services, lang: str = DEFAULT_LANG):
    """The gr.Blocks app wired to `services`. Building it loads only the knowledge base."""
    import gradio as gr

    lang = norm_lang(lang)
    adv = services.advisor
    bound: list[tuple] = []  # (component, {attr: i18n key}) re-labelled when the language changes

    def L(component, **keys):
        bound.append((component, keys))
        return component

    with gr.Blocks(title="LeafScout", analytics_enabled=False) as demo:
        state = gr.State(None)          # last diagnosis (language-free dict)
        batch_state = gr.State(None)    # last batch (language-free rows)
        with gr.Row():
            with gr.Column(scale=3, min_width=300):
                title = L(gr.Markdown(f"## {t('app_title', lang)}\n{t('app_intro', lang)}", elem_id="title-md"),
                          value=("app_title", "app_intro"))
            with gr.Column(scale=1, min_width=260):
                lang_radio = L(gr.Radio(LANG_CHOICES, value=lang, label=t("language", lang), elem_id="lang"),
                               label="language")

        with gr.Tabs():
            # ---------------------------------------------------------------- Diagnose
            with L(gr.Tab(t("tab_diagnose", lang), id="diagnose", elem_id="tab-diagnose"), label="tab_diagnose"):
                photo = L(gr.Image(type="filepath", sources=["upload", "webcam"], label=t("photo", lang),
                                   placeholder=t("photo_placeholder", lang), height=320, elem_id="photo"),
                          label="photo", placeholder="photo_placeholder")
                diagnose_btn = L(gr.Button(t("diagnose_btn", lang), variant="primary", elem_id="diagnose-btn"),
                                 value="diagnose_btn")
                with L(gr.Accordion(t("context_title", lang), open=False, elem_id="context"), label="context_title"):
                    organic = L(gr.Radio(H.organic_choices(lang), value="certified", label=t("organic_status", lang),
                                         elem_id="organic"), label="organic_status")
                    with gr.Row():
                        days = L(gr.Number(None, label=t("days_to_harvest", lang), minimum=0, precision=0,
                                           elem_id="days"), label="days_to_harvest")
                        copper = L(gr.Number(0, label=t("copper_year", lang), minimum=0, elem_id="copper"),
                                   label="copper_year")
                result_md = gr.Markdown(t("empty_result", lang), elem_id="result-md")
                overlay = L(gr.Image(label=t("heatmap", lang), interactive=False, format="jpeg", height=260,
                                     visible=False, elem_id="heatmap"), label="heatmap")
                advice_title = L(gr.Markdown(f"### {t('advice', lang)}", visible=False), value=("advice",))
                advice_md = gr.Markdown("", elem_id="advice-md")
                with L(gr.Accordion(t("citations", lang), open=False, visible=False, elem_id="citations"),
                       label="citations") as cit_acc:
                    citations_md = gr.Markdown("", elem_id="citations-md")
                with L(gr.Accordion(t("save_title", lang), open=False, elem_id="save"), label="save_title"):
                    save_plot = L(gr.Dropdown(LB.plot_names(services), value=None, label=t("plot", lang),
                                              elem_id="save-plot"), label="plot")
                    save_new = L(gr.Textbox(label=t("new_plot", lang), elem_id="save-new"), label="new_plot")
                    save_btn = L(gr.Button(t("save_btn", lang), elem_id="save-btn"), value="save_btn")
                    save_msg = gr.Markdown("")

            # ---------------------------------------------------------------- Batch
            with L(gr.Tab(t("tab_batch", lang), id="batch", elem_id="tab-batch"), label="tab_batch"):
                batch_intro = L(gr.Markdown(t("batch_intro", lang)), value=("batch_intro",))
                batch_files = L(gr.UploadButton(t("batch_files", lang), file_count="multiple", type="filepath",
                                                elem_id="batch-files"), label="batch_files")
                files_state = gr.State([])
                chosen_md = gr.Markdown(t("batch_none", lang), elem_id="batch-chosen")
                batch_btn = L(gr.Button(t("batch_btn", lang), variant="primary", elem_id="batch-btn"), value="batch_btn")
                batch_sum = gr.Markdown("", elem_id="batch-summary")
                batch_table = L(gr.Dataframe(value=B.table(adv, None, lang), interactive=False, wrap=True,
                                             label=t("batch_table", lang), elem_id="batch-table",
                                             show_row_numbers=False), label="batch_table")
                with gr.Row():
                    csv_btn = L(gr.DownloadButton(t("csv", lang), visible=False, elem_id="csv-btn"), value="csv")
                    pdf_btn = L(gr.DownloadButton(t("pdf", lang), visible=False, elem_id="pdf-btn"), value="pdf")

            # ---------------------------------------------------------------- Knowledge
            with L(gr.Tab(t("tab_knowledge", lang), id="knowledge", elem_id="tab-knowledge"), label="tab_knowledge"):
                kb_intro = L(gr.Markdown(t("kb_intro", lang)), value=("kb_intro",))
                kb_crop = L(gr.Dropdown(H.crop_choices(adv, lang), value="tomato", label=t("kb_crop", lang),
                                        elem_id="kb-crop"), label="kb_crop")
                kb_problem = L(gr.Dropdown(H.problem_choices(adv, "tomato", lang), value="tomato.late_blight",
                                           label=t("kb_problem", lang), allow_custom_value=True,
                                           elem_id="kb-problem"), label="kb_problem")
                kb_btn = L(gr.Button(t("kb_show", lang), variant="primary", elem_id="kb-btn"), value="kb_show")
                kb_md = gr.Markdown(t("kb_pick", lang), elem_id="kb-md")

            # ---------------------------------------------------------------- Log
            with L(gr.Tab(t("tab_log", lang), id="log", elem_id="tab-log"), label="tab_log"):
                log_intro = L(gr.Markdown(t("log_intro", lang)), value=("log_intro",))
                log_plot = L(gr.Dropdown(LB.plot_names(services), value=None, label=t("log_plot", lang),
                                         elem_id="log-plot"), label="log_plot")
                log_show = L(gr.Button(t("log_refresh", lang), elem_id="log-show"), value="log_refresh")
                log_md = gr.Markdown("", elem_id="log-md")
                with L(gr.Accordion(t("log_action_title", lang), open=True), label="log_action_title"):
                    act_what = L(gr.Textbox(label=t("log_what", lang), elem_id="act-what"), label="log_what")
                    with gr.Row():
                        act_sub = L(gr.Textbox(label=t("log_substance", lang)), label="log_substance")
                        act_cu = L(gr.Number(0, label=t("log_copper", lang), minimum=0), label="log_copper")
                    act_btn = L(gr.Button(t("log_record_btn", lang), elem_id="act-btn"), value="log_record_btn")
                    act_msg = gr.Markdown("")
                with L(gr.Accordion(t("log_add_plot", lang), open=False), label="log_add_plot"):
                    np_name = L(gr.Textbox(label=t("log_plot_name", lang)), label="log_plot_name")
                    with gr.Row():
                        np_crop = L(gr.Dropdown(H.crop_choices(adv, lang), value="coffee", label=t("crop", lang)),
                                    label="crop")
                        np_area = L(gr.Number(0.5, label=t("area_ha", lang), minimum=0), label="area_ha")
                    np_org = L(gr.Radio(H.organic_choices(lang), value="in_conversion",
                                        label=t("organic_status", lang)), label="organic_status")
                    np_btn = L(gr.Button(t("log_add_btn", lang)), value="log_add_btn")
                    np_msg = gr.Markdown("")

        # API-only endpoints (no visible controls): /diagnose returns JSON for gradio_client.
        api_image = gr.File(type="filepath", file_types=["image"], visible=False)  # as sent: no re-encode
        api_json = gr.JSON(visible=False)
        api_btn = gr.Button(visible=False)

        # ------------------------------------------------------------------------------- wiring
        ctx_inputs = [organic, days, copper]

        def do_diagnose(image, lg, org, d, cu):
            if not image:
                return (None, gr.update(value=None, visible=False), t("no_photo", lg), "", gr.update(visible=False),
                        "", gr.update(visible=False))
            try:
                st, ov = H.diagnose_image(services, image)
            except ValueError:  # a path outside the upload folder: refused, never read
                raise gr.Error(t("status_error", lg))
            res, advice, cit = H.render_all(services, st, lg, org, d, cu)
            return (st, gr.update(value=ov, visible=ov is not None), res, advice,
                    gr.update(visible=bool(advice)), cit, gr.update(visible=bool(cit)))

        diag_outputs = [state, overlay, result_md, advice_md, advice_title, citations_md, cit_acc]
        diagnose_btn.click(do_diagnose, [photo, lang_radio, *ctx_inputs], diag_outputs, api_name="diagnose_ui",
                           api_visibility="private", concurrency_limit=2, concurrency_id="model")
        photo.upload(do_diagnose, [photo, lang_radio, *ctx_inputs], diag_outputs, api_visibility="private",
                     concurrency_limit=2, concurrency_id="model")

        def rerender(st, lg, org, d, cu):
            res, advice, cit = H.render_all(services, st, lg, org, d, cu)
            return res, advice, cit

        for comp in ctx_inputs:
            comp.change(rerender, [state, lang_radio, *ctx_inputs], [result_md, advice_md, citations_md],
                        api_visibility="private", queue=False)

        def do_api_diagnose(image, lg, org, d, cu):
            try:
                return H.api_diagnose(services, image, lg, org, d, cu)
            except ValueError as exc:
                raise gr.Error(str(exc))

        api_btn.click(do_api_diagnose, [api_image, lang_radio, *ctx_inputs], api_json, api_name="diagnose",
                      concurrency_limit=2, concurrency_id="model")

        # save to log
        def do_save(st, plot, new, lg, org):
            msg = LB.save_observation(services, st, plot, new, lg, org)
            names = LB.plot_names(services)
            chosen = (new or "").strip() or plot
            return msg, gr.update(choices=names, value=chosen if chosen in names else None), "", \
                gr.update(choices=names)

        save_btn.click(do_save, [state, save_plot, save_new, lang_radio, organic],
                       [save_msg, save_plot, save_new, log_plot], api_visibility="private")

        def plot_copper(plot):
            cu = LB.copper_for_plot(services, plot)
            return gr.update() if cu is None else cu

        save_plot.change(plot_copper, save_plot, copper, api_visibility="private", queue=False)

        # batch
        def chosen(files, lg):
            files = files or []
            return files, (t("batch_chosen", lg, n=len(files)) if files else t("batch_none", lg))

        batch_files.upload(chosen, [batch_files, lang_radio], [files_state, chosen_md], api_visibility="private")

        def do_batch(files, lg, org, d, cu):
            if not files:
                return (None, t("batch_none", lg), B.table(adv, None, lg), gr.update(visible=False),
                        gr.update(visible=False))
            out_dir = Path(tempfile.mkdtemp(prefix="leafscout-report-"))
            result = B.run_batch(services, files, out_dir / "work")
            csv_path = B.write_csv(adv, result, lg, out_dir / "leafscout-report.csv", org, d, cu)
            pdf_path = B.write_pdf(adv, result, lg, out_dir / "leafscout-report.pdf", org, d, cu)
            return (result, B.summary(result, lg), B.table(adv, result, lg, org, d, cu),
                    gr.update(value=str(csv_path), visible=True), gr.update(value=str(pdf_path), visible=True))

        batch_btn.click(do_batch, [files_state, lang_radio, *ctx_inputs],
                        [batch_state, batch_sum, batch_table, csv_btn, pdf_btn], api_name="batch",
                        concurrency_limit=1, concurrency_id="batch")

        # knowledge
        def kb_crop_change(crop, lg):
            choices = H.problem_choices(adv, crop, lg)
            return gr.update(choices=choices, value=choices[0][1] if choices else None)

        kb_crop.change(kb_crop_change, [kb_crop, lang_radio], kb_problem, api_visibility="private", queue=False)

        def do_advise(label, lg, org, d, cu):
            try:
                return H.api_advise(services, label, lg, org, d, cu)
            except Exception as exc:
                raise gr.Error(t("error", lg, msg=str(exc) if lg == "en" else t("err_other", lg)))

        kb_btn.click(do_advise, [kb_problem, lang_radio, *ctx_inputs], kb_md, api_name="advise")
        kb_problem.change(do_advise, [kb_problem, lang_radio, *ctx_inputs], kb_md, api_visibility="private",
                          queue=False)

        # log
        log_show.click(lambda p, lg: LB.history_md(services, p, lg), [log_plot, lang_radio], log_md,
                       api_visibility="private")
        log_plot.change(lambda p, lg: LB.history_md(services, p, lg), [log_plot, lang_radio], log_md,
                        api_visibility="private")

        def do_act(p, what, sub, cu, lg):
            msg = LB.record_action(services, p, what, sub, cu, lg)
            return msg, LB.history_md(services, p, lg)

        act_btn.click(do_act, [log_plot, act_what, act_sub, act_cu, lang_radio], [act_msg, log_md],
                      api_visibility="private")

        def do_add_plot(name, crop, area, org, lg):
            msg = LB.add_plot(services, name, crop, area, org, lg)
            names = LB.plot_names(services)
            v = (name or "").strip()
            return msg, gr.update(choices=names, value=v if v in names else None), gr.update(choices=names)

        np_btn.click(do_add_plot, [np_name, np_crop, np_area, np_org, lang_radio], [np_msg, log_plot, save_plot],
                     api_visibility="private")

        # language switch: every bound label, and every rendered panel, in the new language
        dynamic = [result_md, advice_md, citations_md, batch_sum, batch_table, kb_crop, kb_problem, kb_md,
                   log_md, organic, np_org, np_crop, chosen_md]

        def switch(lg, st, org, d, cu, bt, crop, prob, plot, np_c, files):
            lg = norm_lang(lg)
            ups = []
            for comp, keys in bound:
                kw = {}
                for attr, key in keys.items():
                    if attr == "value" and isinstance(key, tuple):
                        text = "\n".join(t(k, lg) for k in key)
                        if key == ("app_title", "app_intro"):
                            text = f"## {t('app_title', lg)}\n{t('app_intro', lg)}"
                        elif key == ("advice",):
                            text = f"### {t('advice', lg)}"
                        kw["value"] = text
                    else:
                        kw[attr] = t(key, lg)
                ups.append(gr.update(**kw))
            res, advice, cit = H.render_all(services, st, lg, org, d, cu)
            kb_text = H.api_advise(services, prob, lg, org, d, cu) if prob else t("kb_pick", lg)
            ups += [res, advice, cit,
                    B.summary(bt, lg) if bt else "",
                    B.table(adv, bt, lg, org, d, cu),
                    gr.update(choices=H.crop_choices(adv, lg), value=crop),
                    gr.update(choices=H.problem_choices(adv, crop, lg), value=prob),
                    kb_text,
                    LB.history_md(services, plot, lg) if plot else "",
                    gr.update(choices=H.organic_choices(lg), value=org),
                    gr.update(choices=H.organic_choices(lg)),
                    gr.update(choices=H.crop_choices(adv, lg), value=np_c),
                    (t("batch_chosen", lg, n=len(files)) if files else t("batch_none", lg))]
            return ups

        lang_radio.change(switch, [lang_radio, state, organic, days, copper, batch_state, kb_crop, kb_problem,
                                   log_plot, np_crop, files_state],
                          [c for c, _ in bound] + dynamic, api_visibility="private")
        demo.load(do_advise, [kb_problem, lang_radio, *ctx_inputs], kb_md, api_visibility="private", queue=False)
    demo.i18n_bound = bound  # for tests: every label the language switch re-writes
    return demo


# ------------------------------------------------------------------------------------------- serving

def parse_auth(value: str | None):
    """'user:pass' -> (user, pass); None/'' -> None."""
    if not value:
        return None
    user, sep, pw = value.partition(":")
    if not sep or not user or not pw:
        raise SystemExit("--auth / $LEAFSCOUT_AUTH must look like user:password")
    return (user, pw)


def launch_kwargs(host="127.0.0.1", port=7860, auth=None, max_file_size=DEFAULT_MAX_FILE_SIZE) -> dict:
    return dict(server_name=host, server_port=port, auth=auth, max_file_size=max_file_size, css=CSS,
                footer_links=[], show_error=True, allowed_paths=[], quiet=True, ssr_mode=False)


def main(argv=None):
    ap = argparse.ArgumentParser(description="LeafScout web app (offline crop-leaf diagnosis, organic advice)")
    ap.add_argument("--model", help="ONNX model (default: $LEAFSCOUT_MODEL, else model/leafscout.onnx)")
    ap.add_argument("--db", help="field log: SQLite path or database URL (default: $LEAFSCOUT_DB, else "
                                 "~/.local/share/leafscout/fieldlog.sqlite)")
    ap.add_argument("--host", default="127.0.0.1", help="interface to bind (0.0.0.0 to share on the LAN)")
    ap.add_argument("--port", type=int, default=int(os.environ.get("LEAFSCOUT_PORT", 7860)))
    ap.add_argument("--auth", default=os.environ.get(AUTH_ENV), help="user:password for basic login "
                    f"(default: ${AUTH_ENV}); recommended with --host 0.0.0.0")
    ap.add_argument("--lang", default=DEFAULT_LANG, choices=["vi", "en"], help="language the page opens in")
    ap.add_argument("--max-file-size", default=DEFAULT_MAX_FILE_SIZE, help="upload cap, e.g. 50mb")
    ap.add_argument("--threads", type=int, default=None, help="onnxruntime threads (default: all cores)")
    args = ap.parse_args(argv)
    auth = parse_auth(args.auth)
    services = Services(model_path=args.model, db=args.db, threads=args.threads)
    try:
        services.warm_up()  # the model loads once, here; requests never load it again
    except Exception as exc:  # ModelError says what is missing and how to fix it
        raise SystemExit(f"LeafScout cannot start: {exc}")
    demo = build_app(services, lang=args.lang)
    demo.queue(default_concurrency_limit=2)
    print(f"LeafScout: model {services.model_path} (version {services.predictor.version}); "
          f"open http://{args.host}:{args.port}", flush=True)
    demo.launch(**launch_kwargs(args.host, args.port, auth, args.max_file_size))


if __name__ == "__main__":
    main()

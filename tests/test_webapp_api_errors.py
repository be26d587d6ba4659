"""The API's refusals for a script (gradio_client): which code, and which parameter, in words a program can read
whatever `lang` the request asked for. Handlers called as the server calls them (no server)."""
from __future__ import annotations

import pytest

from test_webapp_page_state import RED, flat, svc, uploads  # noqa: F401  (fixtures)


def _api(svc):  # noqa: F811
    from leafscout.webapp import app

    demo = app.build_app(svc)
    return {f.fn.__qualname__.split(".")[-1]: f.fn for f in demo.fns.values()
            if getattr(f, "fn", None) and f.fn.__qualname__.startswith(("build_api.", "build_group_api."))}


@pytest.mark.parametrize("kw, param", [
    ({"days_to_harvest": 1e308}, "days_to_harvest"),
    ({"days_to_harvest": -5}, "days_to_harvest"),
    ({"copper_used_7y": -3}, "copper_used_7y"),
    ({"copper_used_7y": float("nan")}, "copper_used_7y"),
    ({"organic_status": "organic!!"}, "organic_status"),
])
@pytest.mark.parametrize("endpoint", ["diagnose", "diagnose_group", "advise"])
def test_a_refused_value_names_its_parameter_and_code(svc, uploads, kw, param, endpoint):  # noqa: F811
    """`days_to_harvest=1e308` was refused as 'Lỗi: giá trị nhập chưa đúng' (a value is not valid): a script could
    not tell which of its values, nor the code, without reading Vietnamese."""
    import gradio as gr

    fn = _api(svc)[endpoint]
    first = {"diagnose": flat(uploads, "a.png", RED), "diagnose_group": [flat(uploads, "a.png", RED)],
             "advise": "tomato.late_blight"}[endpoint]
    for lang in ("vi", "en"):
        with pytest.raises(gr.Error) as ei:
            fn(first, lang=lang, **kw)
        msg = str(ei.value.message)
        assert msg.endswith("[bad_input]") and param in msg, msg


def test_other_refusals_carry_their_code(svc, uploads):  # noqa: F811
    import gradio as gr

    api = _api(svc)
    for call, code in ((lambda: api["diagnose"](flat(uploads, "a.png", RED), lang="vi", plot="nope"), "unknown_plot"),
                       (lambda: api["advise"]("<b>x</b>", lang="en"), "unknown_label"),
                       (lambda: api["diagnose_group"]([], lang="vi"), "no_photo")):
        with pytest.raises(gr.Error) as ei:
            call()
        assert str(ei.value.message).endswith(f"[{code}]"), ei.value.message
        assert "<b>" not in str(ei.value.message)


def test_batch_rows_carry_the_translated_error_message_as_diagnose_does(svc, uploads):  # noqa: F811
    """/diagnose and /diagnose_group's photos give `error_message` (the code in `lang`) beside `error_code`; /batch's
    rows gave only the code, so a script showing a batch to a farmer had to translate it itself."""
    import shutil
    from pathlib import Path

    from leafscout.webapp.handlers import error_text

    bad = uploads / "notes.jpg"
    shutil.copy(Path(__file__).resolve().parent / "fixtures" / "bad" / "notes.jpg", bad)
    for lang in ("vi", "en"):
        out, _ = _api(svc)["batch"]([flat(uploads, "a.png", RED), str(bad)], lang=lang)
        ok, err = out["rows"]
        assert err["error_code"] == "not_image" and err["error_message"] == error_text("not_image", lang)
        assert ok["error_message"] is None and ok["status"] == "ok"

"""Text a person typed (a plot name, a product, an advisor's reason quoting it) shown in a Markdown panel of the app
reads exactly as typed: no element, no link, no bold, and no entity or backslash left on screen.

Rendered here with markdown-it-py (CommonMark, what Gradio's Markdown follows): before, an apostrophe became
"&#x27;" on screen ("&#x27;Bassa 50EC&#x27; is not in the knowledge base"), as the '#' of html.escape's entity was
backslash-escaped after it was written."""
from __future__ import annotations

import html
import re

import pytest

markdown_it = pytest.importorskip("markdown_it")

from leafscout.safety import md_text  # noqa: E402

TYPED = ["'Bassa 50EC' is not in the knowledge base", "Đồi <script>alert(1)</script>", "a > b & c < d",
         "# heading? *bold* _it_ `code` [link](http://x.y) ![img](x.png)", "> quoted", "1. not a list",
         "- not a list", "back\\slash \\* and &amp; typed", "l'Hérault \"quoted\"", "&#x27; typed entity",
         "| a | b |", "~~strike~~", "line one\nline two"]


def _seen(rendered: str) -> str:
    """What the reader sees: the rendered HTML's text, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", rendered)).strip()


@pytest.mark.parametrize("typed", TYPED)
def test_typed_text_reads_as_typed_in_a_markdown_panel(typed):
    rendered = markdown_it.MarkdownIt("commonmark").render(md_text(typed))
    assert _seen(rendered) == typed.replace("\n", " "), rendered
    inner = rendered.strip().removeprefix("<p>").removesuffix("</p>")
    assert "<" not in inner, rendered  # no element of the typed text's own: no link, image, bold, script

"""Text from uploaded files is data, never markup: one escape for each place it is shown.

Channel, tier, region, store, category and coupon values, experiment, variant and strategy names,
customer ids, file names, batch, preset and user names all come from whoever uploaded a file.
Shown as they are, `[x](https://…)` would be a live link, `![x](https://…/b.png)` a remote image
fetched by every viewer, `<a href>` a clickable chart link. So:

- `markdown_text(value)`: for anything Streamlit renders as Markdown (st.markdown, st.caption,
  st.info/warning/error/success, st.toast, st.metric labels, expander and tab labels, titles);
- `chart_text(value)`: for every string a Plotly figure shows (tick labels, trace names, hover
  text, titles), because Plotly honours <a href>, <b>, <br>, <img>-free but link-bearing HTML;
- `html_text(value)`: for the standalone HTML report.

Sentences are plain text until the moment they are shown: metrics (experiment summaries,
import warnings, refusal reasons) and ui.texts build plain sentences, and the page escapes the
whole sentence with `markdown_text` where it displays it. Sentences whose template (ui/i18n.py)
holds Markdown of its own are filled with `markdown_t`, which escapes only the values.
Tables (st.dataframe) show text as text and need nothing.
"""

import html
import re
from numbers import Number

from ui.i18n import t

# ASCII punctuation that can open a Markdown, GFM, LaTeX or Streamlit-directive construct,
# or an HTML tag or character reference. A backslash makes each one literal (CommonMark).
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-!|~<>$:&=^@\"'])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")  # a line break would let "# " or "> " start a block
_LEADING_ORDINAL = re.compile(r"^(\s*\d+)\.(?=\s|$)")  # "1. x" at the start would become a numbered list
_WWW = re.compile(r"(www)(?=\.)", re.IGNORECASE)
# U+2060 WORD JOINER: invisible, and not part of any pattern. Streamlit's Markdown turns bare
# URLs (https://…, www.…, a@b.c) and :material/icon: into links and icons by matching the text
# *after* escapes are resolved, so backslashes alone do not stop them; a word joiner does.
WORD_JOINER = "\u2060"


def markdown_text(value) -> str:
    """`value` as literal text inside Markdown: every link, image, emphasis, code span, HTML tag,
    formula, colour/icon directive and bare URL shows as the characters it is made of."""
    text = _CONTROL.sub(" ", "" if value is None else str(value))
    text = _MARKDOWN_SPECIALS.sub(r"\\\1", text)
    text = _LEADING_ORDINAL.sub(r"\1\\.", text)
    text = text.replace(":", ":" + WORD_JOINER).replace("@", "@" + WORD_JOINER)
    return _WWW.sub(r"\1" + WORD_JOINER, text)


def markdown_t(key: str, language: str, **values) -> str:
    """The i18n text for `key` (which may hold Markdown of its own) with every value escaped.

    Numbers stay numbers (a template may format them, "{count:,}"): they carry no markup.
    """
    return t(key, language, **{name: value if isinstance(value, Number) else markdown_text(value)
                               for name, value in values.items()})


def chart_text(value) -> str:
    """`value` as literal text in a Plotly figure, which renders a subset of HTML in its strings."""
    return html.escape("" if value is None else str(value), quote=False)


def chart_texts(values) -> list[str]:
    """`chart_text` of each value (tick labels, category axes, bar labels)."""
    return [chart_text(value) for value in values]


def html_text(value) -> str:
    """`value` as literal text (or attribute value) in an HTML document."""
    return html.escape("" if value is None else str(value), quote=True)

"""A standalone HTML report of one month: headline KPIs, trends and the cohort heatmap.

plotly.js is embedded once, inline, so the file opens offline with working charts.
"""

from datetime import date

import pandas as pd

from metrics.definitions import KPIS
from ui import data, views
from ui.formatting import format_change, format_value
from ui.i18n import metric_help, metric_label
from ui.safe_text import html_text
from ui.texts import filters_text

STYLE = """
body { font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Segoe UI", sans-serif;
       margin: 2rem auto; max-width: 1100px; color: #1f2328; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0 2rem; }
th, td { border-bottom: 1px solid #d0d7de; padding: .45rem .6rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
td.up { color: #1a7f37; } td.down { color: #cf222e; }
.note { color: #57606a; font-size: .9rem; }
"""


def _change_cell(change, kind: str, language: str) -> str:
    css = "" if change is None or pd.isna(change) or change == 0 else ("up" if change > 0 else "down")
    return f'<td class="{css}">{html_text(format_change(change, kind, language))}</td>'


def _filters_line(ctx) -> str:
    """The active filters as one line, or nothing when the report covers all orders."""
    sentence = filters_text(ctx)
    return f'<p class="note">{html_text(sentence)}</p>' if sentence else ""


def month_report_html(ctx, month: date, table: pd.DataFrame) -> str:
    """The report as one HTML document (str)."""
    lang, currency = ctx.language, ctx.currency
    row = table[table["period"] == pd.Timestamp(month)].iloc[0]
    month_text = f"{month:%Y-%m}"
    rows = "".join(
        f"<tr><td title='{html_text(metric_help(k.key, lang))}'>{html_text(metric_label(k.key, lang))}</td>"
        f"<td>{html_text(format_value(row[k.key], k.kind, lang, currency))}</td>"
        f"{_change_cell(row[k.key + '_mom'], k.kind, lang)}{_change_cell(row[k.key + '_yoy'], k.kind, lang)}</tr>"
        for k in KPIS
    )
    window = table[table["period"] <= pd.Timestamp(month)].tail(24)
    figures = [figure for _, figure in views.trend_figures(ctx, window)]
    matrix = data.cohort_matrix(ctx.root, ctx.version, ctx.filters)
    if not matrix.empty:
        recent = matrix[matrix["cohort_month"] >= pd.Timestamp(month) - pd.DateOffset(months=17)]
        figures.append(views.cohort_heatmap(ctx, recent[recent["cohort_month"] <= pd.Timestamp(month)]))
    charts_html = "".join(
        figure.to_html(full_html=False, include_plotlyjs=(i == 0), config={"displaylogo": False})
        for i, figure in enumerate(figures)
    )
    title = html_text(ctx.t("report_title", month=month_text))
    filters_line = _filters_line(ctx)
    return f"""<!doctype html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8"><title>{title}</title>
<style>{STYLE}</style></head><body>
<h1>{title}</h1>
<p class="note">{html_text(ctx.t("store_version", version=ctx.version,
    first=f"{ctx.facts['first_order']:%Y-%m-%d}", last=f"{ctx.facts['last_order']:%Y-%m-%d}"))}</p>
{filters_line}
<table><tr><th></th><th>{html_text(month_text)}</th><th>{html_text(ctx.t("vs_last_month"))}</th>
<th>{html_text(ctx.t("vs_last_year"))}</th></tr>{rows}</table>
{charts_html}
</body></html>"""

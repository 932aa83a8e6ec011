"""Plotly figures shared by the pages and the HTML report. Every figure's title states its metric
and period; fonts list CJK faces so Chinese renders in charts.

Plotly renders a subset of HTML (<a href>, <b>, <br> ...) in every string of a figure, so each
string put into one here (titles, axis titles, trace names, categories, bar and hover text) goes
through ui.safe_text.chart_text: a channel named <a href=...> shows as those characters.
"""

import pandas as pd
import plotly.graph_objects as go

from metrics.definitions import ALL
from ui.formatting import currency_symbol, format_value
from ui.i18n import LANGUAGES, metric_label, t
from ui.safe_text import chart_text, chart_texts

FONT = "Source Sans Pro, Noto Sans CJK SC, PingFang SC, Microsoft YaHei, WenQuanYi Zen Hei, sans-serif"
BLUE, GREEN, GREY = "#1f6feb", "#2da44e", "#8c959f"


def _presentation() -> bool:
    """Presentation mode is on in this session (charts then use larger type for a shared screen)."""
    try:
        import streamlit as st

        return st.runtime.exists() and bool(st.session_state.get("present"))
    except Exception:  # outside a Streamlit session (the CLI, tests of the figures alone)
        return False


def _title_lines(title: str, width: int = 64) -> list[str]:
    """A long title in two lines, broken at a comma, colon or bracket near its middle (else at a space):
    Plotly does not wrap titles, and a half-width chart cut "…2023-01-01 to 202". A bracket that starts
    a word's own part ("P(alive)") is not a break. Width counts CJK as two."""
    def span(text: str) -> int:
        return sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)

    if span(title) <= width:
        return [title]
    breaks = [i + 1 for i, ch in enumerate(title) if ch in ",，:：;；"] + \
             [i for i, ch in enumerate(title) if ch == "（" or (ch == "(" and title[i - 1:i].isspace())]
    breaks = [b for b in breaks if 0 < b < len(title)] or [i for i, ch in enumerate(title) if ch == " " and i > 0]
    if not breaks:
        return [title]
    cut = min(breaks, key=lambda b: abs(span(title[:b]) - span(title) / 2))
    return [title[:cut].rstrip(), title[cut:].lstrip()]


def _layout(figure: go.Figure, title: str, height: int = 360) -> go.Figure:
    big = _presentation()
    lines = _title_lines(title, 52 if big else 64)
    figure.update_layout(
        title={"text": "<br>".join(chart_text(line) for line in lines), "font": {"size": 20 if big else 15}},
        font={"family": FONT, "size": 16 if big else 12},
        height=int(height * 1.2) if big else height,
        margin={"l": 10, "r": 10, "t": 50 + 22 * (len(lines) - 1), "b": 10},
        hovermode="x unified",
        legend={"orientation": "h", "y": -0.15},
        template="plotly_white",
    )
    return figure


def _axis_format(kind: str, currency: str = "", language: str = "en") -> dict:
    """Tick format by kind; money axes carry the currency symbol. Whole numbers print without
    decimals, yet a small axis (0 to 1.5) keeps its 0.5 steps instead of reading "0 0 1 1"."""
    if kind == "rate":
        return {"tickformat": ".1~%"}  # 0.5% steps read 0.5%, 1%, 1.5% (not 0%, 1%, 1%, 2%)
    if kind == "ratio":
        return {"tickformat": ",.2~f"}
    if kind == "money":
        return {"tickformat": ",~f", "tickprefix": currency_symbol(currency, language)}
    return {"tickformat": ",~f"}


MONTH_FORMATS = {code: t("date_month_format", code) for code in LANGUAGES}  # "May 2024" / "2024年5月"
TICK_FORMATS = {code: t("date_month_ticks", code) for code in LANGUAGES}  # two short lines: level ticks, nothing cut


def _month_ticks(periods: pd.Series, step: int, language: str) -> tuple[list, list[str]]:
    """Every `step`-th month from the first, and its label: the month, with the year under the first tick and
    under each new year's (a year under every month ran into the next on a half-width chart: 2024年2024年)."""
    months = pd.period_range(periods.min().to_period("M"), periods.max().to_period("M"), freq="M")[::step]
    month_format, year_format = t("date_month_ticks", language).split("<br>")
    labels, shown_year = [], None
    for month in months:
        start = month.to_timestamp()
        label = start.strftime(month_format)
        if month.year != shown_year:
            label += "<br>" + start.strftime(year_format)
            shown_year = month.year
        labels.append(label)
    return [m.to_timestamp() for m in months], labels


def month_axis(figure: go.Figure, periods, language: str) -> go.Figure:
    """A calendar-month x axis: one tick per month (fewer for long spans), named in the user's
    language ("May 2024" / "2024年5月"), and a single month shown as a month, not as the
    milliseconds around its first midnight."""
    periods = pd.to_datetime(pd.Series(list(periods))).dropna()
    if periods.empty:
        return figure
    months = periods.dt.to_period("M").nunique()
    fmt = MONTH_FORMATS.get(language, MONTH_FORMATS["en"])
    step = 1 if months <= 12 else 3 if months <= 36 else 6
    ticks, labels = _month_ticks(periods, step, language)
    figure.update_xaxes(type="date", tickformat=TICK_FORMATS.get(language, TICK_FORMATS["en"]), hoverformat=fmt,
                        tickangle=0, tickvals=ticks, ticktext=labels)
    if months == 1:
        figure.update_xaxes(range=[periods.min() - pd.Timedelta(days=20), periods.max() + pd.Timedelta(days=20)])
    return figure


def trend(frame: pd.DataFrame, kpi: str, title: str, language: str, currency: str) -> go.Figure:
    """One KPI by period as a line; the latest incomplete period dotted."""
    kind = ALL[kpi].kind
    figure = go.Figure()
    complete = frame[frame["is_complete"]]
    figure.add_scatter(
        x=complete["period"], y=complete[kpi], mode="lines+markers", line={"color": BLUE}, name=chart_text(metric_label(kpi, language)),
        hovertemplate=[f"{chart_text(format_value(v, kind, language, currency))}<extra></extra>" for v in complete[kpi]],
    )
    partial = frame[~frame["is_complete"]]
    if not partial.empty and not complete.empty:
        bridge = pd.concat([complete.tail(1), partial])
        figure.add_scatter(x=bridge["period"], y=bridge[kpi], mode="lines+markers", showlegend=False,
                           line={"color": BLUE, "dash": "dot"}, hoverinfo="skip")
    figure.update_yaxes(**_axis_format(kind, currency, language), rangemode="tozero")
    figure.update_layout(showlegend=False)
    month_axis(figure, frame["period"], language)
    return _layout(figure, title, height=300)


def new_vs_returning(frame: pd.DataFrame, title: str, labels: tuple[str, str], language: str = "en") -> go.Figure:
    figure = go.Figure()
    figure.add_bar(x=frame["period"], y=frame["returning_customers"], name=chart_text(labels[1]), marker_color=BLUE)
    figure.add_bar(x=frame["period"], y=frame["new_customers"], name=chart_text(labels[0]), marker_color=GREEN)
    figure.update_layout(barmode="stack")
    figure.update_yaxes(tickformat=",~f")
    month_axis(figure, frame["period"], language)
    figure = _layout(figure, title, height=320)
    figure.update_layout(legend={"y": -0.3})  # below the two-line month ticks
    return figure


def cohort_heatmap(pivot: pd.DataFrame, sizes: pd.Series, small: pd.Series, title: str, kind: str, language: str,
                   currency: str, axis_titles: tuple[str, str], size_label: str) -> go.Figure:
    """Cohorts down, months since first order across; hover shows the cohort size; a small cohort (`small`, by
    cohort month: metrics.cohorts) is starred."""
    labels = [f"{month:%Y-%m}{' *' if small[month] else ''}" for month in pivot.index]
    text = [[chart_text(format_value(v, kind, language, currency)) if pd.notna(v) else "" for v in row]
            for row in pivot.to_numpy()]
    hover = [[chart_text(f"{labels[i]} · {size_label}: {sizes[month]:,}") for _ in pivot.columns]
             for i, month in enumerate(pivot.index)]
    figure = go.Figure(go.Heatmap(
        z=pivot.to_numpy(dtype=float), x=chart_texts(pivot.columns), y=chart_texts(labels),
        text=text, texttemplate="%{text}" if pivot.shape[1] <= 24 else None,
        customdata=hover, hovertemplate="%{customdata}<br>k=%{x}: %{text}<extra></extra>",
        colorscale="Blues", zmin=0, zmax=_colour_ceiling(pivot, kind), showscale=True,
        colorbar={"tickformat": ".1~%" if kind == "rate" else ",.0f", "thickness": 12},
    ))
    figure.update_yaxes(autorange="reversed", title=chart_text(axis_titles[1]), type="category")
    figure.update_xaxes(title=chart_text(axis_titles[0]), side="top")
    figure = _layout(figure, title, height=max(360, 22 * len(pivot) + 160))
    # the x axis and its title sit on top: the chart title goes above both, not over them
    big = _presentation()
    lines = len(_title_lines(title, 52 if big else 64))  # as _layout broke it
    figure.update_layout(margin={"t": 130 + (28 if big else 22) * (lines - 1)},
                         title={"yref": "container", "y": 1, "yanchor": "top", "pad": {"t": 24 if big else 14}})
    return figure


def _colour_ceiling(pivot: pd.DataFrame, kind: str) -> float | None:
    """Top of the colour scale: for rates, the 95th percentile after month 0 (which is 100% by definition)."""
    if kind != "rate":
        return None
    later = pivot.iloc[:, 1:].stack() if pivot.shape[1] > 1 else pd.Series(dtype=float)
    return float(later.quantile(0.95)) if len(later) else 1.0  # month 0 alone: a 0-100% scale


def retention_curves(matrix: pd.DataFrame, cohorts: list, average: pd.DataFrame, title: str,
                     average_label: str, x_title: str) -> go.Figure:
    figure = go.Figure()
    for cohort in cohorts:
        rows = matrix[matrix["cohort_month"] == cohort]
        figure.add_scatter(x=rows["age"], y=rows["retention"], mode="lines", name=chart_text(f"{cohort:%Y-%m}"),
                           hovertemplate="%{y:.1%}")
    figure.add_scatter(x=average["age"], y=average["retention"], mode="lines", name=chart_text(average_label),
                       line={"color": "black", "width": 3, "dash": "dash"}, hovertemplate="%{y:.1%}")
    figure.update_yaxes(tickformat=".1~%", rangemode="tozero")
    figure.update_xaxes(title=chart_text(x_title))
    return _layout(figure, title)


def bars(categories: list[str], values: list[float], title: str, kind: str, language: str, currency: str,
         horizontal: bool = False, months: bool = False) -> go.Figure:
    """One bar per category, each labelled with its value. `months`: the categories are month starts
    (2024-01-01), shown on a month axis in the user's language, not as "Jan 2024" in any language."""
    text = chart_texts(format_value(v, kind, language, currency) for v in values)
    periods = list(categories)
    categories = chart_texts(categories)
    bar = go.Bar(x=values, y=categories, orientation="h", text=text, marker_color=BLUE) if horizontal else \
        go.Bar(x=categories, y=values, text=text, marker_color=BLUE)
    figure = go.Figure(bar)
    # more than a year of columns leaves each label a few pixels wide, drawn too small to read: hover only
    crowded = not horizontal and len(values) > 12
    figure.update_traces(textposition="none" if crowded else "auto", cliponaxis=False,
                         hovertemplate="%{text}<extra></extra>")
    axis = figure.update_xaxes if horizontal else figure.update_yaxes
    axis(**_axis_format(kind, currency, language), rangemode="tozero")
    if horizontal:
        figure.update_yaxes(autorange="reversed")
    if months:  # half a page wide: a tick every 6 months beyond a year (every 3 overlapped "2023年2023年")
        month_axis(figure, periods, language)
        count = pd.to_datetime(pd.Series(periods)).dt.to_period("M").nunique()
        if count > 12:
            figure.update_xaxes(dtick="M6" if count <= 48 else "M12")
    elif not horizontal:  # labels such as "2024-01" stay labels: Plotly would read them as dates
        figure.update_xaxes(type="category")
    return _layout(figure, title, height=320)


def interval_ranges(labels: list[str], p25: list, median: list, p75: list, title: str, days_label: str) -> go.Figure:
    """Median days between orders with the interquartile range as error bars."""
    x = chart_texts(labels)
    figure = go.Figure(go.Bar(
        x=x, y=median, marker_color=BLUE,
        error_y={"type": "data", "symmetric": False,
                 "array": [b - m for b, m in zip(p75, median)], "arrayminus": [m - a for a, m in zip(p25, median)]},
        hovertemplate="%{x}: %{y:.0f} (%{customdata})<extra></extra>",
        customdata=[f"{a:.0f}–{b:.0f}" for a, b in zip(p25, p75)],
    ))
    for label, value in zip(x, median):  # each median just above its bar, right of the quartiles' whisker
        figure.add_annotation(x=label, y=value, text=f"{value:.0f}", showarrow=False, xanchor="left",
                              yanchor="bottom", xshift=6)
    figure.update_yaxes(title=chart_text(days_label), rangemode="tozero")
    return _layout(figure, title, height=320)


def treemap(labels: list[str], customers: list[int], revenue_share: list[float], title: str) -> go.Figure:
    figure = go.Figure(go.Treemap(
        labels=chart_texts(labels), parents=[""] * len(labels), values=customers,
        customdata=revenue_share, texttemplate="%{label}<br>%{value:,}<br>%{customdata:.0%}",
        hovertemplate="%{label}: %{value:,} · %{customdata:.1%}<extra></extra>",
        marker={"colors": revenue_share, "colorscale": "Blues", "line": {"color": "white", "width": 2}},
        root_color="white", pathbar_visible=False,
    ))
    figure = _layout(figure, title, height=380)
    # a tile too small for readable words shows none (its hover and the table below still give it)
    figure.update_layout(uniformtext={"minsize": 11, "mode": "hide"})
    return figure


def lift_over_time(frame: pd.DataFrame, x: str, title: str, x_title: str, language: str = "en") -> go.Figure:
    """Relative lift with its 95% interval as a band, one line per variant."""
    figure = go.Figure()
    for variant, rows in frame.groupby("variant"):
        figure.add_scatter(x=rows[x], y=rows["ci_high"], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip")
        figure.add_scatter(x=rows[x], y=rows["ci_low"], mode="lines", line={"width": 0}, fill="tonexty",
                           fillcolor="rgba(31,111,235,0.15)", showlegend=False, hoverinfo="skip")
        figure.add_scatter(x=rows[x], y=rows["rel_lift"], mode="lines", name=chart_text(variant), line={"color": BLUE},
                           hovertemplate="%{y:+.1%}")
    figure.add_hline(y=0, line={"color": GREY, "dash": "dash"})
    figure.update_yaxes(tickformat="+.1~%")
    # the first days' intervals are huge (few customers yet): scale to the later ones, so the
    # line that matters is not flattened into a -400% to +600% box
    later = frame.groupby("variant", group_keys=False).apply(lambda rows: rows.iloc[len(rows) // 5:])
    if len(later):
        low, high = float(min(later["ci_low"].min(), 0)), float(max(later["ci_high"].max(), 0))
        pad = (high - low) * 0.1 or 0.05
        figure.update_yaxes(range=[low - pad, high + pad])
    figure.update_xaxes(title=chart_text(x_title))
    if pd.api.types.is_datetime64_any_dtype(frame[x]):
        figure.update_xaxes(tickformat=t("date_day_format", language), hoverformat="%Y-%m-%d")
    return _layout(figure, title, height=320)


def lift_bars(frame: pd.DataFrame, labels: list[str], title: str) -> go.Figure:
    """Relative lift per bucket with 95% intervals as error bars."""
    figure = go.Figure(go.Bar(
        x=chart_texts(labels), y=frame["rel_lift"], marker_color=BLUE,
        error_y={"type": "data", "symmetric": False, "array": frame["ci_high"] - frame["rel_lift"],
                 "arrayminus": frame["rel_lift"] - frame["ci_low"]},
        hovertemplate="%{x}: %{y:+.1%}<extra></extra>",
    ))
    figure.add_hline(y=0, line={"color": GREY})
    figure.update_yaxes(tickformat="+.1~%")
    return _layout(figure, title, height=320)


def survival_curves(frame: pd.DataFrame, title: str, x_title: str) -> go.Figure:
    figure = go.Figure()
    for variant, rows in frame.groupby("variant"):
        figure.add_scatter(x=rows["day"], y=rows["repurchased_share"], mode="lines", line={"shape": "hv"},
                           name=chart_text(variant), hovertemplate="%{y:.1%}")
    figure.update_yaxes(tickformat=".1~%", rangemode="tozero")
    figure.update_xaxes(title=chart_text(x_title))
    return _layout(figure, title, height=320)


def binned_histogram(bins: pd.DataFrame, title: str, x_title: str, symbol: str = "") -> go.Figure:
    """A histogram already counted (columns left, right, count; metrics.clv_views.histogram_bins): a million
    customers' values stay on the server, the browser gets the bars. `symbol`: the currency of money values."""
    centers = (bins["left"] + bins["right"]) / 2
    prefix = chart_text(symbol)
    figure = go.Figure(go.Bar(x=centers, y=bins["count"], width=(bins["right"] - bins["left"]) * 0.95,
                              marker_color=BLUE, customdata=bins[["left", "right"]].to_numpy(),
                              hovertemplate=f"{prefix}%{{customdata[0]:,.2f}} – {prefix}%{{customdata[1]:,.2f}}: "
                                            "%{y:,}<extra></extra>"))
    figure.update_xaxes(title=chart_text(x_title), tickformat=",~f", tickprefix=prefix)  # small values keep decimals
    return _layout(figure, title, height=300)


def matrix_heatmap(pivot: pd.DataFrame, title: str, x_title: str, y_title: str) -> go.Figure:
    figure = go.Figure(go.Heatmap(
        z=pivot.to_numpy(dtype=float), x=chart_texts(pivot.columns), y=chart_texts(pivot.index),
        text=[[f"{v:.0%}" if pd.notna(v) else "" for v in row] for row in pivot.to_numpy(dtype=float)],
        texttemplate="%{text}", colorscale="RdYlGn", zmin=0, zmax=1, showscale=False,
        hovertemplate=f"{chart_text(y_title)} %{{y}} · {chart_text(x_title)} %{{x}}: %{{text}}<extra></extra>",
    ))
    figure.update_xaxes(title=chart_text(x_title), type="category")
    figure.update_yaxes(title=chart_text(y_title), type="category")
    return _layout(figure, title, height=360)


def predicted_vs_actual(frame: pd.DataFrame, x: str, title: str, labels: tuple[str, str], cumulative: bool,
                        language: str = "en") -> go.Figure:
    """Predicted against actual repeat orders: cumulative by date (a line each), or by repeat orders
    before the cut-off (bars); dates named in the user's language."""
    figure = go.Figure()
    if cumulative:
        figure.add_scatter(x=frame[x], y=frame["actual"], mode="lines", name=chart_text(labels[1]), line={"color": "black"})
        figure.add_scatter(x=frame[x], y=frame["predicted"], mode="lines", name=chart_text(labels[0]), line={"color": BLUE, "dash": "dash"})
        # weeks of a short holdout as days, months of a long one as months, in either language
        figure.update_xaxes(type="date", hoverformat="%Y-%m-%d", tickformatstops=[
            {"dtickrange": [None, 28 * 86_400_000], "value": t("date_day_format", language)},  # below a month
            {"dtickrange": ["M1", None], "value": t("date_month_format", language)}])
    else:
        figure.add_bar(x=frame[x], y=frame["actual_per_customer"], name=chart_text(labels[1]), marker_color=GREY)
        figure.add_bar(x=frame[x], y=frame["predicted_per_customer"], name=chart_text(labels[0]), marker_color=BLUE)
    return _layout(figure, title, height=320)


def estimates_with_intervals(labels: list[str], estimates: list[float], lows: list[float], highs: list[float],
                             title: str, colours: list[str] | None = None) -> go.Figure:
    """Absolute changes side by side (naive, difference-in-differences, placebo) with 95% intervals."""
    estimates = [float("nan") if e is None else e for e in estimates]
    figure = go.Figure(go.Bar(
        x=chart_texts(labels), y=estimates, marker_color=colours or BLUE,
        error_y={"type": "data", "symmetric": False,
                 "array": [(h - e) if h is not None else 0 for e, h in zip(estimates, highs)],
                 "arrayminus": [(e - lo) if lo is not None else 0 for e, lo in zip(estimates, lows)]},
        hovertemplate="%{x}: %{y:+.3f}<extra></extra>",
    ))
    figure.add_hline(y=0, line={"color": GREY})
    figure.update_yaxes(tickformat="+.2f")
    return _layout(figure, title, height=340)

"""Did our launch work? A change launched for everyone, judged by difference-in-differences."""

from datetime import timedelta

import streamlit as st

from metrics.launch import LAUNCH_COLUMNS, LaunchError
from ui import charts, data, launch_view
from ui.context import keep_choice, page_context
from ui.i18n import t
from ui.launch_view import signed as number
from ui.safe_text import markdown_text
from ui.tables import show_table

ctx = page_context()
st.title(ctx.t("launch"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
st.caption(ctx.t("launch_intro"))

first, last = ctx.facts["first_order"].date(), ctx.facts["last_order"].date()
default_date = max(first, (last - timedelta(days=120)).replace(day=1))
controls = st.columns([1, 1.2, 2], vertical_alignment="bottom")
launched_at = controls[0].date_input(ctx.t("launch_date"), value=default_date, min_value=first, max_value=last,
                                     key="launch_at", bind="query-params")
# The column lives in the URL as its code: a bound selectbox would keep its label there, which
# changes with the language (a link shared from the Chinese page would not open in English).
linked = st.query_params.get("launch_column")
st.session_state.setdefault("launch_column", linked if linked in LAUNCH_COLUMNS else LAUNCH_COLUMNS[1])
keep_choice("launch_column", LAUNCH_COLUMNS, lambda c, language: t(f"launch_col_{c}", language))
column = controls[1].selectbox(ctx.t("launch_column"), LAUNCH_COLUMNS, key="launch_column",
                               format_func=lambda c: ctx.t(f"launch_col_{c}"))
st.query_params["launch_column"] = column
choices = data.launch_column_values(ctx.root, ctx.version, column)
chosen = st.session_state.get("launch_values")
if chosen and any(value not in choices for value in chosen):  # values of the previously chosen column
    st.session_state["launch_values"] = [value for value in chosen if value in choices]
values = controls[2].multiselect(ctx.t("launch_values"), choices, key="launch_values", bind="query-params",
                                 placeholder=ctx.t("launch_choose_values"))
options = st.columns([1.2, 2], vertical_alignment="bottom")
window = options[0].segmented_control(ctx.t("launch_window"), [30, 60, 90], default=90, required=True,
                                      key="launch_window", bind="query-params")
matched = options[1].toggle(ctx.t("launch_matched"), key="launch_matched", bind="query-params",
                            help=ctx.t("launch_matched_help"))
st.caption(ctx.t("launch_filters_not_applied"))


def draw_saved() -> None:
    """The saved evaluations (the Playbook page reads the same file)."""
    st.subheader(ctx.t("launch_saved_title"))
    saved = data.saved_launches(ctx.root)
    if not saved:
        st.caption(ctx.t("launch_none_saved"))
        return
    table = launch_view.saved_table(saved, ctx.language)
    show_table(table, "saved_launches", "saved_launches_table", ctx.language, ctx.currency)


if not values:
    st.info(ctx.t("launch_choose_values"))
    draw_saved()
    st.stop()

try:
    result = data.launch_evaluation(ctx.root, ctx.version, launched_at, column, tuple(values), int(window), bool(matched))
except LaunchError as refusal:
    shown = {k: ", ".join(v) if isinstance(v, (list, tuple)) else v for k, v in refusal.values.items()}
    st.warning(ctx.md(f"launch_refused_{refusal.key}", **shown))
    draw_saved()
    st.stop()

naive, did, groups = result["naive"], result["did"], result["groups"]
left, right = st.columns(2)
left.metric(ctx.t("launch_naive"), number(naive["estimate"]), help=ctx.t("launch_naive_help"))
left.caption(ctx.t("launch_ci", low=number(naive["ci_low"]), high=number(naive["ci_high"])) + " · " + ctx.t("launch_unit"))
right.metric(ctx.t("launch_did"), number(did["estimate"]), help=ctx.t("launch_did_help"))
right.caption(ctx.t("launch_ci_p", low=number(did["ci_low"]), high=number(did["ci_high"]),
                    p=launch_view.p_text(did["p_value"]))
              + " · " + ctx.t("launch_unit"))

st.markdown(launch_view.verdict(result, ctx.language))
st.markdown(ctx.t("launch_common", naive=number(naive["estimate"]), common=number(result["control_change"]["estimate"]),
                  did=number(did["estimate"])))
st.caption(ctx.t("launch_groups", treated=f"{result['treated_customers']:,}", control=f"{result['control_customers']:,}",
                 t_pre=f"{groups['treated']['pre']:.2f}", t_post=f"{groups['treated']['post']:.2f}",
                 c_pre=f"{groups['control']['pre']:.2f}", c_post=f"{groups['control']['post']:.2f}"))
if result["matching"]:
    st.caption(ctx.t("launch_matching", matched=f"{result['matching']['treated_matched']:,}",
                     controls=f"{result['matching']['control_matched']:,}"))

placebo = result["placebo"]
bars = [(ctx.t("launch_bar_naive"), naive, charts.GREY), (ctx.t("launch_bar_did"), did, charts.BLUE)]
if placebo["estimate"] is not None:
    bars.append((ctx.t("launch_bar_placebo", date=placebo["launched_at"]), placebo, charts.GREEN))
st.plotly_chart(charts.estimates_with_intervals(
    [label for label, _, _ in bars], [b["estimate"] for _, b, _ in bars], [b["ci_low"] for _, b, _ in bars],
    [b["ci_high"] for _, b, _ in bars], ctx.t("launch_chart_title", days=result["window_days"], date=result["launched_at"]),
    colours=[colour for _, _, colour in bars]), key="launch_chart")

st.subheader(ctx.t("launch_checks"))
st.markdown(ctx.t("launch_assumption"))
for kind, sentence in launch_view.checks(result, ctx.language):
    getattr(st, kind)(markdown_text(sentence))

st.subheader(ctx.t("launch_measures"))
readable, measures = launch_view.measures(result, ctx.language, ctx.currency)
show_table(readable, "launch_measures", "launch_measures_table", ctx.language, ctx.currency, download=measures)

st.subheader(ctx.t("launch_save_title"))
tags = launch_view.strategy_tags()
keep_choice("launch_strategy", tags, launch_view.strategy_name)
strategy = st.selectbox(ctx.t("launch_strategy"), tags, key="launch_strategy",
                        format_func=lambda tag: launch_view.strategy_name(tag, ctx.language))
may_save = ctx.user is not None and ctx.user.can("upload")
if st.button(ctx.t("launch_save"), key="launch_save", disabled=not may_save):
    data.save_launch(ctx.root, strategy, launched_at, column, list(values), int(window), bool(matched),
                     saved_by=ctx.user.name)
    ctx.store.record_event("save_launch", user=ctx.user.name, via="app", target=strategy,
                           launched_at=launched_at.isoformat())
    st.success(ctx.md("launch_saved", strategy=launch_view.strategy_name(strategy, ctx.language),
                      date=launched_at.isoformat()))
if not may_save:
    st.caption(ctx.t("launch_save_not_allowed"))
draw_saved()

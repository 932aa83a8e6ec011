"""Customer value: predicted lifetime value (BG/NBD, MBG/NBD or Pareto/NBD + Gamma-Gamma), churn risk, who to call first."""

import pandas as pd
import streamlit as st

from metrics.clv_model import ClvFitError
from ui import charts, data
from ui.context import page_context
from ui.formatting import currency_symbol, format_change, format_value
from ui.i18n import note_text, rfm_names, segment_name
from ui.texts import tier_rank
from ui.safe_text import markdown_text
from ui.tables import show_table

ctx = page_context()
st.title(ctx.t("value"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
if not ctx.facts["customers"]:  # predictions are per customer: an export without a customer column has none
    st.info(ctx.t("value_needs_customers"))
    st.stop()

st.caption(ctx.t("value_filters_not_applied"))  # first: said even when the model cannot be fitted
try:
    dates = data.value_dates(ctx.root, ctx.version)
except ClvFitError as problem:  # e.g. customers, but not one valid order of theirs
    st.warning(ctx.md("model_failed", reason=note_text(problem, ctx.language)))
    st.stop()
MODELS = ("auto", "bgnbd", "mbgnbd", "paretonbd")
fit_controls = st.columns([1, 2], vertical_alignment="bottom")
cutoff = fit_controls[0].date_input(ctx.t("value_cutoff"), value=dates["default_cutoff"], min_value=dates["first"],
                                    max_value=dates["last"], key="cutoff", bind="query-params",
                                    help=ctx.t("value_cutoff_help"))
# the URL holds the model's code (?model=paretonbd), not its label, so a link works in either language
linked_model = st.query_params.get("model")
model_name = fit_controls[1].segmented_control(ctx.t("value_model"), MODELS,
                                               default=linked_model if linked_model in MODELS else "auto",
                                               required=True, format_func=lambda m: ctx.t(f"model_{m}"),
                                               key="value_model_choice")
if model_name == "auto":
    st.query_params.pop("model", None)
else:
    st.query_params["model"] = model_name
settings = st.columns(3)
default_horizon, default_discount, default_margin = data.VALUE_DEFAULTS
horizon = settings[0].segmented_control(ctx.t("value_horizon"), [6, 12, 24], default=default_horizon, required=True,
                                        format_func=str, key="horizon", bind="query-params")
discount = settings[1].number_input(ctx.t("value_discount"), 0.0, 0.1, default_discount, step=0.005, format="%.3f",
                                    key="discount", bind="query-params")
# no bounds on the widget: a value outside 0..1 (from the URL, or typed) gets a message instead of a red field
margin = settings[2].number_input(ctx.t("margin_input"), value=default_margin, step=0.05, key="value_margin",
                                  bind="query-params")
if not 0 <= margin <= 1:
    st.error(ctx.t("margin_out_of_range", value=f"{margin:g}", default=f"{default_margin:.0%}"))
    margin = default_margin
try:
    with st.spinner(ctx.t("value_fitting")):
        model = data.value_model(ctx.root, ctx.version, horizon, discount, margin, cutoff, model_name)
except ClvFitError as problem:
    st.warning(ctx.md("model_failed", reason=note_text(problem, ctx.language)))
    st.stop()
report, totals = model["report"], model["totals"]
used = model["final"].purchase
st.caption(ctx.t("value_caption_models", model=ctx.t(f"model_{used.model}"), months=horizon,
                 discount=f"{discount:.1%}", margin=f"{margin:.0%}"))

tiles = st.columns(4, border=True)
tiles[0].metric(ctx.t("clv_total", months=horizon),
                format_value(totals["predicted_clv"], "money", ctx.language, ctx.currency, compact=True))
tiles[1].metric(ctx.t("clv_mean"), format_value(totals["predicted_clv_mean"], "money", ctx.language, ctx.currency))
tiles[2].metric(ctx.t("expected_orders_next", months=horizon),
                format_value(totals["expected_orders_horizon"], "count", ctx.language, compact=True))
tiles[3].metric(ctx.t("at_risk"), format_value(totals["high_risk"], "count", ctx.language))

holdout = report.get("holdout")
selection = report["selection"]
if holdout:
    sentence = ctx.t(f"reliability_{report['reliability']}", model=ctx.t(f"model_{report['model']}"),
                     cutoff=holdout["cutoff"], end=holdout["end"], error=abs(holdout["error_pct"] or 0),
                     mape=holdout["mape_cumulative"] or 0)
    if selection["reason"] == "smallest holdout error" and selection["runner_up"] \
            and selection["margin_points"] is not None:
        won = "model_tied" if selection.get("tied_with") else "model_won"
        sentence += " " + ctx.t(won, runner_up=ctx.t(f"model_{selection['runner_up']}"),
                                points=selection["margin_points"])
    (st.warning if report["reliability"] == "unusable" else st.info)(markdown_text(sentence))
    if holdout["peak_months"]:
        st.warning(markdown_text(ctx.t("holdout_peak", months=", ".join(holdout["peak_months"]))))
    labels = (ctx.t("predicted"), ctx.t("actual"))
    st.plotly_chart(charts.predicted_vs_actual(pd.DataFrame(holdout["cumulative"]), "date", ctx.t("holdout_curve"),
                                               labels, cumulative=True, language=ctx.language), key="holdout_curve")
else:
    st.info(ctx.t("reliability_unknown"))
# the fit for the predictions (every order) first; the check's fit (to the cut-off) adds only notes of
# another kind: two "no dropout detected" notes with different parameters read as a contradiction
final_notes = list(model["final"].warnings)
final_codes = {getattr(note, "code", "") for note in final_notes} - {""}
notes = final_notes + [note for note in report["warnings"]
                       if note not in final_notes and getattr(note, "code", "") not in final_codes]
for note in notes:
    st.warning(markdown_text(note_text(note, ctx.language)))

st.plotly_chart(charts.binned_histogram(model["histogram"], ctx.t("clv_distribution", months=horizon),
                                        ctx.t("predicted_clv_axis"), currency_symbol(ctx.currency, ctx.language)),
                key="clv_histogram")
rfm_segment_names = rfm_names(ctx.language)
# a dimension with one value (no membership in the data, no channel column) has nothing to compare
breakdowns = [(field, name) for field, name in [("member_tier", "member_tier"), ("first_channel", "channel"),
                                                ("rfm_segment", "segment"), ("cohort_month", "cohort")]
              if len(model["by"][field]) > 1]
columns = st.columns(2)
for index, (field, name) in enumerate(breakdowns):
    column = columns[index % 2]
    table = model["by"][field]
    if field == "member_tier":  # in tier order (none, silver, gold, diamond), not alphabetical
        table = table.iloc[sorted(range(len(table)), key=lambda i: tier_rank(table["segment"].iloc[i]))]
        labels = [segment_name(s, ctx.language) for s in table["segment"]]
    elif field == "rfm_segment":  # most valuable first
        table = table.sort_values("predicted_clv", ascending=False)
        labels = [rfm_segment_names.get(s, s) for s in table["segment"]]
    else:
        labels = [ctx.t("not_set") if s == "(none)" else str(s) for s in table["segment"]]
    column.plotly_chart(charts.bars(labels, table["predicted_clv"].tolist(),
                                    ctx.t("clv_by", dimension=ctx.t(name), months=horizon), "money", ctx.language, ctx.currency,
                                    horizontal=field != "cohort_month", months=field == "cohort_month"),
                        key=f"clv_by_{field}")

st.plotly_chart(charts.matrix_heatmap(model["p_alive_matrix"], ctx.t("p_alive_title", date=report["end"]),
                                      ctx.t("days_since_last"), ctx.t("repeat_orders")), key="p_alive_matrix")
st.caption(ctx.t({"bgnbd": "p_alive_note", "bgnbd_common_p": "p_alive_note", "nbd": "p_alive_note_nbd"}
                 .get(used.predicts_as, "p_alive_note_other")))

# On screen the columns a manager acts on (who, how loyal, how likely to come back, when, worth what), fitting
# at 1440 px; the channel, churn band, expected orders, expected AOV and total value in the downloads.
ON_SCREEN = ["customer_id", "member_tier", "last_purchase", "x", "historical_revenue", "p_alive", "expected_next_order",
             "predicted_clv"]
if len(model["by"]["member_tier"]) <= 1:  # no membership in the data: every customer would read "non-member"
    ON_SCREEN.remove("member_tier")
for heading, name, download_name, key in (
        ("at_risk_valuable", "slipping_valuable", "slipping_valuable_customers", "slipping_table"),
        ("top_customers", "top_customers", "top_customers", "top_table")):
    st.subheader(ctx.t(heading))
    customers = model[name]
    if customers.empty:  # an empty grid with Streamlit's English "empty" says less than a sentence
        st.caption(ctx.t(f"{name}_none"))
        continue
    show_table(customers[ON_SCREEN], download_name, key, ctx.language, ctx.currency, height=300, customer_list=True,
               download=customers, labels={"predicted_clv": ctx.t("predicted_clv_months", months=horizon)})

with st.expander(ctx.t("model_details")):
    if holdout:
        st.markdown(ctx.md("holdout_sentence", cutoff=holdout["cutoff"], end=holdout["end"],
                           predicted=holdout["predicted_repeat_orders"], actual=holdout["actual_repeat_orders"],
                           error=format_change(holdout["error_pct"] / 100, "relative", ctx.language)))
        st.plotly_chart(charts.predicted_vs_actual(pd.DataFrame(holdout["by_frequency"]), "x",
                                                   ctx.t("holdout_by_frequency"), labels, cumulative=False),
                        key="holdout_by_frequency")
    comparison = pd.DataFrame([
        {ctx.t("col_model"): ctx.t(f"model_{name}"),
         ctx.t("col_log_likelihood"): entry["fit"]["log_likelihood"] if "fit" in entry else None,
         ctx.t("col_holdout_error"): (entry.get("holdout") or {}).get("error_pct"),
         ctx.t("col_curve_mape"): (entry.get("holdout") or {}).get("mape_cumulative"),
         ctx.t("col_note"): (ctx.t(f"{entry['fit']['limit']}_limit") if entry.get("fit", {}).get("limit") else "")
                            if "fit" in entry else note_text(entry.get("error"), ctx.language)}
        for name, entry in report["models"].items()
    ])
    st.dataframe(comparison, hide_index=True, key="models_table")
    fits = [(ctx.t(f"model_became_{used.limit}" if used.limit else "model_as_fitted", model=ctx.t(f"model_{used.model}")),
             used),
            (ctx.t("model_gamma_gamma"), model["final"].gamma_gamma)]
    parameters = pd.DataFrame(
        [{ctx.t("col_model"): label, ctx.t("col_parameter"): k, ctx.t("col_estimate"): v,
          ctx.t("col_standard_error"): fit.se.get(k)} for label, fit in fits for k, v in fit.params.items()]
    )
    st.dataframe(parameters, hide_index=True, key="parameters_table")
    st.caption(ctx.t("fit_caption", as_of=str(model["final"].cutoff), seconds=report["fit_seconds"]))

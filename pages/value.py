"""Customer value: predicted lifetime value (BG/NBD + Gamma-Gamma), churn risk, who to call first."""

import pandas as pd
import streamlit as st

from metrics.clv_model import ClvFitError
from metrics.clv_views import clv_by, p_alive_matrix, slipping_valuable, top_customers
from metrics.formatting import format_value
from metrics.segments import segment_names
from ui import charts, data
from ui.context import page_context
from ui.safe_text import markdown_text
from ui.tables import show_table
from ui.texts import segment_name

ctx = page_context()
st.title(ctx.t("value"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()

settings = st.columns(3)
horizon = settings[0].segmented_control("Horizon / 预测期", [6, 12, 24], default=12, required=True,
                                        format_func=lambda m: f"{m} m", key="horizon")
discount = settings[1].number_input("Monthly discount / 月折现率", 0.0, 0.1, 0.01, step=0.005, format="%.3f", key="discount")
margin = settings[2].number_input(ctx.t("margin_input"), 0.0, 1.0, 0.3, step=0.05, key="value_margin")
try:
    with st.spinner("BG/NBD + Gamma-Gamma …"):
        model = data.value_model(ctx.root, ctx.version, horizon, discount, margin)
except ClvFitError as problem:
    st.warning(ctx.md("model_failed", reason=problem))
    st.stop()
report, predictions = model["report"], model["predictions"]
st.caption(ctx.t("value_caption", months=horizon, discount=f"{discount:.1%}", margin=f"{margin:.0%}") + " "
           + ctx.t("value_filters_not_applied"))

tiles = st.columns(4, border=True)
tiles[0].metric(ctx.t("clv_total", months=horizon),
                format_value(predictions["predicted_clv"].sum(), "money", ctx.language, ctx.currency, compact=True))
tiles[1].metric(ctx.t("clv_mean"), format_value(predictions["predicted_clv"].mean(), "money", ctx.language, ctx.currency))
tiles[2].metric(ctx.t("expected_orders"), format_value(predictions["expected_orders_365"].sum(), "count", ctx.language, compact=True))
tiles[3].metric(ctx.t("at_risk"), format_value(int((predictions["risk_band"] == "high").sum()), "count", ctx.language))
for warning in report["warnings"]:
    st.warning(markdown_text(warning))

st.plotly_chart(charts.histogram(predictions["predicted_clv"], ctx.t("clv_distribution", months=horizon),
                                 ctx.t("predicted_clv_axis")), key="clv_histogram")
rfm_names = segment_names(ctx.language)
columns = st.columns(2)
for index, (field, name) in enumerate([("member_tier", "member_tier"), ("first_channel", "channel"),
                                       ("rfm_segment", "segment"), ("cohort_month", "cohort")]):
    column = columns[index % 2]
    table = clv_by(predictions, field)
    if field == "member_tier":
        labels = [segment_name(s, ctx.language) for s in table["segment"]]
    elif field == "rfm_segment":
        labels = [rfm_names.get(s, s) for s in table["segment"]]
    else:
        labels = [str(s)[:7] for s in table["segment"]]
    column.plotly_chart(charts.bars(labels, table["predicted_clv"].tolist(),
                                    ctx.t("clv_by", dimension=ctx.t(name), months=horizon), "money", ctx.language, ctx.currency,
                                    horizontal=field != "cohort_month"), key=f"clv_by_{field}")

st.plotly_chart(charts.matrix_heatmap(p_alive_matrix(predictions), ctx.t("p_alive_title", date=report["end"]),
                                      ctx.t("days_since_last"), ctx.t("repeat_orders")), key="p_alive_matrix")
st.caption(ctx.t("p_alive_note"))

st.subheader(ctx.t("at_risk_valuable"))
show_table(slipping_valuable(predictions), "slipping_valuable_customers", "slipping_table", ctx.language, ctx.currency,
           height=300, customer_list=True)
st.subheader(ctx.t("top_customers"))
show_table(top_customers(predictions), "top_customers", "top_table", ctx.language, ctx.currency, height=300,
           customer_list=True)

with st.expander(ctx.t("model_details")):
    holdout = report.get("holdout")
    if holdout:
        st.markdown(ctx.t("holdout_sentence", cutoff=holdout["cutoff"], end=holdout["end"],
                          predicted=holdout["predicted_repeat_orders"], actual=holdout["actual_repeat_orders"],
                          error=holdout["error_pct"]))
        left, right = st.columns(2)
        labels = (ctx.t("predicted"), ctx.t("actual"))
        left.plotly_chart(charts.predicted_vs_actual(pd.DataFrame(holdout["cumulative"]), "date",
                                                     ctx.t("holdout_curve"), labels, cumulative=True), key="holdout_curve")
        right.plotly_chart(charts.predicted_vs_actual(pd.DataFrame(holdout["by_frequency"]), "x",
                                                      ctx.t("holdout_by_frequency"), labels, cumulative=False),
                           key="holdout_by_frequency")
    parameters = pd.DataFrame(
        [{"model": "BG/NBD", "parameter": k, "estimate": report["bgnbd"][k], "standard_error": report["bgnbd"]["se"][k]}
         for k in ("r", "alpha", "a", "b")]
        + [{"model": "Gamma-Gamma", "parameter": k, "estimate": report["gamma_gamma"][k],
            "standard_error": report["gamma_gamma"]["se"][k]} for k in ("p", "q", "gamma")]
    )
    st.dataframe(parameters, hide_index=True, key="parameters_table")
    st.caption(f"log-likelihood BG/NBD {report['bgnbd']['log_likelihood']:,.1f}; "
               f"Gamma-Gamma {report['gamma_gamma']['log_likelihood']:,.1f}; fit {report['fit_seconds']:.2f} s")

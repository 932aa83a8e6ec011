"""Cohorts: retention heatmap (customers, revenue, cumulative revenue per customer) and curves."""

import streamlit as st

from metrics.cohorts import MIN_COHORT_SIZE, average_retention_curve
from ui import charts, data, views
from ui.context import page_context, show_active_filters
from ui.estimate_notice import show_estimate_notice
from ui.i18n import metric_help, metric_label
from ui.tables import show_table

ctx = page_context()
st.title(ctx.t("cohorts"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
if not ctx.facts["customers"]:  # not "no orders match these filters": no filter is to blame
    st.info(ctx.t("needs_customers"))
    st.stop()

# on a large store, a filter set nobody asked for yet: the sample's estimate now, the exact matrix when counted
matrix, estimate = data.cohort_matrix_now(ctx.root, ctx.version, ctx.filters)
if matrix.empty:
    st.warning(ctx.t("no_match"))
    st.stop()

show_active_filters(ctx)
if estimate:
    show_estimate_notice(ctx, estimate, lambda: data.exact_count_ready(ctx.root, ctx.version, "cohort_matrix",
                                                                       ctx.filters))
VALUES = ["retention", "revenue_retention", "cumulative_revenue_per_customer"]
value = st.segmented_control(ctx.t("cohort_value"), VALUES, default="retention", required=True,
                             format_func=lambda v: metric_label(v, ctx.language), key="cohort_value")
st.caption(metric_help(value, ctx.language))
st.plotly_chart(views.cohort_heatmap(ctx, matrix, value), key="cohort_heatmap")
sizes = matrix[matrix["age"] == 0].set_index("cohort_month")["cohort_customers"]
span = {"start": f"{sizes.index.min():%Y-%m}", "end": f"{sizes.index.max():%Y-%m}"}
small = int(matrix.loc[matrix["age"] == 0, "small_cohort"].sum())  # an estimate's: too few customers sampled
if small:
    st.caption(ctx.t("small_cohorts_sampled" if estimate else "small_cohorts", count=small, size=MIN_COHORT_SIZE))

if matrix["age"].max() < 1:  # everyone is in their first month: there is no curve to draw yet
    st.caption(ctx.t("curves_need_later_months"))
else:
    cohort_months = list(sizes.index)
    chosen = st.multiselect(ctx.t("choose_cohorts"), cohort_months,
                            default=cohort_months[-13:-12] + cohort_months[-7:-6],
                            format_func=lambda m: f"{m:%Y-%m}", key="cohort_pick",
                            placeholder=ctx.t("choose_cohorts_placeholder"))
    st.plotly_chart(
        charts.retention_curves(matrix, chosen, average_retention_curve(matrix), ctx.t("curves_title", **span),
                                ctx.t("average"), ctx.t("months_since_first")),
        key="cohort_curves",
    )
show_table(matrix, "cohorts", "cohort_table", ctx.language, ctx.currency,
           labels={"cohort_month": ctx.t("acquisition_month"), "age": ctx.t("months_since_first"),
                   "cohort_customers": ctx.t("cohort_size")}, height=300)

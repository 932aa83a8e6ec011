"""Views drawn the same way on a page and in the HTML month report: the KPI trend charts and the
cohort heatmap (one definition of each, so the report shows what the screen shows)."""

import pandas as pd
import plotly.graph_objects as go

from metrics.cohorts import cohort_pivot
from metrics.definitions import ALL
from ui import charts
from ui.i18n import metric_label

REPURCHASE_TRENDS = ("repurchase_rate", "frequency", "aov", "revenue_per_customer", "revenue")
ORDER_TRENDS = ("orders", "revenue", "aov")  # an export without customer ids


def trend_kpis(customer_ids: bool) -> tuple[str, ...]:
    """The KPIs drawn as trends: repurchase KPIs, or only order KPIs when the data has no customer ids."""
    return REPURCHASE_TRENDS if customer_ids else ORDER_TRENDS


def trend_figures(ctx, window: pd.DataFrame, customer_ids: bool = True) -> list[tuple[str, go.Figure]]:
    """(key, figure) of each trend over the months of `window` (a KPI table), and new vs returning
    customers when the data has customer ids."""
    span = {"start": f"{window['period'].min():%Y-%m}", "end": f"{window['period'].max():%Y-%m}"}
    figures = [
        (f"trend_{kpi}", charts.trend(window, kpi, ctx.t("trend_title", metric=metric_label(kpi, ctx.language), **span),
                                      ctx.language, ctx.currency))
        for kpi in trend_kpis(customer_ids)
    ]
    if customer_ids:
        names = (metric_label("new_customers", ctx.language), metric_label("returning_customers", ctx.language))
        figures.append(("trend_new_returning",
                        charts.new_vs_returning(window, ctx.t("new_vs_returning_title", **span), names, ctx.language)))
    return figures


def cohort_heatmap(ctx, matrix: pd.DataFrame, value: str = "retention") -> go.Figure:
    """The cohort heatmap of `value` (retention, revenue retention...) with each cohort's size."""
    pivot = cohort_pivot(matrix, value)
    first_months = matrix[matrix["age"] == 0].set_index("cohort_month")
    span = {"start": f"{pivot.index.min():%Y-%m}", "end": f"{pivot.index.max():%Y-%m}"}
    return charts.cohort_heatmap(pivot, first_months["cohort_customers"], first_months["small_cohort"],
                                 ctx.t("heatmap_title", metric=metric_label(value, ctx.language), **span),
                                 ALL[value].kind, ctx.language, ctx.currency,
                                 (ctx.t("months_since_first"), ctx.t("acquisition_month")), ctx.t("cohort_size"))

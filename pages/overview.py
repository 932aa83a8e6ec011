"""Overview: the month's headline KPIs with changes, what moved most, trends, the report.

Orders without customer ids cannot answer repurchase questions: then only the order-level KPIs
(orders, revenue, AOV) are shown, with one sentence saying why.
"""

import pandas as pd
import streamlit as st

from metrics.definitions import ALL
from ui import data, views
from ui.context import page_context, show_active_filters
from ui.estimate_notice import redraw_when_exact
from ui.formatting import format_value
from ui.i18n import metric_help, metric_label
from ui.report import month_report_html
from ui.safe_text import markdown_text
from ui.tables import show_table
from ui.texts import change_text, move_sentence

GUESTS_NOTED = 0.5  # past this share of a month's orders without a customer id, the customer figures say whose they are

ctx = page_context()
st.title(ctx.t("app_title"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()

# on a large store, a filter set nobody asked for yet: the annual frequency's trailing year is counted in the background
table, annual_frequency_counting = data.kpi_table_now(ctx.root, ctx.version, ctx.filters)
if annual_frequency_counting:
    redraw_when_exact(lambda: data.exact_count_ready(ctx.root, ctx.version, "kpi_table", ctx.filters,
                                                     **data.OVERVIEW_TABLE))
if table.empty or not table["orders"].sum():
    st.warning(ctx.t("no_match"))
    st.stop()

months = [p.strftime("%Y-%m") for p in table["period"]][::-1]
latest_full = data.latest_full_month(ctx.root, ctx.version)
default = data.default_month(table["period"], latest_full).strftime("%Y-%m")
asked = st.query_params.get("month")  # a shared link may name a month the data does not have
if asked is not None and asked not in months:
    del st.query_params["month"]
    st.session_state.pop("month", None)
month_text = st.selectbox(ctx.t("month"), months, index=months.index(default), key="month", bind="query-params",
                          width=220)
month = pd.Timestamp(month_text)
row = table[table["period"] == month].iloc[0]
st.caption(ctx.t("store_version", version=ctx.version, first=f"{ctx.facts['first_order']:%Y-%m-%d}",
                 last=f"{ctx.facts['last_order']:%Y-%m-%d}"))
if asked is not None and asked not in months:
    st.warning(ctx.md("month_not_in_data", asked=asked, shown=month_text, first=months[-1], last=months[0]))
first_order, last_order = ctx.facts["first_order"], ctx.facts["last_order"]
starts_inside = first_order.to_period("M") == month.to_period("M") and first_order.day > 1  # starts mid-month
if not row["is_complete"]:
    if pd.Timestamp.now() - last_order <= pd.Timedelta(days=45):  # a live export: the month is still running
        st.warning(ctx.t("partial_month", month=month_text))
    elif starts_inside:  # an old export of a few days inside one month: said once
        st.caption(ctx.t("partial_month_data_between", month=month_text, first=f"{first_order:%Y-%m-%d}",
                         last=f"{last_order:%Y-%m-%d}"))
        starts_inside = False
    else:  # an old export that stops mid-month: nothing will change, the month is just cut short
        st.caption(ctx.t("partial_month_data_ends", month=month_text, last=f"{last_order:%Y-%m-%d}"))
if starts_inside:
    st.caption(ctx.t("partial_month_data_starts", month=month_text, first=f"{first_order:%Y-%m-%d}"))
previous = (month - pd.offsets.MonthBegin(1)).to_period("M")
if first_order.to_period("M") == previous and first_order.day > 1 and row["orders"]:  # a change on a cut month
    st.caption(ctx.t("previous_month_partial", previous=str(previous), first=f"{first_order:%Y-%m-%d}"))
# a date filter that narrows the data inside this month: its end cuts the month; its start does not (a
# period is counted from its first day: the start chooses the first month shown)
filter_end, filter_start = ctx.filters.end, ctx.filters.start
if filter_end and month <= pd.Timestamp(filter_end) < min(month + pd.offsets.MonthEnd(0), ctx.facts["last_order"].normalize()):
    st.caption(ctx.t("filter_cuts_month", month=month_text, last=f"{filter_end:%Y-%m-%d}"))
if filter_start and max(month, first_order.normalize()) < pd.Timestamp(filter_start) <= month + pd.offsets.MonthEnd(0):
    st.caption(ctx.t("filter_starts_in_month", month=month_text, start=f"{filter_start:%Y-%m-%d}"))
if not ctx.currency:
    st.caption(ctx.t("currency_unknown_note"))
customer_ids = bool(ctx.facts["customers"])
if not customer_ids:
    st.info(ctx.t("no_customer_ids"))
elif row["orders"] and row["guest_orders"] / row["orders"] > GUESTS_NOTED:  # a till's cash sales: most are guests
    st.caption(ctx.t("mostly_guests", month=month_text,
                     guests=format_value(row["guest_orders"] / row["orders"], "rate", ctx.language)))

show_active_filters(ctx)
st.subheader(ctx.t("headline", month=month_text))
TILE_ROWS = [["repurchase_rate", "frequency", "aov", "revenue_per_customer"],
             ["new_customers", "returning_customers", "revenue"]]
if ctx.presentation:  # one KPI set per screen: the four retention KPIs, two by two
    TILE_ROWS = [["repurchase_rate", "frequency"], ["aov", "revenue_per_customer"]]
if not customer_ids:
    TILE_ROWS = [["orders", "revenue", "aov"]]
# no line "vs last year –" under every tile when the data has no month a year before this one
has_last_year = row[[f"{kpi}_yoy" for tiles in TILE_ROWS for kpi in tiles]].notna().any()
for tiles in TILE_ROWS:
    columns = st.columns(len(tiles), border=True)
    for column, kpi in zip(columns, tiles):
        kind = ALL[kpi].kind
        yoy = row[f"{kpi}_yoy"]
        colour = "gray" if pd.isna(yoy) else "green" if yoy > 0 else "red" if yoy < 0 else "gray"
        delta = change_text(row[f"{kpi}_mom"], kind, ctx, "vs_last_month", number_first=True) \
            if pd.notna(row[f"{kpi}_mom"]) else None
        with column:
            st.metric(
                metric_label(kpi, ctx.language),
                format_value(row[kpi], kind, ctx.language, ctx.currency, compact=kind == "money"),  # PKR22.2K: ~10 characters fit
                delta=delta,
                delta_color="normal" if delta and delta[0] in "+-" else "off",  # no change: no green arrow
                delta_arrow="auto" if delta and delta[0] in "+-" else "off",  # nor a grey one pointing up
                help=metric_help(kpi, ctx.language),
            )
            if has_last_year:
                st.markdown(f":{colour}[{change_text(yoy, kind, ctx, 'vs_last_year')}]")

if customer_ids:
    previous_text = f"{month - pd.DateOffset(months=1):%Y-%m}"
    with_orders = table.loc[table["orders"] > 0, "period"]
    before, after = with_orders[with_orders < month], with_orders[with_orders > month]
    if not row["orders"] and len(before) and len(after) and not ctx.filters.dimension_values():
        # a month without orders between two with them: most often its export was never uploaded
        st.markdown(f"**{ctx.t('month_missing_between', month=month_text, before=f'{before.max():%Y-%m}', after=f'{after.min():%Y-%m}')}**")
    elif not row["orders"]:
        st.markdown(f"**{ctx.t('no_orders_in_month', month=month_text)}**")
    elif row[[f"{k}_mom" for k in ("orders", "revenue", "customers")]].notna().any():
        st.markdown(f"**{markdown_text(move_sentence(ctx, month.date()))}**")  # names a tier or channel from the data
    elif month > first_order:  # an earlier month of the data had no orders under these filters
        st.markdown(f"**{ctx.t('no_orders_previous_month', month=month_text, previous=previous_text)}**")
    else:  # nothing to compare with: "no KPI moved" would be a claim about a month that is not there
        st.markdown(f"**{ctx.t('no_previous_month', month=month_text)}**")
    if month < first_order + pd.DateOffset(months=12):
        st.caption(ctx.t("early_months"))

if ctx.presentation:
    st.stop()

st.subheader(ctx.t("trends"))
window = table[table["period"] <= month]
if len(window) >= 2:  # a slider over one month would choose nothing
    window = window.tail(st.slider(ctx.t("trend_months"), 12, 36, 24, step=6, key="trend_months"))
trend_kpis = views.trend_kpis(customer_ids)
if len(window) < 2:
    st.caption(ctx.t("needs_two_months", month=month_text))
else:
    left, right = st.columns(2)
    for index, (key, figure) in enumerate(views.trend_figures(ctx, window, customer_ids)):
        (left if index % 2 == 0 else right).plotly_chart(figure, key=key)

with st.expander(ctx.t("kpi_table")):
    if annual_frequency_counting:
        st.caption(ctx.t("annual_frequency_counting"))
    columns = ["period", *[k for k in ALL if k in table.columns and (customer_ids or k in trend_kpis)]]
    show_table(table[columns], "kpi_table", "kpi_table", ctx.language, ctx.currency)

if not customer_ids:
    st.stop()  # the month report is about repurchase
st.download_button(
    ctx.t("download_report"),
    # a report is kept: with the annual frequency, counted on click if the background count has not ended
    lambda: month_report_html(ctx, month.date(), data.kpi_table(ctx.root, ctx.version, ctx.filters)
                              if annual_frequency_counting else table),
    file_name=f"repurchase-report-{month_text}.html",
    mime="text/html",
    key="download_report",
    on_click="ignore",
)

"""Customers: repeat funnel, time between orders, members vs non-members and tiers, RFM, due list."""

import pandas as pd
import streamlit as st

from metrics.funnel import TIME_TO_SECOND_BUCKETS
from ui import charts, data
from ui.context import page_context, show_active_filters
from ui.estimate_notice import show_estimate_notice
from ui.formatting import format_decimal_text
from ui.i18n import metric_help, rfm_names, segment_name
from ui.tables import show_table
from ui.texts import tier_rank

ctx = page_context()
st.title(ctx.t("customers"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
if not ctx.facts["customers"]:  # not "no orders match these filters": no filter is to blame
    st.info(ctx.t("needs_customers"))
    st.stop()

month = data.customers_month(ctx.root, ctx.version, ctx.filters)
with st.spinner(ctx.t("counting_customers"), show_time=True):  # shown past half a second: 100M orders, wide filters
    # on a large store, a filter set nobody asked for yet: the sample's estimate now, the exact figures when counted
    views, estimate = data.customer_views_now(ctx.root, ctx.version, ctx.filters, month)
funnel = views["funnel"]
if funnel.empty:
    st.warning(ctx.t("no_match"))
    st.stop()

show_active_filters(ctx)
if estimate:
    show_estimate_notice(ctx, estimate, lambda: data.exact_count_ready(ctx.root, ctx.version, "customers", ctx.filters,
                                                                       month=month))
first = ctx.filters.start or ctx.facts["first_order"].date()
last = ctx.filters.end or ctx.facts["last_order"].date()
span = {"start": f"{first:%Y-%m-%d}", "end": f"{last:%Y-%m-%d}"}

left, right = st.columns(2)
steps = [ctx.t("order_5_plus") if n == 5 else ctx.t("order_n", n=n) for n in funnel["order_number"]]
left.plotly_chart(charts.bars(steps, funnel["share_of_customers"].tolist(), ctx.t("funnel_title", **span),
                              "rate", ctx.language, ctx.currency), key="funnel_chart")
left.caption(metric_help("reach_order_n", ctx.language))
gaps = views["days_between_orders"]
if not gaps.empty:
    labels = [f"{n}→{n + 1}" if n < 4 else "4→5+" for n in gaps["from_order"]]
    right.plotly_chart(charts.interval_ranges(labels, gaps["days_p25"].tolist(), gaps["days_median"].tolist(),
                                              gaps["days_p75"].tolist(), ctx.t("gaps_title", **span), ctx.t("days")),
                       key="gaps_chart")
    right.caption(metric_help("days_between_orders", ctx.language))

second = views["time_to_second_order"]
if not second.empty:
    bounds = [0, *TIME_TO_SECOND_BUCKETS]
    buckets = [ctx.t("over_year") if pd.isna(d) else
               ctx.t("within_range", low=bounds[bounds.index(int(d)) - 1] + (1 if int(d) > 7 else 0), high=int(d))
               for d in second["within_days"]]
    st.plotly_chart(charts.bars(buckets, second["share"].tolist(), ctx.t("second_title", **span), "rate",
                                ctx.language, ctx.currency), key="second_chart")

members = views["members"]
# no membership column (or every tier empty/none): no members to compare, so no section at all
has_members = "member" in set(members["table"]["segment"])
KPI_COLUMNS = ["segment", "customers", "repurchase_rate", "frequency", "annual_frequency", "aov", "revenue_per_customer"]
if has_members:
    st.subheader(ctx.t("members_title", month=f"{month:%Y-%m}"))
    if members["frequency_multiple"]:
        st.markdown(f"**{ctx.t('members_multiple', multiple=format_decimal_text(members['frequency_multiple'], ctx.language))}**")
        st.caption(metric_help("frequency_multiple", ctx.language))
    member_table = members["table"][KPI_COLUMNS].assign(segment=lambda f: f["segment"].map(lambda s: ctx.t(s)))
    show_table(member_table, "members", "members_table", ctx.language, ctx.currency, labels={"segment": ctx.t("membership")})

tiers = views["tiers"]
if has_members and not tiers.empty:
    tiers = tiers.iloc[sorted(range(len(tiers)), key=lambda i: tier_rank(tiers["segment"].iloc[i]))]  # none … diamond
    tier_names = [segment_name(s, ctx.language) for s in tiers["segment"]]
    st.plotly_chart(charts.bars(tier_names, tiers["annual_frequency"].tolist(),
                                ctx.t("tiers_title", month=f"{month:%Y-%m}"), "ratio", ctx.language, ctx.currency),
                    key="tiers_chart")
    st.caption(ctx.t("tiers_table", month=f"{month:%Y-%m}"))
    show_table(tiers[KPI_COLUMNS], "tiers", "tiers_table", ctx.language, ctx.currency,
               labels={"segment": ctx.t("member_tier")})

rfm = views["rfm_segments"]
if not rfm.empty:
    names = rfm_names(ctx.language)
    rfm_named = rfm.assign(segment=rfm["segment"].map(names))
    st.plotly_chart(charts.treemap(rfm_named["segment"].tolist(), rfm_named["customers"].tolist(),
                                   rfm_named["revenue_share"].tolist(), ctx.t("rfm_title", **span)), key="rfm_chart")
    st.caption(metric_help("rfm", ctx.language))
    show_table(rfm_named, "rfm_segments", "rfm_table", ctx.language, ctx.currency, labels={"segment": ctx.t("segment")})

due, due_count = views["due"], views["due_count"]
if not has_members:  # no membership in the data: a tier column would call every customer a non-member
    due = due.drop(columns=["member_tier"], errors="ignore")
due_customers = ctx.count(due_count, "customer")
st.subheader(ctx.t("due_title", count=ctx.t("about", value=due_customers) if estimate else due_customers))
st.caption(ctx.t("due_caption") + " " + metric_help("due_for_repurchase", ctx.language))
if estimate:  # the sample's due customers are not the most valuable of all
    st.caption(ctx.t("estimate_due"))
else:
    if due_count > len(due):
        st.caption(ctx.t("due_shown", shown=f"{len(due):,}", count=f"{due_count:,}"))
    show_table(due, "due_for_repurchase", "due_table", ctx.language, ctx.currency, height=360, customer_list=True,
               download=lambda: data.every_customer_due(ctx.root, ctx.version, ctx.filters), download_rows=due_count)

"""Playbook: the article's seven strategies beside this shop's evidence, who to act on next, cross-category buying."""

import streamlit as st

from metrics.clv_model import ClvFitError
from metrics.playbook import LISTS
from ui import charts, data
from ui.context import page_context
from ui.playbook_text import strategy_table, with_reasons
from ui.tables import show_sentences, show_table

ctx = page_context()
st.title(ctx.t("playbook"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
if not ctx.facts["customers"]:  # every strategy, list and category path is per customer
    st.info(ctx.t("playbook_needs_customers"))
    st.stop()
st.caption(ctx.t("playbook_intro"))


def labels(*columns: str) -> dict[str, str]:
    """Column headings in the page's language (the download keeps the column keys)."""
    return {column: ctx.t(f"col_{column}") for column in columns}


LIST_COLUMNS = ("list", "reason_code", "reason", "orders", "revenue", "last_order_date", "days_since_last_order",
                "usual_interval_days", "window_low_days", "window_high_days", "category", "suggested_category",
                "lookalike_share", "lookalikes", "category_orders", "interval_days", "p_alive", "total_clv")

book = data.playbook(ctx.root, ctx.version, data.playbook_launches(ctx.root, ctx.version))

st.subheader(ctx.t("pb_strategies_title"))
show_sentences(strategy_table(book["strategies"], ctx.language), "playbook", "playbook_table", ctx.language,
               labels={"strategy": ctx.t("pb_strategy"), "claim": ctx.t("pb_claim"), "shop": ctx.t("pb_shop"),
                       "evidence": ctx.t("pb_evidence"), "next_step": ctx.t("pb_next")})

st.subheader(ctx.t("act_title"))
st.caption(ctx.t("act_caption", date=f"{book['as_of']:%Y-%m-%d}"))
tabs = st.tabs([ctx.t(f"list_{name}") for name in LISTS])
for name, tab in zip(LISTS, tabs):
    with tab:
        st.caption(ctx.t(f"list_{name}_help"))
        cutoff = None
        try:
            if name == data.LAPSING:
                with st.spinner(ctx.t("value_fitting")):
                    cutoff = data.value_dates(ctx.root, ctx.version)["default_cutoff"]
                    frame, count = data.playbook_list(ctx.root, ctx.version, name, cutoff)
            else:
                frame, count = data.playbook_list(ctx.root, ctx.version, name)
        except ClvFitError as problem:
            st.info(ctx.md("lapsing_unavailable", reason=problem))
            continue
        if frame.empty:
            st.caption(ctx.t("list_empty"))
            continue
        st.markdown(f"**{ctx.t('list_count', count=ctx.count(count, 'customer'))}**")
        if count > len(frame):
            st.caption(ctx.t("list_shown", shown=f"{len(frame):,}", count=f"{count:,}"))
        listed = with_reasons(frame, ctx.language, ctx.currency)
        show_table(listed.drop(columns=["list", "reason_code"]), f"playbook_{name}", f"list_{name}", ctx.language,
                   ctx.currency, labels=labels(*LIST_COLUMNS), height=320, customer_list=True,
                   download=lambda name=name, cutoff=cutoff: with_reasons(
                       data.whole_playbook_list(ctx.root, ctx.version, name, cutoff), ctx.language, ctx.currency),
                   download_rows=count)

st.subheader(ctx.t("cross_title"))
by_count, seconds = book["categories_bought"], book["second_categories"]
if by_count.empty:
    st.info(ctx.t("cross_no_categories"))
    st.stop()
st.markdown(f"**{ctx.t('cross_by_count_title')}**")
st.caption(ctx.t("cross_by_count_caption"))
count_labels = [f"{n}+" if n >= 4 else str(n) for n in by_count["categories"]]
left, right = st.columns(2)
left.plotly_chart(charts.bars(count_labels, by_count["repurchase_rate"].tolist(), ctx.t("col_repeat_share"), "rate",
                              ctx.language, ctx.currency), key="categories_repurchase_chart")
right.plotly_chart(charts.bars(count_labels, by_count["orders_per_customer"].tolist(), ctx.t("col_orders_per_customer"),
                               "ratio", ctx.language, ctx.currency), key="categories_orders_chart")
show_table(by_count.assign(categories=count_labels), "categories_bought", "categories_table", ctx.language,
           ctx.currency, labels={**labels("categories", "orders_per_customer"), "repurchase_rate": ctx.t("col_repeat_share"),
                                 "customers": ctx.t("customers")})

st.markdown(f"**{ctx.t('cross_second_title')}**")
moved = seconds[seconds["second_category"].notna()]
if not moved.empty:
    pairs = [f"{first} → {second}" for first, second in zip(moved["first_category"], moved["second_category"])]
    st.plotly_chart(charts.bars(pairs, moved["second_share"].tolist(), ctx.t("cross_second_chart"), "rate",
                                ctx.language, ctx.currency, horizontal=True), key="second_category_chart")
show_table(seconds, "second_categories", "second_table", ctx.language, ctx.currency,
           labels={**labels("first_category", "moved_customers", "second_category", "second_customers", "second_share"),
                   "customers": ctx.t("customers")})

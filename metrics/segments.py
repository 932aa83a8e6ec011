"""Segments: KPIs by dimension, members vs non-members, and RFM segments.

Breakdowns reuse the KPI table (each KPI is defined once, in `metrics.kpis`), one row per segment.
"""

from datetime import date

import duckdb
import pandas as pd

from metrics import dialect
from metrics.customer_facts import facts_ctes
from metrics.filters import Filters
from metrics.kpis import SEGMENTS, kpi_table, latest_full_month

# RFM segment by R score and F score (1-5), the common ten-segment map, as codes (ui/words/metrics.py
# names them in English and Chinese).
RFM_SEGMENT_SQL = """
    case
        when r_score >= 5 and f_score >= 4 then 'champions'
        when r_score >= 3 and f_score >= 4 then 'loyal'
        when r_score >= 4 and f_score between 2 and 3 then 'potential_loyalist'
        when r_score = 5 and f_score = 1 then 'new'
        when r_score = 4 and f_score = 1 then 'promising'
        when r_score = 3 and f_score = 3 then 'need_attention'
        when r_score = 3 and f_score <= 2 then 'about_to_sleep'
        when r_score <= 2 and f_score = 5 then 'cant_lose'
        when r_score <= 2 and f_score between 3 and 4 then 'at_risk'
        else 'hibernating'
    end
"""


def segment_kpis(con: duckdb.DuckDBPyConnection, by: str, month: date | None = None,
                 filters: Filters = Filters()) -> pd.DataFrame:
    """Every KPI of one month by segment (member_tier, channel, region, category or membership)."""
    month = (month or latest_full_month(con))
    if month is None:
        return pd.DataFrame(columns=["segment"])
    month = month.replace(day=1)
    end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    scoped = Filters(month, end, filters.member_tier, filters.channel, filters.region, filters.category)
    frame = kpi_table(con, scoped, "month", by=by)
    return frame[(frame["period"] == pd.Timestamp(month)) & (frame["orders"] > 0)].reset_index(drop=True)


def members_vs_non_members(con: duckdb.DuckDBPyConnection, month: date | None = None,
                           filters: Filters = Filters()) -> dict:
    """Member and non-member KPI rows for a month, and how many times as often members buy (trailing year)."""
    frame = segment_kpis(con, "membership", month, filters).set_index("segment")
    if not {"member", "non-member"} <= set(frame.index):
        return {"table": frame.reset_index(), "frequency_multiple": None}
    multiple = frame.loc["member", "annual_frequency"] / frame.loc["non-member", "annual_frequency"]
    return {"table": frame.reset_index(), "frequency_multiple": float(multiple)}


def _rfm_scored(con: duckdb.DuckDBPyConnection, filters: Filters) -> tuple[str, dict]:
    facts, params = facts_ctes(con, filters)
    sql = f"""
        {facts},

        scored as (
            select
                customer_key,
                customer_id,
                member_tier,
                last_order_date,
                days_since_last_order as recency_days,
                orders as frequency,
                revenue as monetary,
                ntile(5) over (order by days_since_last_order desc, customer_key) as r_score,
                case when orders >= 6 then 5 when orders >= 4 then 4 else orders end as f_score,
                ntile(5) over (order by revenue, customer_key) as m_score,
            from facts
        ),

        segmented as (
            select *, {RFM_SEGMENT_SQL} as segment,
            from scored
        )
    """
    return sql, params


def rfm_segments_sql(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the RFM segment totals (unordered) and its parameters."""
    scored, params = _rfm_scored(con, filters)
    sql = f"""
        with {scored},

        final as (
            select
                segment,
                count(*) as customers,
                count(*) / sum(count(*)) over () as customer_share,
                sum(monetary) as revenue,
                sum(monetary) / sum(sum(monetary)) over () as revenue_share,
                avg(recency_days) as avg_recency_days,
                avg(frequency) as avg_frequency,
                avg(monetary) as avg_monetary,
            from segmented
            group by segment
        )

        select * from final
    """
    return sql, params


def rfm_segments(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per RFM segment: customers, revenue, their shares, and average R, F, M (precomputed unfiltered)."""
    if filters == Filters() and dialect.has_table(con, "rfm_segment_totals"):
        sql, params = "select * from rfm_segment_totals", {}
    else:
        sql, params = rfm_segments_sql(con, filters)
    return con.execute(f"select * from ({sql}) order by revenue desc, segment", params).df()


def rfm_customers(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                  segment: str | None = None) -> pd.DataFrame:
    """One row per customer with R, F, M values, scores and segment (optionally one segment)."""
    scored, params = _rfm_scored(con, filters)
    params["segment"] = segment
    sql = f"""
        with {scored}
        select customer_id, member_tier, last_order_date, recency_days, frequency, monetary,
            r_score, f_score, m_score, segment,
        from segmented
        where $segment is null or segment = $segment
        order by monetary desc
    """
    return con.execute(sql, params).df()


__all__ = ["SEGMENTS", "members_vs_non_members", "rfm_customers", "rfm_segments", "segment_kpis"]

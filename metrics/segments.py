"""Segments: KPIs by dimension, members vs non-members, and RFM segments.

Breakdowns reuse the KPI table (each KPI is defined once, in `metrics.kpis`), one row per segment.
"""

from datetime import date

import duckdb
import pandas as pd

from metrics.customer_facts import facts_ctes
from metrics.filters import Filters
from metrics.kpis import SEGMENTS, kpi_table, latest_full_month
from store.models import registry
from store.models.customers import rfm_scored_ctes
from store.models.customers import rfm_segments_sql as model_rfm_segments_sql
from store.models.registry import Request



def segment_kpis(con: duckdb.DuckDBPyConnection, by: str, month: date | None = None,
                 filters: Filters = Filters()) -> pd.DataFrame:
    """Every KPI of one month by segment (member_tier, channel, region, category or membership)."""
    month = (month or latest_full_month(con))
    if month is None:
        return pd.DataFrame(columns=["segment"])
    month = month.replace(day=1)
    end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    scoped = Filters(month, end, filters.member_tier, filters.channel, filters.region, filters.category)
    frame = kpi_table(con, scoped, "month", by=by, changes=False, annual_frequency=True)
    return frame[(frame["period"] == pd.Timestamp(month)) & (frame["orders"] > 0)].reset_index(drop=True)


def members_vs_non_members(con: duckdb.DuckDBPyConnection, month: date | None = None,
                           filters: Filters = Filters()) -> dict:
    """Member and non-member KPI rows for a month, and how many times as often members buy (trailing year)."""
    frame = segment_kpis(con, "membership", month, filters).set_index("segment")
    if not {"member", "non-member"} <= set(frame.index):
        return {"table": frame.reset_index(), "frequency_multiple": None}
    multiple = frame.loc["member", "annual_frequency"] / frame.loc["non-member", "annual_frequency"]
    return {"table": frame.reset_index(), "frequency_multiple": float(multiple)}


def _rfm_scored(con: duckdb.DuckDBPyConnection, filters: Filters, names: bool = False) -> tuple[str, dict]:
    facts, params = facts_ctes(con, filters, names)
    return rfm_scored_ctes(facts), params


def rfm_segments_sql(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the RFM segment totals (unordered) and its parameters."""
    facts, params = facts_ctes(con, filters)
    return model_rfm_segments_sql(facts), params


def rfm_segments(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per RFM segment: customers, revenue, their shares, and average R, F, M (precomputed unfiltered)."""
    if registry.source_for(con, "rfm_segment_totals", Request(filters=filters)):
        sql, params = "select * from rfm_segment_totals", {}
    else:
        sql, params = rfm_segments_sql(con, filters)
    return con.execute(f"select * from ({sql}) order by revenue desc, segment", params).df()


def rfm_customer_segments_sql(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of every customer's RFM segment (customer_key, segment; the scoring of rfm_customers) and its parameters."""
    scored, params = _rfm_scored(con, filters)
    return f"with {scored} select customer_key, segment from segmented", params


def rfm_customers(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                  segment: str | None = None) -> pd.DataFrame:
    """One row per customer with R, F, M values, scores and segment (optionally one segment)."""
    scored, params = _rfm_scored(con, filters, names=True)
    params["segment"] = segment
    sql = f"""
        with {scored}
        select customer_id, member_tier, last_order_date, recency_days, frequency, monetary,
            r_score, f_score, m_score, segment
        from segmented
        where $segment is null or segment = $segment
        order by monetary desc, customer_id  -- ties in a stable order
    """
    return con.execute(sql, params).df()


__all__ = ["SEGMENTS", "members_vs_non_members", "rfm_customer_segments_sql", "rfm_customers", "rfm_segments", "segment_kpis"]

"""The repeat funnel: how many customers reach order 2, 3, 4, 5+, and how long they take.

Orders are numbered per customer among the valid orders inside the filters, so with a date
range the funnel describes purchases within that range. Unfiltered, the numbering stored in the
orders table at upload is used, and the three results are precomputed at each upload (SQL: `store.models.funnel`).
Under a filter they read the connection's kept facts and gaps (`metrics.customer_facts.kept_tables`),
which RFM and the due list read too.
"""

import duckdb
import pandas as pd

from metrics.customer_facts import kept_tables
from metrics.filters import Filters
from store.models import registry
from store.models.funnel import (
    TIME_TO_SECOND_BUCKETS,
    days_between_from_kept_sql,
    repeat_funnel_from_kept_sql,
    second_order_from_kept_sql,
)
from store.models.registry import Request

__all__ = ["TIME_TO_SECOND_BUCKETS", "days_between_orders", "repeat_funnel", "time_to_second_order"]


def _precomputed(con, filters: Filters, table: str) -> str | None:
    """SQL reading the result from its precomputed table when it answers these filters (unfiltered)."""
    return f"select * from {table}" if registry.source_for(con, table, Request(filters=filters)) else None


def repeat_funnel(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per order number n = 1..5 (5 = 5 or more): customers reaching it and their share."""
    sql = (_precomputed(con, filters, "repeat_funnel_steps")
           or repeat_funnel_from_kept_sql(kept_tables(con, filters)[0]))
    return con.execute(f"select * from ({sql}) order by order_number").df()


def days_between_orders(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Days from order n to n+1, for n = 1..4 (4 = 4 or later): median, quartiles and count (precomputed unfiltered)."""
    sql = (_precomputed(con, filters, "order_intervals")
           or days_between_from_kept_sql(kept_tables(con, filters)[1]))
    return con.execute(f"select * from ({sql}) order by from_order").df()


def time_to_second_order(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Customers by days from first to second order, in buckets, with the cumulative share of repeaters."""
    sql = (_precomputed(con, filters, "second_order_buckets")
           or second_order_from_kept_sql(kept_tables(con, filters)[1]))
    return con.execute(f"select * from ({sql}) order by within_days nulls last").df()

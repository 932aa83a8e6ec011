"""The repeat funnel: how many customers reach order 2, 3, 4, 5+, and how long they take.

Orders are numbered per customer among the valid orders inside the filters, so with a date
range the funnel describes purchases within that range. Unfiltered, the numbering stored in the
orders table at upload is used, and the three results are precomputed at each upload (SQL: `store.models.funnel`).
Under dimension filters with dates covering the data, the funnel and the time to the second order are
counted from `customer_combos` (one row per customer and combination) instead of the orders.
"""

import duckdb
import pandas as pd

from metrics.filters import Filters
from metrics.kpis import data_range
from store.models import registry
from store.models.funnel import (
    TIME_TO_SECOND_BUCKETS,
    days_between_sql,
    repeat_funnel_from_combos_sql,
    repeat_funnel_sql,
    second_order_from_combos_sql,
    second_order_sql,
)
from store.models.registry import Request

__all__ = ["TIME_TO_SECOND_BUCKETS", "days_between_orders", "repeat_funnel", "time_to_second_order"]


def _precomputed_or(con, filters: Filters, table: str, sql_of, from_combos=None) -> tuple[str, dict]:
    """The unfiltered result from its precomputed table, else (`from_combos`) from the per-customer
    combination rows when they answer these filters, else the SQL counting from the orders."""
    if registry.source_for(con, table, Request(filters=filters)):
        return f"select * from {table}", {}
    if from_combos is not None and combos_answer(con, filters):
        return from_combos(filters)
    return sql_of(filters, orders_source(con, filters))


def orders_source(con, filters: Filters) -> str:
    """Where the valid identified orders inside `filters` are counted from: `orders_by_dimension` (sorted
    by dimension: a filter reads only its row groups), or the orders table in a version built before it."""
    return registry.source_for(con, "orders_by_dimension", Request(filters=filters)) or "orders"


def combos_answer(con, filters: Filters) -> bool:
    """Whether `customer_combos` answers these filters (any dimension values, dates covering the data)."""
    first, last = data_range(con)
    return registry.source_for(con, "customer_combos", Request(filters=filters, first_date=first, last_date=last)) \
        is not None


def repeat_funnel(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per order number n = 1..5 (5 = 5 or more): customers reaching it and their share."""
    sql, params = _precomputed_or(con, filters, "repeat_funnel_steps", repeat_funnel_sql,
                                  repeat_funnel_from_combos_sql)
    return con.execute(f"select * from ({sql}) order by order_number", params).df()


def days_between_orders(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Days from order n to n+1, for n = 1..4 (4 = 4 or later): median, quartiles and count (precomputed unfiltered)."""
    sql, params = _precomputed_or(con, filters, "order_intervals", days_between_sql)
    return con.execute(f"select * from ({sql}) order by from_order", params).df()


def time_to_second_order(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Customers by days from first to second order, in buckets, with the cumulative share of repeaters."""
    sql, params = _precomputed_or(con, filters, "second_order_buckets", second_order_sql,
                                  second_order_from_combos_sql)
    return con.execute(f"select * from ({sql}) order by within_days nulls last", params).df()

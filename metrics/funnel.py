"""The repeat funnel: how many customers reach order 2, 3, 4, 5+, and how long they take.

Orders are numbered per customer among the valid orders inside the filters, so with a date
range the funnel describes purchases within that range. Unfiltered, the numbering stored in the
orders table at upload is used, and the three results are precomputed at each upload.
"""

import duckdb
import pandas as pd

from metrics import dialect
from metrics.filters import Filters

TIME_TO_SECOND_BUCKETS = (7, 14, 30, 60, 90, 180, 365)


def _numbered_orders(filters: Filters) -> tuple[str, dict]:
    if filters == Filters():  # the orders table already numbers each customer's valid orders
        return """
            numbered_orders as (
                select customer_key, order_ts, customer_order_seq as order_number, days_since_previous,
                from orders
                where customer_order_seq is not null
            )
        """, {}
    where, params = filters.where("orders")
    sql = f"""
        numbered_orders as (
            select
                customer_key,
                order_ts,
                row_number() over (partition by customer_key order by order_ts, order_id) as order_number,
                {dialect.day_diff("order_ts", "lag(order_ts) over (partition by customer_key order by order_ts, order_id)")}
                    as days_since_previous,
            from orders
            where {where} and customer_key is not null
        )
    """
    return sql, params


def repeat_funnel_sql(filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the repeat funnel (unordered) and its parameters."""
    numbered, params = _numbered_orders(filters)
    sql = f"""
        with {numbered},

        -- each customer has exactly one order numbered n for every n up to their count
        reached as (
            select order_number, count(*) as customers,
            from numbered_orders
            where order_number <= 5
            group by order_number
        ),

        final as (
            select
                order_number,
                customers,
                customers / max(customers) over () as share_of_customers,
                customers / lag(customers) over (order by order_number) as share_of_previous_step,
            from reached
        )

        select * from final
    """
    return sql, params


def _precomputed_or(con, filters: Filters, table: str, sql_of) -> tuple[str, dict]:
    """The unfiltered result from its precomputed table, else the SQL counting from the orders."""
    if filters == Filters() and dialect.has_table(con, table):
        return f"select * from {table}", {}
    return sql_of(filters)


def repeat_funnel(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per order number n = 1..5 (5 = 5 or more): customers reaching it and their share."""
    sql, params = _precomputed_or(con, filters, "repeat_funnel_steps", repeat_funnel_sql)
    return con.execute(f"select * from ({sql}) order by order_number", params).df()


def days_between_sql(filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the days from order n to n+1 (unordered) and its parameters."""
    numbered, params = _numbered_orders(filters)
    sql = f"""
        with {numbered},

        gaps as (
            select least(order_number - 1, 4) as from_order, days_since_previous as days,
            from numbered_orders
            where order_number >= 2
        ),

        final as (
            select
                from_order,
                count(*) as repeat_orders,
                {dialect.quantile("days", 0.25)} as days_p25,
                {dialect.quantile("days", 0.5)} as days_median,
                {dialect.quantile("days", 0.75)} as days_p75,
            from gaps
            group by from_order
        )

        select * from final
    """
    return sql, params


def days_between_orders(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Days from order n to n+1, for n = 1..4 (4 = 4 or later): median, quartiles and count (precomputed unfiltered)."""
    sql, params = _precomputed_or(con, filters, "order_intervals", days_between_sql)
    return con.execute(f"select * from ({sql}) order by from_order", params).df()


def second_order_sql(filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the time-to-second-order buckets (unordered) and its parameters."""
    numbered, params = _numbered_orders(filters)
    bounds = " ".join(f"when days_since_previous <= {b} then {b}" for b in TIME_TO_SECOND_BUCKETS)
    sql = f"""
        with {numbered},

        second_orders as (
            select case {bounds} else null end as within_days,
            from numbered_orders
            where order_number = 2
        ),

        buckets as (
            select within_days, count(*) as customers,
            from second_orders
            group by within_days
        ),

        final as (
            select
                within_days,
                customers,
                customers / sum(customers) over () as share,
                sum(customers) over (order by within_days nulls last) / sum(customers) over () as cumulative_share,
            from buckets
        )

        select * from final
    """
    return sql, params


def time_to_second_order(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """Customers by days from first to second order, in buckets, with the cumulative share of repeaters."""
    sql, params = _precomputed_or(con, filters, "second_order_buckets", second_order_sql)
    return con.execute(f"select * from ({sql}) order by within_days nulls last", params).df()

"""What the store holds: row counts and date range of the derived tables."""

import duckdb
import pandas as pd


def store_inventory(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts of orders (valid, guest), customers, lines and assignments, and the order date range."""
    orders, valid, guests, customers, first, last = con.execute(
        """
        select
            count(*),
            count(*) filter (where is_valid),
            count(*) filter (where customer_id is null),
            count(distinct customer_id) filter (where is_valid),
            min(order_ts),
            max(order_ts),
        from orders
        """
    ).fetchall()[0]
    lines = con.execute("select count(*) from order_lines").fetchall()[0][0]
    assignments = con.execute("select count(*) from assignments").fetchall()[0][0]
    return {
        "orders": orders,
        "valid_orders": valid,
        "guest_orders": guests,
        "customers": customers,
        "order_lines": lines,
        "assignments": assignments,
        "first_order": pd.Timestamp(first) if first else None,
        "last_order": pd.Timestamp(last) if last else None,
    }


def dimension_values(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The distinct values of each filter dimension among valid orders, for filter pickers."""
    values = {}
    for dimension in ("member_tier", "channel", "region", "category"):
        rows = con.execute(
            f"select distinct {dimension} from orders where is_valid and {dimension} is not null order by 1"
        ).fetchall()
        values[dimension] = [row[0] for row in rows]
    return values

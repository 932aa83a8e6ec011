"""What the store holds: row counts and date range of the derived tables, and the filter values."""

import duckdb
import pandas as pd

from metrics.filters import DIMENSIONS
from store.models import dialect, registry
from store.models.orders import ORDER_FACTS_SQL, filter_values_sql
from store.models.registry import Request


def order_facts_source(con: duckdb.DuckDBPyConnection) -> str:
    """A one-row table of order counts and date ranges: precomputed at upload, else counted now."""
    return registry.source_for(con, "order_facts", Request()) or f"({ORDER_FACTS_SQL})"


def store_inventory(con: duckdb.DuckDBPyConnection) -> dict:
    """Counts of orders (valid, guest), customers, lines and assignments, and the order date range."""
    result = con.execute(f"select * from {order_facts_source(con)}")
    facts = dict(zip((column[0] for column in result.description), result.fetchone()))
    orders, valid, guests, first, last = (facts[c] for c in ("orders", "valid_orders", "guest_orders", "first_order",
                                                              "last_order"))
    if "customers" in facts:
        customers = facts["customers"]
    else:  # a version written before order_facts counted them: one row per identified customer with a valid order
        customers = con.execute("select count(*) from customers").fetchall()[0][0]
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
    source = registry.source_for(con, "filter_values", Request()) or f"({filter_values_sql()})"
    rows = con.execute(f"select dimension, value from {source} order by dimension, value").fetchall()
    values: dict[str, list[str]] = {d: [] for d in DIMENSIONS}
    for dimension, value in rows:
        values[dimension].append(value)
    return values


def dimension_values_by_orders(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str]]:
    """Every (dimension, value) the filter pickers offer, the values with most valid orders first: summed from
    the combination summaries (a few hundred rows), or counted from the orders in a version without them."""
    if all(dialect.has_table(con, name) for name in ("kpi_combos", "kpi_combo_months")):
        relation, count = "(select * from kpi_combo_months join kpi_combos using (combo_id)) as orders", "sum(orders)"
    else:
        relation, count = "(select * from orders where is_valid) as orders", "count(*)"
    counted = " union all ".join(f"select '{d}' as dimension, {d} as value, {count} as orders from {relation} "
                                 f"where {d} is not null group by {d}" for d in DIMENSIONS)
    return [(dimension, value) for dimension, value, _ in
            con.execute(f"select * from ({counted}) as counted order by orders desc, dimension, value").fetchall()]

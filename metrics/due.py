"""Due for repurchase: customers past their usual interval between orders but not yet lapsed.

usual interval = median days between the customer's consecutive valid orders (2+ orders needed);
due when usual interval < days since last order <= min(LAPSE_MULTIPLE x usual interval,
LAPSE_DAYS). Days are counted to the reference date: the filter's end, else the data's last day.
The unfiltered list is precomputed at each upload (`due_list`, model `store.models.customers`).
"""

import duckdb
import pandas as pd

from metrics.customer_facts import kept_tables, orders_source
from metrics.filters import Filters
from store.models import customers as model
from store.models import filtered_customers, registry
from store.models.customers import LAPSE_DAYS, LAPSE_MULTIPLE
from store.models.registry import Request

DISPLAY_ORDER = model.DUE_DISPLAY_ORDER  # most valuable first

__all__ = ["DISPLAY_ORDER", "LAPSE_DAYS", "LAPSE_MULTIPLE", "due_for_repurchase", "due_list_sql", "most_valuable_due"]


def due_list_sql(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                 most_valuable: bool = False) -> tuple[str, dict]:
    """SQL of the due customers (unordered) and its parameters: from the customers base model unfiltered,
    else from the kept facts of the filters (metrics.customer_facts). `most_valuable`: only the $row_limit
    first in display order, with `due_customers`, how many are due in all."""
    if filters == Filters():
        sql = model.due_list_sql(model.FACTS_FROM_CUSTOMERS)
        if most_valuable:
            sql = model.most_valuable_sql(f"({sql})")
        return sql, {}
    facts, _ = kept_tables(con, filters)
    where, params = filters.where("orders")
    params["reference_date"] = filters.end
    return filtered_customers.due_list_sql(facts, where, orders_source(con, filters), most_valuable), params


def due_for_repurchase(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                       limit: int | None = None) -> pd.DataFrame:
    """Customers due for repurchase, most valuable first: last order, usual interval, days overdue, value."""
    params = {"row_limit": limit if limit is not None else 2**62}
    if registry.source_for(con, "due_list", Request(filters=filters)):  # stored in this order
        return con.execute("select * from due_list limit $row_limit", params).df()
    sql, filter_params = due_list_sql(con, filters)
    return con.execute(f"select * from ({sql}) order by {DISPLAY_ORDER} limit $row_limit",
                       {**params, **filter_params}).df()


def most_valuable_due(con: duckdb.DuckDBPyConnection, filters: Filters, limit: int) -> tuple[pd.DataFrame, int]:
    """The `limit` most valuable customers due for repurchase, and how many customers are due in all
    (one pass over the list: a page shows the first rows, never millions)."""
    if registry.source_for(con, "due_list", Request(filters=filters)):
        count = con.execute("select count(*) from due_list").fetchone()[0]
        return con.execute("select * from due_list limit $row_limit", {"row_limit": limit}).df(), count
    sql, params = due_list_sql(con, filters, most_valuable=True)
    top = con.execute(f"select * from ({sql}) order by {DISPLAY_ORDER}", {**params, "row_limit": limit}).df()
    count = int(top["due_customers"].iloc[0]) if len(top) else 0
    return top.drop(columns="due_customers"), count

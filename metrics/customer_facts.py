"""Per-customer facts behind the Customers page, RFM and the playbook's lists: one row per customer with a
valid order inside the filters, counted to the reference date (the filter's end, else the data's last day).

Unfiltered, the facts are the `customers` base model itself, to its last day. Under a filter, each kept
customer's orders are counted once per connection into two temporary tables, the kept facts and the
kept gaps (`kept_tables`; SQL: `store.models.filtered_customers`), which the funnel, the days between
orders, the time to the second order, RFM and the due list all read: the Customers page runs them on
one connection (`ui.data.customer_views`).
"""

import hashlib
from datetime import date

from metrics.filters import Filters
from store.models import dialect, filtered_customers, registry
from store.models.customers import FACTS_FROM_CUSTOMERS
from store.models.registry import Request


def orders_source(con, filters: Filters) -> str:
    """Where the valid identified orders inside `filters` are counted from: `orders_by_dimension` (sorted
    by dimension: a filter reads only its row groups), or the orders table in a version without it (in the
    seconds after an upload is published, before that late table is built; a failed late build; a
    version written before it existed)."""
    return registry.source_for(con, "orders_by_dimension", Request(filters=filters)) or "orders"


def kept_last_day(con, filters: Filters) -> date | None:
    """The day the per-customer facts under `filters` count to: the filter's end, else the day of the last valid
    identified order inside it (None: no such order). Read from `last_order_days` (one row per combination of the
    dimension values) when the version has it, else counted from the orders."""
    if filters.end:
        return filters.end
    where, params = filters.where("orders")
    if dialect.has_table(con, "last_order_days"):
        relation = "last_order_days"
    else:
        relation, where = orders_source(con, filters), f"{where} and orders.customer_key is not null"
    return con.execute(f"select max(order_date) from {relation} as orders where {where}", params).fetchone()[0]


def kept_tables(con, filters: Filters) -> tuple[str, str]:
    """(kept facts, kept gaps): this connection's two tables of each customer's orders inside `filters`,
    made on its first request for them."""
    where, params = filters.where("orders")
    relation = orders_source(con, filters)
    digest = hashlib.sha256(repr((where, sorted(params.items()), relation)).encode()).hexdigest()[:16]
    facts, gaps = f"kept_facts_{digest}", f"kept_gaps_{digest}"
    if not dialect.has_table(con, facts):
        con.execute(dialect.temporary_table(gaps, filtered_customers.kept_gaps_sql(where, relation)), params)
        con.execute(dialect.temporary_table(facts, filtered_customers.kept_facts_sql(where, relation, gaps)), params)
    return facts, gaps


def facts_ctes(con, filters: Filters, names: bool = False) -> tuple[str, dict]:
    """CTEs ending in `facts` for these filters and their parameters: the customers base model when
    unfiltered, else the kept facts; `names`: look up each kept customer's tier, channel and region
    (otherwise null under a filter: RFM's totals read none)."""
    if filters == Filters():
        return FACTS_FROM_CUSTOMERS, {}
    facts, _ = kept_tables(con, filters)
    params, kept_orders = {"reference_date": filters.end}, None
    if names:
        where, filter_params = filters.where("orders")
        kept_orders = (where, orders_source(con, filters))
        params = {**params, **filter_params}
    return filtered_customers.facts_ctes(facts, kept_orders), params

"""Per-customer facts behind RFM and the playbook's lists: one row per customer with a valid order
inside the filters, counted to the reference date (the filter's end, else the data's last day).

The SQL is the model `store.models.customers`; the facts of the unfiltered store are the `customers`
base model itself, to its last day, with usual_interval_days (the median days between the customer's
consecutive valid orders). Within filters the usual interval is not counted (null): RFM reads none,
and the due list counts its own (`metrics.due`).
"""

from metrics.filters import Filters
from metrics.funnel import combos_answer, orders_source
from store.models import customer_combos
from store.models.customers import FACTS_FROM_CUSTOMERS, facts_ctes_from_orders


def facts_ctes(con, filters: Filters) -> tuple[str, dict]:
    """CTEs ending in `facts` for these filters, read from the customers base model when unfiltered,
    from `customer_combos` under dimension filters with dates covering the data, else from the orders."""
    if filters == Filters():
        return FACTS_FROM_CUSTOMERS, {}
    if combos_answer(con, filters):
        where, params = filters.where("orders", dates=False)
        params["reference_date"] = filters.end
        return customer_combos.facts_ctes(where), params
    where, params = filters.where("orders")
    params["reference_date"] = filters.end
    return facts_ctes_from_orders(where, orders_source(con, filters)), params

"""Per-customer facts behind the due-for-repurchase list and RFM: one row per customer with a valid
order inside the filters, counted to the reference date (the filter's end, else the data's last day).

usual_interval_days = median days between the customer's consecutive valid orders (null with one order).
The SQL is the model `store.models.customers`; the facts of the unfiltered store are the `customers`
base model itself, to its last day.
"""

from metrics.filters import Filters
from metrics.funnel import combos_answer, orders_source
from store.models import customer_combos
from store.models.customers import FACTS_FROM_CUSTOMERS, facts_ctes_from_orders


def facts_ctes(con, filters: Filters, usual_interval: bool = True) -> tuple[str, dict]:
    """CTEs ending in `facts` for these filters, read from the customers base model when unfiltered.
    Without `usual_interval` (RFM reads no interval), under dimension filters with dates covering the
    data, from `customer_combos` (usual_interval_days null there)."""
    if filters == Filters():
        return FACTS_FROM_CUSTOMERS, {}
    if not usual_interval and combos_answer(con, filters):
        where, params = filters.where("orders", dates=False)
        params["reference_date"] = filters.end
        return customer_combos.facts_ctes(where), params
    where, params = filters.where("orders")
    params["reference_date"] = filters.end
    return facts_ctes_from_orders(where, orders_source(con, filters)), params

"""The Customers page's per-customer results, computed on one connection.

Under a filter the funnel, the days between orders, the time to the second order, RFM and the due list
all read the connection's kept facts and gaps (`metrics.customer_facts.kept_tables`), so on one
connection each kept customer's orders are counted once for all five.
"""

import duckdb

from metrics import due, funnel, segments
from metrics.filters import Filters


def customer_views(con: duckdb.DuckDBPyConnection, filters: Filters, rows_shown: int) -> dict:
    """funnel, days_between_orders, time_to_second_order, rfm_segments (frames), due (the `rows_shown`
    most valuable customers due for repurchase) and due_count (how many are due)."""
    views = {
        "funnel": funnel.repeat_funnel(con, filters),
        "days_between_orders": funnel.days_between_orders(con, filters),
        "time_to_second_order": funnel.time_to_second_order(con, filters),
        "rfm_segments": segments.rfm_segments(con, filters),
    }
    views["due"], views["due_count"] = due.most_valuable_due(con, filters, rows_shown)
    return views

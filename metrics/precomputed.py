"""Summary tables precomputed at each store change, so that the usual page views read small tables.

Each is metric SQL defined in its metric module, run once over the whole store by
`store.derived.build_derived_tables` and saved beside the derived tables. A metric function reads
its summary table when the request matches what was precomputed, and counts from the orders
otherwise, with the same definitions.
"""

from typing import Callable

import duckdb

from metrics.clv import precomputed_sql as clv_precomputed_sql
from metrics.cohorts import cohort_base_sql
from metrics.customer_facts import customer_facts_sql
from metrics.due import stored_due_list_sql
from metrics.experiment_sql import planner_base_sql
from metrics.funnel import days_between_sql, repeat_funnel_sql, second_order_sql
from metrics.inventory import ORDER_FACTS_SQL, filter_values_sql
from metrics.kpis import PRECOMPUTED_BREAKDOWNS, kpi_base_params, kpi_base_sql
from metrics.segments import rfm_segments_sql

# In build order: the last two read customer_facts.
PRECOMPUTED_TABLES = ("order_facts", "filter_values", "kpi_base", "cohort_base", "order_intervals", "customer_facts", "due_list",
                      "rfm_segment_totals", "planner_base", "repeat_funnel_steps", "second_order_buckets",
                      "clv_calibration", "clv_holdout_days", "clv_customers")


def precomputed_tables(con: duckdb.DuckDBPyConnection) -> dict[str, Callable[[], tuple[str | list[str], dict]]]:
    """{table name: function giving its (SQL, parameters)}, in build order (call each once the tables
    before it exist on `con`); empty for a store without valid orders. A list of SQL queries is one
    table built part by part: their union all, which run at once would hold every part's work in
    memory together (kpi_base at 10M orders: 13.0 s at once, 10.4 s one after another)."""
    if con.execute("select count(*) from orders where is_valid").fetchone()[0] == 0:
        return {}
    return {
        "order_facts": lambda: (ORDER_FACTS_SQL, {}),
        "filter_values": lambda: (filter_values_sql(), {}),
        "kpi_base": lambda: ([kpi_base_sql(by) for by in (None, *PRECOMPUTED_BREAKDOWNS)], kpi_base_params(con)),
        "cohort_base": lambda: (cohort_base_sql(), {}),
        "order_intervals": days_between_sql,
        "customer_facts": lambda: (customer_facts_sql(), {"reference_date": None}),
        "due_list": lambda: stored_due_list_sql(con),
        "rfm_segment_totals": lambda: rfm_segments_sql(con),
        "planner_base": lambda: (planner_base_sql(), {}),
        "repeat_funnel_steps": repeat_funnel_sql,
        "second_order_buckets": second_order_sql,
        # the Customer value page's calibration summary (metrics.clv): default cut-off and last date
        **{name: (lambda name=name: clv_precomputed_sql(con)[name]) for name in ("clv_calibration", "clv_holdout_days",
                                                                                  "clv_customers")},
    }

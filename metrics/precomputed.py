"""Summary tables precomputed at each store change, so that the usual page views read small tables.

Each is metric SQL defined in its metric module, run once over the whole store by
`store.derived.build_derived_tables` and saved beside the derived tables. A metric function reads
its summary table when the request matches what was precomputed, and counts from the orders
otherwise, with the same definitions.
"""

import duckdb

from metrics.cohorts import cohort_base_sql
from metrics.customer_facts import customer_facts_sql
from metrics.kpis import PRECOMPUTED_BREAKDOWNS, kpi_base_params, kpi_base_sql

PRECOMPUTED_TABLES = ("kpi_base", "cohort_base", "customer_facts")


def precomputed_tables(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, dict]]:
    """{table name: (SQL, parameters)} over the derived tables on `con`; empty for a store without valid orders."""
    if con.execute("select count(*) from orders where is_valid").fetchone()[0] == 0:
        return {}
    kpi_base = " union all ".join(f"({kpi_base_sql(by)})" for by in (None, *PRECOMPUTED_BREAKDOWNS))
    return {
        "kpi_base": (kpi_base, kpi_base_params(con)),
        "cohort_base": (cohort_base_sql(), {}),
        "customer_facts": (customer_facts_sql(), {"reference_date": None}),
    }

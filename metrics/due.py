"""Due for repurchase: customers past their usual interval between orders but not yet lapsed.

usual interval = median days between the customer's consecutive valid orders (2+ orders needed);
due when usual interval < days since last order <= min(LAPSE_MULTIPLE x usual interval,
LAPSE_DAYS). Days are counted to the reference date: the filter's end, else the data's last day.
The unfiltered list is precomputed at each upload (`due_list`).
"""

import duckdb
import pandas as pd

from metrics import dialect
from metrics.customer_facts import facts_ctes
from metrics.filters import Filters

LAPSE_MULTIPLE = 3
LAPSE_DAYS = 365
DISPLAY_ORDER = "revenue desc, days_overdue desc, customer_id"  # most valuable first


def due_list_sql(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> tuple[str, dict]:
    """SQL of the due customers (unordered) and its parameters."""
    facts, params = facts_ctes(con, filters)
    sql = f"""
        with {facts},

        final as (
            select
                customer_id,
                member_tier,
                last_channel,
                region,
                last_order_date,
                orders,
                usual_interval_days,
                days_since_last_order,
                days_since_last_order - usual_interval_days as days_overdue,
                revenue,
                revenue / orders as aov,
            from facts
            where orders >= 2
                and days_since_last_order > usual_interval_days
                and days_since_last_order <= least({LAPSE_MULTIPLE} * usual_interval_days, {LAPSE_DAYS})
        )

        select * from final
    """
    return sql, params


def stored_due_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """The unfiltered due list in display order, as precomputed (`due_list`)."""
    sql, params = due_list_sql(con)
    return f"select * from ({sql}) order by {DISPLAY_ORDER}", params


def due_for_repurchase(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                       limit: int | None = None) -> pd.DataFrame:
    """Customers due for repurchase, most valuable first: last order, usual interval, days overdue, value."""
    params = {"row_limit": limit if limit is not None else 2**62}
    if filters == Filters() and dialect.has_table(con, "due_list"):  # stored in this order
        return con.execute("select * from due_list limit $row_limit", params).df()
    sql, filter_params = due_list_sql(con, filters)
    return con.execute(f"select * from ({sql}) order by {DISPLAY_ORDER} limit $row_limit",
                       {**params, **filter_params}).df()

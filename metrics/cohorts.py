"""Cohort retention: acquisition month x months since first order.

A cohort is the month of a customer's first valid order ever. Within the filters, |C| counts
the cohort's customers with a filtered order in their first month, and month C+k counts those of
them with a filtered order in that month. Cohorts smaller than MIN_COHORT_SIZE are flagged.
Without dimension filters the groups come from `cohort_base`, precomputed at each upload.
"""

import duckdb
import pandas as pd

from metrics import dialect
from metrics.filters import Filters

MIN_COHORT_SIZE = 30
COLUMNS = ["cohort_month", "age", "cohort_customers", "active_customers", "revenue", "retention",
           "revenue_retention", "cumulative_revenue_per_customer", "small_cohort"]


def _groups_from_orders(where: str, cohort_where: str) -> str:
    """CTEs ending in `groups` (customers and revenue per cohort and month) and `scope_last_month`."""
    return f"""
        filtered_orders as (
            select customer_key, cohort_month, order_month as month, amount,
            from orders
            where {where} and customer_key is not null
        ),

        active_months as (
            select customer_key, cohort_month, month, sum(amount) as revenue,
            from filtered_orders
            group by customer_key, cohort_month, month
        ),

        in_scope as (
            select *, {dialect.month_diff("month", "cohort_month")} as age,
            from active_months
            where {cohort_where}
        ),

        groups as (
            select cohort_month, month, age, count(*) as active_customers, sum(revenue) as revenue,
            from in_scope
            where customer_key in (select customer_key from in_scope where age = 0)
            group by cohort_month, month, age
        ),

        scope_last_month as (
            select max(month) as last_month from in_scope
        )
    """


def cohort_base_sql() -> str:
    """The precomputed cohort groups of the whole store (customers and revenue per cohort and month)."""
    return f"with {_groups_from_orders('orders.is_valid', 'true')} select * from groups"


def _groups_from_cube(cohort_where: str) -> str:
    """The same CTEs read from the precomputed cohort_base: without dimension filters every active
    customer has a first-month row in scope, so the groups need no per-customer check."""
    return f"""
        groups as (
            select cohort_month, month, age, active_customers, revenue,
            from cohort_base
            where {cohort_where}
        ),

        scope_last_month as (
            select max(month) as last_month from groups
        )
    """


def cohort_matrix(con: duckdb.DuckDBPyConnection, filters: Filters = Filters()) -> pd.DataFrame:
    """One row per cohort and age k: customers, retention, revenue retention, cumulative revenue per customer."""
    where, params = filters.where("orders", dates=False)
    date_conditions = []
    if filters.start:
        date_conditions.append("cohort_month >= date_trunc('month', cast($cohort_start as date))")
        params["cohort_start"] = filters.start
    if filters.end:
        date_conditions.append("month <= $activity_end")
        params["activity_end"] = filters.end
    cohort_where = " and ".join(date_conditions) or "true"
    use_cube = not filters.dimension_values() and dialect.has_table(con, "cohort_base")
    groups = _groups_from_cube(cohort_where) if use_cube else _groups_from_orders(where, cohort_where)
    sql = f"""
        with {groups},

        cohorts as (
            select cohort_month, active_customers as cohort_customers, revenue as first_month_revenue,
            from groups
            where age = 0
        ),

        grid as (
            select cohorts.cohort_month, {dialect.month_diff("months.month", "cohorts.cohort_month")} as age,
            from cohorts
            cross join scope_last_month
            join {dialect.month_spine("$spine_start", "$spine_end")} as months
                on months.month >= cohorts.cohort_month and months.month <= scope_last_month.last_month
        ),

        final as (
            select
                grid.cohort_month,
                grid.age,
                cohorts.cohort_customers,
                coalesce(groups.active_customers, 0) as active_customers,
                coalesce(groups.revenue, 0) as revenue,
                coalesce(groups.active_customers, 0) / cohorts.cohort_customers as retention,
                coalesce(groups.revenue, 0) / nullif(cohorts.first_month_revenue, 0) as revenue_retention,
                sum(coalesce(groups.revenue, 0)) over (partition by grid.cohort_month order by grid.age)
                    / cohorts.cohort_customers as cumulative_revenue_per_customer,
                cohorts.cohort_customers < {MIN_COHORT_SIZE} as small_cohort,
            from grid
            join cohorts using (cohort_month)
            left join groups using (cohort_month, age)
        )

        select * from final order by cohort_month, age
    """
    first, last = con.execute("select min(order_month), max(order_month) from orders where is_valid").fetchall()[0]
    if first is None:
        return pd.DataFrame(columns=COLUMNS)
    params.update({"spine_start": first, "spine_end": last})
    return con.execute(sql, params).df()


def average_retention_curve(matrix: pd.DataFrame) -> pd.DataFrame:
    """Retention by age k over the cohorts observed at that age, weighted by cohort size."""
    if matrix.empty:
        return pd.DataFrame(columns=["age", "retention", "cohorts"])
    totals = matrix.groupby("age").agg(
        active=("active_customers", "sum"), size=("cohort_customers", "sum"), cohorts=("cohort_month", "count")
    )
    return pd.DataFrame({
        "age": totals.index.astype(int),
        "retention": (totals["active"] / totals["size"]).to_numpy(),
        "cohorts": totals["cohorts"].to_numpy(),
    })


def cohort_pivot(matrix: pd.DataFrame, value: str = "retention") -> pd.DataFrame:
    """Cohorts as rows, ages as columns; ages the data has not reached yet stay empty."""
    if matrix.empty:
        return pd.DataFrame()
    return matrix.pivot(index="cohort_month", columns="age", values=value)

"""Cohort groups: customers and revenue per cohort (month of the first valid order ever) and month.

`groups_from_orders` counts them for any filter; the summary `cohort_base` holds the groups of the
whole store, precomputed at each change (it answers requests without dimension filters).
"""

from store.models import dialect
from store.models.orders import customer_months_sql


def groups_from_orders(where: str, cohort_where: str, active_months: str | None = None) -> str:
    """CTEs ending in `groups` (customers and revenue per cohort and month) and `scope_last_month`.
    active_months: the customer x month rows read from elsewhere (`kpi_combos.active_months_from_combos`)."""
    active_months = active_months or customer_months_sql(where + " and customer_key is not null")
    return f"""
        active_months as ({active_months}),

        in_scope as (
            select *, {dialect.month_diff("month", "cohort_month")} as age
            from active_months
            where {cohort_where}
        ),

        groups as (
            select cohort_month, month, age, count(*) as active_customers, sum(revenue) as revenue
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
    return f"with {groups_from_orders('orders.is_valid', 'true')} select * from groups"


def groups_from_cohort_base(cohort_where: str) -> str:
    """The same CTEs read from the precomputed cohort_base: without dimension filters every active
    customer has a first-month row in scope, so the groups need no per-customer check."""
    return f"""
        groups as (
            select cohort_month, month, age, active_customers, revenue
            from cohort_base
            where {cohort_where}
        ),

        scope_last_month as (
            select max(month) as last_month from groups
        )
    """


def cohort_base_append(con) -> tuple[str, dict]:
    """cohort_base after an append of later orders (`new_batch_orders`, see store.derived): the previous
    rows of the months before the first new month M, and the months from M counted from their orders.
    Without filters every customer's first month is in scope, so `groups_from_orders`' check that the
    customer has an age-0 row holds for all and is left out here (their cohort is on every order)."""
    first_new = con.execute("select min(cast(order_ts as date)) from new_batch_orders where status = 'valid'").fetchone()[0]
    if first_new is None:
        return "select * from previous_cohort_base", {}
    active = customer_months_sql("orders.is_valid and customer_key is not null and order_month >= $first_new_month")
    counted = f"""
        select cohort_month, month, {dialect.month_diff("month", "cohort_month")} as age,
            count(*) as active_customers, sum(revenue) as revenue
        from ({active}) as active_months
        group by cohort_month, month, age
    """
    kept = "select * from previous_cohort_base where month < $first_new_month"
    return dialect.union_by_name([kept, counted]), {"first_new_month": first_new.replace(day=1)}

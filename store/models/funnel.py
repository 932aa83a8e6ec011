"""The repeat funnel's SQL: customers reaching order 2, 3, 4, 5+, days between orders, time to the second order.

Orders are numbered per customer among the valid orders inside the filters: unfiltered, the
numbering stored in the orders table; under a filter, the kept gaps and facts counted once per
connection (`store.models.filtered_customers`). The three unfiltered results are the summaries
`repeat_funnel_steps`, `order_intervals` and `second_order_buckets`, precomputed at each change;
`order_intervals` reads its quartiles from `order_gap_days` (repeat orders per whole day of gap), which
an append adds to, as it adds to the funnel's and the second orders' counts.
"""

from store.models import dialect

TIME_TO_SECOND_BUCKETS = (7, 14, 30, 60, 90, 180, 365)


def _funnel_steps(reached: str) -> str:
    """The funnel's steps, given CTEs ending in `reached` (order_number, customers)."""
    return f"""
        with {reached},

        final as (
            select
                order_number,
                customers,
                customers / max(customers) over () as share_of_customers,
                customers / lag(customers) over (order by order_number) as share_of_previous_step
            from reached
        )

        select * from final
    """


def _reached_from_counts(customer_orders: str) -> str:
    """CTEs ending in `reached` (order_number, customers), given CTEs ending in `customer_orders`
    (customer_key, orders): the customers reaching order n are those with at least n orders."""
    steps = " union all ".join(
        f"select cast({n} as bigint) as order_number, count(*) as customers from customer_orders where orders >= {n}"
        for n in range(1, 6))
    return f"""
        {customer_orders},

        reached as (
            select order_number, customers from ({steps}) as steps where customers > 0
        )
    """


def repeat_funnel_sql() -> str:
    """SQL of the unfiltered repeat funnel (unordered): the orders table numbers each customer's valid
    orders, so the customers reaching order n are its orders numbered n."""
    return _funnel_steps("""
        reached as (
            select customer_order_seq as order_number, count(*) as customers
            from orders
            where customer_order_seq <= 5
            group by customer_order_seq
        )
    """)


def repeat_funnel_from_kept_sql(kept_facts: str) -> str:
    """The repeat funnel under a filter from its kept facts (store.models.filtered_customers): customers
    reaching order n are those with at least n kept orders. Counted per customer, not numbered: DuckDB
    turns "order number <= 5" into a top-5 heap per customer, which at 100M orders filled the disk for a
    two-channel filter (bench/README.md)."""
    return _funnel_steps(_reached_from_counts(f"""
        customer_orders as (
            select customer_key, orders from {kept_facts}
        )
    """))


def days_between_from_kept_sql(kept_gaps: str) -> str:
    """The days from order n to n+1 under a filter (unordered) from its kept gaps: the quartiles read from
    the repeat orders per whole day of gap, so no quantile holds every gap in memory (at 100M orders a
    two-channel filter ran out of memory)."""
    return quartiles_from_gap_days_sql(f"""
        gap_days as (
            select least(order_number - 1, 4) as from_order, days_between as days, count(*) as repeat_orders
            from {kept_gaps}
            group by least(order_number - 1, 4), days_between
        )
    """)


def _bucket_case() -> str:
    bounds = " ".join(f"when days_since_previous <= {b} then {b}" for b in TIME_TO_SECOND_BUCKETS)
    return f"case {bounds} else null end"


def _bucket_shares(buckets: str) -> str:
    """The buckets' shares, given CTEs ending in `buckets` (within_days, customers)."""
    return f"""
        with {buckets},

        final as (
            select
                within_days,
                customers,
                customers / sum(customers) over () as share,
                sum(customers) over (order by within_days nulls last) / sum(customers) over () as cumulative_share
            from buckets
        )

        select * from final
    """


def _second_order_buckets(second_orders: str) -> str:
    """The time-to-second-order buckets, given CTEs ending in `second_orders` (days_since_previous)."""
    return _bucket_shares(f"""
        {second_orders},

        buckets as (
            select {_bucket_case()} as within_days, count(*) as customers
            from second_orders
            group by {_bucket_case()}
        )
    """)


def second_order_sql() -> str:
    """SQL of the unfiltered time-to-second-order buckets (unordered): the stored numbering's second orders."""
    return _second_order_buckets("""
        second_orders as (
            select days_since_previous
            from orders
            where customer_order_seq = 2
        )
    """)


def second_order_from_kept_sql(kept_gaps: str) -> str:
    """The time-to-second-order buckets under a filter (unordered) from its kept gaps of order 2."""
    return _second_order_buckets(f"""
        second_orders as (
            select days_between as days_since_previous
            from {kept_gaps}
            where order_number = 2
        )
    """)


# ---- the append path (store.derived): the unfiltered counts are integers that add up ----
# The new orders (`new_orders`) are numbered on from each customer's earlier orders, so a customer
# reaches order n in the new rows only if their order n is among them.


def repeat_funnel_append(con) -> tuple[str, dict]:
    """repeat_funnel_steps after an append: the previous customers per order number plus the new orders numbered 1-5."""
    if not dialect.has_table(con, "previous_repeat_funnel_steps"):
        return repeat_funnel_sql(), {}
    return _funnel_steps("""
        counts as (
            select order_number, customers from previous_repeat_funnel_steps
            union all
            select customer_order_seq as order_number, count(*) as customers
            from new_orders
            where customer_order_seq <= 5
            group by customer_order_seq
        ),

        reached as (
            select order_number, cast(sum(customers) as bigint) as customers
            from counts
            group by order_number
        )
    """), {}


def second_order_append(con) -> tuple[str, dict]:
    """second_order_buckets after an append: the previous buckets plus the new second orders."""
    if not dialect.has_table(con, "previous_second_order_buckets"):
        return second_order_sql(), {}
    return _bucket_shares(f"""
        counts as (
            select within_days, customers from previous_second_order_buckets
            union all
            select {_bucket_case()} as within_days, count(*) as customers
            from new_orders
            where customer_order_seq = 2
            group by {_bucket_case()}
        ),

        buckets as (
            select within_days, cast(sum(customers) as bigint) as customers
            from counts
            group by within_days
        )
    """), {}


# ---- the unfiltered days between orders from counts per whole day (exact quantiles, appendable) ----

ORDER_GAP_DAYS_SQL = """
select least(customer_order_seq - 1, 4) as from_order, days_since_previous as days, count(*) as repeat_orders
from orders
where customer_order_seq >= 2
group by least(customer_order_seq - 1, 4), days_since_previous
"""


def order_gap_days_append(con) -> tuple[str, dict]:
    """order_gap_days after an append: the previous counts plus the new orders' gaps."""
    if not dialect.has_table(con, "previous_order_gap_days"):
        return ORDER_GAP_DAYS_SQL, {}
    new = ORDER_GAP_DAYS_SQL.replace("from orders", "from new_orders")
    return f"""
        select from_order, days, cast(sum(repeat_orders) as bigint) as repeat_orders
        from (select * from previous_order_gap_days union all {new}) as counts
        group by from_order, days
    """, {}


def order_intervals_from_gap_days_sql() -> str:
    """order_intervals (days_between_sql unfiltered) from the stored `order_gap_days`."""
    return quartiles_from_gap_days_sql("gap_days as (select * from order_gap_days)")


def quartiles_from_gap_days_sql(gap_days: str) -> str:
    """The days between orders per from_order (repeat orders, quartiles), given CTEs ending in `gap_days`
    (from_order, days, repeat_orders): the gaps are whole days, so each quartile is read from the
    cumulative counts with quantile_cont's rule: position (n - 1) * q, the values at its floor and
    ceiling, interpolated."""
    quartiles = " union all ".join(f"select {q} as q" for q in (0.25, 0.5, 0.75))
    return f"""
        with {gap_days},

        cumulative as (
            select
                from_order,
                days,
                sum(repeat_orders) over (partition by from_order order by days) as through,
                cast(sum(repeat_orders) over (partition by from_order) as bigint) as total
            from gap_days
        ),

        positions as (
            select from_order, total, q, (total - 1) * q as position
            from (select distinct from_order, total from cumulative) as totals
            cross join ({quartiles}) as quartiles
        ),

        bounds as (
            select
                positions.from_order,
                positions.total,
                positions.q,
                positions.position,
                min(cumulative.days) filter (where cumulative.through > floor(positions.position)) as low,
                min(cumulative.days) filter (where cumulative.through > -floor(-positions.position)) as high
            from positions
            join cumulative on cumulative.from_order = positions.from_order
            group by positions.from_order, positions.total, positions.q, positions.position
        ),

        interpolated as (
            select
                from_order,
                total,
                q,
                cast(low as double) + cast(high - low as double) * (position - floor(position)) as days
            from bounds
        ),

        final as (
            select
                from_order,
                any_value(total) as repeat_orders,
                max(days) filter (where q = 0.25) as days_p25,
                max(days) filter (where q = 0.5) as days_median,
                max(days) filter (where q = 0.75) as days_p75
            from interpolated
            group by from_order
        )

        select * from final
    """

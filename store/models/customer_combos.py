"""The Customers page under any dimension filter, from one row per customer and combination.

`customer_combos`: per identified customer and combination of the four dimension values
(`kpi_combos.combo_id`), over every valid order: orders, revenue, the times of the first two
orders and of the last, the last order's day. A filter on the dimensions keeps whole combinations,
so for the customers' orders inside it (docs/metrics.md: filters select orders):

- the number of orders and the revenue are sums over the kept rows (revenue is a DECIMAL: exact);
- the last order is the latest of the kept rows' last orders (its tier, channel and region are
  the row's combination's);
- the first two orders are the two earliest of the kept rows' first two: the repeat funnel, the
  time to the second order and the RFM facts need nothing else.

It answers when the date range covers every valid order (the sidebar's default range); a range
inside the data, the days between later orders and the usual interval (medians of every gap)
count from the orders.

On an append (`append_rows`), the new orders' rows are written as one more part beside the previous
files, which are kept as they are: a customer and combination then has a row in each part it bought
in. Every reader combines a customer's rows as it combines their combinations (sums, the latest last
order, the two earliest of the rows' first two: the new orders all come later), so the answers are
those of one row per customer and combination; the full rebuild writes one again.
"""

from store.models import dialect
from store.models.kpi_combos import COMBO_ORDER, SAME_COMBO, kept_combos


def _rows_sql(relation: str) -> str:
    """One row per customer and combination of the valid identified orders of `relation`."""
    return f"""
        numbered as (
            select
                orders.customer_key,
                orders.customer_id,
                kpi_combos.combo_id,
                orders.order_ts,
                orders.order_date,
                orders.amount,
                row_number() over (partition by orders.customer_key, kpi_combos.combo_id
                                   order by orders.order_ts, orders.order_id) as combo_order
            from {relation} as orders
            join kpi_combos on {SAME_COMBO}
            where orders.is_valid and orders.customer_key is not null
        ),

        combo_rows as (
            select
                customer_key,
                any_value(customer_id) as customer_id,
                combo_id,
                count(*) as orders,
                sum(amount) as revenue,
                min(order_ts) filter (where combo_order = 1) as first_order_ts,
                min(order_ts) filter (where combo_order = 2) as second_order_ts,
                max(order_ts) as last_order_ts,
                max(order_date) as last_order_date
            from numbered
            group by customer_key, combo_id
        )
    """


CUSTOMER_COMBOS_SQL = f"with {_rows_sql('orders')} select * from combo_rows order by {COMBO_ORDER}"


def customer_combos_append(con) -> tuple[str | None, dict]:
    """After an append: the rows of the new orders alone (one more part, see the module's docstring);
    None (built whole) when the previous version has no combination tables."""
    from store.models.kpi_combos import _combos_missing

    if _combos_missing(con) or not dialect.has_table(con, "previous_customer_combos"):
        return None, {}
    return f"with {_rows_sql('new_orders')} select * from combo_rows order by {COMBO_ORDER}", {}


def covers(request) -> bool:
    """Whether `customer_combos` answers: any dimension filter, dates covering every valid order
    (no start or one on or before the first valid day; no end or one on or after the last)."""
    start, end = request.filters.start, request.filters.end
    if start is not None and (request.first_date is None or start > request.first_date):
        return False
    return end is None or (request.last_date is not None and end >= request.last_date)


def kept_rows_cte(where: str) -> str:
    """CTE `kept_rows`: the customer_combos rows of the combinations `where` keeps (written for the
    orders, without dates), with their dimension values."""
    return f"""
        kept_rows as (
            select customer_combos.*, kpi_combos.member_tier, kpi_combos.channel, kpi_combos.region
            from customer_combos
            join ({kept_combos(where, "'all'")}) as kept using (combo_id)
            join kpi_combos using (combo_id)
        )
    """


def order_counts_ctes(where: str) -> str:
    """CTEs ending in `customer_orders` (customer_key, orders): each kept customer's orders inside the filter."""
    return f"""
        {kept_rows_cte(where)},

        customer_orders as (
            select customer_key, sum(orders) as orders
            from kept_rows
            group by customer_key
        )
    """


def second_order_days_ctes(where: str) -> str:
    """CTEs ending in `second_orders` (customer_key, days_since_previous): days from each kept
    customer's first to second order inside the filter (the two earliest of the kept rows' first two)."""
    return f"""
        {kept_rows_cte(where)},

        early_orders as (
            select customer_key, first_order_ts as order_ts from kept_rows
            union all
            select customer_key, second_order_ts as order_ts from kept_rows where second_order_ts is not null
        ),

        ranked as (
            select
                customer_key,
                row_number() over (partition by customer_key order by order_ts) as order_number,
                {dialect.day_diff("order_ts", "lag(order_ts) over (partition by customer_key order by order_ts)")}
                    as days_since_previous
            from early_orders
        ),

        second_orders as (
            select customer_key, days_since_previous from ranked where order_number = 2
        )
    """


def facts_ctes(where: str) -> str:
    """CTEs ending in `facts` (the columns of `customers.facts_ctes_from_orders`) for the RFM scores,
    from the kept rows; `usual_interval_days` is not known here (null): the due list counts from the orders."""
    return f"""
        {kept_rows_cte(where)},

        reference as (
            select coalesce(cast($reference_date as date), max(last_order_date)) as reference_date
            from kept_rows
        ),

        customer_rows as (
            select
                customer_key,
                any_value(customer_id) as customer_id,
                arg_max(member_tier, last_order_ts) as member_tier,
                arg_max(channel, last_order_ts) as last_channel,
                arg_max(region, last_order_ts) as region,
                sum(orders) as orders,
                sum(revenue) as revenue,
                max(last_order_date) as last_order_date
            from kept_rows
            group by customer_key
        ),

        facts as (
            select
                customer_key,
                customer_id,
                member_tier,
                last_channel,
                region,
                orders,
                revenue,
                last_order_date,
                cast(null as double) as usual_interval_days,
                {dialect.day_diff("reference.reference_date", "last_order_date")} as days_since_last_order
            from customer_rows, reference
        )
    """

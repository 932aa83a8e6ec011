"""Each customer's orders inside a filter, counted once for every per-customer figure of the Customers page.

Under a filter, the repeat funnel, the days between orders, the time to the second order, the RFM
segments and the due list all follow each customer's orders inside it. Each used to count them
itself: five passes over the kept orders, a sort of them by customer in three (at 100M orders and a
two-filter request, 6.8 of the page's 8.7 s). A connection now counts them once per filter set into
two tables (`metrics.customer_facts.kept_tables` makes them, temporary: the connection's own):

- kept gaps (`kept_gaps_sql`): every kept repeat order, as customer_key, order_number (2, 3, ...
  among the customer's kept orders, in the stored order of their valid orders) and days_between
  (whole days since the customer's previous kept order);
- kept facts (`kept_facts_sql`): one row per customer with a kept order: customer_id, orders,
  revenue, last_order_date and usual_interval_days (the median of their gaps; null with one order).

The results read them with the unfiltered models' SQL (`store.models.funnel`, `store.models.customers`):
the funnel counts each customer's orders, the days between orders read their quartiles from repeat
orders per whole day of gap, the time to the second order takes the gaps of order 2, RFM and the due
list read the facts. Member tier, channel and region (each customer's latest kept order's) are looked
up for the customers a list shows, not for every kept customer: at 100M orders those values for 2.6M
customers took 2 s.
"""

from store.models import dialect
from store.models.customers import DUE_CONDITION, due_columns, most_valuable_sql

# customer_order_seq numbers each customer's valid orders by time, then order id: that order, as a number
_BY_CUSTOMER = "partition by customer_key order by customer_order_seq"


def _kept_orders(where: str, relation: str) -> str:
    return f"(select * from {relation} as orders where {where} and customer_key is not null) as kept_orders"


def kept_gaps_sql(where: str, relation: str) -> str:
    """The kept gaps: each repeat order among the identified orders matching `where` (SQL on `orders`,
    read from `relation`), numbered among the customer's kept orders, with the days since the previous one.
    Numbered with `>= 2` kept, never `<= k`: DuckDB makes that a top-k heap per customer (docs/architecture.md)."""
    return f"""
        select customer_key, order_number, days_between
        from (
            select
                customer_key,
                row_number() over ({_BY_CUSTOMER}) as order_number,
                {dialect.day_diff("order_date", f"lag(order_date) over ({_BY_CUSTOMER})")} as days_between
            from {_kept_orders(where, relation)}
        ) as numbered
        where order_number >= 2
    """


def kept_facts_sql(where: str, relation: str, kept_gaps: str) -> str:
    """The kept facts: one row per identified customer with an order matching `where`, their usual
    interval the median of their rows in `kept_gaps` (the table of `kept_gaps_sql` for the same `where`).
    The median is an aggregate here: over a table of narrow gaps it holds little (a two-channel filter at
    100M orders: 41M gaps, 1.8 s against 4.0 s for a sort of each customer's gaps, the same medians), unlike
    inside the `customers` build, where it spilled past 50 GB (`customers._medians_sql`)."""
    return f"""
        select numbers.*, medians.usual_interval_days
        from (
            select
                customer_key,
                any_value(customer_id) as customer_id,
                count(*) as orders,
                sum(amount) as revenue,
                max(order_date) as last_order_date
            from {_kept_orders(where, relation)}
            group by customer_key
        ) as numbers
        left join (
            select customer_key, {dialect.quantile("days_between", 0.5)} as usual_interval_days
            from {kept_gaps}
            group by customer_key
        ) as medians using (customer_key)
    """


def _names(where: str, relation: str, customer_keys: str) -> str:
    """Member tier, channel and region of each customer's latest order matching `where`, for the
    customer keys `customer_keys` (SQL: a query of one column) only. Latest by the customer's order
    number (time, then order id): by time alone, two orders of the same second gave whichever was read
    last, which differs between the orders table and `orders_by_dimension`."""
    return f"""
            select
                customer_key,
                arg_max(member_tier, customer_order_seq) as member_tier,
                arg_max(channel, customer_order_seq) as last_channel,
                arg_max(region, customer_order_seq) as region
            from {_kept_orders(where, relation)}
            where customer_key in ({customer_keys})
            group by customer_key
    """


def facts_ctes(kept_facts: str, names: tuple[str, str] | None = None) -> str:
    """CTEs ending in `facts` (the columns of the customers' facts, `customers.FACTS_FROM_CUSTOMERS`), counted
    to $reference_date or the kept orders' last day. `names`: (where, relation) of the kept orders, to look
    up every customer's tier, channel and region; without it they are null (RFM's totals read none)."""
    if names is None:
        looked_up, join = ("cast(null as varchar) as member_tier, cast(null as varchar) as last_channel, "
                           "cast(null as varchar) as region"), ""
    else:
        looked_up = "names.member_tier, names.last_channel, names.region"
        join = f"join ({_names(*names, f'select customer_key from {kept_facts}')}) as names using (customer_key)"
    return f"""
        reference as (
            select coalesce(cast($reference_date as date), max(last_order_date)) as reference_date
            from {kept_facts}
        ),

        facts as (
            select
                kept.customer_key,
                kept.customer_id,
                {looked_up},
                kept.orders,
                kept.revenue,
                kept.last_order_date,
                kept.usual_interval_days,
                {dialect.day_diff("reference.reference_date", "kept.last_order_date")} as days_since_last_order
            from {kept_facts} as kept
            {join}
            cross join reference
        )
    """


def due_list_sql(kept_facts: str, where: str, relation: str, most_valuable: bool = False) -> str:
    """SQL of the due customers (unordered; `customers.due_columns`) from the kept facts,
    the tier, channel and region looked up for the due customers only. `most_valuable`: only the
    $row_limit first in display order, with `due_customers` (how many are due in all), their tier, channel
    and region looked up for them only (a page shows 500 of 1.6M due at 100M orders under two channels)."""
    listed = "shown" if most_valuable else "due"
    shown = f"shown as ({most_valuable_sql('due')})," if most_valuable else ""
    return f"""
        with {facts_ctes(kept_facts)},

        due as (
            select *, days_since_last_order - usual_interval_days as days_overdue
            from facts
            where {DUE_CONDITION}
        ),

        {shown}

        final as (
            select {due_columns(listed, "names")}{f", {listed}.due_customers" if most_valuable else ""}
            from {listed}
            join ({_names(where, relation, f"select customer_key from {listed}")}) as names using (customer_key)
        )

        select * from final
    """

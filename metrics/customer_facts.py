"""Per-customer facts behind the due-for-repurchase list and RFM: one row per customer with a valid
order inside the filters, counted to the reference date (the filter's end, else the data's last day).

usual_interval_days = median days between the customer's consecutive valid orders (null with one order).
The facts of the unfiltered store are precomputed at each upload into `customer_facts`.
"""

from metrics import dialect
from metrics.filters import Filters


def _facts_ctes(where: str, days_since_previous: str) -> str:
    return f"""
        filtered_orders as (
            select
                customer_key,
                customer_id,
                order_ts,
                order_date,
                amount,
                member_tier,
                channel,
                region,
                {days_since_previous} as days_since_previous,
            from orders
            where {where} and customer_key is not null
        ),

        -- read from orders, not filtered_orders: a CTE used twice is materialised (2 s at 10M orders)
        reference as (
            select coalesce(cast($reference_date as date), max(order_date)) as reference_date,
            from orders
            where {where} and customer_key is not null
        ),

        facts as (
            select
                customer_key,
                any_value(customer_id) as customer_id,
                arg_max(member_tier, order_ts) as member_tier,
                arg_max(channel, order_ts) as last_channel,
                arg_max(region, order_ts) as region,
                count(*) as orders,
                sum(amount) as revenue,
                max(order_date) as last_order_date,
                {dialect.quantile("days_since_previous", 0.5)} as usual_interval_days,
                {dialect.day_diff("any_value(reference.reference_date)", "max(order_date)")} as days_since_last_order,
            from filtered_orders, reference
            group by customer_key
        )
    """


_WITHIN_FILTERS = dialect.day_diff(
    "order_date", "lag(order_date) over (partition by customer_key order by order_ts, order_id)"
)


def customer_facts_sql() -> str:
    """The facts of every customer of the store (the orders table already numbers each customer's valid orders)."""
    return f"with {_facts_ctes('orders.is_valid', 'days_since_previous')} select * from facts"


def facts_ctes(con, filters: Filters) -> tuple[str, dict]:
    """CTEs ending in `facts` for these filters, read from the precomputed table when unfiltered."""
    if filters == Filters() and dialect.has_table(con, "customer_facts"):
        return "facts as (select * from customer_facts)", {}
    where, params = filters.where("orders")
    params["reference_date"] = filters.end
    return _facts_ctes(where, _WITHIN_FILTERS), params

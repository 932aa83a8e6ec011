"""Due for repurchase: customers past their usual interval between orders but not yet lapsed.

usual interval = median days between the customer's consecutive valid orders (2+ orders needed);
due when usual interval < days since last order <= min(LAPSE_MULTIPLE x usual interval,
LAPSE_DAYS). Days are counted to the reference date: the filter's end, else the data's last day.
"""

import duckdb
import pandas as pd

from metrics import dialect
from metrics.filters import Filters

LAPSE_MULTIPLE = 3
LAPSE_DAYS = 365


def due_for_repurchase(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(),
                       limit: int | None = None) -> pd.DataFrame:
    """Customers due for repurchase, most valuable first: last order, usual interval, days overdue, value."""
    where, params = filters.where("orders")
    sql = f"""
        with filtered_orders as (
            select
                customer_key,
                customer_id,
                order_date,
                amount,
                member_tier,
                channel,
                region,
                {dialect.day_diff("order_date", "lag(order_date) over (partition by customer_key order by order_ts, order_id)")}
                    as days_since_previous,
            from orders
            where {where} and customer_key is not null
        ),

        reference as (
            select coalesce(cast($reference_date as date), max(order_date)) as reference_date,
            from filtered_orders
        ),

        per_customer as (
            select
                customer_key,
                any_value(customer_id) as customer_id,
                arg_max(member_tier, order_date) as member_tier,
                arg_max(channel, order_date) as last_channel,
                arg_max(region, order_date) as region,
                count(*) as orders,
                sum(amount) as revenue,
                max(order_date) as last_order_date,
                {dialect.quantile("days_since_previous", 0.5)} as usual_interval_days,
                {dialect.day_diff("any_value(reference.reference_date)", "max(order_date)")} as days_since_last_order,
            from filtered_orders, reference
            group by customer_key
            having count(*) >= 2
        ),

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
            from per_customer
            where days_since_last_order > usual_interval_days
                and days_since_last_order <= least({LAPSE_MULTIPLE} * usual_interval_days, {LAPSE_DAYS})
        )

        select * from final
        order by revenue desc, days_overdue desc, customer_id
        limit $row_limit
    """
    params["reference_date"] = filters.end
    params["row_limit"] = limit if limit is not None else 2**62
    return con.execute(sql, params).df()

"""Per-customer facts and the lists built on them: the due-for-repurchase list and RFM segments.

Facts: one row per customer with a valid order inside the filters, counted to the reference date
(the filter's end, else the data's last day); usual_interval_days = median days between the
customer's consecutive valid orders (null with one order). Due for repurchase: usual interval <
days since last order <= min(LAPSE_MULTIPLE x usual interval, LAPSE_DAYS).

Summaries precomputed at each change for the unfiltered store: `customer_facts`, then `due_list`
(in display order) and `rfm_segment_totals`, which read it.
"""

from store.models import dialect

LAPSE_MULTIPLE = 3
LAPSE_DAYS = 365
DUE_DISPLAY_ORDER = "revenue desc, days_overdue desc, customer_id"  # most valuable first


def facts_ctes_from_orders(where: str, days_since_previous: str) -> str:
    """CTEs ending in `facts`, counted from the orders matching `where` ($reference_date or the last order's day)."""
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
                {days_since_previous} as days_since_previous
            from orders
            where {where} and customer_key is not null
        ),

        -- read from orders, not filtered_orders: a CTE used twice is materialised (2 s at 10M orders)
        reference as (
            select coalesce(cast($reference_date as date), max(order_date)) as reference_date
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
                {dialect.day_diff("any_value(reference.reference_date)", "max(order_date)")} as days_since_last_order
            from filtered_orders, reference
            group by customer_key
        )
    """


# days since the previous order among the filtered orders (the stored column counts every valid order)
DAYS_WITHIN_FILTERS = dialect.day_diff(
    "order_date", "lag(order_date) over (partition by customer_key order by order_ts, order_id)"
)

# the facts CTE read from the precomputed summary
FACTS_FROM_SUMMARY = "facts as (select * from customer_facts)"


def customer_facts_sql() -> str:
    """The facts of every customer of the store (the orders table already numbers each customer's valid orders)."""
    return f"with {facts_ctes_from_orders('orders.is_valid', 'days_since_previous')} select * from facts"


def due_list_sql(facts: str) -> str:
    """SQL of the due customers (unordered), given CTEs ending in `facts`."""
    return f"""
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
                revenue / orders as aov
            from facts
            where orders >= 2
                and days_since_last_order > usual_interval_days
                and days_since_last_order <= least({LAPSE_MULTIPLE} * usual_interval_days, {LAPSE_DAYS})
        )

        select * from final
    """


def stored_due_list_sql() -> str:
    """due_list: the unfiltered due list in display order, from customer_facts."""
    return f"select * from ({due_list_sql(FACTS_FROM_SUMMARY)}) order by {DUE_DISPLAY_ORDER}"


# RFM segment by R score and F score (1-5), the common ten-segment map
RFM_SEGMENT_SQL = """
    case
        when r_score >= 5 and f_score >= 4 then 'champions'
        when r_score >= 3 and f_score >= 4 then 'loyal'
        when r_score >= 4 and f_score between 2 and 3 then 'potential_loyalist'
        when r_score = 5 and f_score = 1 then 'new'
        when r_score = 4 and f_score = 1 then 'promising'
        when r_score = 3 and f_score = 3 then 'need_attention'
        when r_score = 3 and f_score <= 2 then 'about_to_sleep'
        when r_score <= 2 and f_score = 5 then 'cant_lose'
        when r_score <= 2 and f_score between 3 and 4 then 'at_risk'
        else 'hibernating'
    end
"""


def rfm_scored_ctes(facts: str) -> str:
    """CTEs ending in `segmented`: each customer's R, F, M values and scores and segment, given CTEs ending in `facts`."""
    return f"""
        {facts},

        scored as (
            select
                customer_key,
                customer_id,
                member_tier,
                last_order_date,
                days_since_last_order as recency_days,
                orders as frequency,
                revenue as monetary,
                ntile(5) over (order by days_since_last_order desc, customer_key) as r_score,
                case when orders >= 6 then 5 when orders >= 4 then 4 else orders end as f_score,
                ntile(5) over (order by revenue, customer_key) as m_score
            from facts
        ),

        segmented as (
            select *, {RFM_SEGMENT_SQL} as segment
            from scored
        )
    """


def rfm_segments_sql(facts: str = FACTS_FROM_SUMMARY) -> str:
    """SQL of the RFM segment totals (unordered), given CTEs ending in `facts` (default: the summary)."""
    return f"""
        with {rfm_scored_ctes(facts)},

        final as (
            select
                segment,
                count(*) as customers,
                count(*) / sum(count(*)) over () as customer_share,
                sum(monetary) as revenue,
                sum(monetary) / sum(sum(monetary)) over () as revenue_share,
                avg(recency_days) as avg_recency_days,
                avg(frequency) as avg_frequency,
                avg(monetary) as avg_monetary
            from segmented
            group by segment
        )

        select * from final
    """

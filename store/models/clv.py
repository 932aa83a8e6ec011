"""The Customer value page's SQL: the per-customer purchase summary at a cut-off (BG/NBD inputs x, t_x, T
and the mean repeat spend), the holdout after it, and the summaries precomputed at each change for the
default cut-off and the last date: `clv_calibration`, `clv_holdout_days` and `clv_customers`.

A purchase is a day with at least one valid order of an identified customer. Definitions: docs/clv.md;
the models that read these: metrics.clv.
"""

from datetime import date, timedelta

import duckdb

from store.models import dialect
from store.models.customers import FACTS_FROM_SUMMARY, rfm_scored_ctes

DEFAULT_HOLDOUT_MONTHS = 6
DAYS_PER_MONTH = 365.25 / 12

_SUMMARY_CTES = f"""
with purchase_days as (
    select
        customer_key,
        order_date,
        sum(amount)::double as amount
    from orders
    where is_valid and customer_key is not null and order_date <= $cutoff
    group by customer_key, order_date
),

summary as (
    select
        customer_key,
        count(*) - 1 as x,
        {dialect.day_diff("max(order_date)", "min(order_date)")} / $unit as t_x,
        {dialect.day_diff("$cutoff", "min(order_date)")} / $unit as T,
        (sum(amount) - arg_min(amount, order_date)) / nullif(count(*) - 1, 0) as monetary,
        sum(amount) as revenue,
        min(order_date) as first_purchase,
        max(order_date) as last_purchase
    from purchase_days
    group by customer_key
)
"""

# repeat purchase days after the cut-off, up to $end (the holdout check)
_HOLDOUT_CTE = """
holdout as (
    select customer_key, count(distinct order_date) as holdout_orders
    from orders
    where is_valid and customer_key is not null and order_date > $cutoff and order_date <= $end
    group by customer_key
)
"""

GROUPED_SQL = _SUMMARY_CTES + """,

""" + _HOLDOUT_CTE + """,

final as (
    select
        x,
        t_x,
        T,
        count(*) as customers,
        coalesce(sum(holdout_orders), 0) as holdout_orders
    from summary
    left join holdout using (customer_key)
    group by x, t_x, T
)

select * from final order by x, t_x, T
"""

REPEAT_SPEND_SQL = _SUMMARY_CTES + """
select x, monetary from summary where x > 0 order by customer_key
"""

CUSTOMER_SQL = _SUMMARY_CTES + """,

final as (
    select
        customers.customer_id,
        summary.customer_key,
        summary.x,
        summary.t_x,
        summary.T,
        summary.monetary,
        summary.revenue as historical_revenue,
        summary.first_purchase,
        summary.last_purchase,
        customers.member_tier,
        customers.cohort_month,
        customers.first_channel
    from summary
    left join customers using (customer_key)
)

select * from final order by customer_key
"""

HOLDOUT_CURVE_SQL = f"""
with calibration_customers as (
    select customer_key
    from orders
    where is_valid and customer_key is not null
    group by customer_key
    having min(order_date) <= $cutoff
),

holdout_days as (
    select distinct customer_key, order_date
    from orders
    where is_valid and customer_key is not null and order_date > $cutoff and order_date <= $end
        and customer_key in (select customer_key from calibration_customers)
),

final as (
    select {dialect.day_diff("order_date", "$cutoff")} as day, count(*) as orders
    from holdout_days
    group by day
)

select * from final order by day
"""

# Precomputed at each store change (metrics.precomputed), for the default cut-off and the last date:
# what the Customer value page's first view would otherwise read from every order.
STORED_CALIBRATION_SQL = _SUMMARY_CTES + """,

""" + _HOLDOUT_CTE + """

select
    $cutoff::date as cutoff, $end::date as end_date, customer_key, x, t_x, T, monetary,
    coalesce(holdout_orders, 0) as holdout_orders
from summary
left join holdout using (customer_key)
order by customer_key
"""

STORED_GROUPED_SQL = """
select x, t_x, T, count(*) as customers, sum(case when $with_holdout then holdout_orders else 0 end) as holdout_orders
from clv_calibration
group by x, t_x, T
order by x, t_x, T
"""

STORED_REPEAT_SPEND_SQL = "select x, monetary from clv_calibration where x > 0 order by customer_key"

STORED_HOLDOUT_CURVE_SQL = "select day, orders from clv_holdout_days order by day"

STORED_CUSTOMERS_SQL = f"select {dialect.columns_except(('as_of', 'rfm_segment'))} from clv_customers order by customer_key"
# a store version built before clv_customers held the RFM segment
OLDER_STORED_CUSTOMERS_SQL = f"select {dialect.columns_except(('as_of',))} from clv_customers order by customer_key"

# the grouped rows and repeat spend at the last date, from the stored customer summary (what the refit on all data reads)
STORED_CUSTOMERS_GROUPED_SQL = """
select x, t_x, T, count(*) as customers, 0 as holdout_orders
from clv_customers
group by x, t_x, T
order by x, t_x, T
"""

STORED_CUSTOMERS_SPEND_SQL = "select x, monetary from clv_customers where x > 0 order by customer_key"

STORED_DATA_RANGE_SQL = "select min(first_purchase)::date, max(last_purchase)::date, any_value(as_of) from clv_customers"


def value_summary_sql(rfm_segments: str) -> str:
    """The customer summary (CUSTOMER_SQL) with each customer's RFM segment as `rfm_segment`, given SQL of
    (customer_key, segment) rows."""
    return f"""
        select summary.*, rfm.segment as rfm_segment
        from ({CUSTOMER_SQL}) as summary
        left join ({rfm_segments}) as rfm using (customer_key)
    """

DATA_RANGE_SQL = """
select min(order_date), max(order_date)
from orders
where is_valid and customer_key is not null
"""


def default_cutoff_between(first: date, last: date, holdout_months: int = DEFAULT_HOLDOUT_MONTHS) -> date:
    """Holdout split: last purchase date minus 6 months (183 days), or minus a third of a history under 18 months."""
    span = (last - first).days
    holdout_days = min(round(holdout_months * DAYS_PER_MONTH), span // 3)
    return last - timedelta(days=holdout_days)


def summary_dates(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """(default cut-off, last purchase date) the summaries are built for; a date never asked for
    (1900-01-01) when there is no identified customer, so that the empty summaries never match."""
    first, last = con.execute(DATA_RANGE_SQL).fetchall()[0]
    if first is None:
        return date(1900, 1, 1), date(1900, 1, 1)
    return default_cutoff_between(first, last), last


def calibration_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_calibration: per customer at the default cut-off, in days, with holdout purchases up to the last date."""
    cutoff, end = summary_dates(con)
    return STORED_CALIBRATION_SQL, {"cutoff": cutoff, "end": end, "unit": 1.0}


def holdout_days_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_holdout_days: the holdout's purchases by day after the default cut-off."""
    cutoff, end = summary_dates(con)
    return HOLDOUT_CURVE_SQL, {"cutoff": cutoff, "end": end}


def customers_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_customers: the calibration summary at the last date, with each customer's RFM segment (from the
    unfiltered customer facts)."""
    _, end = summary_dates(con)
    rfm = f"with {rfm_scored_ctes(FACTS_FROM_SUMMARY)} select customer_key, segment from segmented"
    return f"select $cutoff::date as as_of, * from ({value_summary_sql(rfm)})", {"cutoff": end, "unit": 1.0}

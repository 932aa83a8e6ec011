"""The Customer value page's SQL: the per-customer purchase summary at a cut-off (BG/NBD inputs x, t_x, T
and the mean repeat spend), the holdout after it, and the summaries precomputed at each change for the
default cut-off and the last date: `clv_calibration`, `clv_holdout_days` and `clv_customer_rows`.

A purchase is a day with at least one valid order of an identified customer. Definitions: docs/clv.md;
the models that read these: metrics.clv.
"""

from datetime import date, timedelta

import duckdb

from store.models import dialect
from store.models.customers import FACTS_FROM_CUSTOMERS, rfm_scored_ctes

DEFAULT_HOLDOUT_MONTHS = 6
MIN_HISTORY_DAYS = 60  # days of orders before the cut-off a model needs to be fitted at all
DAYS_PER_MONTH = 365.25 / 12

def _summary_ctes(only: str | None = None, relation: str = "orders") -> str:
    """CTEs `purchase_days` and `summary` (per customer at $cutoff); `only`: SQL of the customer keys to
    count (default: every customer); `relation`: rows of the orders table to read."""
    keys = f"customer_key in ({only})" if only else "customer_key is not null"
    return f"""
with purchase_days as (
    select
        customer_key,
        order_date,
        sum(amount) as amount
    from {relation} as orders
    where is_valid and {keys} and order_date <= $cutoff
    group by customer_key, order_date
),

-- spend summed as decimals (exact, whatever order the rows come in), then made doubles
summary as (
    select
        customer_key,
        count(*) - 1 as x,
        {dialect.day_diff("max(order_date)", "min(order_date)")} / $unit as t_x,
        {dialect.day_diff("$cutoff", "min(order_date)")} / $unit as T,
        cast(sum(amount) - arg_min(amount, order_date) as double) / nullif(count(*) - 1, 0) as monetary,
        sum(amount) - arg_min(amount, order_date) as repeat_spend,
        cast(sum(amount) as double) as revenue,
        min(order_date) as first_purchase,
        max(order_date) as last_purchase
    from purchase_days
    group by customer_key
)
"""


_SUMMARY_CTES = _summary_ctes()

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

def customer_sql(only: str | None = None, relation: str = "orders") -> str:
    """Per customer at $cutoff (x, t_x, T, monetary, revenue, first and last purchase) with member tier,
    cohort and first channel; `only`: SQL of the customer keys to count (default: every customer);
    `relation`: rows of the orders table to read."""
    return _summary_ctes(only, relation) + """,

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


CUSTOMER_SQL = customer_sql()


def _holdout_curve_sql(customers: str) -> str:
    """Purchase days per day after the cut-off, to $end, of the customers in `customers` (SQL of a query
    or table with their customer_key)."""
    return f"""
with holdout_days as (
    select distinct customer_key, order_date
    from orders
    where is_valid and customer_key is not null and order_date > $cutoff and order_date <= $end
        and customer_key in (select customer_key from {customers})
),

final as (
    select {dialect.day_diff("order_date", "$cutoff")} as day, count(*) as orders
    from holdout_days
    group by day
)

select * from final order by day
"""


# every customer whose first valid purchase is by the cut-off
HOLDOUT_CURVE_SQL = _holdout_curve_sql("""(
    select customer_key
    from orders
    where is_valid and customer_key is not null
    group by customer_key
    having min(order_date) <= $cutoff
) as calibration_customers""")

# Precomputed at each store change (metrics.precomputed), for the default cut-off and the last date:
# what the Customer value page's first view would otherwise read from every order.
def stored_calibration_sql(only: str | None = None) -> str:
    """clv_calibration's rows (`only`: SQL of the customer keys to count; default: every customer)."""
    return _summary_ctes(only) + """,

""" + _HOLDOUT_CTE + """

select
    $cutoff::date as cutoff, $end::date as end_date, customer_key, x, t_x, T, monetary,
    coalesce(holdout_orders, 0) as holdout_orders, repeat_spend
from summary
left join holdout using (customer_key)
order by customer_key
"""


STORED_CALIBRATION_SQL = stored_calibration_sql()

# clv_holdout_days: the holdout's purchase days of the customers in clv_calibration (first purchase by
# the cut-off), as HOLDOUT_CURVE_SQL counts them from the orders
STORED_HOLDOUT_DAYS_SQL = _holdout_curve_sql("clv_calibration")

STORED_GROUPED_SQL = """
select x, t_x, T, count(*) as customers, sum(case when $with_holdout then holdout_orders else 0 end) as holdout_orders
from clv_calibration
group by x, t_x, T
order by x, t_x, T
"""

STORED_REPEAT_SPEND_SQL = "select x, monetary from clv_calibration where x > 0 order by customer_key"

STORED_HOLDOUT_CURVE_SQL = "select day, orders from clv_holdout_days order by day"

# clv_customer_rows at the last date $cutoff: CUSTOMER_SQL's columns, T added to the rows (which hold every
# purchase, whatever the last date: only T moves with it)
STORED_CUSTOMERS_SQL = f"""
select
    customer_id, customer_key, x, t_x, cast({dialect.day_diff("$cutoff", "first_purchase")} as double) as T, monetary,
    historical_revenue, first_purchase, last_purchase, member_tier, cohort_month, first_channel
from clv_customer_rows
"""

# the grouped rows and repeat spend at the last date, from the stored customer summary (what the refit on all data reads)
STORED_CUSTOMERS_GROUPED_SQL = f"""
select x, t_x, T, count(*) as customers, 0 as holdout_orders
from ({STORED_CUSTOMERS_SQL}) as stored
group by x, t_x, T
order by x, t_x, T
"""

STORED_CUSTOMERS_SPEND_SQL = "select x, monetary from clv_customer_rows where x > 0 order by customer_key"

STORED_DATA_RANGE_SQL = "select min(first_purchase)::date, max(last_purchase)::date from clv_customer_rows"


def value_summary_sql(rfm_segments: str, summary: str = CUSTOMER_SQL) -> str:
    """The customer summary (CUSTOMER_SQL, or `summary`: rows like it) with each customer's RFM segment as
    `rfm_segment`, given SQL of (customer_key, segment) rows."""
    return f"""
        select summary.*, rfm.segment as rfm_segment
        from ({summary}) as summary
        left join ({rfm_segments}) as rfm using (customer_key)
    """

DATA_RANGE_SQL = """
select min(order_date), max(order_date)
from orders
where is_valid and customer_key is not null
"""


def default_cutoff_between(first: date, last: date, holdout_months: int = DEFAULT_HOLDOUT_MONTHS) -> date:
    """Holdout split: last purchase date minus 6 months (183 days), or minus a third of a history under 18 months,
    leaving at least MIN_HISTORY_DAYS before it where the history has them (else no holdout: the fit says why)."""
    span = (last - first).days
    holdout_days = max(min(round(holdout_months * DAYS_PER_MONTH), span // 3, span - MIN_HISTORY_DAYS), 0)
    return last - timedelta(days=holdout_days)


# the same dates from the customers base model (one row per identified customer with a valid order: the
# first and last valid order), read instead of every order by the builds (three times per build: 0.3 s
# CPU at 5M orders)
CUSTOMERS_DATA_RANGE_SQL = """
select cast(min(first_order_ts) as date), max(last_order_date)
from customers
"""


def summary_dates(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """(default cut-off, last purchase date) the summaries are built for (from the `customers` table); a
    date never asked for (1900-01-01) when there is no identified customer, so that the empty summaries
    never match."""
    first, last = con.execute(CUSTOMERS_DATA_RANGE_SQL).fetchall()[0]
    if first is None:
        return date(1900, 1, 1), date(1900, 1, 1)
    return default_cutoff_between(first, last), last


def calibration_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_calibration: per customer at the default cut-off, in days, with holdout purchases up to the last date."""
    cutoff, end = summary_dates(con)
    return STORED_CALIBRATION_SQL, {"cutoff": cutoff, "end": end, "unit": 1.0}


def holdout_days_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_holdout_days: the holdout's purchases by day after the default cut-off (the customers of
    clv_calibration, built first)."""
    cutoff, end = summary_dates(con)
    return STORED_HOLDOUT_DAYS_SQL, {"cutoff": cutoff, "end": end}


# rfm_customer_segments: each customer's RFM segment from the unfiltered customer facts, a table of its own
# so that the Customer value page joins it to clv_customer_rows: scored inside one query beside the summary of
# every order, the scoring's facts (read five times, so held whole) left that query out of memory at 100M orders
RFM_CUSTOMER_SEGMENTS_SQL = f"""
with {rfm_scored_ctes(FACTS_FROM_CUSTOMERS)}
select customer_key, segment from segmented order by customer_key
"""
RFM_SEGMENTS = "select customer_key, segment from rfm_customer_segments"


def customer_rows_build(con: duckdb.DuckDBPyConnection, relation: str = "orders") -> tuple[str, dict]:
    """clv_customer_rows: CUSTOMER_SQL at the last date without T, in days: every purchase of each customer,
    so nothing in a row moves with the data's last date (T and the RFM segment are added when read,
    STORED_CUSTOMERS_SQL). `relation`: rows of the orders table to read (their customers only)."""
    _, end = summary_dates(con)
    return (f"select {dialect.columns_except(('T',))} from ({customer_sql(relation=relation)}) as summary",
            {"cutoff": end, "unit": 1.0})


# ---- the append path (store.derived) ----


def calibration_append(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """clv_calibration after an append. The cut-off moves forward with the last date: each customer's
    previous row (purchases to the previous cut-off) is combined with their purchase days after it, up
    to the new cut-off (about the upload's span of orders, not every order): more days, a later last
    purchase, the repeat spend added (exact: decimals); T to the new cut-off; the holdout counted
    again after it. Built again when that does not hold: a cut-off that did not move forward, or
    one at the previous last date (then a purchase day could span both)."""
    sql, params = calibration_build(con)
    previous = con.execute("select any_value(cutoff), any_value(end_date) from previous_clv_calibration").fetchone()
    columns = {c[0] for c in con.execute("select * from previous_clv_calibration limit 0").description}
    if (previous[0] is None or previous[0] > params["cutoff"] or previous[0] >= previous[1]
            or params["unit"] != 1.0 or "repeat_spend" not in columns):
        return sql, params
    first_purchase = dialect.subtract_days("$previous_cutoff", "cast(T as integer)")
    sql = f"""
with moved_days as (
    select customer_key, order_date, sum(amount) as amount
    from orders
    where is_valid and customer_key is not null and order_date > $previous_cutoff and order_date <= $cutoff
    group by customer_key, order_date
),

moved as (
    select
        customer_key,
        count(*) as days,
        min(order_date) as first_day,
        max(order_date) as last_day,
        sum(amount) as spend,
        arg_min(amount, order_date) as first_day_spend
    from moved_days
    group by customer_key
),

previous as (
    select customer_key, x, t_x, repeat_spend, cast({first_purchase} as date) as first_purchase
    from previous_clv_calibration
),

combined as (
    select
        customer_key,
        case when previous.x is null then moved.days - 1 else previous.x + coalesce(moved.days, 0) end as x,
        coalesce(previous.first_purchase, moved.first_day) as first_purchase,
        moved.last_day,
        previous.t_x as previous_t_x,
        case when previous.x is null then moved.spend - moved.first_day_spend
             else previous.repeat_spend + coalesce(moved.spend, 0) end as repeat_spend
    from previous
    full outer join moved using (customer_key)
),

summary as (
    select
        customer_key,
        x,
        coalesce({dialect.day_diff("last_day", "first_purchase")} / $unit, previous_t_x) as t_x,
        {dialect.day_diff("$cutoff", "first_purchase")} / $unit as T,
        cast(repeat_spend as double) / nullif(x, 0) as monetary,
        repeat_spend
    from combined
),

{_HOLDOUT_CTE}

select
    $cutoff::date as cutoff, $end::date as end_date, customer_key, x, t_x, T, monetary,
    coalesce(holdout_orders, 0) as holdout_orders, repeat_spend
from summary
left join holdout using (customer_key)
order by customer_key
"""
    return sql, {**params, "previous_cutoff": previous[0]}

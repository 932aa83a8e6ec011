"""The monthly KPI base counts: per period and segment, the counts every KPI is a ratio of.

`base_counts_ctes` counts them from the orders for any filter; the summary `kpi_base` holds the
monthly counts of the whole store and of every segment of the usual breakdowns, precomputed at
each change, and `kpi_base_slice` says which requests it answers. The KPIs themselves are
ratios of these counts (metrics.kpis).
"""

from datetime import date

import duckdb
import pandas as pd

from store.models import dialect
from store.models import kpi_trailing
from store.models.kpi_combos import base_inputs_from_combos, trailing_from_masks
from store.models.orders import customer_months_sql

GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
NON_MEMBER_TIERS = ("none", "non-member", "non member", "nonmember", "no", "0", "非会员", "普通用户")
NOT_SET = {"member_tier": "none", "channel": "(not set)", "region": "(not set)", "category": "(not set)"}
SEGMENTS = {
    **{dimension: f"coalesce({dimension}, '{label}')" for dimension, label in NOT_SET.items()},
    "membership": "case when member_tier is null or lower(member_tier) in ("
    + ", ".join(f"'{t}'" for t in NON_MEMBER_TIERS)
    + ") then 'non-member' else 'member' end",
}
# Breakdowns precomputed in kpi_base: those the pages show unasked (the Overview's sentence drivers,
# the Customers page's tiers and members). Each costs about 3 s of upload time at 10M orders.
PRECOMPUTED_BREAKDOWNS = ("member_tier", "channel", "membership")
# (dimension, SQL of its segment on a row of the orders or of kpi_combos) of kpi_base's rows
BREAKDOWNS = [(by or "all", SEGMENTS[by] if by else "'all'") for by in (None, *PRECOMPUTED_BREAKDOWNS)]
BASE_COUNTS = ("orders", "revenue", "guest_orders", "identified_orders", "identified_revenue", "customers",
               "new_customers", "repeat_customers", "customers_12m", "orders_12m")


def base_counts_ctes(grain: str, segment: str, where: str, trailing_year: bool = True,
                     more_segments: str | None = None, relation: str = "orders",
                     inputs: str | None = None, trailing_inputs: str | None = None,
                     trailing_counts: str | None = None) -> str:
    """CTEs ending in `base`: per period and segment, the counts every KPI is a ratio of.

    Counts valid orders matching `where` dated $history_start..$range_end, on a continuous spine of
    periods from $history_start_month to $range_end_month for every segment that has orders.
    trailing_year=False leaves out the trailing-year counts (null): a window over every customer-month.
    more_segments: SQL of a `segment` column of segments to count even without orders in the range.
    relation: the orders' rows to read (default the orders table).
    trailing_counts: the trailing-year counts of the spine's months (an append, kpi_base_append: the
    few new months) read from this relation (month, segment, customers_12m, orders_12m), instead of
    the running count over every month (which needs every month from the first).
    inputs: CTEs `order_totals`, `customer_totals` and `customer_months` read from elsewhere (the
    combination summaries, `store.models.kpi_combos`) instead of counted from the orders.
    trailing_inputs: CTEs `coverage_changes` (segment, month, change: the trailing-year customer
    count's month-to-month changes) and `month_orders` (segment, month, orders of identified customers)
    from elsewhere, instead of following each customer-month with a window.
    """
    months = GRAIN_MONTHS[grain]
    if trailing_year and trailing_counts:
        trailing_ctes = f"""
        trailing_months as (
            select
                month_spine.month,
                month_spine.segment,
                coalesce(year_counts.customers_12m, 0) as customers_12m,
                coalesce(year_counts.orders_12m, 0) as orders_12m
            from month_spine
            left join ({trailing_counts}) as year_counts using (month, segment)
        ),
"""
    elif trailing_year:
        trailing_ctes = trailing_inputs or f"""
        -- A customer active in month m counts in the trailing year of every month from m until
        -- just before their next active month, at most 12 months: one interval per active month,
        -- so the distinct count becomes a running sum of +1/-1 changes (no 12-fold range join).
        coverage as (
            select
                segment,
                month as starts,
                least(
                    coalesce(lead(month) over (partition by segment, customer_key order by month),
                             {dialect.add_months("month", "12")}),
                    {dialect.add_months("month", "12")}
                ) as ends
            from customer_months
        ),

        coverage_changes as (
            select segment, month, sum(change) as change
            from (
                select segment, starts as month, 1 as change from coverage
                union all
                select segment, ends as month, -1 as change from coverage
            )
            group by segment, month
        ),

        month_orders as (
            select segment, month, sum(orders) as orders
            from customer_months
            group by segment, month
        ),
"""
        trailing_ctes += """
        trailing_months as (
            select
                month_spine.month,
                month_spine.segment,
                sum(coalesce(coverage_changes.change, 0)) over (
                    partition by month_spine.segment order by month_spine.month rows unbounded preceding
                ) as customers_12m,
                sum(coalesce(month_orders.orders, 0)) over (
                    partition by month_spine.segment order by month_spine.month rows between 11 preceding and current row
                ) as orders_12m
            from month_spine
            left join coverage_changes using (segment, month)
            left join month_orders using (segment, month)
        ),
"""
    if trailing_year:
        trailing_ctes += """
        trailing_year as (
            select spine.period, spine.segment, customers_12m, orders_12m
            from spine
            join trailing_months
                on trailing_months.segment = spine.segment and trailing_months.month = spine.last_month
        ),
"""
        trailing_columns = "trailing_year.customers_12m, trailing_year.orders_12m"
        trailing_join = "left join trailing_year using (period, segment)"
    else:
        trailing_ctes = ""
        trailing_columns = "null::bigint as customers_12m, null::bigint as orders_12m"
        trailing_join = ""
    if grain == "month":
        customer_periods = "select month as period, segment, customer_key, orders, cohort_month from customer_months"
    else:
        customer_periods = f"""select date_trunc('{grain}', month) as period, segment, customer_key,
                sum(orders) as orders, min(cohort_month) as cohort_month
            from customer_months
            group by period, segment, customer_key"""
    inputs = inputs or _inputs_from_orders(grain, where, segment, customer_periods, relation)
    return f"""
{inputs}

        segments as (
            select distinct segment from order_totals{f" union select segment from ({more_segments})" if more_segments else ""}
        ),

        month_spine as (
            select months.month, segments.segment
            from {dialect.month_spine("$history_start_month", "$range_end_month")} as months
            cross join segments
        ),

        spine as (
            select distinct
                date_trunc('{grain}', month) as period,
                {dialect.add_months("date_trunc('" + grain + "', month)", str(months - 1))} as last_month,
                segment
            from month_spine
        ),

{trailing_ctes}        base as (
            select
                spine.period,
                spine.segment,
                spine.last_month,
                coalesce(order_totals.orders, 0) as orders,
                coalesce(order_totals.revenue, 0) as revenue,
                coalesce(order_totals.guest_orders, 0) as guest_orders,
                order_totals.identified_orders,
                order_totals.identified_revenue,
                coalesce(customer_totals.customers, 0) as customers,
                coalesce(customer_totals.new_customers, 0) as new_customers,
                customer_totals.repeat_customers,
                {trailing_columns}
            from spine
            left join order_totals using (period, segment)
            left join customer_totals using (period, segment)
            {trailing_join}
        )
    """


def _inputs_from_orders(grain: str, where: str, segment: str, customer_periods: str, relation: str) -> str:
    """The CTEs `order_totals`, `customer_totals` and `customer_months`, counted from the orders."""
    return f"""
        -- one row per month, segment and customer (guest orders: one row without a customer)
        month_rows as ({customer_months_sql(where + " and order_date >= $history_start and order_date <= $range_end",
                                            segment, relation)}),

        order_totals as (
            select
                date_trunc('{grain}', month) as period,
                segment,
                sum(orders) as orders,
                sum(revenue) as revenue,
                coalesce(sum(orders) filter (where customer_key is null), 0) as guest_orders,
                coalesce(sum(orders) filter (where customer_key is not null), 0) as identified_orders,
                sum(revenue) filter (where customer_key is not null) as identified_revenue
            from month_rows
            group by period, segment
        ),

        customer_months as (
            select month, segment, customer_key, orders, cohort_month
            from month_rows
            where customer_key is not null
        ),

        customer_periods as (
            {customer_periods}
        ),

        customer_totals as (
            select
                period,
                segment,
                count(*) as customers,
                count(*) filter (where date_trunc('{grain}', cohort_month) = period) as new_customers,
                count(*) filter (where orders >= 2) as repeat_customers
            from customer_periods
            group by period, segment
        ),
    """


def kpi_base_sql(by: str | None, more_segments: str | None = None, relation: str = "orders",
                 trailing_counts: str | None = None) -> str:
    """The monthly base counts of the whole store for one breakdown (None = all customers), counted from
    `relation`'s orders (the append's new months; the full build reads the summaries: kpi_base_build)."""
    segment = SEGMENTS[by] if by else "'all'"
    ctes = base_counts_ctes("month", segment, "orders.is_valid", more_segments=more_segments, relation=relation,
                            trailing_counts=trailing_counts)
    return f"""
        with {ctes}
        select '{by or "all"}' as dimension, * from base
    """


def kpi_base_build(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict]:
    """kpi_base of the whole store, every breakdown, read from the combination summaries instead of every
    order (the same counts, tests/test_precomputed.py): orders and revenue from kpi_combo_months, each
    month's customers from kpi_signatures, the trailing year from each customer's active months as bit sets
    (62 months each). At 10M orders 6.4 s against 14.9 s counting each breakdown's customer-months
    from the orders."""
    params = kpi_base_params(con)
    params["history_start"] = params["history_start_month"]  # the summaries hold whole months
    trailing, mask_params = trailing_from_masks(params["history_start_month"], params["range_end_month"])
    params.update(mask_params)
    parts = []
    for by in (None, *PRECOMPUTED_BREAKDOWNS):
        segment = SEGMENTS[by] if by else "'all'"
        ctes = base_counts_ctes("month", segment, "orders.is_valid",
                                inputs=base_inputs_from_combos("month", segment, "orders.is_valid"),
                                trailing_inputs=trailing)
        parts.append(f"with {ctes} select '{by or 'all'}' as dimension, * from base")
    return parts, params


def kpi_base_append(con: duckdb.DuckDBPyConnection) -> tuple[list[str], dict]:
    """kpi_base after an append of later orders (`new_batch_orders`, see store.derived): the previous
    rows of the months before the first new month M, and the months from M (from the month after the
    store's last, when months without orders lie between: `kpi_trailing.recounted_from`) counted again: their counts
    from the orders of M on, their trailing years from the previous version's customers since each
    month and the customers the append touches (`kpi_trailing.appended_trailing_counts`). Every segment
    of the previous table is kept; a segment the store never had (a new channel) needs rows for every
    earlier month, and an append spanning more than a year's months needs each customer's year: else
    the whole table is counted again."""
    new_segments = " union all ".join(
        f"select segment from (select distinct {SEGMENTS[by]} as segment from new_batch_orders where status = 'valid') "
        f"where segment not in (select segment from previous_kpi_base where dimension = '{by}')"
        for by in PRECOMPUTED_BREAKDOWNS)
    first_month, previous_last = _appended_months(con)
    if first_month is None:  # no valid order: the counts are the same
        return ["select * from previous_kpi_base"], {}
    params = kpi_base_params(con)
    if con.execute(f"select count(*) from ({new_segments})").fetchone()[0]:
        return kpi_base_build(con)
    first_month = kpi_trailing.appended_trailing_counts(con, BREAKDOWNS, first_month, params["range_end_month"],
                                                       previous_last)
    if first_month is None:
        return kpi_base_build(con)
    # the valid orders of the new months, read once for the four breakdowns (narrow)
    con.execute("create or replace temp table kpi_new_month_orders as "
                "select order_month, order_date, customer_key, cohort_month, amount, is_valid, member_tier, channel "
                "from orders where is_valid and order_date >= $first_month", {"first_month": first_month})
    if first_month > params["history_start"]:
        params = {**params, "history_start": first_month, "history_start_month": first_month}
    parts = []
    for by in (None, *PRECOMPUTED_BREAKDOWNS):
        dimension = by or "all"
        kept = f"select * from previous_kpi_base where dimension = '{dimension}' and period < $first_new_month"
        previous_segments = f"select segment from previous_kpi_base where dimension = '{dimension}'"
        trailing = (f"select month, segment, customers_12m, orders_12m from kpi_trailing_counts "
                    f"where dimension = '{dimension}'")
        recounted = kpi_base_sql(by, previous_segments, "kpi_new_month_orders", trailing_counts=trailing)
        counted = f"select * from ({recounted}) as counted where period >= $first_new_month"
        parts.append(dialect.union_by_name([kept, counted]))
    return parts, {**params, "first_new_month": first_month}


def _appended_months(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date]:
    """The month of an append's first valid order (None: it has none) and the previous version's last
    valid month."""
    first_new = con.execute("select min(cast(order_ts as date)) from new_batch_orders where status = 'valid'").fetchone()[0]
    previous_last = con.execute("select last_valid_date from previous_order_facts").fetchone()[0]
    return (first_new.replace(day=1) if first_new else None), previous_last.replace(day=1)


def customers_since_build(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """kpi_customers_since: per breakdown segment and each of the last 12 months, the customers with a
    valid order from that month through the last (the trailing years' state an append starts from)."""
    return kpi_trailing.customers_since_build(con, BREAKDOWNS)


def customers_since_append(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """kpi_customers_since after an append: the previous counts plus the touched customers new to each."""
    first_month, previous_last = _appended_months(con)
    return kpi_trailing.customers_since_append(con, BREAKDOWNS, first_month, previous_last)


def kpi_base_params(con: duckdb.DuckDBPyConnection) -> dict:
    """Parameters of `kpi_base_sql`: the store's whole date range (from the order_facts summary)."""
    first, last = con.execute("select first_valid_date, last_valid_date from order_facts").fetchall()[0]
    return {"history_start": first, "history_start_month": first.replace(day=1),
            "range_end": last, "range_end_month": last.replace(day=1)}


def kpi_base_slice(filters, grain: str, by: str | None, last: date, end: date) -> tuple | None:
    """(dimension, segment or None) if the precomputed kpi_base answers this request exactly, else None."""
    if grain != "month":
        return None
    chosen = filters.dimension_values()
    if by is not None:
        if chosen:
            return None
        dimension, segment = by, None
    elif not chosen:
        dimension, segment = "all", None
    elif len(chosen) == 1 and len(next(iter(chosen.values()))) == 1:
        dimension, (segment,) = next(iter(chosen.items()))
        if segment == NOT_SET[dimension]:  # that segment also holds orders without a value
            return None
    else:
        return None
    if dimension != "all" and dimension not in PRECOMPUTED_BREAKDOWNS:
        return None
    if end.replace(day=1) > last.replace(day=1):
        return None  # the request reaches months after the data: precomputed periods stop at its end
    if end < last and (pd.Timestamp(end) + pd.offsets.MonthEnd(0)).date() != end:
        return None  # a month cut in the middle
    return dimension, segment


def base_from_kpi_base(segment: str | None) -> str:
    """CTEs ending in `base`, read from the precomputed kpi_base table."""
    segment_condition = "segment = $cube_segment" if segment is not None else "true"
    label = "'all'" if segment is not None else "segment"
    return f"""
        cube as (
            select period, {label} as segment, last_month, {", ".join(BASE_COUNTS)}
            from kpi_base
            where dimension = $cube_dimension and {segment_condition}
                and period >= date_trunc('month', cast($history_start as date))
                and period <= date_trunc('month', cast($range_end as date))
        ),

        base as (
            select * from cube
            where segment in (select segment from cube group by segment having sum(orders) > 0)
        )
    """

"""The monthly KPI table: one row per period (month, quarter or year), optionally per segment.

Every KPI in `metrics.definitions.KPIS`, with its change against the previous period (`_mom`)
and the same period a year earlier (`_yoy`): rates change in points, the rest relatively.
New customers are those whose first valid order *ever* falls in the period (the cohort month
comes from all history, whatever the filters), so filters never turn old customers into new.
"""

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from metrics import dialect
from metrics.definitions import KPIS, RATES
from metrics.filters import Filters

GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
NON_MEMBER_TIERS = ("none", "non-member", "non member", "nonmember", "no", "0", "非会员", "普通用户")
SEGMENTS = {
    "member_tier": "coalesce(member_tier, 'none')",
    "channel": "coalesce(channel, '(not set)')",
    "region": "coalesce(region, '(not set)')",
    "category": "coalesce(category, '(not set)')",
    "membership": "case when member_tier is null or lower(member_tier) in ("
    + ", ".join(f"'{t}'" for t in NON_MEMBER_TIERS)
    + ") then 'non-member' else 'member' end",
}


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last date with a valid order in the store."""
    return con.execute("select min(order_date), max(order_date) from orders where is_valid").fetchall()[0]


def latest_full_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last calendar month that the data covers completely (the month before the last order's, unless that is a month end)."""
    return con.execute(
        """
        select cast(date_trunc('month', max(order_date) + interval 1 day) - interval 1 month as date)
        from orders where is_valid
        """
    ).fetchall()[0][0]


def _change_columns() -> str:
    """SQL for the _mom and _yoy columns of every KPI (lags over the continuous period spine)."""
    columns = []
    for kpi in KPIS:
        for suffix, lag in (("mom", "1"), ("yoy", "$periods_per_year")):
            previous = f"lag({kpi.key}, {lag}) over (partition by segment order by period)"
            if kpi.key in RATES:
                columns.append(f"{kpi.key} - {previous} as {kpi.key}_{suffix}")
            else:
                columns.append(f"{kpi.key} / nullif({previous}, 0) - 1 as {kpi.key}_{suffix}")
    return ",\n                ".join(columns)


def kpi_table(
    con: duckdb.DuckDBPyConnection,
    filters: Filters = Filters(),
    grain: str = "month",
    by: str | None = None,
) -> pd.DataFrame:
    """One row per period (and `by` segment) in the filter's date range: every KPI plus _mom and _yoy changes."""
    if grain not in GRAIN_MONTHS:
        raise ValueError(f"grain must be one of {', '.join(GRAIN_MONTHS)}")
    if by is not None and by not in SEGMENTS:
        raise ValueError(f"by must be one of {', '.join(SEGMENTS)}")
    first, last = data_range(con)
    start = filters.start or first
    end = filters.end or last
    columns = ["period", "segment", *[k.key for k in KPIS], "is_complete"]
    if start is None or end is None or start > end:
        return pd.DataFrame(columns=columns)
    where, params = filters.where("orders", dates=False)
    months = GRAIN_MONTHS[grain]
    segment = SEGMENTS[by] if by else "'all'"
    sql = f"""
        with filtered_orders as (
            select order_date, customer_key, cohort_month, amount, {segment} as segment,
            from orders
            where {where}
                and order_date >= $history_start and order_date <= $range_end
        ),

        order_periods as (
            select date_trunc('{grain}', order_date) as period, *,
            from filtered_orders
        ),

        order_totals as (
            select
                period,
                segment,
                count(*) as orders,
                sum(amount) as revenue,
                count(*) filter (where customer_key is null) as guest_orders,
                count(*) filter (where customer_key is not null) as identified_orders,
                sum(amount) filter (where customer_key is not null) as identified_revenue,
            from order_periods
            group by period, segment
        ),

        customer_periods as (
            select period, segment, customer_key, count(*) as orders, min(cohort_month) as cohort_month,
            from order_periods
            where customer_key is not null
            group by period, segment, customer_key
        ),

        customer_totals as (
            select
                period,
                segment,
                count(*) as customers,
                count(*) filter (where date_trunc('{grain}', cohort_month) = period) as new_customers,
                count(*) filter (where orders >= 2) as repeat_customers,
            from customer_periods
            group by period, segment
        ),

        customer_months as (
            select date_trunc('month', order_date) as month, segment, customer_key, count(*) as orders,
            from filtered_orders
            where customer_key is not null
            group by month, segment, customer_key
        ),

        segments as (
            select distinct segment from filtered_orders
        ),

        month_spine as (
            select months.month, segments.segment,
            from {dialect.month_spine("$history_start_month", "$range_end_month")} as months
            cross join segments
        ),

        spine as (
            select distinct
                date_trunc('{grain}', month) as period,
                {dialect.add_months("date_trunc('" + grain + "', month)", str(months - 1))} as last_month,
                segment,
            from month_spine
        ),

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
                ) as ends,
            from customer_months
        ),

        coverage_changes as (
            select segment, month, sum(change) as change,
            from (
                select segment, starts as month, 1 as change from coverage
                union all
                select segment, ends as month, -1 as change from coverage
            )
            group by segment, month
        ),

        month_orders as (
            select segment, month, sum(orders) as orders,
            from customer_months
            group by segment, month
        ),

        trailing_months as (
            select
                month_spine.month,
                month_spine.segment,
                sum(coalesce(coverage_changes.change, 0)) over (
                    partition by month_spine.segment order by month_spine.month rows unbounded preceding
                ) as customers_12m,
                sum(coalesce(month_orders.orders, 0)) over (
                    partition by month_spine.segment order by month_spine.month rows between 11 preceding and current row
                ) as orders_12m,
            from month_spine
            left join coverage_changes using (segment, month)
            left join month_orders using (segment, month)
        ),

        trailing_year as (
            select spine.period, spine.segment, customers_12m, orders_12m,
            from spine
            join trailing_months
                on trailing_months.segment = spine.segment and trailing_months.month = spine.last_month
        ),

        joined as (
            select
                spine.period,
                spine.segment,
                spine.last_month,
                coalesce(order_totals.orders, 0) as orders,
                coalesce(order_totals.revenue, 0) as revenue,
                coalesce(customer_totals.customers, 0) as customers,
                coalesce(customer_totals.new_customers, 0) as new_customers,
                coalesce(customer_totals.customers - customer_totals.new_customers, 0) as returning_customers,
                customer_totals.repeat_customers,
                order_totals.identified_orders,
                order_totals.identified_revenue,
                coalesce(order_totals.guest_orders, 0) as guest_orders,
                trailing_year.customers_12m,
                trailing_year.orders_12m,
            from spine
            left join order_totals using (period, segment)
            left join customer_totals using (period, segment)
            left join trailing_year using (period, segment)
        ),

        kpis as (
            select
                period,
                segment,
                last_month,
                orders,
                revenue,
                customers,
                new_customers,
                returning_customers,
                returning_customers / nullif(customers, 0) as repurchase_rate,
                repeat_customers / nullif(customers, 0) as repeat_rate,
                identified_orders / nullif(customers, 0) as frequency,
                orders_12m / nullif(customers_12m, 0) as annual_frequency,
                revenue / nullif(orders, 0) as aov,
                identified_revenue / nullif(customers, 0) as revenue_per_customer,
                guest_orders,
            from joined
        ),

        final as (
            select
                * exclude (last_month),
                {_change_columns()},
                {dialect.add_months("last_month", "1")} <= $data_end_next_day as is_complete,
            from kpis
        )

        select * from final
        where period >= date_trunc('{grain}', cast($range_start as date))
        order by segment, period
    """
    start_month = start.replace(day=1)
    history_start = date(start_month.year - 2, start_month.month, 1)  # a year for YoY of a trailing year
    params.update({
        "history_start": history_start,
        "history_start_month": history_start,
        "range_start": start,
        "range_end": end,
        "range_end_month": end.replace(day=1),
        "data_end_next_day": pd.Timestamp(last) + pd.Timedelta(days=1),
        "periods_per_year": 12 // months,
    })
    frame = con.execute(sql, params).df()
    if by is None:
        frame = frame.drop(columns="segment")
    return frame


def kpi_row(con: duckdb.DuckDBPyConnection, month: date, filters: Filters = Filters()) -> dict:
    """The KPI row of one calendar month (with its changes), as a plain dict."""
    month = month.replace(day=1)
    scoped = replace(filters, start=month, end=(pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date())
    frame = kpi_table(con, scoped, "month")
    if frame.empty:
        return {}
    row = frame.iloc[-1].to_dict()
    return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in row.items()}

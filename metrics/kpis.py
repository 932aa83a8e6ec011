"""The monthly KPI table: one row per period (month, quarter or year), optionally per segment.

Every KPI in `metrics.definitions.KPIS`, with its change against the previous period (`_mom`)
and the same period a year earlier (`_yoy`): rates change in points, the rest relatively.
New customers are those whose first valid order *ever* falls in the period (the cohort month
comes from all history, whatever the filters), so filters never turn old customers into new.

The table is computed in two steps: the base counts of each period and segment (orders,
customers, new, repeat and trailing-year customers...), then the KPIs as ratios of them. The monthly
base counts of the unfiltered store and of every segment of the usual breakdowns are
precomputed at each upload into the small `kpi_base` table (see `store.models.kpis`), so that the usual
views (all customers, one segment, one filter value) read a few hundred rows; any other filter
combination, grain or breakdown reads the combination summaries (`store.models.kpi_combos`), and a
range cut inside a period counts from the orders with the same SQL.
"""

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from metrics.definitions import KPIS, RATES
from metrics.filters import Filters
from metrics.inventory import order_facts_source
from store.models import dialect, registry
from store.models.kpi_combos import base_inputs_from_combos, trailing_from_masks
from store.models.kpi_value_signatures import customer_totals_from_values
from store.models.kpis import GRAIN_MONTHS, NON_MEMBER_TIERS, SEGMENTS, base_counts_ctes, base_from_kpi_base, kpi_base_slice
from store.models.registry import Request

__all__ = ["GRAIN_MONTHS", "NON_MEMBER_TIERS", "SEGMENTS", "counts_each_customer", "data_range", "kpi_row", "kpi_table", "latest_full_month", "month_row"]


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date | None, date | None]:
    """First and last date with a valid order in the store."""
    return con.execute(f"select first_valid_date, last_valid_date from {order_facts_source(con)}").fetchall()[0]


def latest_full_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """The last calendar month that the data covers completely (the month before the last order's, unless that is a month end)."""
    return con.execute(
        f"""
        select cast(date_trunc('month', last_valid_date + interval 1 day) - interval 1 month as date)
        from {order_facts_source(con)}
        """
    ).fetchall()[0][0]


def report_month(con: duckdb.DuckDBPyConnection) -> date | None:
    """The month a report opens on: the latest full month, or the data's last month when it has none
    (an export of a few weeks), as the Overview does."""
    first, last = data_range(con)
    if last is None:
        return None
    full = latest_full_month(con)
    return full if full >= first.replace(day=1) else last.replace(day=1)


def _cube_slice(con, filters: Filters, grain: str, by: str | None, last: date, end: date) -> tuple | None:
    """(dimension, segment or None) if the precomputed kpi_base answers this request exactly, else None."""
    request = Request(filters=filters, grain=grain, by=by, last_date=last, end=end)
    if registry.source_for(con, "kpi_base", request) is None:
        return None
    return kpi_base_slice(filters, grain, by, last, end)


COMBO_TABLES = ("kpi_combos", "kpi_combo_months", "kpi_customer_combos", "kpi_signatures")


def _combos_answer(con, filters: Filters, grain: str, by: str | None, last: date, end: date,
                   history_start: date) -> bool:
    """Whether the combination summaries (store.models.kpi_combos) answer this request: any filter
    combination, grain and breakdown over whole periods."""
    request = Request(filters=filters, grain=grain, by=by, last_date=last, end=end, history_start=history_start)
    return all(registry.source_for(con, name, request) for name in COMBO_TABLES)


def _value_signatures(con, filters: Filters, grain: str, by: str | None, last: date, end: date, history_start: date,
                      where: str) -> str | None:
    """The month's customer counts (CTEs ending in `customer_totals`) from kpi_value_signatures, when the filter
    keeps values of one dimension only and the summary answers: else None (kpi_signatures answers)."""
    chosen = filters.dimension_values()
    request = Request(filters=filters, grain=grain, by=by, last_date=last, end=end, history_start=history_start)
    if len(chosen) != 1 or by is not None or grain != "month" \
            or registry.source_for(con, "kpi_value_signatures", request) is None:
        return None
    (dimension,) = chosen
    return customer_totals_from_values(dimension, where)


def _history_start(start_month: date) -> date:
    """The first month the KPI table with changes counts: two years before its range (a year for the
    year-on-year change of a trailing year)."""
    return date(start_month.year - 2, start_month.month, 1)


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
    changes: bool = True,
    annual_frequency: bool | None = None,
) -> pd.DataFrame:
    """One row per period (and `by` segment) in the filter's date range: every KPI plus _mom and _yoy changes.

    changes=False: only each period's own KPIs, without the changes and annual frequency (which need
    earlier months), counted from the range's orders alone: much cheaper for comparing periods.
    annual_frequency (default: as `changes`): with changes=False, keep the annual frequency, counted from
    the year before the range only (the changes' year-on-year needs two).
    """
    annual_frequency = changes if annual_frequency is None else annual_frequency
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
    start_month = start.replace(day=1)
    history_start = _history_start(start_month)
    if not changes:
        history_start = (pd.Timestamp(start_month) - pd.DateOffset(months=11)).date() if annual_frequency \
            else start_month
    params = {
        "history_start": history_start,
        "range_start": start,
        "range_end": end,
        "data_end_next_day": pd.Timestamp(last) + pd.Timedelta(days=1),
        "periods_per_year": 12 // GRAIN_MONTHS[grain],
    }
    cube = _cube_slice(con, filters, grain, by, last, end)
    if cube:
        base = base_from_kpi_base(cube[1])
        params["cube_dimension"] = cube[0]
        if cube[1] is not None:
            params["cube_segment"] = cube[1]
    else:
        where, filter_params = filters.where("orders", dates=False)
        segment = SEGMENTS[by] if by else "'all'"
        inputs = trailing = None
        if _combos_answer(con, filters, grain, by, last, end, history_start):
            inputs = base_inputs_from_combos(grain, segment, where,
                                             _value_signatures(con, filters, grain, by, last, end, history_start, where))
            if annual_frequency:  # the sets of active months start at the first month with orders
                trailing, mask_params = trailing_from_masks(max(history_start, first.replace(day=1)), end)
                params.update(mask_params)
        base = base_counts_ctes(grain, segment, where, trailing_year=annual_frequency, inputs=inputs,
                                trailing_inputs=trailing)
        params.update(filter_params, history_start_month=history_start, range_end_month=end.replace(day=1))
    sql = f"""
        with {base},

        kpis as (
            select
                period,
                segment,
                last_month,
                orders,
                revenue,
                customers,
                new_customers,
                customers - new_customers as returning_customers,
                (customers - new_customers) / nullif(customers, 0) as repurchase_rate,
                repeat_customers / nullif(customers, 0) as repeat_rate,
                identified_orders / nullif(customers, 0) as frequency,
                orders_12m / nullif(customers_12m, 0) as annual_frequency,
                revenue / nullif(orders, 0) as aov,
                identified_revenue / nullif(customers, 0) as revenue_per_customer,
                guest_orders
            from base
        ),

        final as (
            select
                {dialect.columns_except(("last_month",))},
                {_change_columns()},
                {dialect.add_months("last_month", "1")} <= $data_end_next_day as is_complete
            from kpis
        )

        select * from final
        where period >= date_trunc('{grain}', cast($range_start as date))
        order by segment, period
    """
    frame = con.execute(sql, params).df()
    if by is None:
        frame = frame.drop(columns="segment")
    if not changes:
        frame = frame.drop(columns=[c for c in frame.columns
                                    if c.endswith(("_mom", "_yoy")) or (c == "annual_frequency" and not annual_frequency)])
    return frame


def kpi_row(con: duckdb.DuckDBPyConnection, month: date, filters: Filters = Filters(),
            annual_frequency: bool = True) -> dict:
    """The KPI row of one calendar month (with its changes), as a plain dict: the KPI table's row of that month
    under the same filters (the month from its first day, to the filter's end if that falls inside it).
    annual_frequency=False: without the annual frequency (None), whose trailing year `counts_each_customer`."""
    month = month.replace(day=1)
    month_end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    scoped = replace(filters, start=month, end=min(month_end, filters.end or month_end))
    return month_row(kpi_table(con, scoped, "month", annual_frequency=annual_frequency), month)


def counts_each_customer(con: duckdb.DuckDBPyConnection, filters: Filters = Filters(), grain: str = "month",
                         by: str | None = None) -> bool:
    """Whether the KPI table under `filters` reads the combination summaries but counts its annual frequency from
    each customer's trailing year (no stored summary holds it): 1-8 s at 100M orders under a filter set matching
    many customers, where the rest of the table takes under a second. False when kpi_base answers the whole
    table, or when it counts from the orders anyway (a range cut inside a month)."""
    first, last = data_range(con)
    if last is None:
        return False
    end = filters.end or last
    history_start = _history_start((filters.start or first).replace(day=1))
    return _cube_slice(con, filters, grain, by, last, end) is None \
        and _combos_answer(con, filters, grain, by, last, end, history_start)


def month_row(table: pd.DataFrame, month: date) -> dict:
    """A KPI table's row of one month as a plain dict (missing values None; {} when the table has no such month)."""
    rows = table[table["period"] == pd.Timestamp(month)]
    if rows.empty:
        return {}
    return {k: (None if isinstance(v, float) and pd.isna(v) else v) for k, v in rows.iloc[-1].to_dict().items()}


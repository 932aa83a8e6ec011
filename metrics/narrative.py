"""What moved most: the headline KPI with the largest month-over-month change, and which segment drove it.

A rate's change is measured in percentage points, anything else relatively; one point and one
percent weigh the same. The driver is the member tier or channel whose own change, weighted by
its share of the month, contributed most in the same direction.
"""

from dataclasses import replace
from datetime import date

import duckdb
import pandas as pd

from metrics.definitions import ALL, RATES
from metrics.filters import Filters
from metrics.kpis import NON_MEMBER_TIERS, kpi_row, kpi_table

HEADLINE = ("repurchase_rate", "frequency", "aov", "revenue_per_customer")  # the retention story, not seasonality
DRIVER_DIMENSIONS = ("member_tier", "channel")
NOTICEABLE = 0.005  # half a point, or half a percent
WEIGHTS = {"aov": "orders"}  # share of the month each segment carries for a KPI; default customers
ADDITIVE = ("customers", "revenue")


def biggest_move(con: duckdb.DuckDBPyConnection, month: date, filters: Filters = Filters(),
                 row: dict | None = None) -> dict | None:
    """{kpi, kind, value, change, driver_dimension, driver_segment} for the month, or None if nothing moved.
    `row`: the month's kpi_row when the caller already has it (its row of the KPI table under the same filters)."""
    row = kpi_row(con, month, filters, annual_frequency=False) if row is None else row  # not a headline KPI
    changes = {k: row.get(f"{k}_mom") for k in HEADLINE if row.get(f"{k}_mom") is not None}
    if not changes:
        return None
    kpi = max(changes, key=lambda k: abs(changes[k]))
    if abs(changes[kpi]) < NOTICEABLE:
        return None
    previous = (pd.Timestamp(month) - pd.DateOffset(months=1)).date()
    driver = _driver(con, kpi, month, previous, filters, changes[kpi])
    return {
        "kpi": kpi,
        "kind": ALL[kpi].kind,
        "value": row[kpi],
        "change": changes[kpi],
        "driver_dimension": driver[0] if driver else None,
        "driver_segment": driver[1] if driver else None,
    }


def _can_drive(dimension: str, segments) -> bool:
    """A dimension explains a move only if it splits the month: two or more segments, and for
    member tiers at least one of members (no membership column means every order is 'none',
    and "driven by non-members" would only restate the total)."""
    if len(segments) < 2:
        return False
    if dimension == "member_tier":
        return any(str(s).strip().lower() not in NON_MEMBER_TIERS for s in segments)
    return True


def _driver(con, kpi: str, month: date, previous: date, filters: Filters, change: float):
    best = None
    month_end = (pd.Timestamp(month) + pd.offsets.MonthEnd(0)).date()
    month_end = min(month_end, filters.end or month_end)  # the month as the filter's end cuts it (as kpi_row)
    for dimension in DRIVER_DIMENSIONS:
        if len(getattr(filters, dimension)) == 1:
            continue  # filtered to one segment: it would only restate the total
        both = kpi_table(con, replace(filters, start=previous, end=month_end), "month", by=dimension, changes=False)
        both = both[both["orders"] > 0]
        now = both[both["period"] == pd.Timestamp(month)].set_index("segment")
        before = both[both["period"] == pd.Timestamp(previous)].set_index("segment")
        if now.empty or before.empty or not _can_drive(dimension, now.index):
            continue
        weight_column = WEIGHTS.get(kpi, "customers")
        weights = now[weight_column] / now[weight_column].sum()
        for segment in now.index.intersection(before.index):
            delta = now.loc[segment, kpi] - before.loc[segment, kpi]
            if pd.isna(delta):
                continue
            contribution = delta if kpi in ADDITIVE else weights[segment] * delta
            if kpi not in RATES and kpi not in ADDITIVE and before.loc[segment, kpi]:
                contribution = weights[segment] * delta / before.loc[segment, kpi]
            if contribution * change > 0 and (best is None or abs(contribution) > abs(best[2])):
                best = (dimension, segment, contribution)
    return best[:2] if best else None

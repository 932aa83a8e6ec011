"""The benchmark's baseline: the monthly KPI table and the cohort matrix in plain pandas, as a notebook would.

Read the order export with `pd.read_parquet` (only the columns needed), keep valid orders, then
groupby/merge/shift; no DuckDB, no precomputed tables, no hand-tuned tricks (no integer customer
codes, no numba). Definitions are those of docs/metrics.md (and tests/naive.py), computed for
every calendar month from the first to the last month with a valid order, without filters.
It is a fair, vectorised baseline: the trailing-year customer count loops over months on the
deduplicated customer-month table rather than on all orders, and cohort ages come from
year/month arithmetic rather than Period objects.
"""

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["customer_id", "order_ts", "amount", "status"]
VALID_STATUSES = ("valid", "paid")  # the demo export says "paid"; the importer maps it to valid
MIN_COHORT_SIZE = 30
RATES = ("repurchase_rate", "repeat_rate")
KPI_COLUMNS = ["orders", "revenue", "customers", "new_customers", "returning_customers", "repurchase_rate",
               "repeat_rate", "frequency", "annual_frequency", "aov", "revenue_per_customer", "guest_orders"]


def read_orders(path: Path | str) -> pd.DataFrame:
    """The export as a DataFrame (Parquet or CSV), with the columns the two tables need."""
    path = Path(path)
    if path.suffix == ".csv":
        return pd.read_csv(path, usecols=COLUMNS, parse_dates=["order_ts"])
    return pd.read_parquet(path, columns=COLUMNS)


def _valid(orders: pd.DataFrame) -> pd.DataFrame:
    valid = orders[orders["status"].isin(VALID_STATUSES)].copy()
    valid["month"] = valid["order_ts"].dt.to_period("M")
    return valid


def kpi_table(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per month: every KPI and its month-over-month (_mom) and year-over-year (_yoy) change."""
    valid = _valid(orders)
    known = valid[valid["customer_id"].notna()]
    first_month = known.groupby("customer_id")["month"].min().rename("cohort_month")

    totals = valid.groupby("month").agg(orders=("amount", "size"), revenue=("amount", "sum"))
    totals["guest_orders"] = valid[valid["customer_id"].isna()].groupby("month").size()

    customer_months = (
        known.groupby(["month", "customer_id"]).agg(orders=("amount", "size"), revenue=("amount", "sum")).reset_index()
    )
    customer_months = customer_months.join(first_month, on="customer_id")
    customer_months["is_new"] = customer_months["cohort_month"] == customer_months["month"]
    customer_months["is_repeat"] = customer_months["orders"] >= 2
    per_month = customer_months.groupby("month").agg(
        customers=("customer_id", "size"),
        new_customers=("is_new", "sum"),
        repeat_customers=("is_repeat", "sum"),
        identified_orders=("orders", "sum"),
        identified_revenue=("revenue", "sum"),
    )

    months = pd.period_range(valid["month"].min(), valid["month"].max(), freq="M")
    trailing = []
    for month in months:
        window = customer_months[(customer_months["month"] > month - 12) & (customer_months["month"] <= month)]
        trailing.append({"month": month, "customers_12m": window["customer_id"].nunique(),
                         "orders_12m": window["orders"].sum()})
    trailing = pd.DataFrame(trailing).set_index("month")

    table = totals.join(per_month).reindex(months).join(trailing)
    counts = ["orders", "revenue", "guest_orders", "customers", "new_customers", "repeat_customers"]
    table[counts] = table[counts].fillna(0)
    table["returning_customers"] = table["customers"] - table["new_customers"]
    customers = table["customers"].replace(0, np.nan)
    table["repurchase_rate"] = table["returning_customers"] / customers
    table["repeat_rate"] = table["repeat_customers"] / customers
    table["frequency"] = table["identified_orders"] / customers
    table["annual_frequency"] = table["orders_12m"] / table["customers_12m"].replace(0, np.nan)
    table["aov"] = table["revenue"] / table["orders"].replace(0, np.nan)
    table["revenue_per_customer"] = table["identified_revenue"] / customers
    table = table[KPI_COLUMNS].astype(float)
    for kpi in KPI_COLUMNS:
        for suffix, lag in (("mom", 1), ("yoy", 12)):
            previous = table[kpi].shift(lag)
            if kpi in RATES:
                table[f"{kpi}_{suffix}"] = table[kpi] - previous
            else:
                table[f"{kpi}_{suffix}"] = table[kpi] / previous.replace(0, np.nan) - 1
    table.index = table.index.to_timestamp()
    return table.rename_axis("period").reset_index()


def cohort_matrix(orders: pd.DataFrame) -> pd.DataFrame:
    """One row per cohort month and age k: cohort size, active customers, revenue, retention and historical LTV."""
    valid = _valid(orders)
    known = valid[valid["customer_id"].notna()]
    customer_months = known.groupby(["customer_id", "month"])["amount"].sum().rename("revenue").reset_index()
    customer_months["cohort_month"] = customer_months.groupby("customer_id")["month"].transform("min")
    month, cohort = customer_months["month"].dt, customer_months["cohort_month"].dt
    customer_months["age"] = (month.year - cohort.year) * 12 + (month.month - cohort.month)

    by_age = customer_months.groupby(["cohort_month", "age"]).agg(
        active_customers=("customer_id", "size"), revenue=("revenue", "sum"))
    first = by_age.xs(0, level="age")
    last = customer_months["month"].max()
    grid = pd.MultiIndex.from_tuples(
        [(c, k) for c in first.index for k in range((last.year - c.year) * 12 + last.month - c.month + 1)],
        names=["cohort_month", "age"],
    )
    matrix = by_age.reindex(grid, fill_value=0).reset_index()
    matrix = matrix.join(first.rename(columns={"active_customers": "cohort_customers", "revenue": "first_revenue"}),
                         on="cohort_month")
    matrix["retention"] = matrix["active_customers"] / matrix["cohort_customers"]
    matrix["revenue_retention"] = matrix["revenue"] / matrix["first_revenue"].replace(0, np.nan)
    matrix["cumulative_revenue_per_customer"] = (
        matrix.groupby("cohort_month")["revenue"].cumsum() / matrix["cohort_customers"])
    matrix["small_cohort"] = matrix["cohort_customers"] < MIN_COHORT_SIZE
    matrix["cohort_month"] = matrix["cohort_month"].dt.to_timestamp()
    return matrix[["cohort_month", "age", "cohort_customers", "active_customers", "revenue", "retention",
                   "revenue_retention", "cumulative_revenue_per_customer", "small_cohort"]]

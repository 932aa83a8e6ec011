"""Plain pandas versions of the metric definitions, written straight from SPEC.md, for cross-checks."""

import pandas as pd


def monthly_kpis(orders: pd.DataFrame) -> pd.DataFrame:
    """orders: order_id, customer_id (None = guest), order_ts, amount, status. One row per month with orders."""
    valid = orders[orders["status"] == "valid"].copy()
    valid["month"] = valid["order_ts"].dt.to_period("M")
    first_month = valid.dropna(subset=["customer_id"]).groupby("customer_id")["month"].min()
    rows = []
    for month in pd.period_range(valid["month"].min(), valid["month"].max(), freq="M"):
        in_month = valid[valid["month"] == month]
        known = in_month.dropna(subset=["customer_id"])
        per_customer = known.groupby("customer_id").size()
        customers = len(per_customer)
        new = int((first_month[per_customer.index] == month).sum()) if customers else 0
        trailing = valid[(valid["month"] > month - 12) & (valid["month"] <= month)].dropna(subset=["customer_id"])
        rows.append({
            "period": month.to_timestamp(),
            "orders": len(in_month),
            "revenue": float(in_month["amount"].sum()),
            "customers": customers,
            "new_customers": new,
            "returning_customers": customers - new,
            "repurchase_rate": (customers - new) / customers if customers else None,
            "repeat_rate": float((per_customer >= 2).sum()) / customers if customers else None,
            "frequency": len(known) / customers if customers else None,
            "annual_frequency": len(trailing) / trailing["customer_id"].nunique() if len(trailing) else None,
            "aov": float(in_month["amount"].sum()) / len(in_month) if len(in_month) else None,
            "revenue_per_customer": float(known["amount"].sum()) / customers if customers else None,
            "guest_orders": int(in_month["customer_id"].isna().sum()),
        })
    return pd.DataFrame(rows)


def cohort_retention(orders: pd.DataFrame) -> dict[tuple[pd.Period, int], float]:
    """(cohort month, age k) -> share of the cohort with a valid order in month cohort + k."""
    valid = orders[(orders["status"] == "valid")].dropna(subset=["customer_id"]).copy()
    valid["month"] = valid["order_ts"].dt.to_period("M")
    cohort = valid.groupby("customer_id")["month"].min().rename("cohort")
    valid = valid.join(cohort, on="customer_id")
    valid["age"] = (valid["month"] - valid["cohort"]).apply(lambda offset: offset.n)
    sizes = cohort.value_counts()
    active = valid.groupby(["cohort", "age"])["customer_id"].nunique()
    return {key: count / sizes[key[0]] for key, count in active.items()}

"""Small tables the Customer value page draws from the per-customer predictions (metrics.clv)."""

from collections.abc import Callable

import numpy as np
import pandas as pd

HIGH_VALUE_QUANTILE = 0.8  # "valuable": top 20% by total value
SLIPPING_P_ALIVE = 0.5
RECENCY_EDGES = [0, 30, 60, 90, 180, 365, 730, np.inf]
FREQUENCY_EDGES = [0, 1, 2, 3, 5, 8, 13, np.inf]
BREAKDOWNS = ("member_tier", "first_channel", "rfm_segment", "cohort_month")  # the page's "value by" charts
Complete = Callable[[pd.DataFrame], pd.DataFrame]  # listed rows -> the same rows with the columns left out


def clv_by(predictions: pd.DataFrame, column: str, missing: str = "(none)") -> pd.DataFrame:
    """Customers, mean P(alive), mean predicted and total value per value of `column` (no value: `missing`)."""
    def table(keys: pd.Series, **options) -> pd.DataFrame:
        grouped = predictions[["p_alive", "predicted_clv", "total_clv"]].groupby(keys.rename("segment"), **options)
        return pd.concat([grouped.size().rename("customers"), grouped.mean()], axis=1)

    # grouped on the values as they are, then labelled: turning a million dates into text first took most of the time
    result = table(predictions[column], dropna=False, sort=False)
    labels = pd.Series(result.index).astype("string").fillna(missing)
    if labels.duplicated().any():  # a value that reads like `missing` besides missing ones: group on the text
        return table(predictions[column].astype("string").fillna(missing)).reset_index()
    result.index = pd.Index(labels, name="segment")
    return result.sort_index().reset_index()


def p_alive_matrix(predictions: pd.DataFrame) -> pd.DataFrame:
    """Mean P(alive) by repeat-order band (rows) and days-since-last-order band (columns); bands nobody is in
    are left out. Counted with np.bincount on the cell numbers (pd.cut and pivot_table took ten times longer)."""
    recency = (predictions["T"] - predictions["t_x"]).to_numpy(dtype=float)  # days since last order
    frequency = predictions["x"].to_numpy(dtype=float)
    p_alive = predictions["p_alive"].to_numpy(dtype=float)
    rows, columns = len(FREQUENCY_EDGES) - 1, len(RECENCY_EDGES) - 1
    row = np.searchsorted(FREQUENCY_EDGES, frequency, side="right") - 1  # bands include their left edge
    column = np.searchsorted(RECENCY_EDGES, recency, side="right") - 1
    kept = (row >= 0) & (row < rows) & (column >= 0) & (column < columns) & ~np.isnan(p_alive)
    cell = row[kept] * columns + column[kept]
    customers = np.bincount(cell, minlength=rows * columns)
    with np.errstate(invalid="ignore"):
        means = np.bincount(cell, weights=p_alive[kept], minlength=rows * columns) / customers
    frequency_labels, recency_labels = _labels(FREQUENCY_EDGES), _labels(RECENCY_EDGES)
    table = pd.DataFrame(
        means.reshape(rows, columns),
        index=pd.CategoricalIndex(frequency_labels, categories=frequency_labels, ordered=True, name="repeat_orders"),
        columns=pd.CategoricalIndex(recency_labels, categories=recency_labels, ordered=True, name="days_since_last"),
    )
    return table.dropna(axis=0, how="all").dropna(axis=1, how="all")


def histogram_bins(values: pd.Series, bins: int = 50) -> pd.DataFrame:
    """Customers per equal-width bin (left, right, count); values above the 99th percentile count in the last
    bin, so that one whale does not squash the picture; values that are not finite numbers (a model that blew
    up) are left out."""
    values = pd.Series(values, dtype=float)
    values = values[np.isfinite(values)]
    if values.empty:
        return pd.DataFrame({"left": [], "right": [], "count": []})
    clipped = values.clip(upper=values.quantile(0.99)).to_numpy()
    counts, edges = np.histogram(clipped, bins=bins)
    return pd.DataFrame({"left": edges[:-1], "right": edges[1:], "count": counts})


def top_customers(predictions: pd.DataFrame, limit: int = 500, complete: Complete | None = None) -> pd.DataFrame:
    """The customers with the highest predicted value."""
    return _listed(predictions.loc[_top_index(predictions, limit)], complete)


def slipping_valuable(predictions: pd.DataFrame, limit: int = 500, complete: Complete | None = None) -> pd.DataFrame:
    """Customers in the top 20% by total value whose P(alive) has fallen below one half."""
    return _listed(predictions.loc[_slipping_index(predictions, limit)], complete)


def _top_index(predictions: pd.DataFrame, limit: int) -> pd.Index:
    return predictions["predicted_clv"].nlargest(limit).index


def _slipping_index(predictions: pd.DataFrame, limit: int) -> pd.Index:
    threshold = predictions["total_clv"].quantile(HIGH_VALUE_QUANTILE)
    slipping = (predictions["total_clv"] >= threshold) & (predictions["p_alive"] < SLIPPING_P_ALIVE)
    # the listed rows are picked on the one column, then taken whole (not every column of every slipping customer)
    return predictions["historical_revenue"][slipping].nlargest(limit).index


def _both_lists(predictions: pd.DataFrame, complete: Complete | None, limit: int = 500) -> dict[str, pd.DataFrame]:
    """slipping_valuable and top_customers, their rows completed in one call (one read of the stored summary
    for both lists instead of one each)."""
    slipping, top = _slipping_index(predictions, limit), _top_index(predictions, limit)
    rows = predictions.loc[slipping.union(top, sort=False)]
    if complete is not None:
        rows = complete(rows)
    return {"slipping_valuable": rows.loc[slipping, _EXPORT_COLUMNS], "top_customers": rows.loc[top, _EXPORT_COLUMNS]}


def _listed(rows: pd.DataFrame, complete: Complete | None) -> pd.DataFrame:
    """The export columns of listed customers; `complete` adds those the predictions left out (the expected next
    order, the customer id: worked out for a thousand listed customers instead of every one)."""
    if complete is not None:
        rows = complete(rows)
    return rows[_EXPORT_COLUMNS]


def page_views(predictions: pd.DataFrame, complete: Complete | None = None) -> dict:
    """Everything the Customer value page draws from the per-customer predictions: totals, the value
    histogram, value by each dimension, the P(alive) matrix and the two customer lists (small tables only)."""
    return {
        "totals": {
            "predicted_clv": float(predictions["predicted_clv"].sum()),
            "predicted_clv_mean": float(predictions["predicted_clv"].mean()),
            "expected_orders_horizon": float(predictions["expected_orders_horizon"].sum()),
            "high_risk": int((predictions["risk_band"] == "high").sum()),
            "customers": int(len(predictions)),
        },
        "histogram": histogram_bins(predictions["predicted_clv"]),
        # customers without a tier are non-members ("none"), as in the KPIs
        "by": {column: clv_by(predictions, column, "none" if column == "member_tier" else "(none)")
               for column in BREAKDOWNS},
        "p_alive_matrix": p_alive_matrix(predictions),
        **_both_lists(predictions, complete),
    }


def _labels(edges) -> list[str]:
    out = []
    for low, high in zip(edges[:-1], edges[1:]):
        if np.isinf(high):
            out.append(f"{low:g}+")
        elif high - low == 1:
            out.append(f"{low:g}")
        else:
            out.append(f"{low:g}–{high - 1:g}")
    return out


_EXPORT_COLUMNS = ["customer_id", "member_tier", "first_channel", "last_purchase", "x", "historical_revenue",
                   "p_alive", "risk_band", "expected_orders_90", "expected_orders_365", "expected_next_order",
                   "expected_aov", "predicted_clv", "total_clv"]


def with_rfm_segment(predictions: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    """The predictions with each customer's RFM segment (metrics.segments.rfm_customers) added."""
    return predictions.merge(rfm[["customer_id", "segment"]].rename(columns={"segment": "rfm_segment"}),
                             on="customer_id", how="left")

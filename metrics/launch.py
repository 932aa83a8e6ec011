"""Did a launch work? Difference-in-differences for a change made for everyone, without a control group.

Population: identified customers with a valid order in the 365 days before the launch date.
Treated: those with the chosen value (tier, channel, region, store, category, coupon) on a valid
order before the launch; the rest of the population is the comparison group. Outcome per customer:
orders per 30 days in the window before the launch and in the window after it (also the share who
repurchased in the window, and revenue per 30 days).

- naive: the treated group's change, post minus pre (what "sales went up after the launch" says);
- did: the treated change minus the comparison change, the season and every other change common to
  both groups taken out. Standard errors are clustered by customer: computed in closed form on the
  per-customer differences (post - pre), which for a two-period panel is exactly the
  customer-clustered sandwich of OLS y ~ treated * post (no small-sample factor) with the usual
  n/(n-1) per group; tests check it against statsmodels. The closed form needs only one row per
  customer, never a customer-period panel.
- pre_trend: the same comparison between consecutive earlier windows (up to two), jointly tested
  (Wald, chi-squared): a small p says the groups were already drifting apart before the launch;
- placebo: the whole evaluation at a fake launch date one window earlier (nothing launched then,
  so its estimate should be near 0);
- matched (option): coarsened exact matching on pre-launch frequency, spend, recency and tenure;
  each comparison customer weighted by its stratum's treated/comparison ratio (ATT weights).

Orders are aggregated per customer in SQL (values bound as parameters, the column checked against
LAUNCH_COLUMNS); only per-customer rows reach pandas. Method and assumptions: docs/launch.md.
"""

from datetime import date, timedelta
import math

import duckdb
import numpy as np
import pandas as pd
from scipy import stats

from store.models import dialect
from metrics.kpis import data_range

LAUNCH_COLUMNS = ("member_tier", "channel", "region", "store", "category", "coupon_code")
OUTCOMES = ("orders_per_30d", "repurchase_share", "revenue_per_customer")
HISTORY_DAYS = 365
MIN_CUSTOMERS = 10  # per group
PRE_WINDOWS = 3  # the window just before the launch and up to two earlier ones (pre-trend check)
DOUBT_P = 0.05
Z = float(stats.norm.ppf(0.975))

# coarsened matching: bins of each pre-launch measure (spend: quartiles of the population)
FREQUENCY_EDGES = (0, 1, 2, 4, 8, math.inf)  # orders in the year before: 1, 2, 3-4, 5-8, 9+
RECENCY_EDGES = (-1, 30, 90, 180, math.inf)  # days since the last order
TENURE_EDGES = (-1, 90, 365, 730, math.inf)  # days since the first order

MESSAGES = {  # English text of each refusal (the command line); the page words the key (ui/i18n.py)
    "unknown_column": "{column!r} is not a column a launch can be defined by; use one of {columns}",
    "no_values": "name at least one value of {column}",
    "no_data": "the store has no valid orders",
    "bad_window": "the window must be 7 to 365 days (got {window})",
    "date_outside_data": "{launched_at} is outside the data: the orders run from {first} to {last}",
    "no_pre_window": "{launched_at} leaves less than the {window}-day window before it: the orders start on {first}",
    "values_not_seen": "{column} never had {values} on a valid order before {launched_at}",
    "too_few_customers": "too few customers to compare: {treated} treated and {control} in the comparison group "
                         "(at least {minimum} each)",
}


class LaunchError(ValueError):
    """The data cannot answer this launch question; `key` and `values` word it (MESSAGES, ui/i18n.py)."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values
        super().__init__(MESSAGES[key].format(**values))


def column_values(con: duckdb.DuckDBPyConnection, column: str, limit: int = 1000) -> list[str]:
    """The distinct values of a launch column among valid orders (the page's choices)."""
    column = _checked_column(column)
    rows = con.execute(f"select distinct {column} from orders where is_valid and {column} is not null "
                       f"order by 1 limit {int(limit)}").fetchall()
    return [row[0] for row in rows]


def evaluate_launch(con: duckdb.DuckDBPyConnection, launched_at: date, treated_column: str,
                    treated_values, window_days: int = 90, matched: bool = False) -> dict:
    """The launch evaluation as a JSON-ready dict (keys: docs/launch.md); LaunchError when the data cannot answer."""
    column = _checked_column(treated_column)
    values = tuple(dict.fromkeys(str(v) for v in treated_values if v is not None and str(v) != ""))
    if not values:
        raise LaunchError("no_values", column=column)
    window = int(window_days)
    if not 7 <= window <= 365:
        raise LaunchError("bad_window", window=window)
    first, last = data_range(con)  # first and last valid order date (precomputed at upload)
    if first is None:
        raise LaunchError("no_data")
    if not first <= launched_at <= last:
        raise LaunchError("date_outside_data", launched_at=launched_at, first=first, last=last)
    if launched_at - timedelta(days=window) < first:
        raise LaunchError("no_pre_window", launched_at=launched_at, window=window, first=first)
    seen = _values_seen(con, column, values, launched_at)
    if not seen:
        raise LaunchError("values_not_seen", column=column, values=", ".join(values), launched_at=launched_at)

    post_days = min(window, (last - launched_at).days + 1)
    pre_windows = min(PRE_WINDOWS, (launched_at - first).days // window)
    rows = _customer_rows(con, launched_at, column, values, window, pre_windows, post_days)
    weights, matching = _weights(rows, matched)
    kept = weights > 0
    treated, control = int((rows["treated"] & kept).sum()), int((~rows["treated"] & kept).sum())
    if min(treated, control) < MIN_CUSTOMERS:
        raise LaunchError("too_few_customers", treated=treated, control=control, minimum=MIN_CUSTOMERS)

    metrics = {}
    for outcome in OUTCOMES:
        change = rows[f"{outcome}_0"] - rows[f"{outcome}_-1"]
        metrics[outcome] = {"naive": _naive(change, rows["treated"], weights),
                            "did": _did(change, rows["treated"], weights)}
    headline = metrics["orders_per_30d"]
    pre_trend = _pre_trend(rows, weights, pre_windows, launched_at, window)
    placebo = _placebo(con, launched_at, column, values, window, matched, first)

    notes = []
    if pre_trend["p_value"] is None:
        notes.append("pre_trend_unavailable")
    elif pre_trend["p_value"] < DOUBT_P:
        notes.append("pre_trend_doubt")
    if placebo["p_value"] is None:
        notes.append("placebo_unavailable")
    elif placebo["p_value"] < DOUBT_P:
        notes.append("placebo_doubt")
    if post_days < window:
        notes.append("post_window_truncated")
    if (launched_at - first).days < HISTORY_DAYS:
        notes.append("history_shorter_than_year")
    if len(seen) < len(values):
        notes.append("some_values_not_seen")
    if matching and matching["treated_unmatched"]:
        notes.append("matched_dropped_treated")

    return {
        "launched_at": launched_at.isoformat(),
        "treated_column": column,
        "treated_values": list(values),
        "unseen_values": [v for v in values if v not in seen],
        "window_days": window,
        "post_days": post_days,
        "matched": bool(matched),
        "naive": headline["naive"],
        "did": headline["did"],
        "control_change": _naive(rows["orders_per_30d_0"] - rows["orders_per_30d_-1"], ~rows["treated"], weights),
        "pre_trend": pre_trend,
        "placebo": placebo,
        "treated_customers": treated,
        "control_customers": control,
        "groups": _group_means(rows, weights),
        "metrics": metrics,
        "matching": matching,
        "assumptions": ["parallel_trends"],
        "notes": notes,
    }


def evaluate_saved(con: duckdb.DuckDBPyConnection, entry: dict) -> dict:
    """A saved evaluation (store.launches entry) rerun on this store: the result, or {"error": key,
    "values": ...} when the data can no longer answer (the Playbook lists it either way)."""
    try:
        return evaluate_launch(con, date.fromisoformat(entry["launched_at"]), entry["treated_column"],
                               entry["treated_values"], entry["window_days"], entry["matched"])
    except LaunchError as refusal:
        return {"error": refusal.key, "values": {k: str(v) for k, v in refusal.values.items()}}


# ---- per-customer rows (SQL) ---------------------------------------------------------------


def _checked_column(column: str) -> str:
    """The launch column as written in LAUNCH_COLUMNS (the SQL identifier never comes from the caller)."""
    for known in LAUNCH_COLUMNS:
        if column == known:
            return known
    raise LaunchError("unknown_column", column=column, columns=", ".join(LAUNCH_COLUMNS))


def _value_condition(column: str, values: tuple[str, ...]) -> tuple[str, dict]:
    names = [f"value_{i}" for i in range(len(values))]
    return f"{column} in ({', '.join('$' + n for n in names)})", dict(zip(names, values))


def _values_seen(con, column: str, values: tuple[str, ...], before: date) -> set[str]:
    condition, params = _value_condition(column, values)
    rows = con.execute(f"""
        select distinct {column} from orders
        where is_valid and customer_key is not null and order_date < $before and {condition}
    """, {**params, "before": before}).fetchall()
    return {row[0] for row in rows}


def _customer_rows(con, as_of: date, column: str, values: tuple[str, ...], window: int, pre_windows: int,
                   post_days: int) -> pd.DataFrame:
    """One row per customer of the population at `as_of`: treated flag, matching measures, and per
    window k (k = -pre_windows..-1 before, 0 after) orders, repeat-order flag and revenue, with the
    rates per 30 days derived in pandas."""
    condition, params = _value_condition(column, values)
    periods = list(range(-pre_windows, 1))
    pivot = ",\n".join(
        f"coalesce(sum(windows.orders) filter (where windows.period = {k}), 0) as \"orders_{k}\", "
        f"coalesce(sum(windows.repeat_orders) filter (where windows.period = {k}), 0) as \"repeat_orders_{k}\", "
        f"coalesce(sum(windows.revenue) filter (where windows.period = {k}), 0) as \"revenue_{k}\""
        for k in periods)
    sql = f"""
    with near_orders as (
        select
            customer_key,
            order_date,
            cast(amount as double) as amount,
            coalesce(customer_order_seq, 1) > 1 as is_repeat,
            {dialect.day_diff('order_date', '$as_of')} as day
        from orders
        where is_valid and customer_key is not null and order_date >= $start and order_date < $end
    ),

    population as (
        select
            customer_key,
            count(*) as orders_365,
            coalesce(sum(amount), 0) as spend_365,
            -max(day) as recency_days
        from near_orders
        where order_date >= $year_start and order_date < $as_of
        group by customer_key
    ),

    treated as (
        select distinct customer_key from orders
        where is_valid and customer_key is not null and order_date < $as_of and {condition}
    ),

    windows as (
        select
            customer_key,
            cast(floor(day / $window) as integer) as period,
            count(*) as orders,
            count(*) filter (where is_repeat) as repeat_orders,
            sum(amount) as revenue
        from near_orders
        where day >= $first_day
        group by customer_key, cast(floor(day / $window) as integer)
    ),

    final as (
        select
            population.customer_key,
            treated.customer_key is not null as treated,
            population.orders_365,
            population.spend_365,
            population.recency_days,
            {dialect.day_diff('$as_of', 'cast(customers.first_order_ts as date)')} as tenure_days,
            {pivot}
        from population
        join customers on customers.customer_key = population.customer_key
        left join treated on treated.customer_key = population.customer_key
        left join windows on windows.customer_key = population.customer_key
        group by population.customer_key, treated.customer_key, population.orders_365, population.spend_365,
            population.recency_days, customers.first_order_ts
    )

    select * from final order by customer_key
    """
    year_start = as_of - timedelta(days=HISTORY_DAYS)
    first_day = -pre_windows * window
    rows = con.execute(sql, {
        **params, "as_of": as_of, "year_start": year_start, "window": window, "first_day": first_day,
        "start": min(year_start, as_of + timedelta(days=first_day)), "end": as_of + timedelta(days=window),
    }).df()
    rows["treated"] = rows["treated"].astype(bool)
    for k in periods:
        days = post_days if k == 0 else window
        rows[f"orders_per_30d_{k}"] = rows[f"orders_{k}"].astype(float) * 30.0 / days
        rows[f"repurchase_share_{k}"] = (rows[f"repeat_orders_{k}"] > 0).astype(float)
        rows[f"revenue_per_customer_{k}"] = rows[f"revenue_{k}"].astype(float) * 30.0 / days
    return rows


# ---- statistics on per-customer differences ------------------------------------------------


def _weights(rows: pd.DataFrame, matched: bool) -> tuple[np.ndarray, dict | None]:
    """Per-customer weights: 1 each, or coarsened-exact-matching ATT weights (0 = not matched)."""
    if not matched:
        return np.ones(len(rows)), None
    bins = [
        pd.cut(rows["orders_365"], FREQUENCY_EDGES, labels=False),
        pd.qcut(rows["spend_365"], 4, labels=False, duplicates="drop"),
        pd.cut(rows["recency_days"], RECENCY_EDGES, labels=False),
        pd.cut(rows["tenure_days"], TENURE_EDGES, labels=False),
    ]
    strata = np.zeros(len(rows), dtype=np.int64)
    for band in bins:  # one integer per combination of bands (each band < 10)
        strata = strata * 10 + band.fillna(-1).to_numpy(dtype=np.int64) + 1
    treated = rows["treated"].to_numpy()
    n_treated = pd.Series(treated).groupby(strata).transform("sum").to_numpy()
    n_control = pd.Series(~treated).groupby(strata).transform("sum").to_numpy()
    both = (n_treated > 0) & (n_control > 0)
    weights = np.where(both, np.where(treated, 1.0, n_treated / np.maximum(n_control, 1)), 0.0)
    matching = {
        "method": "coarsened_exact",
        "on": ["frequency_365d", "spend_365d", "recency_days", "tenure_days"],
        "strata": int(pd.Series(strata[both]).nunique()),
        "treated_matched": int((treated & both).sum()),
        "treated_unmatched": int((treated & ~both).sum()),
        "control_matched": int((~treated & both).sum()),
    }
    return weights, matching


def _group_stats(values: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray, int]:
    """Weighted mean (vector) of the rows and the variance (matrix) of that mean: the
    heteroskedasticity-robust sandwich, times n/(n-1) (one row = one customer = one cluster)."""
    keep = weights > 0
    values, weights = values[keep], weights[keep]
    n = len(values)
    total = weights.sum()
    mean = (weights[:, None] * values).sum(axis=0) / total
    residuals = (values - mean) * weights[:, None]
    covariance = residuals.T @ residuals / total**2 * (n / (n - 1) if n > 1 else math.nan)
    return mean, covariance, n


def _interval(estimate: float, se: float, with_p: bool) -> dict:
    result = {"estimate": float(estimate), "ci_low": float(estimate - Z * se), "ci_high": float(estimate + Z * se)}
    if with_p:
        result["p_value"] = float(2 * stats.norm.sf(abs(estimate) / se)) if se > 0 else (1.0 if estimate == 0 else 0.0)
    result["se"] = float(se)
    return result


def _naive(change: pd.Series, group: pd.Series, weights: np.ndarray) -> dict:
    """One group's mean change post - pre with its 95% CI."""
    mask = group.to_numpy(dtype=bool)
    mean, covariance, _ = _group_stats(change.to_numpy(dtype=float)[mask, None], weights[mask])
    return _interval(mean[0], math.sqrt(covariance[0, 0]), with_p=False)


def _did(change: pd.Series, treated: pd.Series, weights: np.ndarray) -> dict:
    """Treated mean change minus comparison mean change, its 95% CI and two-sided p."""
    mask = treated.to_numpy(dtype=bool)
    values = change.to_numpy(dtype=float)[:, None]
    mean_t, var_t, _ = _group_stats(values[mask], weights[mask])
    mean_c, var_c, _ = _group_stats(values[~mask], weights[~mask])
    return _interval(mean_t[0] - mean_c[0], math.sqrt(var_t[0, 0] + var_c[0, 0]), with_p=True)


def _pre_trend(rows: pd.DataFrame, weights: np.ndarray, pre_windows: int, launched_at: date, window: int) -> dict:
    """DiD of orders per 30 days between each pair of consecutive windows before the launch, and the
    joint Wald test that all are 0 (p None without two pre-launch windows)."""
    if pre_windows < 2:
        return {"p_value": None, "windows": 0, "estimates": []}
    columns = [f"orders_per_30d_{k}" for k in range(-pre_windows, 0)]
    changes = np.diff(rows[columns].to_numpy(dtype=float), axis=1)  # window k+1 minus window k
    mask = rows["treated"].to_numpy(dtype=bool)
    mean_t, var_t, _ = _group_stats(changes[mask], weights[mask])
    mean_c, var_c, _ = _group_stats(changes[~mask], weights[~mask])
    delta, covariance = mean_t - mean_c, var_t + var_c
    try:
        wald = float(delta @ np.linalg.solve(covariance, delta))
        p_value = float(stats.chi2.sf(wald, df=len(delta)))
    except np.linalg.LinAlgError:
        p_value = None
    estimates = []
    for i, k in enumerate(range(-pre_windows, -1)):
        estimates.append({"from": (launched_at + timedelta(days=k * window)).isoformat(),
                          "to": (launched_at + timedelta(days=(k + 2) * window - 1)).isoformat(),
                          "estimate": float(delta[i]), "se": float(math.sqrt(covariance[i, i]))})
    return {"p_value": p_value, "windows": len(delta), "estimates": estimates}


def _placebo(con, launched_at: date, column: str, values: tuple[str, ...], window: int, matched: bool,
             first: date) -> dict:
    """The evaluation at a fake launch one window earlier (population and treated group as of then)."""
    fake = launched_at - timedelta(days=window)
    empty = {"launched_at": fake.isoformat(), "estimate": None, "ci_low": None, "ci_high": None, "p_value": None}
    if fake - timedelta(days=window) < first:
        return empty
    rows = _customer_rows(con, fake, column, values, window, 1, window)
    weights, _ = _weights(rows, matched)
    kept = weights > 0
    if min(int((rows["treated"] & kept).sum()), int((~rows["treated"] & kept).sum())) < 2:
        return empty
    result = _did(rows["orders_per_30d_0"] - rows["orders_per_30d_-1"], rows["treated"], weights)
    return {"launched_at": fake.isoformat(), **result}


def _group_means(rows: pd.DataFrame, weights: np.ndarray) -> dict:
    """Orders per 30 days before and after, per group (weighted when matched): the four numbers of the DiD."""
    means = {}
    for name, mask in (("treated", rows["treated"].to_numpy()), ("control", ~rows["treated"].to_numpy())):
        w = weights[mask]
        means[name] = {period: float(np.average(rows[f"orders_per_30d_{k}"].to_numpy(dtype=float)[mask], weights=w))
                       if w.sum() > 0 else None for period, k in (("pre", -1), ("post", 0))}
    return means

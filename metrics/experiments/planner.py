"""The test planner: baseline of each metric among recent customers, minimum detectable effect,
customers and days a test needs."""

import math

import numpy as np

from store.models import dialect
from metrics.experiments import stats
from metrics.experiments.keys import METRICS, ExperimentError
from metrics.experiments.report import arm_totals, json_safe
from metrics.experiments.sources import fetch_rows, has_summary, sql


def planner_baseline(con, window_days: int = 60, lookback_days: int = 365, margin: float = 0.3,
                     cost: float = 0.0) -> dict:
    """Baseline mean and per-customer variance of each metric among recently active customers."""
    if has_summary(con, "planner_base", window_days=window_days, lookback_days=lookback_days):
        pool = fetch_rows(con, f"select {dialect.columns_except(('window_days',))} from planner_base where window_days = $window_days "
                          "order by days_before", {"window_days": int(window_days)})
    else:
        pool = fetch_rows(con, sql.PLANNER_BASE_SQL, {"window_days": int(window_days), "lookback_days": int(lookback_days)})
    if not pool:
        raise ExperimentError(f"No customer had a valid order in the {lookback_days} days before the last "
                              f"{window_days} days of data; the planner needs history.")
    s = {key: float(sum(p[key] or 0 for p in pool))
         for key in ("customers", "repurchased", "orders", "orders2", "revenue", "revenue2", "revenue_orders")}
    n, m, c = int(s["customers"]), float(margin), float(cost)
    zero = {"sum_d": 0.0, "sum_d2": 0.0, "sum_yd": 0.0}
    totals = {
        "repurchased": {"n": n, "sum_y": s["repurchased"], "sum_y2": s["repurchased"], **zero},
        "orders": {"n": n, "sum_y": s["orders"], "sum_y2": s["orders2"], **zero},
        "revenue": {"n": n, "sum_y": s["revenue"], "sum_y2": s["revenue2"], **zero},
        "aov": {"n": n, "sum_y": s["revenue"], "sum_y2": s["revenue2"], "sum_d": s["orders"], "sum_d2": s["orders2"],
                "sum_yd": s["revenue_orders"]},
        # margin per customer = revenue x m - c
        "margin": {"n": n, "sum_y": m * s["revenue"] - n * c,
                   "sum_y2": m * m * s["revenue2"] - 2 * m * c * s["revenue"] + n * c * c, **zero},
    }
    metrics = {}
    for metric, row in totals.items():
        t = arm_totals(row, metric)
        metrics[metric] = {"n": n, "mean": t.mean, "variance": t.variance}
    return {"window_days": window_days, "lookback_days": lookback_days, "metrics": metrics,
            # customers with a valid order in the last d days, d = 1 .. lookback
            "reach_by_days": _reach(pool, lookback_days), "pool": n}


def _reach(pool: list[dict], lookback_days: int) -> list[int]:
    per_day = np.zeros(lookback_days + 1, dtype=np.int64)
    for p in pool:
        per_day[min(max(int(p["days_before"]), 0), lookback_days)] += p["customers"]
    return np.cumsum(per_day)[:lookback_days].tolist()


def plan_test(con, metric: str = "repurchased", window_days: int = 60, n_per_arm: int | None = None,
              mde: float | None = None, alpha: float = 0.05, power: float = 0.8, arms: int = 2,
              lookback_days: int = 365, margin: float = 0.3, cost: float = 0.0) -> dict:
    """Minimum detectable effect for n_per_arm, or customers and days needed for a relative `mde`.

    Days needed assume customers are enrolled as they buy: enrolling for d days reaches the
    customers who bought in d days of the history (reach_by_days), split over `arms`, and the
    last enrolled customer then needs `window_days` to mature.
    """
    if metric not in METRICS:
        raise ExperimentError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    if arms < 2:
        raise ExperimentError("A test needs at least two arms.")
    base = planner_baseline(con, window_days, lookback_days, margin, cost)
    m = base["metrics"][metric]
    mean, variance = m["mean"], m["variance"]
    out = {"metric": metric, "window_days": window_days, "alpha": alpha, "power": power, "arms": arms,
           "baseline_mean": mean, "baseline_variance": variance, "baseline_customers": m["n"],
           "lookback_days": lookback_days}
    if n_per_arm:
        absolute = stats.minimum_detectable_effect(variance, n_per_arm, alpha, power)
        out.update(n_per_arm=n_per_arm, mde_abs=absolute, mde_rel=absolute / mean if mean else math.nan)
    if mde:
        needed = math.ceil(stats.sample_size(mde * mean, variance, alpha, power))
        reach = base["reach_by_days"]
        enrol = next((d + 1 for d, r in enumerate(reach) if r / arms >= needed), None)
        out.update(mde_rel=mde, mde_abs=mde * mean, n_per_arm=needed, enrol_days=enrol,
                   days_needed=enrol + window_days if enrol else None,
                   reach_in_lookback=reach[-1] if reach else 0)  # None days: not reachable in the lookback
    return json_safe(out)

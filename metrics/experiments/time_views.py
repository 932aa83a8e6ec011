"""A strategy test over time: cumulative lift by date, lift by days since assignment (novelty),
time to repurchase (Kaplan-Meier)."""

import math

import pandas as pd

from metrics.experiments import stats
from metrics.experiments.keys import METRICS, ExperimentError
from metrics.experiments.report import arm_totals, comparison_dict
from metrics.experiments.sources import (arm_info, fetch_rows, find_control, has_summary, order_sources, query_params,
                                         require_experiment, sql)


def cumulative_lift(con, experiment: str, metric: str = "orders", window_days: int = 60, control: str | None = None,
                    cap_percentile: float | None = None, margin: float = 0.3, alpha: float = 0.05,
                    view: str = "matured") -> pd.DataFrame:
    """Lift by calendar date, one row per date and variant.

    view="matured": on each date, the customers whose whole window had elapsed by then (the
    report's population as it grew). view="to_date": every customer assigned by that date, with
    orders counted from assignment up to that date (windows still open; no capping).
    """
    if metric not in METRICS:
        raise ExperimentError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    if view == "to_date":
        return _lift_to_date(con, experiment, metric, window_days, control, margin, alpha)
    if view != "matured":
        raise ExperimentError("view must be 'matured' or 'to_date'.")
    info, control = arm_info(con, experiment, window_days, control)
    params = query_params(experiment, window_days, 0, cap_percentile, margin)
    per_customer = sql.per_customer_ctes(*order_sources(con, window_days, None))
    totals = pd.DataFrame(fetch_rows(con, per_customer + sql.totals_sql(by_date=True), params))
    totals = totals[totals["metric"] == metric]
    sums = ["n", "sum_y", "sum_y2", "sum_d", "sum_d2", "sum_yd"]
    wide = totals.pivot_table(index="matured_on", columns="variant", values=sums, aggfunc="sum").fillna(0).cumsum()
    return _lift_rows(wide, [r["variant"] for r in info], control, metric, alpha)


def _lift_rows(wide: pd.DataFrame, variants: list[str], control: str, metric: str, alpha: float) -> pd.DataFrame:
    """Compare each variant with control on every row of a date x (total, variant) frame of running totals."""
    rows = []
    keys = wide.columns.get_level_values(0).unique()
    for variant in (v for v in variants if v != control):
        if ("n", variant) not in wide.columns or ("n", control) not in wide.columns:
            continue
        for date, line in wide.iterrows():
            a = {k: float(line[(k, control)]) for k in keys}
            b = {k: float(line[(k, variant)]) for k in keys}
            a["n"], b["n"] = int(a["n"]), int(b["n"])
            if min(a["n"], b["n"]) < 2:
                continue
            c = stats.compare(arm_totals(a, metric), arm_totals(b, metric), alpha)
            rows.append({"date": pd.Timestamp(date), "variant": variant, "n_control": a["n"], "n_variant": b["n"],
                         **comparison_dict(c)})
    return pd.DataFrame(rows)


def _lift_to_date(con, experiment, metric, window_days, control, margin, alpha) -> pd.DataFrame:
    arms, orders, _ = order_sources(con, window_days, None)
    info = fetch_rows(con, sql.info_sql(arms), {"experiment": experiment, "window_days": int(window_days)})
    if not info:
        require_experiment(con, experiment)
    control = find_control([r["variant"] for r in info], control, experiment)
    if has_summary(con, "experiment_days", window_days=window_days):
        query = "select * from experiment_days where experiment = $experiment and window_days = $window_days"
    else:
        query = sql.to_date_sql(arms, orders)
    daily = pd.DataFrame(fetch_rows(con, query, {"experiment": experiment, "window_days": int(window_days)}))
    daily = daily.drop(columns=["experiment", "window_days"], errors="ignore")
    first = pd.Timestamp(min(r["first_assigned"] for r in info)).normalize()
    last = min(pd.Timestamp(info[0]["data_end"]),
               pd.Timestamp(max(r["last_assigned"] for r in info)) + pd.Timedelta(days=window_days)
               - pd.Timedelta(microseconds=1))  # the window's end is exclusive
    dates = pd.date_range(first, last.normalize(), freq="D")
    daily["day"] = pd.to_datetime(daily["day"])
    wide = (daily.pivot_table(index="day", columns="variant", aggfunc="sum").reindex(dates).fillna(0).cumsum())
    m = float(margin)
    y, y2, d, d2, yd = {
        "repurchased": ("repurchased", "repurchased", None, None, None),
        "orders": ("orders", "orders2", None, None, None),
        "revenue": ("revenue", "revenue2", None, None, None),
        "aov": ("revenue", "revenue2", "orders", "orders2", "revenue_orders"),
        "margin": (None, None, None, None, None),
    }[metric]
    parts = {"n": wide["n"]}
    if metric == "margin":  # sum (m r - c) and sum (m r - c)^2 from the running sums
        parts["sum_y"] = m * wide["revenue"] - wide["cost"]
        parts["sum_y2"] = m * m * wide["revenue2"] - 2 * m * wide["revenue_cost"] + wide["cost2"]
    else:
        parts["sum_y"], parts["sum_y2"] = wide[y], wide[y2]
    for key, column in (("sum_d", d), ("sum_d2", d2), ("sum_yd", yd)):
        parts[key] = wide[column] if column else wide["n"] * 0
    return _lift_rows(pd.concat(parts, axis=1), [r["variant"] for r in info], control, metric, alpha)


def lift_by_days_since_assignment(con, experiment: str, window_days: int = 60, bucket_days: int = 7,
                                  control: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Novelty view: orders per matured customer in day buckets after assignment (days 1-7, 8-14, ...)."""
    info, control = arm_info(con, experiment, window_days, control)
    params = {**query_params(experiment, window_days, 0, None, 0.0), "bucket_days": int(bucket_days)}
    if has_summary(con, "experiment_buckets", window_days=window_days, bucket_days=bucket_days):
        query = "select * from experiment_buckets where experiment = $experiment and window_days = $window_days"
    else:
        query = sql.novelty_sql(*order_sources(con, window_days, None)[:2])
    sums = pd.DataFrame(fetch_rows(con, query, params), columns=["variant", "bucket", "sum_y", "sum_y2"])
    matured = {r["variant"]: r["matured"] for r in info}
    buckets = range(math.ceil(window_days / bucket_days))
    rows = []
    for variant in (v for v in matured if v != control):
        for bucket in buckets:
            arms = []
            for v in (control, variant):
                hit = sums[(sums["variant"] == v) & (sums["bucket"] == bucket)]
                arms.append(stats.MeanTotals(matured[v], float(hit["sum_y"].sum()), float(hit["sum_y2"].sum())))
            c = stats.compare(arms[0], arms[1], alpha)
            rows.append({"bucket": bucket, "day_from": bucket * bucket_days + 1,
                         "day_to": min((bucket + 1) * bucket_days, window_days), "variant": variant,
                         "n_control": arms[0].n, "n_variant": arms[1].n, **comparison_dict(c)})
    return pd.DataFrame(rows)


def time_to_repurchase(con, experiment: str, max_days: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier per arm: share with a valid order within `day` days of assignment, censored at data end."""
    if has_summary(con, "experiment_survival"):
        survival = "select * from experiment_survival where experiment = $experiment"
    else:
        survival = sql.survival_sql(sql.arms_source(False), sql.orders_source(False))
    counts = pd.DataFrame(fetch_rows(con, survival, {"experiment": experiment}),
                          columns=["variant", "day", "events", "censored"])
    if counts.empty:
        require_experiment(con, experiment)
        raise ExperimentError(f"Experiment {experiment!r} has no customer assigned before the data's end.")
    frames = []
    for variant, part in counts.groupby("variant", sort=True):
        km = stats.kaplan_meier(part["day"], part["events"], part["censored"], alpha)
        frame = pd.DataFrame(km).rename(columns={"time": "day_index"})
        frame.insert(0, "variant", variant)
        frame["day"] = frame["day_index"].astype(int) + 1  # events in [k, k+1) days -> "within k+1 days"
        frame["repurchased_share"] = 1 - frame["survival"]
        frames.append(frame.drop(columns="day_index"))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # truncate after the estimate: the at-risk counts need every later time
    return out[out["day"] <= max_days].reset_index(drop=True) if max_days is not None and not out.empty else out

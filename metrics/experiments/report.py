"""One strategy test's report: every variant vs control on every metric, health checks (JSON-safe).

Per-arm totals come from DuckDB (metrics.experiments.sources), statistics from
metrics.experiments.stats. The report holds numbers and keys; its words are in ui/strategy_words.py.
"""

import math
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from metrics.experiments import stats
from metrics.experiments.keys import METRICS, TOTAL_KEYS, ExperimentError
from metrics.experiments.sources import arm_info, fetch_rows, order_sources, query_params, sql

SRM_ALPHA = 0.001
BALANCE_ALPHA = 0.001
DEFAULT_BALANCE_DAYS = 90


# ---- from totals to statistics -------------------------------------------------------------


def arm_totals(row: dict, metric: str):
    """One arm's totals (a row of n and sums) as the statistics object of the metric's kind."""
    kind = METRICS[metric]
    n = row["n"]
    if kind == "proportion":
        return stats.ProportionTotals(n, row["sum_y"])
    if kind == "ratio":
        return stats.RatioTotals(n, stats.MeanTotals(n, row["sum_y"], row["sum_y2"]),
                                 stats.MeanTotals(n, row["sum_d"], row["sum_d2"]), row["sum_yd"])
    return stats.MeanTotals(n, row["sum_y"], row["sum_y2"])


def _cuped_pair(control_row: dict, variant_row: dict):
    """CUPED-adjusted totals of both arms, theta pooled over the pair (as gbstats)."""
    pairs = [
        (stats.MeanTotals(r["n"], r["sum_y"], r["sum_y2"]), stats.MeanTotals(r["n"], r["sum_x"], r["sum_x2"]), r["sum_xy"])
        for r in (control_row, variant_row)
    ]
    theta = stats.cuped_theta(pairs)
    return theta, pairs, [stats.AdjustedTotals(post, pre, s, theta) for post, pre, s in pairs]


def json_safe(value):
    """JSON-safe scalars: NaN/inf -> None, numpy -> Python, timestamps -> ISO text."""
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, pd.Timestamp)):
        return pd.Timestamp(value).isoformat()
    return value


def comparison_dict(c: stats.Comparison) -> dict:
    """A comparison's figures under the report's keys."""
    return {
        "control_mean": c.control_mean, "variant_mean": c.variant_mean,
        "abs_lift": c.abs_lift, "abs_ci_low": c.abs_ci_low, "abs_ci_high": c.abs_ci_high, "abs_p_value": c.abs_p_value,
        "rel_lift": c.rel_lift, "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
        "chance_to_win": c.chance_to_win,
    }


def experiment_report(
    con: duckdb.DuckDBPyConnection,
    experiment: str,
    window_days: int = 60,
    cuped_days: int | None = None,
    cap_percentile: float | None = None,
    margin: float = 0.3,
    control: str | None = None,
    weights: dict[str, float] | None = None,
    alpha: float = 0.05,
    decision_metric: str = "margin",
) -> dict:
    """Every variant vs control on every metric, with health checks (JSON-safe). `alpha` and
    `decision_metric` are kept in the report for the sentences that word it (ui/strategy_words.py)."""
    info, control = arm_info(con, experiment, window_days, control)
    pre_days = int(cuped_days or DEFAULT_BALANCE_DAYS)
    params = query_params(experiment, window_days, pre_days, cap_percentile, margin)
    arms, orders, stored = order_sources(con, window_days, pre_days)
    totals = fetch_rows(con, sql.per_customer_ctes(arms, orders, stored) + sql.totals_sql(by_date=False), params)
    by_arm = {(r["variant"], r["metric"]): r for r in totals}
    # min: one tag whichever order the rows are read in (an appended store reads its changed rows last)
    strategy, derived_from = con.execute(f"select min(strategy), min(derived_from) from ({arms})",
                                         {"experiment": experiment}).fetchall()[0]
    variants = [r["variant"] for r in info if r["variant"] != control]
    if weights and any(weights.get(r["variant"], 0) <= 0 for r in info):
        names = ", ".join(r["variant"] for r in info)
        raise ExperimentError(f"weights must give every variant a positive share; variants: {names}.")

    results, balance = [], []
    for variant in variants:
        if (variant, "orders") not in by_arm or (control, "orders") not in by_arm:
            continue
        for metric in METRICS:
            a, b = by_arm[(control, metric)], by_arm[(variant, metric)]
            comparison = stats.compare(arm_totals(a, metric), arm_totals(b, metric), alpha)
            result = {"metric": metric, "variant": variant, "n_control": a["n"], "n_variant": b["n"],
                      **comparison_dict(comparison), "cuped": None}
            if cuped_days and METRICS[metric] != "ratio":
                theta, raw, adjusted = _cuped_pair(a, b)
                unadjusted = stats.compare(raw[0][0], raw[1][0], alpha)
                cuped = stats.compare(adjusted[0], adjusted[1], alpha)
                reduction = 1 - cuped.abs_se**2 / unadjusted.abs_se**2 if unadjusted.abs_se else math.nan
                result["cuped"] = {"pre_days": pre_days, "theta": theta, "variance_reduction": reduction,
                                   **comparison_dict(cuped)}
            results.append(result)
        pre = [stats.MeanTotals(r["n"], r["sum_x"], r["sum_x2"])
               for r in (by_arm[(control, "orders")], by_arm[(variant, "orders")])]
        check = stats.compare(pre[0], pre[1], alpha)  # balance: pre-period orders per customer
        balance.append({"variant": variant, "metric": "orders", "pre_days": pre_days,
                        "control_mean": check.control_mean, "variant_mean": check.variant_mean,
                        "p_value": check.abs_p_value})

    # two families: unadjusted results, and CUPED results when asked for
    for family in (results, [r["cuped"] for r in results if r["cuped"]]):
        p = [r["p_value"] for r in family]
        for r, ph, pb in zip(family, stats.holm(p), stats.benjamini_hochberg(p)):
            r["p_holm"], r["p_bh"] = ph, pb

    # SRM on the analysed (matured) customers; an arm with none still counts, as 0. Not for an
    # observational experiment: customers chose their arm, so no split was planned.
    counts = [r["matured"] for r in info]
    srm_weights = [weights[r["variant"]] for r in info] if weights else None
    srm_stat, srm_p = stats.srm_test(counts, srm_weights) if derived_from is None else (math.nan, math.nan)
    balance_p = min((b["p_value"] for b in balance if not is_missing(b["p_value"])), default=math.nan)
    cap_value = next((r["revenue_cap"] for r in totals), None)
    arms = []
    for r in info:
        metrics = {m: {k: by_arm[(r["variant"], m)][k] for k in TOTAL_KEYS} for m in METRICS if (r["variant"], m) in by_arm}
        arms.append({"variant": r["variant"], "is_control": r["variant"] == control, "assigned": r["assigned"],
                     "matured": r["matured"], "first_assigned": r["first_assigned"], "totals": metrics})
    report = {
        "experiment": experiment,
        "strategy": strategy,
        "design": "randomised" if derived_from is None else "observational",
        "derived_from": derived_from,
        "window_days": int(window_days),
        "control": control,
        "data_end": info[0]["data_end"],
        "margin": margin,
        "alpha": alpha,
        "decision_metric": decision_metric,
        "revenue_cap": {"percentile": cap_percentile, "value": cap_value} if cap_percentile else None,
        "cuped_days": cuped_days,
        "arms": arms,
        "results": results,
        "health": {
            "srm_p": srm_p, "srm_chi2": srm_stat, "srm_flag": bool(srm_p < SRM_ALPHA) if not is_missing(srm_p) else False,
            "srm_applicable": derived_from is None,
            "balance_p": balance_p, "balance_flag": bool(balance_p < BALANCE_ALPHA) if not is_missing(balance_p) else False,
            "balance": balance,
            "multi_arm_customers": int(sum(r["multi_arm"] for r in info)),
        },
    }
    return json_safe(report)


def is_missing(x) -> bool:
    """None or NaN: a figure the data could not give."""
    return x is None or (isinstance(x, float) and math.isnan(x))


def results_table(report: dict) -> pd.DataFrame:
    """The report's results as the screen's table: one row per variant and metric (keys), with the
    CUPED-adjusted lift, its interval, p-values and variance reduction beside them (cuped_*) when CUPED was asked for."""
    results = pd.DataFrame([{k: v for k, v in r.items() if k != "cuped"} for r in report["results"]])
    if report.get("cuped_days"):
        adjusted = pd.DataFrame([{"metric": r["metric"], "variant": r["variant"],
                                  **{f"cuped_{k}": v for k, v in r["cuped"].items()
                                     if k in ("rel_lift", "ci_low", "ci_high", "p_value", "p_holm",
                                              "variance_reduction")}}
                                 for r in report["results"] if r.get("cuped")])
        if not adjusted.empty:
            results = results.merge(adjusted, on=["metric", "variant"], how="left")
    return results


def arm_totals_table(report: dict) -> pd.DataFrame:
    """One row per arm and metric: assigned, matured and the sums behind the figures, with the arm's
    per-customer value (per order for a ratio metric such as AOV) in `mean`."""
    rows = [{"variant": a["variant"], "assigned": a["assigned"], "matured": a["matured"], "metric": metric, **totals}
            for a in report["arms"] for metric, totals in a["totals"].items()]
    frame = pd.DataFrame(rows)
    if frame.empty:
        return frame
    denominator = frame["sum_d"].where(frame["metric"].map(METRICS) == "ratio", frame["n"])
    frame["mean"] = (frame["sum_y"] / denominator.where(denominator != 0)).astype(float)
    return frame

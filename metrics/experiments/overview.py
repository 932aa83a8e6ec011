"""All strategy tests at once: the scorecard (every variant vs control) and each test's report."""

import duckdb
import pandas as pd

from metrics.experiments.keys import METRICS, ExperimentError
from metrics.experiments.report import experiment_report
from metrics.experiments.sources import list_experiments

SCORECARD_COLUMNS = [
    "experiment", "strategy", "design", "variant", "metric", "decision_metric", "n_control", "n_variant",
    "control_mean", "variant_mean", "abs_lift", "abs_ci_low", "abs_ci_high", "rel_lift", "ci_low", "ci_high",
    "p_value", "p_holm", "p_bh",
    "chance_to_win", "srm_flag", "status",
]


def _all_reports(con, window_days: int, **kwargs) -> list[tuple[dict, dict | None, str]]:
    out = []
    for row in list_experiments(con).itertuples():
        meta = {"experiment": row.experiment, "strategy": row.strategy, "design": row.design}
        try:
            out.append((meta, experiment_report(con, row.experiment, window_days=window_days, **kwargs), "ok"))
        except ExperimentError as error:
            out.append((meta, None, str(error)))
    return out


def strategy_overview(con: duckdb.DuckDBPyConnection, window_days: int = 60, decision_metric: str = "margin",
                      **kwargs) -> dict:
    """{scorecard, experiments, reports (by experiment)} for every experiment, each report computed once.

    `experiments` has one row per experiment (experiment, strategy tag, design, status: "ok" or why
    it cannot be analysed yet); ui/strategy_words.py words it into what was learned."""
    if decision_metric not in ("margin", "revenue"):
        raise ExperimentError("decision_metric must be 'margin' or 'revenue'.")
    reports = _all_reports(con, window_days, decision_metric=decision_metric, **kwargs)
    return {
        "scorecard": _scorecard_rows(reports, decision_metric),
        "experiments": _experiment_rows(reports),
        "reports": {meta["experiment"]: report for meta, report, _ in reports if report is not None},
    }


def scorecard(con: duckdb.DuckDBPyConnection, window_days: int = 60, decision_metric: str = "margin",
              **kwargs) -> pd.DataFrame:
    """Every experiment's variants vs control, decision metric first; experiments not ready keep one row with why."""
    return strategy_overview(con, window_days, decision_metric, **kwargs)["scorecard"]


def _scorecard_rows(reports: list, decision_metric: str) -> pd.DataFrame:
    order = [decision_metric] + [m for m in METRICS if m != decision_metric]
    rows = []
    for meta, report, status in reports:
        if report is None:
            rows.append({**meta, "status": status})
            continue
        for result in sorted(report["results"], key=lambda r: (r["variant"], order.index(r["metric"]))):
            rows.append({
                **meta, **{k: result[k] for k in SCORECARD_COLUMNS if k in result},
                "decision_metric": result["metric"] == decision_metric,
                "srm_flag": report["health"]["srm_flag"], "status": status,
            })
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS)


def _experiment_rows(reports: list) -> pd.DataFrame:
    return pd.DataFrame([{**meta, "status": status} for meta, _, status in reports],
                        columns=["experiment", "strategy", "design", "status"])

"""Strategy tests: which retention strategies made customers come back, how much, how sure we are.

keys (metric kinds, strategy tags, the refusal) · sources (the SQL's one door, arms, control) ·
report (one test) · overview (all tests) · time_views · planner · stats (no DuckDB).
Numbers and keys only; the words are in ui/strategy_words.py. Decisions: docs/experiments.md.
"""

from metrics.experiments.keys import (CONTROL_NAMES, METRICS, STRATEGIES, STRATEGY_TAGS, TOTAL_KEYS, ExperimentError,
                                      canonical_strategy)
from metrics.experiments.overview import SCORECARD_COLUMNS, scorecard, strategy_overview
from metrics.experiments.planner import plan_test, planner_baseline
from metrics.experiments.report import (BALANCE_ALPHA, DEFAULT_BALANCE_DAYS, SRM_ALPHA, arm_totals_table,
                                        experiment_report, results_table)
from metrics.experiments.sources import find_control, list_experiments
from metrics.experiments.time_views import cumulative_lift, lift_by_days_since_assignment, time_to_repurchase

__all__ = [
    "BALANCE_ALPHA", "CONTROL_NAMES", "DEFAULT_BALANCE_DAYS", "METRICS", "SCORECARD_COLUMNS", "SRM_ALPHA", "STRATEGIES",
    "STRATEGY_TAGS", "TOTAL_KEYS", "ExperimentError", "arm_totals_table", "canonical_strategy", "cumulative_lift",
    "experiment_report", "find_control", "lift_by_days_since_assignment", "list_experiments", "plan_test",
    "planner_baseline", "results_table", "scorecard", "strategy_overview", "time_to_repurchase",
]

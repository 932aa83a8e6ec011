"""Where a strategy test's rows come from: the SQL (one import, below), its parameters, the arms.

Each assigned customer is measured on valid orders in [assigned_at, assigned_at + window_days);
only customers whose window has fully elapsed by the data's end (max order_ts) are counted.
Observational experiments (derived from an order column, `derived_from` set) enter customers at
an order, so their window is (assigned_at, assigned_at + window_days): the entry order is no outcome.
Definitions, formulas and decisions: docs/experiments.md.
"""

import re

import duckdb
import pandas as pd

from store.models import experiments as sql  # the package's one door to its SQL
from store.models import registry
from store.models.registry import Request
from metrics.experiments.keys import CONTROL_NAMES, ExperimentError


def query_params(experiment: str, window_days: int, pre_days: int, cap_percentile, margin: float) -> dict:
    cap = None
    if cap_percentile is not None:
        if not 50 < cap_percentile <= 100:
            raise ExperimentError(f"cap_percentile must be a percentile between 50 and 100 (e.g. 99), not {cap_percentile}.")
        cap = cap_percentile / 100
    if window_days <= 0:
        raise ExperimentError(f"window_days must be a positive number of days, not {window_days}.")
    return {"experiment": experiment, "window_days": int(window_days), "pre_days": int(pre_days),
            "cap": cap, "margin": float(margin)}


def arms_query(con, one_experiment: bool = True) -> str:
    """The arms of one experiment ($experiment) or of all: experiment_customers if the store has it."""
    return sql.arms_source(has_summary(con, "experiment_customers"), one_experiment)


def has_summary(con, name: str, **request) -> bool:
    """Whether the precomputed table `name` answers this request (registry.source_for)."""
    return registry.source_for(con, name, Request(**request)) is not None


def order_sources(con, window_days: int, pre_days: int | None) -> tuple[str, str, int | None]:
    """(arms, orders, stored window) for one experiment: the precomputed tables when they cover the
    window and pre-period (pre_days None: not used), else the assignments and assigned_orders."""
    customers = has_summary(con, "experiment_customers")
    orders = has_summary(con, "experiment_orders", window_days=window_days, pre_days=pre_days)
    stored = sql.stored_outcome_window(window_days, pre_days) if customers else None
    return sql.arms_source(customers), sql.orders_source(orders), stored


def fetch_rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    """The query's rows as dicts; binds only the parameters it names (a stored table needs fewer)."""
    named = set(re.findall(r"\$(\w+)", query))
    relation = con.execute(query, {k: v for k, v in params.items() if k in named})
    columns = [c[0] for c in relation.description]
    return [dict(zip(columns, row)) for row in relation.fetchall()]


# ---- experiments, arms and control ---------------------------------------------------------


def list_experiments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per experiment: strategy, design (randomised / observational), the order column an
    observational one was derived from, variants, customers, first and last assignment."""
    rows = fetch_rows(con, sql.experiments_sql(arms_query(con, one_experiment=False)), {})
    return pd.DataFrame(rows, columns=["experiment", "strategy", "design", "derived_from", "variants", "customers",
                                       "first_assigned", "last_assigned"])


def find_control(variants: list[str], control: str | None = None, experiment: str = "") -> str:
    """The control arm: `control` if given, else the one variant named like control/ctrl/baseline/对照."""
    if control is not None:
        if control not in variants:
            raise ExperimentError(
                f"Experiment {experiment!r} has no variant {control!r}; its variants are {', '.join(variants)}."
            )
        return control
    found = [v for v in variants if v.strip().casefold() in CONTROL_NAMES]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExperimentError(
            f"Experiment {experiment!r} has no control arm (variants: {', '.join(variants)}). Name one variant "
            "control, ctrl, baseline or 对照组, or say which variant is the control."
        )
    raise ExperimentError(
        f"Experiment {experiment!r} has several arms named like a control ({', '.join(found)}); say which one is the control."
    )


def require_experiment(con, experiment: str) -> None:
    known = list_experiments(con)["experiment"].tolist()
    if experiment not in known:
        hint = f" Known experiments: {', '.join(known)}." if known else " The store has no experiment assignments."
        raise ExperimentError(f"Unknown experiment {experiment!r}.{hint}")


def arm_info(con, experiment: str, window_days: int, control: str | None) -> tuple[list[dict], str]:
    info = fetch_rows(con, sql.info_sql(arms_query(con)), {"experiment": experiment, "window_days": int(window_days)})
    if not info:
        require_experiment(con, experiment)
    control = find_control([r["variant"] for r in info], control, experiment)
    if sum(r["matured"] for r in info) == 0:
        first = min(r["first_assigned"] for r in info)
        ready = pd.Timestamp(first) + pd.Timedelta(days=window_days)
        raise ExperimentError(
            f"Experiment {experiment!r} has no matured customers yet: the first {window_days}-day window ends on "
            f"{ready:%Y-%m-%d} and the data ends on {pd.Timestamp(info[0]['data_end']):%Y-%m-%d}. "
            "Load newer orders or choose a shorter window."
        )
    return info, control

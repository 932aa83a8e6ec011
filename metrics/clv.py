"""Predicted customer lifetime value (预测客户终身价值): BG/NBD purchases x Gamma-Gamma spend, from the store.

The per-customer summary is built in DuckDB; only one row per customer (or per group of identical
customers) reaches Python. A purchase is a day with at least one valid order of an identified
customer: several orders on the same day count once, with their amounts summed. Time is measured
in days unless `unit_days` says otherwise (7 = weeks). Definitions: docs/clv.md.
"""

import math
import time
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from metrics import clv_model, segments
from metrics.clv_model import ClvFitError, Fit, Note
from store.models import registry
from store.models.clv import (CUSTOMER_SQL, DATA_RANGE_SQL, DAYS_PER_MONTH, DEFAULT_HOLDOUT_MONTHS, GROUPED_SQL,
                              HOLDOUT_CURVE_SQL, REPEAT_SPEND_SQL, RFM_SEGMENTS, STORED_CUSTOMERS_GROUPED_SQL,
                              STORED_CUSTOMERS_SPEND_SQL, STORED_CUSTOMERS_SQL,
                              STORED_DATA_RANGE_SQL, STORED_GROUPED_SQL, STORED_HOLDOUT_CURVE_SQL,
                              STORED_REPEAT_SPEND_SQL, MIN_HISTORY_DAYS, default_cutoff_between,
                              value_summary_sql)
from store.models import dialect
from store.models.dialect import has_table
from store.models.registry import Request

CORRELATION_WARNING = 0.3
RISK_BANDS = (("low", 0.7), ("medium", 0.3), ("high", 0.0))  # churn-risk band: P(alive) >= threshold
EXPECTED_ORDER_DAYS = (30, 90, 365)
PEAK_MONTHS = (11, 12)  # November and December: the retail peak a model without seasonality misses



@dataclass
class ClvModel:
    """Purchase model(s) and Gamma-Gamma fitted on the purchases up to `cutoff` (time unit: `unit_days` days).

    `purchase` predicts; `fits` holds every purchase model fitted (by name), `bgnbd` is the BG/NBD one
    when it was fitted (else the purchase model), `fit_errors` the models that could not be fitted.
    """

    cutoff: date
    unit_days: float
    bgnbd: Fit
    gamma_gamma: Fit
    spend_frequency_correlation: float
    fit_seconds: float
    warnings: list[str] = field(default_factory=list)
    purchase: Fit | None = None
    fits: dict[str, Fit] = field(default_factory=dict)
    fit_errors: dict[str, str] = field(default_factory=dict)

    def __post_init__(self):
        if self.purchase is None:
            self.purchase = self.bgnbd
        if not self.fits:
            self.fits = {self.purchase.model: self.purchase}

    def using(self, name: str) -> "ClvModel":
        """The same fit, predicting with the purchase model `name` (one of `fits`)."""
        return replace(self, purchase=self.fits[name])

    def to_state(self) -> dict:
        """Every field, JSON-serialisable, for `from_state` to rebuild the same model (a fit kept on disk)."""
        return {
            "cutoff": self.cutoff.isoformat(), "unit_days": self.unit_days, "bgnbd": self.bgnbd.to_state(),
            "gamma_gamma": self.gamma_gamma.to_state(),
            "spend_frequency_correlation": float(self.spend_frequency_correlation),
            "fit_seconds": float(self.fit_seconds), "warnings": list(self.warnings),
            "purchase": self.purchase.to_state(), "fits": {k: f.to_state() for k, f in self.fits.items()},
            "fit_errors": dict(self.fit_errors),
        }

    @classmethod
    def from_state(cls, state: dict) -> "ClvModel":
        """The ClvModel that `to_state` described."""
        fits = {k: Fit.from_state(f) for k, f in state["fits"].items()}
        return cls(date.fromisoformat(state["cutoff"]), state["unit_days"], Fit.from_state(state["bgnbd"]),
                   Fit.from_state(state["gamma_gamma"]), state["spend_frequency_correlation"], state["fit_seconds"],
                   list(state["warnings"]), Fit.from_state(state["purchase"]), fits, dict(state["fit_errors"]))


def _query(con: duckdb.DuckDBPyConnection, sql: str, **params):
    """Run sql with only the named parameters it uses (DuckDB refuses unused ones)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """First and last purchase date of identified customers' valid orders; ClvFitError when there are none."""
    first, last = _stored_range(con)  # the stored summary holds every purchase: the same range
    if first is not None:
        return first, last
    first, last = con.execute(DATA_RANGE_SQL).fetchall()[0]
    if first is None:
        raise ClvFitError("There are no valid orders from identified customers, so there is nothing to model.",
                          code="no_identified_orders")
    return first, last


def default_cutoff(con: duckdb.DuckDBPyConnection, holdout_months: int = DEFAULT_HOLDOUT_MONTHS) -> date:
    """Holdout split: last purchase date minus 6 months (183 days), or minus a third of a history under 18 months."""
    first, last = data_range(con)
    return default_cutoff_between(first, last, holdout_months)


def calibration_summary(con: duckdb.DuckDBPyConnection, cutoff, unit_days: float = 1.0) -> pd.DataFrame:
    """Per customer at the cut-off: x, t_x, T, monetary (mean repeat-purchase spend), historical revenue, dimensions.

    x = purchase days after the first; t_x = last - first purchase; T = cut-off - first purchase.
    """
    if _stored_rows(con, _as_date(cutoff), unit_days):
        return con.execute(f"{STORED_CUSTOMERS_SQL} order by customer_key", {"cutoff": _as_date(cutoff)}).df()
    return _query(con, CUSTOMER_SQL, cutoff=_as_date(cutoff), unit=float(unit_days)).df()


LISTING_COLUMNS = ("customer_id", "first_purchase", "last_purchase")  # what only a listed customer needs


def value_summary(con: duckdb.DuckDBPyConnection, as_of, unit_days: float = 1.0, lean: bool = False) -> pd.DataFrame:
    """calibration_summary at `as_of` with each customer's RFM segment (`rfm_segment`, metrics.segments), in one
    query: what the Customer value page predicts from. lean=True leaves out LISTING_COLUMNS when they can be
    read back later for a few customers (listing_details: the stored summary is at this date)."""
    as_of = _as_date(as_of)
    if _stored_rows(con, as_of, unit_days):
        columns = dialect.columns_except(LISTING_COLUMNS) if lean else "*"
        stored = value_summary_sql(RFM_SEGMENTS, STORED_CUSTOMERS_SQL)
        return _arrow_frame(con, f"select {columns} from ({stored}) as stored order by customer_key", {"cutoff": as_of})
    sql, params = _value_summary_sql(con, as_of, unit_days)
    return _arrow_frame(con, f"{sql} order by customer_key", params)


def listing_details(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> pd.DataFrame:
    """`rows` (of value_summary(lean=True)) with the LISTING_COLUMNS it left out, read from the stored summary."""
    missing = [c for c in LISTING_COLUMNS if c not in rows]
    if not missing:
        return rows
    details = _arrow_frame(con, f"select customer_key, {', '.join(missing)} from clv_customer_rows "
                                "semi join (select unnest($keys) as customer_key) using (customer_key)",
                           {"keys": [int(k) for k in rows["customer_key"]]})
    return rows.join(details.set_index("customer_key"), on="customer_key")


def _value_summary_sql(con: duckdb.DuckDBPyConnection, as_of: date, unit_days: float) -> tuple[str, dict]:
    """SQL (unordered) of value_summary counted from the orders, and its parameters."""
    rfm, rfm_params = segments.rfm_customer_segments_sql(con)
    sql = value_summary_sql(rfm)
    params = {"cutoff": as_of, "unit": float(unit_days), **rfm_params}
    return sql, {k: v for k, v in params.items() if f"${k}" in sql}


def _arrow_frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pd.DataFrame:
    """A query's rows as pandas through Arrow (strings stay Arrow strings: 5x faster than .df() for a million
    customers), with the same column types as .df(): dates as datetime64[us]."""
    cursor = con.cursor()  # a result the caller left open on con does not block this one
    try:
        table = cursor.sql(sql, params=params).to_arrow_table()
    finally:
        cursor.close()
    frame = table.to_pandas(date_as_object=False)
    for name, kind in zip(table.column_names, table.schema.types):
        if pa.types.is_date(kind) or pa.types.is_timestamp(kind):
            frame[name] = frame[name].astype("datetime64[us]")
    return frame


def _stored(con, table: str, cutoff: date, unit_days: float = 1.0, end: date | None = None) -> bool:
    """Whether the summary `table` was precomputed for this cut-off (and `end`), in days."""
    return registry.source_for(con, table, Request(cutoff=cutoff, end=end, unit_days=unit_days)) is not None


def _stored_range(con) -> tuple[date | None, date | None]:
    """First and last purchase date in the stored customer summary (clv_customer_rows); (None, None) without it
    or without an identified customer."""
    if not has_table(con, "clv_customer_rows"):
        return None, None
    return tuple(con.execute(STORED_DATA_RANGE_SQL).fetchone())


def _stored_rows(con, cutoff: date, unit_days: float = 1.0) -> bool:
    """Whether the stored customer summary (clv_customer_rows: every purchase) answers this cut-off: the
    data's last date, in days."""
    request = Request(cutoff=cutoff, last_date=_stored_range(con)[1], unit_days=unit_days)
    return registry.source_for(con, "clv_customer_rows", request) is not None


def _grouped(con, cutoff: date, end: date, unit_days: float) -> dict[str, np.ndarray]:
    if end == cutoff and _stored_rows(con, cutoff, unit_days):
        rows = con.execute(STORED_CUSTOMERS_GROUPED_SQL, {"cutoff": cutoff}).fetchnumpy()
        return {k: np.asarray(v, dtype=float) for k, v in rows.items()}
    if _stored(con, "clv_calibration", cutoff, unit_days, None if end == cutoff else end):
        rows = con.execute(STORED_GROUPED_SQL, {"with_holdout": end != cutoff}).fetchnumpy()
        return {k: np.asarray(v, dtype=float) for k, v in rows.items()}
    rows = _query(con, GROUPED_SQL, cutoff=cutoff, end=end, unit=float(unit_days)).fetchnumpy()
    return {k: np.asarray(v, dtype=float) for k, v in rows.items()}


def _check_history(con, cutoff: date) -> None:
    first, _ = data_range(con)
    history = (cutoff - first).days
    if history < MIN_HISTORY_DAYS:
        raise ClvFitError(
            f"The order history is too short to fit the model: {max(history, 0)} days of orders before the "
            f"cut-off {cutoff}, and at least {MIN_HISTORY_DAYS} are needed. Use a later cut-off or load more history.",
            code="history_too_short", days=max(history, 0), cutoff=str(cutoff), needed=MIN_HISTORY_DAYS,
        )


def fit_models(con: duckdb.DuckDBPyConnection, cutoff, unit_days: float = 1.0,
               summary: pd.DataFrame | None = None, models: tuple[str, ...] = ("bgnbd",),
               starts: dict[str, list[float]] | None = None) -> ClvModel:
    """Fit the purchase `models` (clv_model.PURCHASE_MODELS) on grouped (x, t_x, T) rows and Gamma-Gamma on
    repeat customers, with purchases up to cutoff; the first model of `models` predicts.

    `summary`: the calibration_summary at this cut-off and unit, when the caller already has it
    (saves reading the orders again); otherwise the grouped rows come straight from DuckDB.
    A model that cannot be fitted is left out (its reason in fit_errors); ClvFitError when none can.
    `starts`: parameters where the optimiser starts, by model name (and "gamma_gamma"), e.g. a fit at an
    earlier cut-off (warm_starts); the same optimum is reached in fewer steps.
    """
    starts = dict(starts or {})
    cutoff = _as_date(cutoff)
    _check_history(con, cutoff)
    if summary is None:
        grouped = _grouped(con, cutoff, cutoff, unit_days)
        if _stored_rows(con, cutoff, unit_days):
            spend = con.execute(STORED_CUSTOMERS_SPEND_SQL).fetchnumpy()
        elif _stored(con, "clv_calibration", cutoff, unit_days):
            spend = con.execute(STORED_REPEAT_SPEND_SQL).fetchnumpy()
        else:
            spend = _query(con, REPEAT_SPEND_SQL, cutoff=cutoff, unit=float(unit_days)).fetchnumpy()
        x_spend, monetary = (np.asarray(spend[k], dtype=float) for k in ("x", "monetary"))
    else:
        columns = [summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T")]
        (x, t_x, T), counts = clv_model.group_rows(*columns)
        grouped = {"x": x, "t_x": t_x, "T": T, "customers": counts}
        repeat = summary[summary["x"] > 0]
        x_spend, monetary = repeat["x"].to_numpy(dtype=float), repeat["monetary"].to_numpy(dtype=float)
    started = time.perf_counter()
    fits, errors = {}, {}
    for name in models:
        try:
            fits[name] = clv_model.fit_purchase_model(name, grouped["x"], grouped["t_x"], grouped["T"],
                                                      grouped["customers"], start=starts.get(name))
        except ClvFitError as problem:
            if str(problem).startswith(("Too few", "The order history is too short")):
                raise  # the data, not the model: no other model can do better
            errors[name] = problem.note()
    if not fits:
        first = next(iter(errors.values()))
        raise ClvFitError(first, code=first.code, **first.values)
    gamma_gamma = clv_model.fit_gamma_gamma(x_spend, monetary, start=starts.get("gamma_gamma"))
    fit_seconds = time.perf_counter() - started
    correlation = clv_model.spend_frequency_correlation(x_spend, monetary)
    purchase = fits.get(models[0]) or next(iter(fits.values()))
    warnings = purchase.warnings + gamma_gamma.warnings
    if abs(correlation) > CORRELATION_WARNING:
        warnings.append(Note(
            f"Spend and purchase frequency are correlated (r = {correlation:.2f}) among repeat customers; "
            "the spend model assumes they are independent, so expected order values may be biased.",
            "spend_frequency_correlated", r=float(correlation),
        ))
    return ClvModel(cutoff, float(unit_days), fits.get("bgnbd", purchase), gamma_gamma, correlation, fit_seconds,
                    warnings, purchase, fits, errors)


def warm_starts(model: ClvModel) -> dict[str, list[float]]:
    """Starts for fit_models from a fitted model: each purchase model's parameters and Gamma-Gamma's,
    except where a fit is at a boundary (its limit is not the model's own optimum)."""
    fits = {name: fit for name, fit in model.fits.items() if fit.limit is None}
    if model.gamma_gamma.limit is None:
        fits["gamma_gamma"] = model.gamma_gamma
    return {name: clv_model.start_of(fit) for name, fit in fits.items()}


def _curve_days(holdout_days: int, grain: str) -> np.ndarray:
    step = {"day": 1, "week": 7}[grain]
    days = np.arange(step, holdout_days + 1, step)
    if days.size == 0 or days[-1] != holdout_days:
        days = np.append(days, holdout_days)
    return days


def holdout_data(con: duckdb.DuckDBPyConnection, cutoff, end, unit_days: float = 1.0) -> dict:
    """What holdout_check reads from the store (grouped calibration rows with their holdout purchases, and
    the holdout's purchases by day); read once, it serves every model checked on the same holdout."""
    cutoff, end = _as_date(cutoff), _as_date(end)
    if _stored(con, "clv_calibration", cutoff, unit_days, end) and _stored(con, "clv_holdout_days", cutoff, unit_days):
        curve = con.execute(STORED_HOLDOUT_CURVE_SQL).fetchnumpy()
    else:
        curve = _query(con, HOLDOUT_CURVE_SQL, cutoff=cutoff, end=end).fetchnumpy()
    return {"cutoff": cutoff, "end": end, "unit_days": float(unit_days),
            "grouped": _grouped(con, cutoff, end, unit_days),
            "curve": {k: np.asarray(v) for k, v in curve.items()}}


def holdout_check(con: duckdb.DuckDBPyConnection, model: ClvModel, end, grain: str = "week",
                  data: dict | None = None) -> dict:
    """Predicted vs actual repeat purchases after the cut-off, for customers whose first purchase is on or before it.

    error_pct = (predicted - actual) / actual x 100 over the whole holdout; mape_cumulative = mean
    |predicted - actual| / actual x 100 over the points of the cumulative curve (one per `grain`).
    """
    end = _as_date(end)
    cutoff, unit = model.cutoff, model.unit_days
    holdout_days = (end - cutoff).days
    if holdout_days <= 0:
        raise ValueError(f"the holdout end {end} must be after the cut-off {cutoff}")
    if data is None or (data["cutoff"], data["end"], data["unit_days"]) != (cutoff, end, unit):
        data = holdout_data(con, cutoff, end, unit)
    g = data["grouped"]
    days = _curve_days(holdout_days, grain)
    # grouped rows: expectation per group x number of customers in it
    expected = clv_model.expected_purchases_grid(model.purchase, days / unit, g["x"], g["t_x"], g["T"])
    predicted_curve = g["customers"] @ expected
    predicted_row = expected[:, -1] * g["customers"]

    curve = data["curve"]
    daily = np.zeros(holdout_days + 1)
    daily[np.asarray(curve["day"], dtype=int)] = np.asarray(curve["orders"], dtype=float)
    actual_curve = np.cumsum(daily)[days]

    bucket = np.minimum(g["x"], 7).astype(int)
    by_frequency = []
    for k in range(8):
        rows = bucket == k
        customers = g["customers"][rows].sum()
        predicted, actual = predicted_row[rows].sum(), g["holdout_orders"][rows].sum()
        by_frequency.append({
            "x": f"{k}+" if k == 7 else str(k),
            "customers": int(customers),
            "predicted_repeat_orders": float(predicted),
            "actual_repeat_orders": int(actual),
            "predicted_per_customer": float(predicted / customers) if customers else None,
            "actual_per_customer": float(actual / customers) if customers else None,
        })

    predicted_total, actual_total = float(predicted_curve[-1]), float(actual_curve[-1])
    seen = actual_curve > 0
    mape = None
    if seen.any():
        mape = float(np.mean(np.abs(predicted_curve[seen] - actual_curve[seen]) / actual_curve[seen]) * 100)
    return {
        "model": model.purchase.model,
        "cutoff": cutoff.isoformat(),
        "end": end.isoformat(),
        "days": holdout_days,
        "peak_months": peak_months(cutoff, end),
        "customers": int(g["customers"].sum()),
        "predicted_repeat_orders": predicted_total,
        "actual_repeat_orders": int(actual_total),
        "error_pct": (predicted_total - actual_total) / actual_total * 100 if actual_total else None,
        "mape_cumulative": mape,
        "grain": grain,
        "by_frequency": by_frequency,
        "cumulative": [
            {"day": int(d), "date": (cutoff + timedelta(days=int(d))).isoformat(),
             "predicted": float(p), "actual": int(a)}
            for d, p, a in zip(days, predicted_curve, actual_curve)
        ],
    }


def peak_months(cutoff: date, end: date) -> list[str]:
    """The known retail peak months (November, December) that fall in the holdout (cutoff, end], as YYYY-MM."""
    months = pd.period_range(cutoff + timedelta(days=1), end, freq="M")
    return [str(m) for m in months if m.month in PEAK_MONTHS]


def reliability(error_pct: float | None, mape: float | None) -> str:
    """How far the holdout check trusts the model: "good" (cumulative error within 10%), "fair" (25%),
    "poor" (more), "unknown" (no holdout), "unusable" (the model's predictions are not finite numbers)."""
    errors = [abs(v) for v in (error_pct, mape) if v is not None and np.isfinite(v)]
    if not errors:
        return "unusable" if any(v is not None for v in (error_pct, mape)) else "unknown"
    worst = max(errors)
    return "good" if worst <= 10 else "fair" if worst <= 25 else "poor"


def risk_band(p_alive: np.ndarray) -> np.ndarray:
    """Churn-risk band from P(alive): low >= 0.7, medium >= 0.3, high < 0.3."""
    p_alive = np.asarray(p_alive, dtype=float)
    return np.select([p_alive >= RISK_BANDS[0][1], p_alive >= RISK_BANDS[1][1]], ["low", "medium"], "high")


def _risk_band_strings(p_alive: np.ndarray):
    """risk_band as a pandas string array, built in Arrow (twenty times faster than from numpy strings)."""
    p_alive = np.asarray(p_alive, dtype=float)
    codes = np.select([p_alive >= RISK_BANDS[0][1], p_alive >= RISK_BANDS[1][1]], [0, 1], 2)
    labels = pa.array([band for band, _ in RISK_BANDS], type=pa.large_string()).take(pa.array(codes))
    return pd.array(labels, dtype="str")


def customer_predictions(con: duckdb.DuckDBPyConnection, as_of=None, model: ClvModel | None = None,
                         horizon_months: int = 12, monthly_discount: float = 0.01, margin: float = 0.3,
                         unit_days: float = 1.0, purchase_model: str = "bgnbd") -> pd.DataFrame:
    """One row per customer as of `as_of` (default: last purchase date), from `model` (default: `purchase_model`
    and Gamma-Gamma fitted up to as_of).

    - p_alive: probability the customer is still active; risk_band: low/medium/high (see risk_band);
    - expected_orders_30/90/365: expected purchase days in the next 30/90/365 days;
    - expected_orders_horizon: expected purchase days over the horizon (horizon_months months);
    - expected_next_order: as_of + first whole day on which expected cumulative purchases reach 1,
      NaT if that does not happen within the horizon;
    - expected_aov: Gamma-Gamma expected spend per purchase;
    - predicted_clv: sum over months m = 1..horizon of E[purchases in month m] x expected_aov x margin / (1 + d)^m;
    - historical_value = historical_revenue x margin; total_clv = historical_value + predicted_clv.
    """
    as_of = _as_date(as_of) if as_of is not None else data_range(con)[1]
    unit = model.unit_days if model is not None else float(unit_days)
    summary = calibration_summary(con, as_of, unit)
    if model is None:
        model = fit_models(con, as_of, unit, summary=summary, models=(purchase_model,))
    return add_predictions(summary, model, as_of, horizon_months, monthly_discount, margin)


def add_predictions(summary: pd.DataFrame, model: ClvModel, as_of, horizon_months: int = 12,
                    monthly_discount: float = 0.01, margin: float = 0.3, next_order: bool = True) -> pd.DataFrame:
    """The columns of customer_predictions added to a calibration_summary taken at `as_of` (a new frame).

    next_order=False leaves out expected_next_order (a search per customer: the page computes it with
    next_order_dates for the customers it lists)."""
    as_of, unit = _as_date(as_of), model.unit_days
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    monetary = summary["monetary"].to_numpy(dtype=float, na_value=np.nan)
    # expected purchases = P(alive | x, t_x, T) x purchases if alive, and the second factor depends on (x, T)
    # alone: computed once per distinct (x, T) pair (a few thousand), then spread to the customers
    (x_pair, T_pair), pair = clv_model.unique_rows(x, T)
    months = np.arange(1, horizon_months + 1)
    horizons = np.concatenate([EXPECTED_ORDER_DAYS, months * DAYS_PER_MONTH]) / unit
    if_alive = clv_model.purchases_if_alive(model.purchase, horizons, x_pair, T_pair)
    k = len(EXPECTED_ORDER_DAYS)
    discount = (1.0 + monthly_discount) ** -months
    discounted_if_alive = np.diff(if_alive[:, k:], axis=1, prepend=0.0) @ discount
    p_alive = clv_model.p_alive(model.purchase, x, t_x, T)
    aov = clv_model.expected_spend(model.gamma_gamma, x, monetary)
    predicted_clv = p_alive * discounted_if_alive[pair] * aov * margin
    historical_value = summary["historical_revenue"].to_numpy(dtype=float, na_value=np.nan) * margin
    if next_order:
        (x_u, t_x_u, T_u), inverse = clv_model.unique_rows(x, t_x, T)
        next_dates = _next_order(model, as_of, horizon_months, x_u, t_x_u, T_u)[inverse]
    columns = {
        "p_alive": p_alive,
        "risk_band": _risk_band_strings(p_alive),
        **{f"expected_orders_{days}": p_alive * if_alive[pair, i] for i, days in enumerate(EXPECTED_ORDER_DAYS)},
        "expected_orders_horizon": p_alive * if_alive[pair, -1],  # over the whole horizon (horizon_months)
        "expected_next_order": next_dates if next_order else None,
        "expected_aov": aov,
        "predicted_clv": predicted_clv,
        "historical_value": historical_value,
        "total_clv": historical_value + predicted_clv,
    }
    added = pd.DataFrame({name: values for name, values in columns.items() if values is not None},
                         index=summary.index, copy=False)  # the arrays as they are: no copy of a million rows
    return pd.concat([summary.drop(columns=[c for c in added if c in summary]), added], axis=1)


def next_order_dates(rows: pd.DataFrame, model: ClvModel, as_of, horizon_months: int = 12) -> pd.Series:
    """expected_next_order (see customer_predictions) of the customers in `rows` (columns x, t_x, T)."""
    x, t_x, T = (rows[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    (x_u, t_x_u, T_u), inverse = clv_model.unique_rows(x, t_x, T)
    dates = _next_order(model, _as_date(as_of), horizon_months, x_u, t_x_u, T_u)[inverse]
    return pd.Series(dates, index=rows.index, name="expected_next_order")


def _next_order(model: ClvModel, as_of: date, horizon_months: int, x, t_x, T) -> pd.DatetimeIndex:
    unit = model.unit_days
    wait = clv_model.time_to_expected_purchases(
        model.purchase, x, t_x, T, horizon=math.floor(horizon_months * DAYS_PER_MONTH) / unit, step=1.0 / unit
    )
    return pd.Timestamp(as_of) + pd.to_timedelta(np.round(wait * unit), unit="D")


def _summarise_predictions(frame: pd.DataFrame) -> dict:
    bands = frame["risk_band"].value_counts()
    by_tier = (
        frame.groupby(frame["member_tier"].fillna("(none)"), sort=True)
        .agg(customers=("customer_key", "size"), p_alive=("p_alive", "mean"),
             expected_orders_365=("expected_orders_365", "mean"), predicted_clv=("predicted_clv", "mean"),
             total_clv=("total_clv", "mean"))
        .reset_index()
    )
    return {
        "customers": int(len(frame)),
        "expected_orders_365": float(frame["expected_orders_365"].sum()),
        "predicted_clv_total": float(frame["predicted_clv"].sum()),
        "predicted_clv_mean": float(frame["predicted_clv"].mean()),
        "total_clv_total": float(frame["total_clv"].sum()),
        "risk_bands": {band: int(bands.get(band, 0)) for band, _ in RISK_BANDS},
        "by_member_tier": by_tier.to_dict("records"),
    }


def ltv_report(con: duckdb.DuckDBPyConnection, cutoff=None, horizon_months: int = 12,
               monthly_discount: float = 0.01, margin: float = 0.3, unit_days: float = 1.0,
               grain: str = "week", predictions: bool = True, model: str = "auto") -> dict:
    """Fit every purchase model at `cutoff` (default: default_cutoff), check each on the holdout after it,
    choose one (`model`: "auto" = the smallest holdout error, or a name of clv_model.PURCHASE_MODELS),
    and refit the chosen model on all data to predict.

    Returns a JSON-serialisable dict: cutoff, end, unit_days, customers, model (the one used),
    purchase_model (its fit), models (every model's fit and holdout error, or its error), selection,
    boundary_notes, bgnbd, gamma_gamma, spend_frequency_correlation, warnings, holdout (of the model used;
    None when no data follow the cut-off), reliability, fit_seconds, settings, and prediction (the chosen
    model refitted up to `end`, with totals, risk bands and means by member tier).
    """
    if model != "auto" and model not in clv_model.PURCHASE_MODELS:
        raise ValueError(f"unknown model {model!r}: choose auto or one of {', '.join(clv_model.PURCHASE_MODELS)}")
    _, end = data_range(con)
    cutoff = _as_date(cutoff) if cutoff is not None else default_cutoff(con)
    fitted = fit_models(con, cutoff, unit_days, models=clv_model.PURCHASE_MODELS)
    holdouts = {}
    if end > cutoff:
        data = holdout_data(con, cutoff, end, fitted.unit_days)
        holdouts = {name: holdout_check(con, fitted.using(name), end, grain, data) for name in fitted.fits}
    selection = _select(fitted, holdouts, model)
    chosen = fitted.using(selection["model"])
    holdout = holdouts.get(chosen.purchase.model)
    # the chosen model's notes, then the spend model's and the correlation warning (fitted.warnings holds
    # those after the first model's notes)
    warnings = chosen.purchase.warnings + [w for w in fitted.warnings if w not in fitted.purchase.warnings]
    if holdout is None:
        warnings.append(Note("No purchases after the cut-off, so the holdout check was skipped.", "holdout_skipped"))
    models = {}
    for name in clv_model.PURCHASE_MODELS:
        if name in fitted.fits:
            check = holdouts.get(name)
            models[name] = {
                "label": clv_model.MODEL_LABELS[name],
                "fit": fitted.fits[name].as_dict(),
                "holdout": None if check is None else {
                    k: check[k] for k in ("predicted_repeat_orders", "actual_repeat_orders", "error_pct", "mape_cumulative")},
            }
        else:
            models[name] = {"label": clv_model.MODEL_LABELS[name], "error": fitted.fit_errors.get(name)}
    report = {
        "cutoff": cutoff.isoformat(),
        "end": end.isoformat(),
        "unit_days": fitted.unit_days,
        "customers": chosen.purchase.customers,
        "model": chosen.purchase.model,
        "purchase_model": chosen.purchase.as_dict(),
        "models": models,
        "selection": selection,
        "boundary_notes": [n for f in fitted.fits.values() if f.limit for n in f.warnings
                           if getattr(n, "code", "") in clv_model.BOUNDARY_NOTE_CODES],
        "bgnbd": fitted.bgnbd.as_dict(),
        "gamma_gamma": fitted.gamma_gamma.as_dict(),
        "spend_frequency_correlation": _finite(fitted.spend_frequency_correlation),
        "warnings": warnings,
        "holdout": holdout,
        "reliability": reliability(holdout["error_pct"], holdout["mape_cumulative"]) if holdout else "unknown",
        "fit_seconds": fitted.fit_seconds,
        "settings": {"horizon_months": horizon_months, "monthly_discount": monthly_discount, "margin": margin},
        "prediction": None,
    }
    if predictions:
        summary = calibration_summary(con, end, fitted.unit_days)
        final = chosen if end == cutoff else fit_models(con, end, fitted.unit_days, summary=summary,
                                                        models=(chosen.purchase.model,), starts=warm_starts(fitted))
        frame = add_predictions(summary, final, end, horizon_months, monthly_discount, margin)
        report["prediction"] = {
            "as_of": end.isoformat(),
            "model": final.purchase.model,
            "purchase_model": final.purchase.as_dict(),
            "bgnbd": final.bgnbd.as_dict(),
            "gamma_gamma": final.gamma_gamma.as_dict(),
            "fit_seconds": final.fit_seconds,
            "warnings": final.warnings,
            **_summarise_predictions(frame),
        }
    return report


def page_fit(con: duckdb.DuckDBPyConnection, cutoff=None, model: str = "auto") -> dict:
    """What the Customer value page fits once per store version, cut-off and model: `report` (ltv_report at
    `cutoff` without predictions: every model fitted and checked on the holdout, one chosen), `final` (the
    chosen model and Gamma-Gamma refitted on all data, as of `as_of`, the last purchase date).
    Horizon, discount and margin are not part of it: add_predictions applies them."""
    report = ltv_report(con, cutoff=cutoff, predictions=False, model=model)
    as_of = data_range(con)[1]
    final = fit_models(con, as_of, models=(report["model"],), starts=_report_starts(report))
    return {"report": report, "final": final, "as_of": as_of}


def _report_starts(report: dict) -> dict[str, list[float]]:
    """warm_starts from an ltv_report's fits (the refit on all data starts where the cut-off's fit ended)."""
    fits = {name: entry["fit"] for name, entry in report["models"].items() if "fit" in entry}
    fits["gamma_gamma"] = report["gamma_gamma"]
    names = {**clv_model.MODEL_PARAMS, "gamma_gamma": clv_model.GAMMA_GAMMA_PARAMS}
    return {name: [float(fit[n]) for n in names[name]] for name, fit in fits.items() if fit.get("limit") is None}


def page_fit_state(fit: dict) -> dict:
    """page_fit's result as JSON-serialisable values (for keeping it on disk; notes keep their code and values)."""
    return _notes_to_json({"report": fit["report"], "final": fit["final"].to_state(), "as_of": fit["as_of"].isoformat()})


def page_fit_from_state(state: dict) -> dict:
    """The page_fit result that page_fit_state described."""
    state = _notes_from_json(state)
    return {"report": state["report"], "final": ClvModel.from_state(state["final"]),
            "as_of": date.fromisoformat(state["as_of"])}


def _notes_to_json(value):
    """`value` with every Note as {"note": text, "code": ..., "values": ...} (JSON writes a Note as a bare string)."""
    if isinstance(value, Note):
        return {"note": str(value), "code": value.code, "values": value.values}
    if isinstance(value, dict):
        return {key: _notes_to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_notes_to_json(item) for item in value]
    return value


def _notes_from_json(value):
    if isinstance(value, dict):
        if set(value) == {"note", "code", "values"}:
            return Note(value["note"], value["code"], **value["values"])
        return {key: _notes_from_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_notes_from_json(item) for item in value]
    return value


TIE_DECIMALS = 6  # holdout errors (percent) equal to this many decimals are a tie


def _holdout_error(check: dict) -> float:
    """The error models are ranked by: the cumulative-curve MAPE, else |error_pct| (percent)."""
    value = check.get("mape_cumulative")
    if value is None:
        value = abs(check["error_pct"]) if check.get("error_pct") is not None else float("inf")
    return float(value) if np.isfinite(value) else float("inf")  # NaN predictions rank last, never first


def _select(fitted: ClvModel, holdouts: dict[str, dict], requested: str) -> dict:
    """Which purchase model predicts: the requested one, or the smallest holdout error (BG/NBD without a holdout)."""
    # errors equal to rounding (models that reached the same limit are the same model) rank in the models' order
    order = list(clv_model.PURCHASE_MODELS)
    ranking = sorted(holdouts, key=lambda name: (round(_holdout_error(holdouts[name]), TIE_DECIMALS),
                                                 order.index(name) if name in order else len(order)))
    errors = {name: _holdout_error(holdouts[name]) for name in ranking}
    if requested != "auto":
        if requested not in fitted.fits:
            reason = fitted.fit_errors.get(requested) or Note(f"The {requested} model could not be fitted.",
                                                              "model_not_fitted", model=requested)
            raise ClvFitError(reason, code=getattr(reason, "code", ""), **getattr(reason, "values", {}))
        chosen, reason = requested, "requested"
    elif ranking:
        chosen, reason = ranking[0], "smallest holdout error"
    else:
        chosen = "bgnbd" if "bgnbd" in fitted.fits else next(iter(fitted.fits))
        reason = "no holdout to compare on"
    runner_up = next((name for name in ranking if name != chosen), None)
    return {
        "model": chosen,
        "requested": requested,
        "reason": reason,
        "by": "mape_cumulative",
        "errors": errors,
        "runner_up": runner_up,
        "margin_points": _finite(errors[runner_up] - errors[chosen]) if runner_up and chosen in errors else None,
        # the models whose holdout error equals the chosen one's (to TIE_DECIMALS): nothing to choose between them
        "tied_with": [name for name in ranking if name != chosen and chosen in errors
                      and round(errors[name], TIE_DECIMALS) == round(errors[chosen], TIE_DECIMALS)],
    }


def _finite(value: float):
    return float(value) if np.isfinite(value) else None

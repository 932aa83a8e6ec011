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

from metrics import clv_model, dialect
from metrics.clv_model import ClvFitError, Fit, Note

DEFAULT_HOLDOUT_MONTHS = 6
MIN_HISTORY_DAYS = 60
DAYS_PER_MONTH = 365.25 / 12
CORRELATION_WARNING = 0.3
RISK_BANDS = (("low", 0.7), ("medium", 0.3), ("high", 0.0))  # churn-risk band: P(alive) >= threshold
EXPECTED_ORDER_DAYS = (30, 90, 365)
PEAK_MONTHS = (11, 12)  # November and December: the retail peak a model without seasonality misses

_SUMMARY_CTES = """
with purchase_days as (
    select
        customer_key,
        order_date,
        sum(amount)::double as amount,
    from orders
    where is_valid and customer_key is not null and order_date <= $cutoff
    group by customer_key, order_date
),

summary as (
    select
        customer_key,
        count(*) - 1 as x,
        date_diff('day', min(order_date), max(order_date)) / $unit as t_x,
        date_diff('day', min(order_date), $cutoff) / $unit as T,
        (sum(amount) - arg_min(amount, order_date)) / nullif(count(*) - 1, 0) as monetary,
        sum(amount) as revenue,
        min(order_date) as first_purchase,
        max(order_date) as last_purchase,
    from purchase_days
    group by customer_key
)
"""

# repeat purchase days after the cut-off, up to $end (the holdout check)
_HOLDOUT_CTE = """
holdout as (
    select customer_key, count(distinct order_date) as holdout_orders,
    from orders
    where is_valid and customer_key is not null and order_date > $cutoff and order_date <= $end
    group by customer_key
)
"""

GROUPED_SQL = _SUMMARY_CTES + """,

""" + _HOLDOUT_CTE + """,

final as (
    select
        x,
        t_x,
        T,
        count(*) as customers,
        coalesce(sum(holdout_orders), 0) as holdout_orders,
    from summary
    left join holdout using (customer_key)
    group by x, t_x, T
)

select * from final order by x, t_x, T
"""

REPEAT_SPEND_SQL = _SUMMARY_CTES + """
select x, monetary from summary where x > 0 order by customer_key
"""

CUSTOMER_SQL = _SUMMARY_CTES + """,

final as (
    select
        customers.customer_id,
        summary.customer_key,
        summary.x,
        summary.t_x,
        summary.T,
        summary.monetary,
        summary.revenue as historical_revenue,
        summary.first_purchase,
        summary.last_purchase,
        customers.member_tier,
        customers.cohort_month,
        customers.first_channel,
    from summary
    left join customers using (customer_key)
)

select * from final order by customer_key
"""

HOLDOUT_CURVE_SQL = """
with calibration_customers as (
    select customer_key
    from orders
    where is_valid and customer_key is not null
    group by customer_key
    having min(order_date) <= $cutoff
),

holdout_days as (
    select distinct customer_key, order_date
    from orders
    where is_valid and customer_key is not null and order_date > $cutoff and order_date <= $end
        and customer_key in (select customer_key from calibration_customers)
),

final as (
    select date_diff('day', $cutoff, order_date) as day, count(*) as orders,
    from holdout_days
    group by day
)

select * from final order by day
"""

# Precomputed at each store change (metrics.precomputed), for the default cut-off and the last date:
# what the Customer value page's first view would otherwise read from every order.
STORED_CALIBRATION_SQL = _SUMMARY_CTES + """,

""" + _HOLDOUT_CTE + """

select
    $cutoff::date as cutoff, $end::date as end_date, customer_key, x, t_x, T, monetary,
    coalesce(holdout_orders, 0) as holdout_orders,
from summary
left join holdout using (customer_key)
order by customer_key
"""

STORED_GROUPED_SQL = """
select x, t_x, T, count(*) as customers, sum(case when $with_holdout then holdout_orders else 0 end) as holdout_orders,
from clv_calibration
group by x, t_x, T
order by x, t_x, T
"""

STORED_REPEAT_SPEND_SQL = "select x, monetary from clv_calibration where x > 0 order by customer_key"

STORED_HOLDOUT_CURVE_SQL = "select day, orders from clv_holdout_days order by day"

STORED_CUSTOMERS_SQL = "select * exclude (as_of) from clv_customers order by customer_key"

DATA_RANGE_SQL = """
select min(order_date), max(order_date)
from orders
where is_valid and customer_key is not null
"""


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


def _query(con: duckdb.DuckDBPyConnection, sql: str, **params):
    """Run sql with only the named parameters it uses (DuckDB refuses unused ones)."""
    return con.execute(sql, {k: v for k, v in params.items() if f"${k}" in sql})


def _as_date(value) -> date:
    return pd.Timestamp(value).date()


def data_range(con: duckdb.DuckDBPyConnection) -> tuple[date, date]:
    """First and last purchase date of identified customers' valid orders; ClvFitError when there are none."""
    first, last = con.execute(DATA_RANGE_SQL).fetchall()[0]
    if first is None:
        raise ClvFitError("There are no valid orders from identified customers, so there is nothing to model.",
                          code="no_identified_orders")
    return first, last


def default_cutoff(con: duckdb.DuckDBPyConnection, holdout_months: int = DEFAULT_HOLDOUT_MONTHS) -> date:
    """Holdout split: last purchase date minus 6 months (183 days), or minus a third of a history under 18 months."""
    first, last = data_range(con)
    span = (last - first).days
    holdout_days = min(round(holdout_months * DAYS_PER_MONTH), span // 3)
    return last - timedelta(days=holdout_days)


def calibration_summary(con: duckdb.DuckDBPyConnection, cutoff, unit_days: float = 1.0) -> pd.DataFrame:
    """Per customer at the cut-off: x, t_x, T, monetary (mean repeat-purchase spend), historical revenue, dimensions.

    x = purchase days after the first; t_x = last - first purchase; T = cut-off - first purchase.
    """
    if _stored(con, "clv_customers", "as_of", _as_date(cutoff), unit_days):
        return con.execute(STORED_CUSTOMERS_SQL).df()
    return _query(con, CUSTOMER_SQL, cutoff=_as_date(cutoff), unit=float(unit_days)).df()


def precomputed_sql(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, dict]]:
    """{table: (SQL, parameters)} of the summaries stored at each store change: clv_calibration (per customer
    at the default cut-off, in days, with holdout purchases up to the last date), clv_holdout_days and
    clv_customers (calibration_summary at the last date)."""
    try:
        _, end = data_range(con)
        cutoff = default_cutoff(con)
    except ClvFitError:  # no identified customers: empty tables, never matched
        cutoff = end = date(1900, 1, 1)
    return {
        "clv_calibration": (STORED_CALIBRATION_SQL, {"cutoff": cutoff, "end": end, "unit": 1.0}),
        "clv_holdout_days": (HOLDOUT_CURVE_SQL, {"cutoff": cutoff, "end": end}),
        "clv_customers": (f"select $cutoff::date as as_of, * from ({CUSTOMER_SQL})", {"cutoff": end, "unit": 1.0}),
    }


def _stored(con, table: str, column: str, value: date, unit_days: float = 1.0, end: date | None = None) -> bool:
    """Whether `table` was precomputed for this date (and `end`), in days."""
    if unit_days != 1.0 or not dialect.has_table(con, table):
        return False
    columns = f"any_value({column})" + (", any_value(end_date)" if end is not None else "")
    row = con.execute(f"select {columns} from {table}").fetchone()
    return row[0] == value and (end is None or row[1] == end)


def _grouped(con, cutoff: date, end: date, unit_days: float) -> dict[str, np.ndarray]:
    if _stored(con, "clv_calibration", "cutoff", cutoff, unit_days):
        stored_end = con.execute("select any_value(end_date) from clv_calibration").fetchone()[0]
        if end in (cutoff, stored_end):
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
               summary: pd.DataFrame | None = None, models: tuple[str, ...] = ("bgnbd",)) -> ClvModel:
    """Fit the purchase `models` (clv_model.PURCHASE_MODELS) on grouped (x, t_x, T) rows and Gamma-Gamma on
    repeat customers, with purchases up to cutoff; the first model of `models` predicts.

    `summary`: the calibration_summary at this cut-off and unit, when the caller already has it
    (saves reading the orders again); otherwise the grouped rows come straight from DuckDB.
    A model that cannot be fitted is left out (its reason in fit_errors); ClvFitError when none can.
    """
    cutoff = _as_date(cutoff)
    _check_history(con, cutoff)
    if summary is None:
        grouped = _grouped(con, cutoff, cutoff, unit_days)
        if _stored(con, "clv_calibration", "cutoff", cutoff, unit_days):
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
                                                      grouped["customers"])
        except ClvFitError as problem:
            if str(problem).startswith(("Too few", "The order history is too short")):
                raise  # the data, not the model: no other model can do better
            errors[name] = problem.note()
    if not fits:
        first = next(iter(errors.values()))
        raise ClvFitError(first, code=first.code, **first.values)
    gamma_gamma = clv_model.fit_gamma_gamma(x_spend, monetary)
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
    if _stored(con, "clv_calibration", "cutoff", cutoff, unit_days, end) and dialect.has_table(con, "clv_holdout_days"):
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
                    monthly_discount: float = 0.01, margin: float = 0.3) -> pd.DataFrame:
    """The columns of customer_predictions added to a calibration_summary taken at `as_of` (a new frame)."""
    frame = summary.copy()
    as_of, unit = _as_date(as_of), model.unit_days
    x, t_x, T = (frame[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    monetary = frame["monetary"].to_numpy(dtype=float, na_value=np.nan)

    months = np.arange(1, horizon_months + 1)
    horizons = np.concatenate([EXPECTED_ORDER_DAYS, months * DAYS_PER_MONTH]) / unit
    expected = clv_model.expected_purchases_grid(model.purchase, horizons, x, t_x, T)
    k = len(EXPECTED_ORDER_DAYS)
    per_month = np.diff(expected[:, k:], axis=1, prepend=0.0)
    aov = clv_model.expected_spend(model.gamma_gamma, x, monetary)
    discount = (1.0 + monthly_discount) ** -months

    frame["p_alive"] = clv_model.p_alive(model.purchase, x, t_x, T)
    frame["risk_band"] = risk_band(frame["p_alive"])
    for i, days in enumerate(EXPECTED_ORDER_DAYS):
        frame[f"expected_orders_{days}"] = expected[:, i]
    frame["expected_orders_horizon"] = expected[:, -1]  # over the whole horizon (horizon_months)
    # customers with the same (x, t_x, T) wait the same: the bisection runs once per distinct row
    (x_u, t_x_u, T_u), inverse = clv_model.unique_rows(x, t_x, T)
    wait = clv_model.time_to_expected_purchases(
        model.purchase, x_u, t_x_u, T_u, horizon=math.floor(horizon_months * DAYS_PER_MONTH) / unit, step=1.0 / unit
    )[inverse]
    frame["expected_next_order"] = pd.Timestamp(as_of) + pd.to_timedelta(np.round(wait * unit), unit="D")
    frame["expected_aov"] = aov
    frame["predicted_clv"] = per_month @ discount * aov * margin
    frame["historical_value"] = frame["historical_revenue"] * margin
    frame["total_clv"] = frame["historical_value"] + frame["predicted_clv"]
    return frame


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
        "boundary_notes": [n for f in fitted.fits.values() if f.limit for n in f.warnings if "No dropout" in n],
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
                                                        models=(chosen.purchase.model,))
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


def _holdout_error(check: dict) -> float:
    """The error models are ranked by: the cumulative-curve MAPE, else |error_pct| (percent)."""
    value = check.get("mape_cumulative")
    if value is None:
        value = abs(check["error_pct"]) if check.get("error_pct") is not None else float("inf")
    return float(value) if np.isfinite(value) else float("inf")  # NaN predictions rank last, never first


def _select(fitted: ClvModel, holdouts: dict[str, dict], requested: str) -> dict:
    """Which purchase model predicts: the requested one, or the smallest holdout error (BG/NBD without a holdout)."""
    ranking = sorted(holdouts, key=lambda name: _holdout_error(holdouts[name]))
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
    }


def _finite(value: float):
    return float(value) if np.isfinite(value) else None

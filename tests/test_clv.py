"""Predicted LTV: BG/NBD and Gamma-Gamma reproduce the published CDNOW estimates, and the store path works.

Published numbers: Fader, Hardie and Lee (2005) and Fader and Hardie's notes on the CDNOW sample
(2,357 customers, calibration weeks 1-39): r = 0.243, alpha = 4.414, a = 0.793, b = 2.426,
LL = -9582.4; E[Y(39) | x=2, t_x=30.43, T=38.86] = 1.226; Gamma-Gamma p = 6.25, q = 3.74, gamma = 15.44.
"""

import json
import math
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy.special import hyp2f1

from metrics import clv, clv_model
from metrics.clv_model import ClvFitError

CDNOW = Path(__file__).parent / "fixtures" / "cdnow_sample.txt"
CDNOW_CUTOFF = date(1997, 9, 30)
CDNOW_END = date(1998, 6, 30)


def published(value: float, reference: str) -> bool:
    """True when value agrees with the published figure to every digit printed in `reference`."""
    decimals = len(reference.split(".")[1]) if "." in reference else 0
    return abs(value - float(reference)) <= 0.5 * 10.0**-decimals


def orders_connection(rows: list[tuple]) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with `orders` and `customers` tables shaped like the store's, from
    (customer_id or None, 'YYYY-MM-DD', amount, status) rows."""
    frame = pd.DataFrame(rows, columns=["customer_id", "day", "amount", "status"])
    frame["order_id"] = [f"O{i}" for i in range(len(frame))]
    frame["order_ts"] = pd.to_datetime(frame["day"])
    con = duckdb.connect()
    con.register("raw_orders", frame)
    con.execute(
        """
        create table orders as
        with keys as (
            select customer_id, row_number() over (order by customer_id) as customer_key,
            from (select distinct customer_id from raw_orders where customer_id is not null)
        )
        select
            order_id, customer_id, order_ts, amount::decimal(18, 2) as amount, status,
            status = 'valid' as is_valid, cast(order_ts as date) as order_date, customer_key,
            'none' as member_tier, 'web' as channel,
        from raw_orders left join keys using (customer_id)
        """
    )
    con.unregister("raw_orders")
    con.execute(
        """
        create table customers as
        select customer_key, any_value(customer_id) as customer_id,
            cast(date_trunc('month', min(order_date)) as date) as cohort_month,
            'none' as member_tier, 'web' as first_channel,
        from orders where is_valid and customer_key is not null
        group by customer_key
        """
    )
    return con


def cdnow_rows() -> list[tuple]:
    """The fixture's transactions as (customer id, date, dollar value, 'valid')."""
    rows = []
    for line in CDNOW.read_text().splitlines():
        if line.strip():
            customer, _, day, _, dollars = line.split()
            rows.append((customer, f"{day[:4]}-{day[4:6]}-{day[6:]}", float(dollars), "valid"))
    return rows


@pytest.fixture(scope="module")
def cdnow():
    con = orders_connection(cdnow_rows())
    yield con
    con.close()


@pytest.fixture(scope="module")
def cdnow_model(cdnow):
    return clv.fit_models(cdnow, CDNOW_CUTOFF, unit_days=7)


# --- the summary SQL -------------------------------------------------------------------------


def test_summary_counts_purchase_days_and_repeat_spend():
    con = orders_connection([
        ("A", "2024-01-01", 10.0, "valid"),
        ("A", "2024-01-01", 20.0, "valid"),  # same day: one purchase of 30
        ("A", "2024-01-05", 30.0, "valid"),
        ("A", "2024-01-05", 5.0, "valid"),  # same day: one purchase of 35
        ("A", "2024-01-08", 99.0, "cancelled"),  # invalid: ignored
        ("A", "2024-01-20", 50.0, "valid"),  # after the cut-off: holdout
        ("B", "2024-01-09", 40.0, "valid"),
        (None, "2024-01-03", 70.0, "valid"),  # guest: not a customer
        ("C", "2024-01-12", 15.0, "valid"),  # first purchase after the cut-off: not in the calibration
    ])
    summary = clv.calibration_summary(con, "2024-01-10").set_index("customer_id")
    assert sorted(summary.index) == ["A", "B"]
    a, b = summary.loc["A"], summary.loc["B"]
    assert (a["x"], a["t_x"], a["T"], a["monetary"], a["historical_revenue"]) == (1, 4, 9, 35.0, 65.0)
    assert (b["x"], b["t_x"], b["T"], b["historical_revenue"]) == (0, 0, 1, 40.0)
    assert pd.isna(b["monetary"])
    weeks = clv.calibration_summary(con, "2024-01-10", unit_days=7).set_index("customer_id")
    assert weeks.loc["A", "t_x"] == pytest.approx(4 / 7) and weeks.loc["A", "T"] == pytest.approx(9 / 7)


def test_cdnow_summary_matches_the_published_data_set(cdnow):
    summary = clv.calibration_summary(cdnow, CDNOW_CUTOFF, unit_days=7).set_index("customer_id")
    assert len(summary) == 2357
    assert int(summary["x"].sum()) == 2457  # repeat transactions in weeks 1-39 (FHL 2005)
    assert int((summary["x"] > 0).sum()) == 946  # repeat customers in the Gamma-Gamma note
    # customer 00004 bought on 1997-01-01, 01-18 and 08-02 (and again in the holdout)
    first = summary.loc["00004"]
    assert first["x"] == 2
    assert first["t_x"] == pytest.approx(213 / 7)
    assert first["T"] == pytest.approx(272 / 7)
    assert first["monetary"] == pytest.approx((29.73 + 14.96) / 2)


# --- published CDNOW estimates ---------------------------------------------------------------


def test_cdnow_bgnbd_reproduces_published_estimates(cdnow_model):
    fit = cdnow_model.bgnbd
    assert fit.customers == 2357
    for name, reference in {"r": "0.243", "alpha": "4.414", "a": "0.793", "b": "2.426"}.items():
        assert published(fit.params[name], reference), (name, fit.params[name])
        assert f"{fit.params[name]:.3g}" == f"{float(reference):.3g}"
    assert published(fit.log_likelihood, "-9582.4")
    assert all(0 < fit.se[name] < fit.params[name] for name in clv_model.BGNBD_PARAMS)


def test_cdnow_gamma_gamma_reproduces_published_estimates(cdnow_model):
    fit = cdnow_model.gamma_gamma
    assert fit.customers == 946
    for name, reference in {"p": "6.25", "q": "3.74", "gamma": "15.44"}.items():
        assert published(fit.params[name], reference), (name, fit.params[name])
    assert all(0 < fit.se[name] < fit.params[name] for name in clv_model.GAMMA_GAMMA_PARAMS)


def test_cdnow_conditional_expectation(cdnow_model):
    expected = clv_model.expected_purchases(cdnow_model.bgnbd, 39, 2, 30.43, 38.86)
    assert published(float(expected), "1.226")
    published_params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    assert published(float(clv_model.expected_purchases(published_params, 39, 2, 30.43, 38.86)), "1.226")


def test_expected_purchases_agrees_with_the_untransformed_formula():
    """FHL (2005) eq. 10 as printed, against the Euler-transformed form used in the module."""
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    for x, t_x, T, t in [(0, 0.0, 38.86, 39.0), (2, 30.43, 38.86, 39.0), (7, 20.0, 30.0, 52.0), (1, 5.0, 12.0, 4.0)]:
        z = t / (alpha + T + t)
        bracket = 1 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, z)
        head = (a + b + x - 1) / (a - 1) * bracket
        alive = 1 + (x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)
        assert clv_model.expected_purchases((r, alpha, a, b), t, x, t_x, T) == pytest.approx(head / alive, rel=1e-10)
    grid = clv_model.expected_purchases_grid((r, alpha, a, b), [4.0, 39.0], [2, 0, 2], [30.43, 0, 30.43], [38.86] * 3)
    assert grid[0, 1] == pytest.approx(clv_model.expected_purchases((r, alpha, a, b), 39.0, 2, 30.43, 38.86))
    assert grid[0, 0] == grid[2, 0] and grid[0, 0] < grid[0, 1]


def test_p_alive_by_hand():
    r, alpha, a, b = 0.243, 4.414, 0.793, 2.426
    by_hand = 1 / (1 + a / (b + 2 - 1) * ((alpha + 38.86) / (alpha + 30.43)) ** (r + 2))
    values = clv_model.p_alive((r, alpha, a, b), [2, 0, 2], [30.43, 0, 38.86], [38.86, 38.86, 38.86])
    assert values[0] == pytest.approx(by_hand, rel=1e-12)
    assert values[1] == 1.0  # no repeat purchase: BG/NBD cannot have seen a dropout
    assert values[2] == pytest.approx(1 / (1 + a / (b + 1)))  # bought on the last day


def test_expected_spend_by_hand():
    p, q, gamma = 6.25, 3.74, 15.44
    by_hand = p * (gamma + 2 * 22.35) / (2 * p + q - 1)
    assert clv_model.expected_spend((p, q, gamma), [2], [22.35])[0] == pytest.approx(by_hand)
    assert clv_model.expected_spend((p, q, gamma), [0], [np.nan])[0] == pytest.approx(p * gamma / (q - 1))


# --- grouping, errors, warnings --------------------------------------------------------------


def test_grouped_fit_equals_ungrouped(cdnow):
    summary = clv.calibration_summary(cdnow, CDNOW_CUTOFF, unit_days=7)
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    (gx, gt, gT), weights = clv_model.group_rows(x, t_x, T)
    assert len(weights) < len(x) and weights.sum() == len(x)
    ungrouped, grouped = clv_model.fit_bgnbd(x, t_x, T), clv_model.fit_bgnbd(gx, gt, gT, weights)
    for name in clv_model.BGNBD_PARAMS:
        assert grouped.params[name] == pytest.approx(ungrouped.params[name], rel=1e-6)
        assert grouped.se[name] == pytest.approx(ungrouped.se[name], rel=1e-4)
    assert grouped.log_likelihood == pytest.approx(ungrouped.log_likelihood, rel=1e-10)
    assert grouped.log_likelihood == pytest.approx(
        clv_model.bgnbd_log_likelihood(list(ungrouped.params.values()), x, t_x, T).sum(), rel=1e-10)


def test_too_few_repeat_customers_is_a_clear_error():
    rows = [(f"C{i:02d}", str(date(2024, 1, 1) + timedelta(days=5 * i)), 20.0, "valid") for i in range(20)]
    con = orders_connection(rows)
    with pytest.raises(ClvFitError, match="Too few repeat customers.*0 of 20 customers bought again"):
        clv.fit_models(con, "2024-06-30")
    with pytest.raises(ClvFitError, match="Too few repeat customers"):
        clv.ltv_report(con)


def test_too_short_history_is_a_clear_error():
    rows = [(f"C{i:02d}", f"2024-01-{d:02d}", 20.0, "valid") for i in range(50) for d in (1, 10, 20)]
    con = orders_connection(rows)
    with pytest.raises(ClvFitError, match="history is too short.*19 days of orders before the cut-off"):
        clv.fit_models(con, "2024-01-20")


def test_spend_frequency_correlation_warning():
    rows = cdnow_rows()
    purchase_days = {}
    for customer, day, _, _ in rows:
        purchase_days.setdefault(customer, set()).add(day)
    # CDNOW purchases, but spend is scaled by the customer's number of purchase days: spend tracks frequency
    noise = np.random.default_rng(5).gamma(4.0, 0.25, size=len(rows))
    rows = [(c, d, 10.0 * len(purchase_days[c]) * k, v) for (c, d, _, v), k in zip(rows, noise)]
    model = clv.fit_models(orders_connection(rows), CDNOW_CUTOFF, unit_days=7)
    assert model.spend_frequency_correlation > 0.3
    assert any("correlated" in w for w in model.warnings)
    x = np.array([1.0, 2, 3, 0])
    m = np.array([5.0, 4, 9, np.nan])
    assert clv_model.spend_frequency_correlation(x, m) == pytest.approx(np.corrcoef(x[:3], m[:3])[0, 1])


# --- predictions and the holdout -------------------------------------------------------------


def test_cdnow_holdout_counts_actual_purchase_days(cdnow, cdnow_model):
    rows = cdnow_rows()
    first = {}
    for customer, day, _, _ in rows:
        first[customer] = min(first.get(customer, day), day)
    holdout_days = {(c, d) for c, d, _, _ in rows if str(CDNOW_CUTOFF) < d <= str(CDNOW_END)}
    holdout = clv.holdout_check(cdnow, cdnow_model, CDNOW_END)
    assert holdout["days"] == 273  # weeks 40-78
    assert holdout["actual_repeat_orders"] == len(holdout_days)
    assert sum(r["actual_repeat_orders"] for r in holdout["by_frequency"]) == len(holdout_days)
    assert sum(r["customers"] for r in holdout["by_frequency"]) == 2357
    predicted_by_frequency = sum(r["predicted_repeat_orders"] for r in holdout["by_frequency"])
    assert predicted_by_frequency == pytest.approx(holdout["predicted_repeat_orders"])
    curve = holdout["cumulative"]
    assert [p["day"] for p in curve[:2]] == [7, 14] and curve[-1]["day"] == 273
    assert curve[-1]["actual"] == len(holdout_days)
    assert all(a["predicted"] <= b["predicted"] and a["actual"] <= b["actual"] for a, b in zip(curve, curve[1:]))
    actual, predicted = holdout["actual_repeat_orders"], holdout["predicted_repeat_orders"]
    assert holdout["error_pct"] == pytest.approx((predicted - actual) / actual * 100)
    assert abs(holdout["error_pct"]) < 25 and holdout["mape_cumulative"] < 25


def test_customer_predictions_clv_arithmetic(cdnow, cdnow_model):
    frame = clv.customer_predictions(cdnow, CDNOW_CUTOFF, cdnow_model, horizon_months=12,
                                     monthly_discount=0.01, margin=0.3).set_index("customer_id")
    row = frame.loc["00004"]
    months_in_weeks = np.arange(13) * (365.25 / 12) / 7
    cumulative = clv_model.expected_purchases(cdnow_model.bgnbd, months_in_weeks, 2, 213 / 7, 272 / 7)
    aov = clv_model.expected_spend(cdnow_model.gamma_gamma, [2], [(29.73 + 14.96) / 2])[0]
    by_hand = sum((cumulative[m] - cumulative[m - 1]) * aov * 0.3 / 1.01**m for m in range(1, 13))
    assert row["predicted_clv"] == pytest.approx(by_hand, rel=1e-9)
    assert row["expected_aov"] == pytest.approx(aov)
    assert row["historical_value"] == pytest.approx((29.33 + 29.73 + 14.96) * 0.3)
    assert row["total_clv"] == pytest.approx(row["historical_value"] + row["predicted_clv"])
    in_30_days = clv_model.expected_purchases(cdnow_model.bgnbd, 30 / 7, 2, 213 / 7, 272 / 7)
    assert row["expected_orders_30"] == pytest.approx(float(in_30_days))
    assert (frame["expected_orders_30"] <= frame["expected_orders_90"]).all()
    assert (frame["expected_orders_90"] <= frame["expected_orders_365"]).all()
    assert set(frame["risk_band"]) <= {"low", "medium", "high"}
    assert ((frame["p_alive"] >= 0.7) == (frame["risk_band"] == "low")).all()
    assert ((frame["p_alive"] < 0.3) == (frame["risk_band"] == "high")).all()
    # next order: the day expected cumulative purchases reach 1, or None within the 12-month horizon
    due = frame.dropna(subset=["expected_next_order"])
    assert 0 < len(due) < len(frame)
    for _, customer in due.head(20).iterrows():
        days = (customer["expected_next_order"] - pd.Timestamp(CDNOW_CUTOFF)).days
        at = clv_model.expected_purchases(cdnow_model.bgnbd, np.array([days - 1, days]) / 7,
                                          customer["x"], customer["t_x"], customer["T"])
        assert at[0] < 1 <= at[1] + 1e-6
    never = frame[frame["expected_next_order"].isna()]
    assert (never["expected_orders_365"] < 1).all()


def test_demo_store_report(demo_store):
    con = demo_store.connect()
    first, last = clv.data_range(con)
    report = clv.ltv_report(con)
    json.dumps(report)  # JSON-serialisable as is
    assert report["cutoff"] == str(last - timedelta(days=183))  # 6 months of holdout
    holdout = report["holdout"]
    assert holdout["end"] == str(last)
    assert math.isfinite(holdout["error_pct"]) and math.isfinite(holdout["mape_cumulative"])
    assert abs(holdout["error_pct"]) < 30
    assert report["bgnbd"]["log_likelihood"] < 0 and report["fit_seconds"] < 10
    assert sum(report["prediction"]["risk_bands"].values()) == report["prediction"]["customers"]

    frame = clv.customer_predictions(con)
    assert frame["p_alive"].between(0, 1).all()
    assert frame["predicted_clv"].ge(0).all() and frame["expected_aov"].gt(0).all()
    by_tier = frame.groupby("member_tier")["predicted_clv"].mean()
    assert by_tier["gold"] > by_tier["none"] and by_tier["diamond"] > by_tier["none"]
    con.close()


def test_the_default_cut_off_leaves_the_model_the_history_it_needs():
    """Six months held out, or a third of a shorter history, but never fewer than 60 days before the
    cut-off where the history has them (a 12-week export was held out past what any model can fit)."""
    from store.models.clv import MIN_HISTORY_DAYS, default_cutoff_between

    assert MIN_HISTORY_DAYS == 60
    assert default_cutoff_between(date(2022, 1, 1), date(2024, 1, 1)) == date(2023, 7, 2)  # 183 days held out
    assert default_cutoff_between(date(2023, 1, 1), date(2023, 10, 28)) == date(2023, 7, 20)  # 300 days: 100 out
    assert default_cutoff_between(date(2011, 1, 1), date(2011, 3, 26)) == date(2011, 3, 2)  # 84 days: 60 + 24 out
    assert default_cutoff_between(date(2011, 1, 1), date(2011, 2, 20)) == date(2011, 2, 20)  # 50 days: none out

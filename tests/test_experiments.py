"""Strategy tests: statistics vs scipy/statsmodels, SQL totals vs naive pandas, the demo's planted effect."""

import json
import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.duration.survfunc import SurvfuncRight
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats import proportion

from metrics import experiments as ex
from metrics.experiments import stats as experiment_stats
from ui.strategy_words import strategy_name, summaries, summary

TOL = dict(rel=1e-6, abs=1e-9)


def mean_totals(x) -> experiment_stats.MeanTotals:
    x = np.asarray(x, dtype=float)
    return experiment_stats.MeanTotals(x.size, x.sum(), (x * x).sum())


# ---- statistics from totals vs independent computations on per-customer arrays --------------


@pytest.fixture(scope="module")
def arrays():
    rng = np.random.default_rng(7)
    control = rng.poisson(0.8, 400) * rng.lognormal(4, 0.6, 400)
    variant = rng.poisson(1.0, 350) * rng.lognormal(4, 0.6, 350)
    return control, variant


def test_welch_absolute_matches_scipy(arrays):
    control, variant = arrays
    c = experiment_stats.compare(mean_totals(control), mean_totals(variant))
    ref = stats.ttest_ind(variant, control, equal_var=False)
    assert c.abs_lift == pytest.approx(variant.mean() - control.mean(), **TOL)
    assert c.abs_p_value == pytest.approx(ref.pvalue, **TOL)
    assert c.dof == pytest.approx(ref.df, **TOL)
    low, high = ref.confidence_interval(0.95)
    assert (c.abs_ci_low, c.abs_ci_high) == (pytest.approx(low, **TOL), pytest.approx(high, **TOL))


def test_relative_lift_delta_method_by_hand(arrays):
    control, variant = arrays
    c = experiment_stats.compare(mean_totals(control), mean_totals(variant))
    ma, mb = control.mean(), variant.mean()
    va, vb = control.var(ddof=1), variant.var(ddof=1)
    se = math.sqrt(vb / (ma**2 * variant.size) + va * mb**2 / (ma**4 * control.size))
    dof = stats.ttest_ind(variant, control, equal_var=False).df
    rel = mb / ma - 1
    assert c.rel_lift == pytest.approx(rel, **TOL)
    assert c.rel_se == pytest.approx(se, **TOL)
    assert c.p_value == pytest.approx(2 * stats.t.sf(abs(rel) / se, dof), **TOL)
    assert c.ci_high - c.rel_lift == pytest.approx(stats.t.ppf(0.975, dof) * se, **TOL)
    assert c.chance_to_win == pytest.approx(stats.norm.cdf(rel / se), **TOL)


def test_proportions_match_statsmodels_wald():
    control, variant = experiment_stats.ProportionTotals(1200, 301), experiment_stats.ProportionTotals(1150, 352)
    c = experiment_stats.compare(control, variant)
    ref = proportion.test_proportions_2indep(352, 1150, 301, 1200, method="wald", compare="diff")
    low, high = proportion.confint_proportions_2indep(352, 1150, 301, 1200, method="wald", compare="diff")
    assert c.abs_lift == pytest.approx(ref.diff, **TOL)
    assert c.abs_p_value == pytest.approx(ref.pvalue, **TOL)
    assert (c.abs_ci_low, c.abs_ci_high) == (pytest.approx(low, **TOL), pytest.approx(high, **TOL))


def test_ratio_metric_delta_method_by_hand():
    rng = np.random.default_rng(3)
    orders = rng.poisson(1.2, 500).astype(float)
    revenue = orders * rng.lognormal(5, 0.5, 500)
    ratio = experiment_stats.RatioTotals(500, mean_totals(revenue), mean_totals(orders), float((revenue * orders).sum()))
    r = revenue.sum() / orders.sum()
    assert ratio.mean == pytest.approx(r, **TOL)
    # linearisation: the ratio's per-customer variance is Var(revenue - r * orders) / mean(orders)^2
    assert ratio.variance == pytest.approx(np.var(revenue - r * orders, ddof=1) / orders.mean() ** 2, **TOL)
    assert ratio.covariance == pytest.approx(np.cov(revenue, orders)[0, 1], **TOL)


def test_cuped_matches_welch_on_adjusted_values():
    rng = np.random.default_rng(11)
    pre_a, pre_b = rng.poisson(2.0, 600).astype(float), rng.poisson(2.0, 580).astype(float)
    post_a = rng.poisson(0.5 + 0.3 * pre_a).astype(float)
    post_b = rng.poisson(0.6 + 0.3 * pre_b).astype(float)
    pairs = [(mean_totals(post_a), mean_totals(pre_a), float(post_a @ pre_a)),
             (mean_totals(post_b), mean_totals(pre_b), float(post_b @ pre_b))]
    theta = experiment_stats.cuped_theta(pairs)
    pooled_post, pooled_pre = np.concatenate([post_a, post_b]), np.concatenate([pre_a, pre_b])
    expected_theta = np.cov(pooled_post, pooled_pre)[0, 1] / np.var(pooled_pre, ddof=1)
    assert theta == pytest.approx(expected_theta, **TOL)
    adjusted = [experiment_stats.AdjustedTotals(post, pre, s, theta) for post, pre, s in pairs]
    c = experiment_stats.compare(*adjusted)
    ya, yb = post_a - theta * pre_a, post_b - theta * pre_b
    ref = stats.ttest_ind(yb, ya, equal_var=False)
    assert c.abs_lift == pytest.approx(yb.mean() - ya.mean(), **TOL)
    assert c.abs_p_value == pytest.approx(ref.pvalue, **TOL)
    assert adjusted[0].variance == pytest.approx(np.var(ya, ddof=1), **TOL)
    # relative lift is over the unadjusted control mean, as in gbstats
    assert c.rel_lift == pytest.approx((yb.mean() - ya.mean()) / post_a.mean(), **TOL)
    assert c.abs_se < experiment_stats.compare(pairs[0][0], pairs[1][0]).abs_se  # the covariate explains variance


def test_srm_matches_scipy_chisquare():
    stat, p = experiment_stats.srm_test([5120, 4880])
    ref = stats.chisquare([5120, 4880])
    assert (stat, p) == (pytest.approx(ref.statistic, **TOL), pytest.approx(ref.pvalue, **TOL))
    stat, p = experiment_stats.srm_test([2050, 990, 960], [2, 1, 1])
    ref = stats.chisquare([2050, 990, 960], f_exp=[2000, 1000, 1000])
    assert (stat, p) == (pytest.approx(ref.statistic, **TOL), pytest.approx(ref.pvalue, **TOL))


def test_holm_and_bh_match_statsmodels():
    p = [0.01, 0.04, 0.03, 0.2, 0.001, 0.049, 0.5, 0.012]
    assert experiment_stats.holm(p) == pytest.approx(multipletests(p, method="holm")[1].tolist(), **TOL)
    assert experiment_stats.benjamini_hochberg(p) == pytest.approx(multipletests(p, method="fdr_bh")[1].tolist(), **TOL)
    with_nan = experiment_stats.holm([0.01, math.nan, 0.04])
    assert math.isnan(with_nan[1])
    assert [with_nan[0], with_nan[2]] == pytest.approx(multipletests([0.01, 0.04], method="holm")[1].tolist())


def test_kaplan_meier_hand_example_and_statsmodels():
    # times 1, 2, 2+, 3, 4+, 4, 5 (+ = censored): at risk 7, 6, 4, 3 at the event times 1, 2, 3, 4
    times, events, censored = [1, 2, 3, 4, 5], [1, 1, 1, 1, 1], [0, 1, 0, 1, 0]
    km = experiment_stats.kaplan_meier(times, events, censored)
    s1 = 6 / 7
    s2 = s1 * 5 / 6
    s3 = s2 * 3 / 4
    s4 = s3 * 2 / 3
    assert km["survival"] == pytest.approx([s1, s2, s3, s4, 0.0], **TOL)
    assert km["at_risk"].tolist() == [7, 6, 4, 3, 1]
    ref = SurvfuncRight(np.array([1, 2, 2, 3, 4, 4, 5]), np.array([1, 1, 0, 1, 0, 1, 1]))
    assert km["survival"] == pytest.approx(ref.surv_prob, **TOL)
    assert km["se"][:4] == pytest.approx(ref.surv_prob_se[:4], **TOL)


@pytest.mark.parametrize("variance,n", [(0.25, 4000), (2.3, 1500)])
def test_planner_matches_statsmodels_power(variance, n):
    sd = math.sqrt(variance)
    mde = experiment_stats.minimum_detectable_effect(variance, n, alpha=0.05, power_=0.8)
    # statsmodels' solve_power stops at about 1e-5; its power function at our MDE is exact
    assert NormalIndPower().power(mde / sd, n, 0.05) == pytest.approx(0.8, **TOL)
    assert mde / sd == pytest.approx(NormalIndPower().solve_power(nobs1=n, alpha=0.05, power=0.8, ratio=1.0), rel=1e-4)
    assert experiment_stats.sample_size(mde, variance, alpha=0.05, power_=0.8) == pytest.approx(n, rel=1e-6)
    assert experiment_stats.power(mde, variance, n) == pytest.approx(NormalIndPower().power(mde / sd, n, 0.05), **TOL)


# ---- SQL per-arm totals vs naive pandas on a tiny store ------------------------------------

ASSIGNED = pd.Timestamp("2024-03-01")
LATE = pd.Timestamp("2024-06-20")
DATA_END = pd.Timestamp("2024-06-30 12:00")


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A store with random orders around three experiments, plus the same data as pandas frames."""
    from ingest import import_file
    from ingest.assignments import import_assignments
    from store import Store

    root = tmp_path_factory.mktemp("tiny")
    rng = np.random.default_rng(2024)
    customers = [f"k{i:02d}" for i in range(40)]
    rows = []
    for i, customer in enumerate(customers):
        for _ in range(rng.poisson(6)):
            ts = pd.Timestamp("2023-09-01") + pd.Timedelta(seconds=int(rng.integers(0, 300 * 86400)))
            rows.append((customer, ts, round(float(rng.lognormal(4, 0.7)), 2), "paid" if rng.random() > 0.15 else "cancelled"))
    # edges: an order at the assignment instant (counted), one at the window's end (not counted),
    # one at the start of a 60-day pre-period (counted in it), a guest order at the data's end
    rows += [("k01", ASSIGNED, 10.0, "paid"), ("k02", ASSIGNED + pd.Timedelta(days=30), 20.0, "paid"),
             ("k03", ASSIGNED - pd.Timedelta(days=60), 30.0, "paid"), (None, DATA_END, 5.0, "paid")]
    orders = pd.DataFrame(rows, columns=["customer_id", "order_ts", "amount", "status"])
    orders.insert(0, "order_id", [f"o{i}" for i in range(len(orders))])
    csv = root / "orders.csv"
    csv.write_text(
        "Order ID,Customer ID,Order Date,Amount,Status\n"
        + "".join(f"{r.order_id},{r.customer_id or ''},{r.order_ts:%Y-%m-%d %H:%M:%S},{r.amount:.2f},{r.status}\n"
                  for r in orders.itertuples())
    )
    assignments = []
    for i, customer in enumerate(customers[:30]):
        variant = "Control" if i % 2 == 0 else "treatment"
        assignments.append(("exp1", customer, variant, ASSIGNED, "points_tiers", 0.0 if variant == "Control" else 2.5))
    assignments.append(("exp1", "k30", "treatment", LATE, "points_tiers", 2.5))  # not matured yet
    assignments.append(("exp1", "nobody", "Control", ASSIGNED, "points_tiers", 0.0))  # no orders at all
    for i, customer in enumerate(customers[:36]):
        assignments.append(("three", customer, ["对照组", "t1", "t2"][i % 3], ASSIGNED, "bundles", 1.0))
    assignments += [("nocontrol", "k01", "x", ASSIGNED, "community", 0), ("nocontrol", "k02", "y", ASSIGNED, "community", 0)]
    assignments += [("young", "k01", "control", LATE, "subscription", 0), ("young", "k02", "b", LATE, "subscription", 0)]
    frame = pd.DataFrame(assignments, columns=["experiment", "customer_id", "variant", "assigned_at", "strategy", "cost_per_customer"])
    (root / "assignments.csv").write_text(frame.to_csv(index=False))
    store = Store(root / "store")
    import_file(csv, store)
    import_assignments(root / "assignments.csv", store)
    return {"con": store.connect(), "orders": orders, "assignments": frame}


def naive(tiny, experiment, window_days, pre_days=0, cap=None, margin=0.3) -> pd.DataFrame:
    """Per matured customer metrics by plain loops over the order list."""
    orders = tiny["orders"][tiny["orders"]["status"] == "paid"].dropna(subset=["customer_id"])
    data_end = tiny["orders"]["order_ts"].max()
    out = []
    for a in tiny["assignments"][tiny["assignments"]["experiment"] == experiment].itertuples():
        if a.assigned_at + pd.Timedelta(days=window_days) > data_end:
            continue
        mine = orders[orders["customer_id"] == a.customer_id]
        post = mine[(mine.order_ts >= a.assigned_at) & (mine.order_ts < a.assigned_at + pd.Timedelta(days=window_days))]
        pre = mine[(mine.order_ts < a.assigned_at) & (mine.order_ts >= a.assigned_at - pd.Timedelta(days=pre_days))]
        out.append({"variant": a.variant, "cost": a.cost_per_customer, "orders": len(post), "revenue": post.amount.sum(),
                    "pre_orders": len(pre), "pre_revenue": pre.amount.sum()})
    frame = pd.DataFrame(out)
    frame["revenue_raw"] = frame["revenue"]
    if cap:
        frame["revenue"] = frame["revenue"].clip(upper=np.percentile(frame["revenue"], cap))
        frame["pre_revenue"] = frame["pre_revenue"].clip(upper=np.percentile(frame["pre_revenue"], cap))
    frame["repurchased"] = (frame["orders"] > 0).astype(float)
    frame["margin"] = frame["revenue"] * margin - frame["cost"]
    return frame


@pytest.mark.parametrize("window_days,pre_days,cap", [(60, 60, None), (30, 120, 90)])
def test_sql_arm_totals_match_pandas(tiny, window_days, pre_days, cap):
    report = ex.experiment_report(tiny["con"], "exp1", window_days=window_days, cuped_days=pre_days, cap_percentile=cap)
    json.dumps(report, allow_nan=False)
    frame = naive(tiny, "exp1", window_days, pre_days, cap)
    assert report["control"] == "Control"
    if cap:
        assert report["revenue_cap"]["value"] == pytest.approx(np.percentile(frame["revenue_raw"], cap), **TOL)
    columns = {"repurchased": ("repurchased", "pre_orders"), "orders": ("orders", "pre_orders"),
               "revenue": ("revenue", "pre_revenue"), "margin": ("margin", "pre_revenue")}
    for arm in report["arms"]:
        mine = frame[frame["variant"] == arm["variant"]]
        assert arm["matured"] == len(mine)
        assert arm["assigned"] == (tiny["assignments"].query("experiment == 'exp1'")["variant"] == arm["variant"]).sum()
        for metric, (y, x) in columns.items():
            totals = arm["totals"][metric]
            assert totals["n"] == len(mine)
            assert totals["sum_y"] == pytest.approx(mine[y].sum(), **TOL)
            assert totals["sum_y2"] == pytest.approx((mine[y] ** 2).sum(), **TOL)
        assert arm["totals"]["orders"]["sum_x"] == pytest.approx(mine["pre_orders"].sum(), **TOL)
        assert arm["totals"]["orders"]["sum_xy"] == pytest.approx((mine["orders"] * mine["pre_orders"]).sum(), **TOL)
        assert arm["totals"]["revenue"]["sum_x2"] == pytest.approx((mine["pre_revenue"] ** 2).sum(), **TOL)
        assert arm["totals"]["aov"]["sum_yd"] == pytest.approx((mine["revenue_raw"] * mine["orders"]).sum(), **TOL)
    # the report's statistics agree with scipy on the per-customer values
    by = {(r["metric"], r["variant"]): r for r in report["results"]}
    a, b = (frame[frame["variant"] == v]["revenue"] for v in ("Control", "treatment"))
    assert by[("revenue", "treatment")]["abs_p_value"] == pytest.approx(
        stats.ttest_ind(b, a, equal_var=False).pvalue, **TOL)
    p = [r["p_value"] for r in report["results"]]
    assert [r["p_holm"] for r in report["results"]] == pytest.approx(multipletests(p, method="holm")[1].tolist(), **TOL)
    assert by[("aov", "treatment")]["cuped"] is None
    assert by[("orders", "treatment")]["cuped"]["pre_days"] == pre_days


def test_three_arms_srm_weights_and_correction_family(tiny):
    report = ex.experiment_report(tiny["con"], "three", window_days=60, weights={"对照组": 1, "t1": 1, "t2": 2})
    assert report["control"] == "对照组"
    assert len(report["results"]) == 2 * len(ex.METRICS)
    counts = [arm["matured"] for arm in report["arms"]]
    weights = [{"对照组": 1, "t1": 1, "t2": 2}[arm["variant"]] for arm in report["arms"]]
    expected = np.array(weights) / sum(weights) * sum(counts)
    assert report["health"]["srm_p"] == pytest.approx(stats.chisquare(counts, expected).pvalue, **TOL)
    p = [r["p_value"] for r in report["results"]]
    assert [r["p_bh"] for r in report["results"]] == pytest.approx(multipletests(p, method="fdr_bh")[1].tolist(), **TOL)
    assert report["health"]["multi_arm_customers"] == 0
    assert "zh" in summary(report) and summary(report)["en"].startswith("Cross-category bundles:")


def test_plain_errors(tiny):
    con = tiny["con"]
    with pytest.raises(ex.ExperimentError, match="Unknown experiment 'nope'.*exp1"):
        ex.experiment_report(con, "nope")
    with pytest.raises(ex.ExperimentError, match="no control arm"):
        ex.experiment_report(con, "nocontrol")
    assert ex.experiment_report(con, "nocontrol", control="x")["control"] == "x"
    with pytest.raises(ex.ExperimentError, match="no matured customers yet"):
        ex.experiment_report(con, "young")
    with pytest.raises(ex.ExperimentError, match="Unknown experiment"):
        ex.time_to_repurchase(con, "nope")
    with pytest.raises(ex.ExperimentError, match="percentile"):
        ex.experiment_report(con, "exp1", cap_percentile=0.99)
    card = ex.scorecard(con)
    assert card.query("experiment == 'young'")["status"].str.contains("no matured").all()
    assert card.query("experiment == 'exp1'").iloc[0]["metric"] == "margin"


def test_novelty_buckets_match_pandas(tiny):
    view = ex.lift_by_days_since_assignment(tiny["con"], "exp1", window_days=60, bucket_days=7)
    orders = tiny["orders"][tiny["orders"]["status"] == "paid"]
    matured = tiny["assignments"].query("experiment == 'exp1' and assigned_at == @ASSIGNED")
    for bucket in (0, 4, 8):
        start = ASSIGNED + pd.Timedelta(days=7 * bucket)
        end = min(start + pd.Timedelta(days=7), ASSIGNED + pd.Timedelta(days=60))
        counts = orders[(orders.order_ts >= start) & (orders.order_ts < end)].groupby("customer_id").size()
        per = {v: matured[matured.variant == v].customer_id.map(counts).fillna(0).to_numpy() for v in ("Control", "treatment")}
        row = view[view["bucket"] == bucket].iloc[0]
        assert (row["day_from"], row["day_to"]) == (7 * bucket + 1, min(7 * bucket + 7, 60))
        assert row["control_mean"] == pytest.approx(per["Control"].mean(), **TOL)
        assert row["variant_mean"] == pytest.approx(per["treatment"].mean(), **TOL)


def test_time_to_repurchase_matches_statsmodels(tiny):
    curve = ex.time_to_repurchase(tiny["con"], "exp1")
    orders = tiny["orders"][tiny["orders"]["status"] == "paid"]
    arms = tiny["assignments"].query("experiment == 'exp1'")
    for variant in ("Control", "treatment"):
        times, events = [], []
        for a in arms[arms.variant == variant].itertuples():
            after = orders[(orders.customer_id == a.customer_id) & (orders.order_ts >= a.assigned_at)].order_ts
            end = after.min() if len(after) else DATA_END
            times.append(math.floor((end - a.assigned_at).total_seconds() / 86400))
            events.append(int(len(after) > 0))
        ref = SurvfuncRight(np.array(times), np.array(events))
        mine = curve[(curve.variant == variant) & (curve.events > 0)]
        assert (mine["day"] - 1).tolist() == ref.surv_times.tolist()
        assert mine["survival"].to_numpy() == pytest.approx(ref.surv_prob, **TOL)


def test_cumulative_views(tiny):
    con = tiny["con"]
    report = ex.experiment_report(con, "exp1", window_days=60)
    by = {(r["metric"], r["variant"]): r for r in report["results"]}
    matured = ex.cumulative_lift(con, "exp1", metric="orders", window_days=60)
    assert matured.iloc[-1]["variant_mean"] == pytest.approx(by[("orders", "treatment")]["variant_mean"], **TOL)
    # "to date": on 2024-03-20, everyone assigned by then (k30 not yet), orders up to the end of that day
    to_date = ex.cumulative_lift(con, "exp1", metric="revenue", window_days=60, view="to_date")
    row = to_date[to_date["date"] == pd.Timestamp("2024-03-20")].iloc[0]
    orders = tiny["orders"][tiny["orders"]["status"] == "paid"]
    arms = tiny["assignments"].query("experiment == 'exp1' and assigned_at <= '2024-03-20'")
    seen = orders[(orders.order_ts >= ASSIGNED) & (orders.order_ts < pd.Timestamp("2024-03-21"))]
    revenue = arms.customer_id.map(seen.groupby("customer_id").amount.sum()).fillna(0)
    a, b = revenue[arms.variant == "Control"], revenue[arms.variant == "treatment"]
    assert row["control_mean"] == pytest.approx(a.mean(), **TOL)
    assert row["abs_p_value"] == pytest.approx(stats.ttest_ind(b, a, equal_var=False).pvalue, **TOL)
    # with every window closed, the last "to date" margin equals the report's (k30's window is still open)
    margin = ex.cumulative_lift(con, "exp1", metric="margin", window_days=60, view="to_date")
    last = margin[margin["date"] == pd.Timestamp("2024-04-30")].iloc[0]
    assert last["control_mean"] == pytest.approx(by[("margin", "treatment")]["control_mean"], **TOL)


def test_planner_baseline_matches_pandas(tiny):
    plan = ex.plan_test(tiny["con"], "orders", window_days=60, n_per_arm=500, lookback_days=90)
    orders = tiny["orders"][(tiny["orders"]["status"] == "paid")].dropna(subset=["customer_id"])
    t0 = DATA_END - pd.Timedelta(days=60)
    pool = orders[(orders.order_ts < t0) & (orders.order_ts >= t0 - pd.Timedelta(days=90))].customer_id.unique()
    after = orders[(orders.order_ts >= t0) & (orders.order_ts < DATA_END)].groupby("customer_id").size()
    y = pd.Series(pool).map(after).fillna(0).to_numpy()
    assert plan["baseline_customers"] == len(pool)
    assert plan["baseline_mean"] == pytest.approx(y.mean(), **TOL)
    assert plan["baseline_variance"] == pytest.approx(y.var(ddof=1), **TOL)
    assert plan["mde_abs"] == pytest.approx(experiment_stats.minimum_detectable_effect(y.var(ddof=1), 500), **TOL)


# ---- the demo data: planted effect found, A/A quiet ------------------------------------------


@pytest.fixture(scope="module")
def demo_con(demo_store):
    return demo_store.connect()


def test_demo_planted_effect_is_detected(demo_con):
    report = ex.experiment_report(demo_con, "points_double_2025", window_days=60, cuped_days=90)
    by = {r["metric"]: r for r in report["results"]}
    assert by["orders"]["abs_lift"] > 0 and by["orders"]["p_value"] < 0.01
    assert by["repurchased"]["abs_lift"] > 0 and by["repurchased"]["p_value"] < 0.01
    assert by["orders"]["cuped"]["variance_reduction"] > 0
    assert not report["health"]["srm_flag"]
    worded = summary(report)
    assert "积分与会员等级" in worded["zh"] and worded["en"].startswith("Points and tiers:")
    by["margin"]["p_holm"] = 1e-4  # as if the decision metric were significant: the sentence quotes the amount
    margin = by["margin"]["abs_lift"]
    assert f"margin per customer after cost +{margin:,.2f} " in summary(report)["en"]  # no currency known
    in_yuan = summary(report, currency="CNY")
    assert f"margin per customer after cost +¥{margin:,.2f} " in in_yuan["en"] and f"高 ¥{margin:,.2f}（" in in_yuan["zh"]


def test_demo_aa_test_is_quiet(demo_con):
    report = ex.experiment_report(demo_con, "aa_followup_2025", window_days=60)
    assert all(r["p_holm"] > 0.05 for r in report["results"])
    assert not report["health"]["srm_flag"] and report["health"]["srm_p"] > 0.001
    assert "no measurable difference" in summary(report)["en"]


def test_assignments_without_strategy_column_are_summarised(tmp_path):
    """The importer only requires experiment, customer_id, variant, assigned_at: no strategy tag is fine."""
    from ingest import import_file
    from ingest.assignments import import_assignments
    from store import Store

    store = Store(tmp_path / "store")
    orders = ["order_id,customer_id,order_date,amount"]
    assignments = ["experiment,customer_id,variant,assigned_at"]
    for i in range(40):
        orders.append(f"o{i},c{i},2024-01-0{1 + i % 5},10")
        if i % 2:
            orders.append(f"r{i},c{i},2024-02-1{i % 9},12")
        assignments.append(f"x1,c{i},{'control' if i < 20 else 'treatment'},2024-02-01")
    orders.append("last,c0,2024-06-30,5")
    (tmp_path / "orders.csv").write_text("\n".join(orders) + "\n")
    (tmp_path / "assignments.csv").write_text("\n".join(assignments) + "\n")
    import_file(tmp_path / "orders.csv", store)
    import_assignments(tmp_path / "assignments.csv", store)
    con = store.connect()
    said = summaries(ex.strategy_overview(con, window_days=30))
    assert said.loc[0, "strategy_name"] == "Unlabelled strategy"
    assert said.loc[0, "summary"].startswith("Unlabelled strategy")
    assert [strategy_name(float("nan"), language) for language in ("en", "zh")] == ["Unlabelled strategy", "未标注策略"]


def test_aov_with_every_order_the_same_amount_has_zero_variance_not_an_error():
    # 3 customers per arm with 1, 2 and 3 orders, every order 250.35: AOV is 250.35 everywhere, and
    # the delta-method terms cancel up to rounding (about -1.8e-11 before clamping).
    orders = np.array([1.0, 2.0, 3.0])
    revenue = orders * 250.35
    arm = experiment_stats.RatioTotals(3, mean_totals(revenue), mean_totals(orders), float((revenue * orders).sum()))
    assert arm.mean == pytest.approx(250.35) and arm.variance == 0
    result = experiment_stats.compare(arm, arm)
    assert result.abs_lift == 0 and math.isnan(result.p_value)  # nothing to test, said as "no p-value"


def test_every_strategy_tag_and_metric_key_has_a_name_in_both_languages():
    """metrics keep keys, ui words them: every alias names its strategy, every metric has EN and ZH words."""
    from ui.strategy_words import metric_name

    for tag, canonical in ex.STRATEGIES.items():
        for language in ("en", "zh"):
            assert strategy_name(tag, language) == strategy_name(canonical, language) != canonical
            assert strategy_name(tag.replace("_", " ").title(), language) == strategy_name(canonical, language)
    assert strategy_name("subscriptions", "zh") == "订阅" and strategy_name("bundles", "en") == "Cross-category bundles"
    assert strategy_name("my_own_tag", "zh") == "my_own_tag"  # an unknown tag as written
    assert len(ex.STRATEGY_TAGS) == 7 and set(ex.STRATEGY_TAGS) == set(ex.STRATEGIES.values())
    names = {language: [metric_name(m, language) for m in ex.METRICS] for language in ("en", "zh")}
    assert names["en"][0] == "Repurchased" and names["zh"][0] == "复购率"
    assert len(set(names["en"])) == len(set(names["zh"])) == len(ex.METRICS)


def test_results_table_puts_the_cuped_lift_beside_each_result(demo_con):
    report = ex.experiment_report(demo_con, "points_double_2025", window_days=60, cuped_days=90)
    table = ex.results_table(report).set_index(["metric", "variant"])
    assert len(table) == len(report["results"])
    for r in report["results"]:
        row = table.loc[(r["metric"], r["variant"])]
        assert row["rel_lift"] == pytest.approx(r["rel_lift"])
        if r["cuped"]:
            assert row["cuped_rel_lift"] == pytest.approx(r["cuped"]["rel_lift"])
            assert row["cuped_variance_reduction"] == pytest.approx(r["cuped"]["variance_reduction"])
        else:  # a ratio metric (AOV) has no CUPED adjustment
            assert ex.METRICS[r["metric"]] == "ratio" and pd.isna(row["cuped_rel_lift"])
    assert "cuped_rel_lift" not in ex.results_table(ex.experiment_report(demo_con, "points_double_2025", 60)).columns


def test_arm_totals_table_means_are_the_arms_sums_over_their_customers(demo_con):
    report = ex.experiment_report(demo_con, "points_double_2025", window_days=60)
    table = ex.arm_totals_table(report).set_index(["variant", "metric"])
    for arm in report["arms"]:
        totals = arm["totals"]
        assert table.loc[(arm["variant"], "orders"), "mean"] == pytest.approx(totals["orders"]["sum_y"] / arm["matured"])
        aov = totals["aov"]  # per order, not per customer
        assert table.loc[(arm["variant"], "aov"), "mean"] == pytest.approx(aov["sum_y"] / aov["sum_d"])

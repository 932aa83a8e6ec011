"""The common-dropout boundary of BG/NBD and MBG/NBD (a, b -> infinity together, a / (a + b) -> p) is a
result, not a blow-up.

The case is real: on the two Etsy exports in tests/fixtures/real, fitted up to 2023-07-01, BG/NBD's
likelihood keeps rising as a and b grow together; the optimiser stopped at a = 7e10, where the
hypergeometric predictions overflow (the page once showed "-$inf", then "Not usable", then "$0.00").
Every figure below is computed here independently of metrics.clv_model: the likelihoods with
scipy.special.gammaln / math.lgamma written out from the papers, maximised with Nelder-Mead, and the
predictions integrated over the purchase rate with scipy.integrate.quad from the individual-level model.
"""

import math
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from scipy import integrate, optimize, stats
from scipy.special import expit, gammaln

from metrics import clv, clv_model

REAL = Path(__file__).resolve().parent / "fixtures" / "real"
CUTOFF = date(2023, 7, 1)


@pytest.fixture(scope="module")
def etsy(tmp_path_factory):
    """The Etsy exports' calibration summary at 2023-07-01 (x, t_x, T in days), one row per customer."""
    from ingest import import_file
    from store import Store

    store = Store(tmp_path_factory.mktemp("etsy") / "store")
    for name in ("etsy_sold_orders_2022.csv", "etsy_sold_orders_2023.csv"):
        import_file(REAL / name, store)
    con = store.connect()
    summary = clv.calibration_summary(con, CUTOFF, 1.0)
    con.close()
    return tuple(summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))


def bgnbd_ll(params, x, t_x, T):
    """BG/NBD (Fader, Hardie and Lee 2005, eq. 6) summed over customers, with log-gamma functions only."""
    r, alpha, a, b = params
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    beta_ratio = gammaln(b + x) + gammaln(a + b) - gammaln(b) - gammaln(a + b + x)  # B(a, b+x) / B(a, b)
    alive = -(r + x) * np.log(alpha + T)
    dropped = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(head + beta_ratio + np.logaddexp(alive, dropped)))


def common_p_ll(params, x, t_x, T, first_included=False):
    """Gamma(r, alpha) purchase rates, and a dropout with the same probability p for everyone after each repeat
    purchase (first_included: after the first purchase too), summed over customers."""
    r, alpha, p = params
    k = x + (1 if first_included else 0)  # purchases after which the customer may have stopped
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    alive = k * np.log1p(-p) - (r + x) * np.log(alpha + T)
    dropped = np.where(k > 0, np.log(p) + (k - 1) * np.log1p(-p) - (r + x) * np.log(alpha + t_x), -np.inf)
    return float(np.sum(head + np.logaddexp(alive, dropped)))


def nelder_mead(f, start):
    result = optimize.minimize(lambda th: -f(th), start, method="Nelder-Mead",
                               options={"maxiter": 20000, "maxfev": 20000, "xatol": 1e-10, "fatol": 1e-10})
    return -result.fun, result.x


def test_bgnbd_on_the_etsy_exports_reaches_the_common_dropout_limit(etsy):
    x, t_x, T = etsy
    assert len(x) == 2399 and int((x > 0).sum()) == 136  # the data the page was tried on

    # the limit by hand: maximise (r, alpha, p) in (log r, log alpha, logit p)
    limit_ll, theta = nelder_mead(lambda th: common_p_ll((math.exp(th[0]), math.exp(th[1]), expit(th[2])), x, t_x, T),
                                  [math.log(0.1), math.log(100.0), 0.0])
    r, alpha, p = math.exp(theta[0]), math.exp(theta[1]), float(expit(theta[2]))

    # BG/NBD by hand from several starts: nothing inside beats the limit, and the best points run off with a, b
    # growing together at a / (a + b) = p
    for start in ([0.1, 100, 1, 1], [0.5, 500, 0.5, 5], [r, alpha, 80 * p, 80 * (1 - p)]):
        ll, log_params = nelder_mead(lambda th: bgnbd_ll(np.exp(th), x, t_x, T), np.log(start))
        a, b = np.exp(log_params[2:])
        assert ll <= limit_ll + 1e-3
        if ll > limit_ll - 0.01:
            assert a + b > 1e3 and a / (a + b) == pytest.approx(p, abs=0.01)
    # along a + b = k the likelihood rises towards the limit's
    profile = [bgnbd_ll([r, alpha, k * p, k * (1 - p)], x, t_x, T) for k in (10.0, 100.0, 1e3, 1e4)]
    assert profile == sorted(profile) and limit_ll - profile[-1] < 1e-3 and limit_ll - profile[0] > 0.1

    (gx, gt_x, gT), weights = clv_model.group_rows(x, t_x, T)
    fit = clv_model.fit_purchase_model("bgnbd", gx, gt_x, gT, weights)
    assert fit.limit == "bgnbd_common_p" and fit.predicts_as == "bgnbd_common_p"
    assert fit.params["r"] == pytest.approx(r, rel=1e-4) and fit.params["alpha"] == pytest.approx(alpha, rel=1e-4)
    assert fit.params["p"] == pytest.approx(p, rel=1e-5)
    assert fit.log_likelihood == pytest.approx(limit_ll, abs=1e-6)
    assert fit.boundary["a"] > 1e3 and fit.boundary["b"] > 1e3  # the run-off values stay in the report
    assert all(np.isfinite(v) and v > 0 for v in fit.se.values())
    [note] = [n for n in fit.warnings if n.code == "common_dropout_limit"]
    assert "every customer stops with the same probability" in note and f"p = {p:.3g}" in note
    assert fit.as_dict()["a"] == fit.boundary["a"] and fit.as_dict()["p"] == fit.params["p"]


@pytest.mark.parametrize("first_included", [False, True])
def test_the_limit_predicts_what_the_individual_level_model_integrates_to(first_included):
    """P(alive) and expected purchases of the limit against Bayes' rule integrated over the purchase rate:
    lambda ~ Gamma(r, alpha), Poisson purchases, after each repeat purchase (and, for MBG/NBD, the first)
    the customer stops with probability p."""
    r, alpha, p = 0.4, 30.0, 0.3
    fit = clv_model.Fit("mbgnbd" if first_included else "bgnbd", {"r": r, "alpha": alpha, "p": p}, {}, 0.0, 1, 0,
                        limit="mbgnbd_common_p" if first_included else "bgnbd_common_p")
    prior = stats.gamma(r, scale=1 / alpha).pdf

    def over_rate(f):  # the integral of f(lambda) x prior over lambda > 0, in log lambda (smooth where the prior is not)
        return integrate.quad(lambda u: f(math.exp(u)) * prior(math.exp(u)) * math.exp(u), -60, 10,
                              epsabs=0, epsrel=1e-12, limit=500)[0]

    for x, t_x, T in [(0, 0.0, 120.0), (1, 40.0, 200.0), (3, 150.0, 160.0), (6, 20.0, 300.0)]:
        k = x + (1 if first_included else 0)
        alive = over_rate(lambda lam: lam ** x * math.exp(-lam * T) * (1 - p) ** k)
        dropped = over_rate(lambda lam: lam ** x * math.exp(-lam * t_x) * p * (1 - p) ** (k - 1)) if k > 0 else 0.0
        t = 90.0
        # alive at T: purchases at rate lambda, each followed by a stop with probability p
        future = over_rate(lambda lam: lam ** x * math.exp(-lam * T) * (1 - p) ** k * (1 - math.exp(-p * lam * t)) / p)
        assert float(clv_model.p_alive(fit, [x], [t_x], [T])[0]) == pytest.approx(alive / (alive + dropped), rel=1e-7)
        assert float(clv_model.expected_purchases(fit, t, [x], [t_x], [T])[0]) == pytest.approx(
            future / (alive + dropped), rel=1e-7)
        # and the likelihood of the row is the same integral
        ll = clv_model.common_p_log_likelihood((r, alpha, p), [x], [t_x], [T], after_first=first_included)[0]
        assert ll == pytest.approx(math.log(alive + dropped), rel=1e-9)


def test_the_limit_is_where_bgnbd_and_mbgnbd_go_as_a_and_b_grow_together():
    """The models' own formulas at a = k p, b = k (1 - p) approach the limit's as k grows (up to k = 1000: further
    on their hypergeometric function overflows, which is why the limit has formulas of its own)."""
    r, alpha, p = 0.4, 30.0, 0.3
    x, t_x, T = np.array([0.0, 1, 3, 6]), np.array([0.0, 40, 150, 20]), np.array([120.0, 200, 160, 300])
    for model in ("bgnbd", "mbgnbd"):
        limit = clv_model.Fit(model, {"r": r, "alpha": alpha, "p": p}, {}, 0.0, 1, 0, limit=f"{model}_common_p")
        gaps = []
        for k in (10.0, 100.0, 1000.0):
            near = clv_model.Fit(model, {"r": r, "alpha": alpha, "a": k * p, "b": k * (1 - p)}, {}, 0.0, 1, 0)
            differences = np.concatenate([
                clv_model.p_alive(near, x, t_x, T) - clv_model.p_alive(limit, x, t_x, T),
                clv_model.expected_purchases(near, 90.0, x, t_x, T) - clv_model.expected_purchases(limit, 90.0, x, t_x, T),
            ])
            assert np.isfinite(differences).all(), (model, k)
            gaps.append(float(np.max(np.abs(differences))))
        # the gap shrinks like 1 / k: tenfold for each tenfold k
        assert all(later < earlier / 5 for earlier, later in zip(gaps, gaps[1:])) and gaps[-1] < 3e-3, (model, gaps)


def test_an_interior_fit_is_not_taken_for_the_limit():
    """CDNOW's BG/NBD (a = 0.79, b = 2.43) stays as fitted: the published figures are not a boundary."""
    from tests.test_clv import CDNOW_CUTOFF, cdnow_rows, orders_connection

    con = orders_connection(cdnow_rows())
    summary = clv.calibration_summary(con, CDNOW_CUTOFF, unit_days=7)
    con.close()
    (x, t_x, T), w = clv_model.group_rows(*(summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T")))
    fit = clv_model.fit_bgnbd(x, t_x, T, w)
    assert fit.limit is None and fit.params["a"] == pytest.approx(0.793, abs=5e-4)


def test_a_model_whose_predictions_are_not_finite_ranks_last_and_is_called_unusable():
    """The guard stays for a model that does blow up: NaN errors sort last, never first."""
    holdouts = {"bgnbd": {"mape_cumulative": float("nan"), "error_pct": float("nan")},
                "mbgnbd": {"mape_cumulative": 40.0, "error_pct": -30.0},
                "paretonbd": {"mape_cumulative": 35.0, "error_pct": -25.0}}
    fitted = clv.ClvModel(CUTOFF, 1.0, None, None, 0.0, 0.0, [], None, dict.fromkeys(holdouts), {})
    selection = clv._select(fitted, holdouts, "auto")
    assert selection["model"] == "paretonbd" and selection["runner_up"] == "mbgnbd"
    assert selection["margin_points"] == pytest.approx(5.0)
    assert clv.reliability(float("nan"), float("nan")) == "unusable"


def test_bgnbd_near_the_boundary_still_predicts_finite_orders():
    """Refitted on all the Etsy data (to 2023-12-31) BG/NBD stops inside, at a = 216, b = 46, where FHL's eq. 10
    overflows (2F1 -> inf times (1 - z)^(a-1) -> 0) for recent customers: the expected orders are then the
    average over the dropout probability p ~ Beta(a, b + x) of the common-dropout formula, here integrated
    with scipy.integrate.quad against the Beta density."""
    r, alpha, a, b = 0.013662, 5.9459, 215.94, 45.80
    fit = clv_model.Fit("bgnbd", {"r": r, "alpha": alpha, "a": a, "b": b}, {}, 0.0, 1, 0)
    rows = [(0, 0.0, 2.0), (0, 0.0, 30.0), (1, 10.0, 12.0), (3, 200.0, 400.0)]
    t = 365.0
    for x, t_x, T in rows:
        density = stats.beta(a, b + x).pdf
        by_hand = integrate.quad(lambda p: density(p) * -math.expm1(-(r + x) * math.log1p(p * t / (alpha + T))) / p,
                                 0, 1, points=[a / (a + b + x)], epsabs=0, epsrel=1e-12, limit=500)[0]
        got = float(clv_model.expected_purchases(fit, t, [x], [t_x], [T])[0] / clv_model.p_alive(fit, [x], [t_x], [T])[0])
        assert got == pytest.approx(by_hand, rel=1e-8), (x, t_x, T)
    # and where the closed form is finite, the two agree (CDNOW's parameters, in weeks)
    cdnow = clv_model.Fit("bgnbd", {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}, {}, 0.0, 1, 0)
    x, T, horizon = np.array([0.0, 2, 7, 20]), np.array([38.9, 38.9, 20.0, 5.0]), np.array([39.0, 52.0, 10.0, 100.0])
    closed = clv_model.purchases_if_alive(cdnow, horizon, x, T).diagonal()
    averaged = clv_model._beta_mixture_if_alive(0.243, 4.414, 0.793, 2.426, horizon, x, T)
    assert averaged == pytest.approx(closed, rel=1e-7)


def test_models_that_reach_the_same_limit_tie_and_the_report_says_so():
    """On UCI Online Retail (fitted to 2011-09-09) all three models reach the NBD limit: the same fit, holdout
    errors equal but for the last bits (14.578643660295091, ...116, ...121). "Pareto/NBD won by 0.0 points" was
    noise; a tie goes to the first model (BG/NBD) and names the others."""
    holdouts = {"paretonbd": {"mape_cumulative": 14.578643660295091}, "bgnbd": {"mape_cumulative": 14.578643660295116},
                "mbgnbd": {"mape_cumulative": 14.578643660295121}}
    fitted = clv.ClvModel(CUTOFF, 1.0, None, None, 0.0, 0.0, [], None, dict.fromkeys(holdouts), {})
    selection = clv._select(fitted, holdouts, "auto")
    assert selection["model"] == "bgnbd" and selection["tied_with"] == ["mbgnbd", "paretonbd"]
    holdouts["mbgnbd"]["mape_cumulative"] = 14.0  # a real difference is not a tie
    selection = clv._select(fitted, holdouts, "auto")
    assert selection["model"] == "mbgnbd" and selection["tied_with"] == []
    assert selection["margin_points"] == pytest.approx(0.578643660295116)

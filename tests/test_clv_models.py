"""Purchase models beside BG/NBD: the no-dropout boundary (NBD limit), MBG/NBD and Pareto/NBD.

Published figures: Pareto/NBD on the CDNOW sample (weeks 1-39) as Fader, Hardie and Lee report it
beside their BG/NBD fit ("Counting your customers the easy way", 2005; also in Fader and Hardie's
notes on the Pareto/NBD): r = 0.55, alpha = 10.58, s = 0.61, beta = 11.67, LL = -9595.0. The source
could not be opened from this machine; the figures are those the issue and the brief quote, and
this code reproduces every printed digit of them independently.
MBG/NBD and Pareto/NBD are also checked against the likelihood and P(alive) integrated numerically,
customer by customer, from the individual-level model (scipy.integrate), which shares no code
with the closed forms.
"""

import math

import numpy as np
import pytest
from scipy import integrate, stats

from metrics import clv, clv_model
from tests.test_clv import CDNOW_CUTOFF, cdnow_rows, orders_connection, published


@pytest.fixture(scope="module")
def cdnow_grouped():
    con = orders_connection(cdnow_rows())
    summary = clv.calibration_summary(con, CDNOW_CUTOFF, unit_days=7)
    con.close()
    return clv_model.group_rows(*(summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T")))


def simulated_nbd(n: int = 1500, seed: int = 3):
    """Customers who never drop out: Poisson purchases at a Gamma(0.8, 20 days) rate over 100-400 days."""
    rng = np.random.default_rng(seed)
    rate = rng.gamma(0.8, 1 / 20, n)
    T = np.round(rng.uniform(100, 400, n))
    x = rng.poisson(rate * T)
    t_x = np.array([np.floor(rng.uniform(0, age, k).max()) if k else 0.0 for k, age in zip(x, T)])
    return clv_model.group_rows(x, t_x, T)


# --- the boundary is a result ----------------------------------------------------------------


@pytest.mark.parametrize("model", clv_model.PURCHASE_MODELS)
def test_no_dropout_data_give_the_nbd_limit(model):
    (x, t_x, T), w = simulated_nbd()
    fit = clv_model.fit_purchase_model(model, x, t_x, T, w)
    assert fit.limit == "nbd" and fit.predicts_as == "nbd"
    assert any("No dropout detected" in note and "NBD" in note for note in fit.warnings)
    assert fit.boundary  # the parameters as they ran off are kept for the report
    assert fit.params["r"] == pytest.approx(0.8, rel=0.15) and fit.params["alpha"] == pytest.approx(20, rel=0.2)
    # the likelihood reported is the NBD's, summed customer by customer with math.lgamma
    r, alpha = fit.params["r"], fit.params["alpha"]
    by_hand = sum(
        weight * (math.lgamma(r + k) - math.lgamma(r) + r * math.log(alpha) - (r + k) * math.log(alpha + age))
        for k, age, weight in zip(x, T, w)
    )
    assert fit.log_likelihood == pytest.approx(by_hand, rel=1e-9)
    # it still predicts: nobody has left, and purchases accrue at the posterior mean rate (r + x) / (alpha + T)
    assert (clv_model.p_alive(fit, x, t_x, T) == 1).all()
    expected = clv_model.expected_purchases(fit, 30.0, 3, 100.0, 200.0)
    assert float(expected) == pytest.approx((r + 3) / (alpha + 200) * 30)


def test_everyone_bought_on_the_last_day_is_the_nbd_limit_too():
    rng = np.random.default_rng(1)
    T = rng.integers(50, 300, 200).astype(float)
    x = rng.integers(1, 10, 200).astype(float)
    fit = clv_model.fit_bgnbd(x, T, T)  # no sign of dropout at all
    assert fit.limit == "nbd" and fit.log_likelihood < 0


def test_refusal_is_kept_for_data_that_cannot_be_fitted():
    x, T = np.zeros(50), np.full(50, 100.0)
    x[:5] = 1
    for model in clv_model.PURCHASE_MODELS:
        with pytest.raises(clv_model.ClvFitError, match="Too few repeat customers.*5 of 50"):
            clv_model.fit_purchase_model(model, x, np.where(x > 0, 50.0, 0.0), T)


# --- Pareto/NBD and MBG/NBD on CDNOW ---------------------------------------------------------


def test_cdnow_paretonbd_reproduces_published_estimates(cdnow_grouped):
    (x, t_x, T), w = cdnow_grouped
    fit = clv_model.fit_paretonbd(x, t_x, T, w)
    assert fit.limit is None
    for name, reference in {"r": "0.55", "alpha": "10.58", "s": "0.61", "beta": "11.67"}.items():
        assert published(fit.params[name], reference), (name, fit.params[name])
    assert published(fit.log_likelihood, "-9595.0")
    assert all(0 < fit.se[name] < fit.params[name] for name in clv_model.PARETONBD_PARAMS)


def _purchases_given_rate(r, alpha, x, time) -> float:
    """E over lambda ~ Gamma(r, alpha) of lambda^x e^(-lambda time) (the textbook Gamma integral)."""
    return math.exp(math.lgamma(r + x) - math.lgamma(r) + r * math.log(alpha) - (r + x) * math.log(alpha + time))


def _naive_mbgnbd_likelihood(params, x, t_x, T) -> float:
    """MBG/NBD likelihood of one customer: a customer may drop out after any purchase, the first included,
    L = (1-p)^(x+1) lambda^x e^(-lambda T) + p (1-p)^x lambda^x e^(-lambda t_x); lambda ~ Gamma(r, alpha)
    integrated in closed form, p ~ Beta(a, b) numerically (scipy.integrate.quad)."""
    r, alpha, a, b = params
    beta_density = stats.beta(a, b).pdf
    stays = integrate.quad(lambda p: (1 - p) ** (x + 1) * beta_density(p), 0, 1, epsabs=1e-13, epsrel=1e-11)[0]
    leaves = integrate.quad(lambda p: p * (1 - p) ** x * beta_density(p), 0, 1, epsabs=1e-13, epsrel=1e-11)[0]
    return stays * _purchases_given_rate(r, alpha, x, T) + leaves * _purchases_given_rate(r, alpha, x, t_x)


def _naive_pareto(params, x, t_x, T) -> tuple[float, float]:
    """Pareto/NBD likelihood and P(alive) of one customer: alive at T (rate mu ~ Gamma(s, beta) never fired), or
    dropped out at tau in (t_x, T] with density mu e^(-mu tau); lambda ~ Gamma(r, alpha). The Gamma integrals
    are closed forms, the integral over tau is numerical (no hypergeometric function)."""
    r, alpha, s, beta = params
    alive = _purchases_given_rate(r, alpha, x, T) * (beta / (beta + T)) ** s

    def dropped_at(tau):
        return _purchases_given_rate(r, alpha, x, tau) * s * beta**s / (beta + tau) ** (s + 1)

    dropped = integrate.quad(dropped_at, t_x, T, epsabs=1e-15, epsrel=1e-11)[0]
    return alive + dropped, alive / (alive + dropped)


CUSTOMERS = [(0, 0.0, 38.86), (2, 30.43, 38.86), (1, 2.0, 30.0), (5, 36.0, 37.0)]


def test_mbgnbd_likelihood_against_numerical_integration():
    params = (0.525, 6.18, 0.891, 1.61)
    for x, t_x, T in CUSTOMERS:
        closed = float(clv_model.mbgnbd_log_likelihood(params, x, t_x, T))
        assert closed == pytest.approx(math.log(_naive_mbgnbd_likelihood(params, x, t_x, T)), abs=1e-6)


def test_paretonbd_likelihood_and_p_alive_against_numerical_integration():
    for params in [(0.553, 10.58, 0.606, 11.67), (0.553, 10.58, 0.606, 4.0)]:  # alpha > beta and alpha < beta
        fit = clv_model.Fit("paretonbd", dict(zip(clv_model.PARETONBD_PARAMS, params)), {}, 0.0, 1, 0)
        for x, t_x, T in CUSTOMERS:
            likelihood, alive = _naive_pareto(params, x, t_x, T)
            assert float(clv_model.paretonbd_log_likelihood(params, x, t_x, T)) == pytest.approx(math.log(likelihood), abs=1e-6)
            assert float(clv_model.p_alive(fit, x, t_x, T)) == pytest.approx(alive, abs=1e-6)


def test_cdnow_mbgnbd_fit_is_the_maximum_of_the_naive_likelihood(cdnow_grouped):
    (x, t_x, T), w = cdnow_grouped
    fit = clv_model.fit_mbgnbd(x, t_x, T, w)
    assert fit.limit is None
    best = np.array(list(fit.params.values()))
    assert fit.log_likelihood == pytest.approx(float(w @ clv_model.mbgnbd_log_likelihood(best, x, t_x, T)))
    # a maximum: every 1% step of any parameter lowers the likelihood
    for i in range(4):
        for step in (0.99, 1.01):
            moved = best.copy()
            moved[i] *= step
            assert float(w @ clv_model.mbgnbd_log_likelihood(moved, x, t_x, T)) < fit.log_likelihood
    # MBG/NBD nests nothing simpler; on CDNOW it fits about as well as BG/NBD (-9582.4)
    assert abs(fit.log_likelihood - clv_model.fit_bgnbd(x, t_x, T, w).log_likelihood) < 5


# --- choosing by holdout error ---------------------------------------------------------------


def test_cdnow_report_fits_every_model_and_chooses_the_smallest_holdout_error():
    con = orders_connection(cdnow_rows())
    report = clv.ltv_report(con, cutoff=CDNOW_CUTOFF, unit_days=7, predictions=False)
    summary = clv.calibration_summary(con, CDNOW_CUTOFF, unit_days=7)
    con.close()
    models = report["models"]
    assert set(models) == {"bgnbd", "mbgnbd", "paretonbd"}
    assert published(models["bgnbd"]["fit"]["log_likelihood"], "-9582.4")
    assert published(models["paretonbd"]["fit"]["log_likelihood"], "-9595.0")
    # each model's holdout prediction is the sum of its per-customer expectations over the 39 holdout weeks
    x, t_x, T = (summary[c].to_numpy(dtype=float) for c in ("x", "t_x", "T"))
    for name, entry in models.items():
        fit = clv_model.Fit(name, {k: entry["fit"][k] for k in clv_model.MODEL_PARAMS[name]}, {}, 0.0, 0, 0)
        by_customer = clv_model.expected_purchases(fit, 273 / 7, x, t_x, T).sum()
        assert entry["holdout"]["predicted_repeat_orders"] == pytest.approx(by_customer, rel=1e-9)
    mapes = {name: entry["holdout"]["mape_cumulative"] for name, entry in models.items()}
    best = min(mapes, key=mapes.get)
    assert report["model"] == best == report["selection"]["model"]
    runner_up = sorted(mapes, key=mapes.get)[1]
    assert report["selection"]["runner_up"] == runner_up
    assert report["selection"]["margin_points"] == pytest.approx(mapes[runner_up] - mapes[best])
    assert report["holdout"]["model"] == best
    assert report["purchase_model"]["log_likelihood"] == models[best]["fit"]["log_likelihood"]


def test_a_model_can_be_asked_for():
    con = orders_connection(cdnow_rows())
    report = clv.ltv_report(con, cutoff=CDNOW_CUTOFF, unit_days=7, predictions=False, model="paretonbd")
    con.close()
    assert report["model"] == "paretonbd" and report["selection"]["reason"] == "requested"
    assert report["holdout"]["predicted_repeat_orders"] == report["models"]["paretonbd"]["holdout"]["predicted_repeat_orders"]
    assert report["bgnbd"]["a"] == pytest.approx(0.793, abs=5e-4)  # the BG/NBD key stays


def test_report_on_a_store_without_dropout_predicts_with_the_nbd_limit():
    """Customers who keep buying (no dropout): every model reaches the NBD limit; the report says so and predicts."""
    rng = np.random.default_rng(11)
    rows = []
    for i in range(400):
        rate = rng.gamma(2.0, 1 / 60)  # about one purchase a month on average, nobody leaves
        day = int(rng.integers(0, 120))
        while day < 540:
            rows.append((f"C{i:03d}", str(np.datetime64("2023-01-01") + day), 30.0 + 20 * rng.random(), "valid"))
            day += max(1, int(rng.exponential(1 / rate)))
    con = orders_connection(rows)
    report = clv.ltv_report(con)
    con.close()
    assert report["purchase_model"]["limit"] == "nbd"
    assert report["boundary_notes"] and all("No dropout detected" in n for n in report["boundary_notes"])
    assert report["holdout"]["actual_repeat_orders"] > 0 and abs(report["holdout"]["error_pct"]) < 25
    assert report["prediction"]["expected_orders_365"] > 0
    assert report["prediction"]["risk_bands"]["low"] == report["prediction"]["customers"]  # P(alive) = 1
    # spend is drawn alike for everyone: the spend model's limit is one spend scale for all (a result too)
    assert report["gamma_gamma"]["limit"] == "homogeneous"
    assert any("does not differ between customers" in w for w in report["warnings"])

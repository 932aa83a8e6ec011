"""Pareto/NBD's A_0 terms need log 2F1(a, b; a+1; z) where a = r + s + x is large (nearly homogeneous dropout).

scipy's hyp2f1 returns NaN there; the product sums the integral form on Gauss-Laguerre nodes instead. The
reference here is that integral computed independently, by adaptive quadrature (scipy.integrate.quad) in the
variable w = v / a, split where the integrand turns.
"""

import math

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import hyp2f1

from metrics.clv_model import fit_paretonbd, group_rows, log_hyp2f1_a_a1, paretonbd_log_likelihood


def reference(a: float, b: float, eps: float) -> float:
    """log of a * int_0^inf e^(-a w) ((1 - z e^-w) / eps)^(-b) dw, plus -b log eps; z = 1 - eps."""
    z = 1.0 - eps
    integrand = lambda w: a * math.exp(-a * w - b * math.log1p(-z * math.expm1(-w) / eps))  # noqa: E731
    breaks = sorted({min(eps, 1.0), min(eps / max(b, 1e-300), 1.0), min(1.0 / a, 1.0), min(40.0 / a, 1.0)})
    total, edges = 0.0, [0.0, *breaks, math.inf]
    for low, high in zip(edges, edges[1:]):
        if high > low:
            total += quad(integrand, low, high, epsabs=0, epsrel=1e-13, limit=200)[0]
    return math.log(total) - b * math.log(eps)


# (a, b, 1 - z): Etsy's fitted Pareto/NBD (a ~ 1.3e4), its optimiser's path (a up to 7e10) and a grid around them
CASES = [(1.3e4, 1.43, 0.0005), (1.3e4, 12979.0, 0.022), (2.3e3, 0.43, 0.0035), (7.2e10, 1.04e8, 0.4),
         (1.7e9, 2.37, 5.8e-9), (1e3, 1.0, 1e-3), (1e3, 30.0, 0.1), (1e4, 3.0, 2e-4), (1e6, 0.01, 1e-5),
         (1e6, 30.0, 1e-4), (5e4, 100.0, 0.05), (2e3, 2.0, 0.9), (250.0, 0.85, 0.0009), (1e3, 0.01, 2e-4), (500.0, 3.0, 0.02),
         (12.0, 0.61, 0.03), (30.0, 1000.0, 0.1), (2.0, 30.0, 0.5), (5.0, 1000.0, 0.01)]


@pytest.mark.parametrize("a, b, eps", CASES)
def test_large_a_matches_the_integral_where_scipy_gives_nan(a, b, eps):
    ours = log_hyp2f1_a_a1(a, b, 1.0 - eps, eps)[()]
    assert math.isfinite(ours)
    assert ours == pytest.approx(reference(a, b, eps), rel=1e-10, abs=2e-9)


def test_scipy_still_answers_where_it_is_right():
    """Small a, and a (1 - z) below 0.3 with b below 30, keep scipy's value (CDNOW's Pareto/NBD: a = 1.2 + x)."""
    a, b, z = np.array([1.2, 2.5, 9.0, 40.0]), np.array([0.6, 1.3, 1.6, 0.7]), np.array([0.1, 0.3, 0.9, 0.995])
    ours = log_hyp2f1_a_a1(a, b, z, 1.0 - z)
    assert ours == pytest.approx(np.log(hyp2f1(a, b, a + 1, z)), rel=1e-15)


def test_the_old_nan_points_now_have_a_likelihood():
    """At parameters the optimiser passed through on the Etsy exports, the log-likelihood used to be NaN."""
    x, t_x, T = np.array([0.0, 1.0, 3.0]), np.array([0.0, 40.0, 200.0]), np.array([300.0, 310.0, 320.0])
    params = (0.43, 274.0, 5e5, 2.3e7)  # s / beta = 0.022 per day, as fitted, with s and beta 270x larger
    with np.errstate(invalid="ignore"):
        scipy_terms = hyp2f1(0.43 + 5e5 + x, 5e5 + 1, 0.43 + 5e5 + x + 1, (2.3e7 - 274.0) / (2.3e7 + T))
    assert np.isnan(scipy_terms).any()
    assert np.isfinite(paretonbd_log_likelihood(params, x, t_x, T)).all()


def test_a_planted_homogeneous_dropout_is_recovered():
    """Customers simulated with one dropout rate for all (0.03 a week, so s and beta run off together, through
    the region where scipy gave NaN) and Gamma(0.8, 3) purchase rates, counted in whole weeks over 1-3 years:
    the fit finds both rates."""
    rng = np.random.default_rng(3)
    n = 3000
    rates, lifetimes = rng.gamma(0.8, 1 / 3.0, n), rng.exponential(1 / 0.03, n)
    T = np.floor(rng.uniform(52.0, 156.0, n))
    x, t_x = np.zeros(n), np.zeros(n)
    for i in range(n):
        times = np.cumsum(rng.exponential(1 / rates[i], 1000))
        times = times[times < min(lifetimes[i], T[i])]
        x[i], t_x[i] = len(times), np.floor(times[-1]) if len(times) else 0.0
    (xs, t_xs, Ts), weights = group_rows(x, t_x, T)
    fit = fit_paretonbd(xs, t_xs, Ts, weights)
    r, alpha, s, beta = (fit.params[k] for k in ("r", "alpha", "s", "beta"))
    assert s > 50  # nearly homogeneous: the Gamma's shape runs high
    assert s / beta == pytest.approx(0.03, rel=0.1)
    assert r / alpha == pytest.approx(0.8 / 3.0, rel=0.1)
    assert np.isfinite(fit.log_likelihood)

"""The analytic gradients the fits use, against finite differences of the per-row log-likelihoods
(bgnbd_, mbgnbd_, paretonbd_, nbd_ and gamma_gamma_log_likelihood, which the gradients share no code with
beyond the model), at interior points and near the boundaries; and warm starts reach the same optimum."""

import numpy as np
import pytest
import threadpoolctl

from metrics import clv_model
from tests.test_clv_models import cdnow_grouped  # noqa: F401 (fixture)


def _rows(seed: int = 5, n: int = 3000):
    """Customers with every kind of row: one-time buyers, repeaters, a last purchase on the cut-off day."""
    rng = np.random.default_rng(seed)
    T = rng.integers(1, 400, n).astype(float)
    x = rng.poisson(rng.gamma(0.7, 1 / 30, n) * T).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.beta(3, 1, n)), 0.0)
    t_x[:50] = np.where(x[:50] > 0, T[:50], 0.0)
    return clv_model.group_rows(x, t_x, T)


def _finite_difference(total, params: np.ndarray) -> np.ndarray:
    """Central differences of the total log-likelihood, parameter by parameter, with Richardson
    extrapolation (relative steps 1e-4 and 5e-5: steps large enough that rounding in a total of ~1e5
    stays small, and extrapolated so that strongly curved directions near a boundary stay accurate)."""
    def central(i, relative):
        h = relative * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        return (total(up) - total(down)) / (2 * h)

    return np.array([(4 * central(i, 5e-5) - central(i, 1e-4)) / 3 for i in range(len(params))])


POINTS = {
    "nbd": [(0.7, 30.0), (5.0, 0.5), (1e-3, 1e3)],
    "bgnbd": [(0.7, 30.0, 0.8, 2.5), (0.7, 30.0, 1e-4, 1e4), (0.3, 10.0, 20.0, 0.05)],
    "mbgnbd": [(0.7, 30.0, 0.8, 2.5), (0.7, 30.0, 1e-4, 1e4), (0.3, 10.0, 20.0, 0.05)],
    # alpha > beta, alpha < beta, alpha = beta (where the hypergeometric form switches), dropout nearly off
    "paretonbd": [(0.55, 10.58, 0.61, 11.67), (0.55, 11.67, 0.61, 10.58), (0.5, 10.0, 0.7, 10.0),
                  (0.5, 10.0, 1e-4, 1e5), (2.0, 5.0, 3.0, 200.0)],
}


@pytest.mark.parametrize("model", list(POINTS))
def test_purchase_model_gradient_matches_finite_differences(model):
    (x, t_x, T), w = _rows()
    objective = clv_model._model_objective(model, x, t_x, T, w)
    per_row = clv_model._LOG_LIKELIHOODS[model]
    total = lambda p: float(w @ per_row(p, x, t_x, T))  # noqa: E731
    for point in POINTS[model]:
        params = np.array(point, dtype=float)
        value, gradient = objective(params)
        assert value == pytest.approx(total(params), rel=1e-12)
        numeric = _finite_difference(total, params)
        # relative to the gradient's size, or (for a flat direction) to what a 1% move changes
        scale = np.maximum(np.abs(numeric), abs(value) / params * 1e-6)
        assert np.all(np.abs(gradient - numeric) / scale < 1e-4), (point, gradient, numeric)


def test_gamma_gamma_gradient_matches_finite_differences():
    rng = np.random.default_rng(2)
    x = rng.integers(1, 30, 2000).astype(float)
    m = rng.gamma(6.0 * x, 1 / (rng.gamma(4.0, 1 / 15, 2000) * x))
    log_m = np.log(m)
    w = np.ones_like(x)
    rows = clv_model._Rows(x, w, mx=m * x, sum_log_m=w @ log_m, sum_x_log_m=w @ (x * log_m))
    total = lambda p: float(clv_model.gamma_gamma_log_likelihood(p, x, m).sum())  # noqa: E731
    for point in [(6.0, 4.0, 15.0), (0.5, 1.5, 0.1), (50.0, 1e4, 1e5)]:
        params = np.array(point)
        value, gradient = clv_model._gamma_gamma_objective(params, rows)
        assert value == pytest.approx(total(params), rel=1e-12)
        numeric = _finite_difference(total, params)
        scale = np.maximum(np.abs(numeric), abs(value) / params * 1e-6)
        assert np.all(np.abs(gradient - numeric) / scale < 1e-4), (point, gradient, numeric)


@pytest.mark.parametrize("model", clv_model.PURCHASE_MODELS)
def test_a_warm_start_reaches_the_same_fit(model, cdnow_grouped):  # noqa: F811
    (x, t_x, T), w = cdnow_grouped
    cold = clv_model.fit_purchase_model(model, x, t_x, T, w)
    # started near the optimum (as the refit on all data starts from the cut-off's fit), or far from it
    for factor in (1.1, 0.5):
        warm = clv_model.fit_purchase_model(model, x, t_x, T, w, start=[v * factor for v in clv_model.start_of(cold)])
        assert warm.log_likelihood == pytest.approx(cold.log_likelihood, rel=1e-9)
        # Newton steps finish every fit but Pareto/NBD's (its gradient is dear): the same optimum to 1e-6 or
        # better; Pareto/NBD's stops within L-BFGS-B's tolerance
        for name, value in cold.params.items():
            assert warm.params[name] == pytest.approx(value, rel=1e-4 if model == "paretonbd" else 1e-6), name


def _blas_threads() -> list[int]:
    return [pool["num_threads"] for pool in threadpoolctl.threadpool_info() if pool["user_api"] == "blas"]


def test_a_fit_runs_blas_on_one_thread_and_restores_the_setting(monkeypatch):
    assert _blas_threads(), "numpy's BLAS is not visible to threadpoolctl: the check below would be empty"
    seen = []
    real_bgnbd_objective = clv_model._bgnbd_objective

    def watching(params, rows):  # what the BLAS runs on while the fit itself is running
        seen.append(_blas_threads())
        return real_bgnbd_objective(params, rows)

    (x, t_x, T), w = _rows()
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # two threads before, so one is a change
        assert all(threads == 2 for threads in _blas_threads())
        with clv_model._ONE_BLAS_THREAD:
            with clv_model._ONE_BLAS_THREAD:  # nested (a fit inside a fit) keeps one thread until the outer ends
                pass
            inside_after_nested = _blas_threads()
        monkeypatch.setattr(clv_model, "_bgnbd_objective", watching)
        clv_model.fit_bgnbd(x, t_x, T, w)
        after = _blas_threads()
    assert all(threads == 1 for threads in inside_after_nested)
    assert seen and all(threads == [1] * len(threads) for threads in seen)
    assert after == [2] * len(after)

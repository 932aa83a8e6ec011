"""BG/NBD, MBG/NBD, Pareto/NBD (and their no-dropout limit, the NBD) and Gamma-Gamma: maximum-likelihood fits and per-customer predictions (numpy/scipy only).

Notation (one row per customer, or per group of identical customers with a weight):
- x: repeat purchases in the calibration period (purchase days after the first one);
- t_x: time of the last purchase, measured from the first purchase (0 when x = 0);
- T: time from the first purchase to the end of the calibration period;
- m: average spend per repeat purchase (only used when x > 0).

Time is in whatever unit the caller uses (days, weeks); `alpha` is in that unit.
References: Fader, Hardie and Lee (2005) "Counting your customers the easy way" (BG/NBD);
Fader and Hardie (2013) "The Gamma-Gamma model of monetary value" (brucehardie.com note 025).
"""

import functools
import math
import threading
from dataclasses import dataclass, field, replace

import numpy as np
from scipy.optimize import minimize
from scipy.special import betaln, digamma, expit, gammaln, hyp2f1, roots_jacobi, roots_laguerre
from threadpoolctl import ThreadpoolController

MIN_REPEAT_CUSTOMERS = 20
BGNBD_PARAMS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMS = ("p", "q", "gamma")
_LOG_BOUND = 25.0  # the optimiser keeps log-parameters in [-25, 25]
_RUNAWAY = 12.0  # a parameter below e^-12 (6e-6) or above e^12 (1.6e5) means the likelihood has no interior optimum


class _OneBlasThread:
    """While any fit runs, the BLAS libraries numpy and scipy load use one thread (threadpoolctl).

    The fits make thousands of BLAS calls on 3-4 numbers (L-BFGS-B's updates, 4x4 solves); with two
    OpenBLAS threads each call wakes and synchronises a second thread, which on a busy 2-core machine cost
    more than the likelihoods themselves (MBG/NBD on a 1M-order store: 1.15 s of CPU, 0.06 s with one
    thread). The setting is process-wide, so fits running at once (the page's background fit and a view's)
    share one limit, set when the first starts and restored when the last ends; threadpoolctl's own
    context manager alone would let the first to end restore it under the other.
    """

    def __init__(self):
        self._lock, self._depth, self._limiter, self._controller = threading.Lock(), 0, None, None

    def __enter__(self):
        with self._lock:
            if self._depth == 0:
                if self._controller is None:  # numpy and scipy are loaded by now; look their libraries up once
                    self._controller = ThreadpoolController()
                self._limiter = self._controller.limit(limits=1, user_api="blas")
            self._depth += 1

    def __exit__(self, *exc):
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                self._limiter.restore_original_limits()
                self._limiter = None


_ONE_BLAS_THREAD = _OneBlasThread()


def _with_one_blas_thread(fit):
    """Run `fit` with OpenBLAS on one thread (see _OneBlasThread)."""
    @functools.wraps(fit)
    def wrapper(*args, **kwargs):
        with _ONE_BLAS_THREAD:
            return fit(*args, **kwargs)
    return wrapper


class ClvFitError(ValueError):
    """The data cannot support the model, or the fit did not converge; the message says why in plain English.

    `code` names the reason and `values` hold what the sentence quotes, so a screen can word it in its
    own language (ui/words/notes.py); `note()` is the same as a Note."""

    def __init__(self, message: str, *, code: str = "", **values):
        super().__init__(message)
        self.code = code
        self.values = values

    def note(self) -> "Note":
        return Note(str(self), self.code, **self.values)


class Note(str):
    """A sentence about a fit (a warning, or why a model could not be fitted): plain English text, as
    the command line prints it, carrying a `code` and the `values` it quotes for the screens' words."""

    code: str
    values: dict

    def __new__(cls, text: str, code: str = "", **values):
        note = super().__new__(cls, text)
        note.code, note.values = code, values
        return note


@dataclass
class Fit:
    """A fitted model: parameters, standard errors (NaN when the Hessian is not invertible), log-likelihood."""

    model: str
    params: dict[str, float]
    se: dict[str, float]
    log_likelihood: float
    customers: int
    iterations: int
    warnings: list[str] = field(default_factory=list)
    limit: str | None = None  # "nbd": the likelihood is highest at the no-dropout boundary; params are the NBD's
    boundary: dict[str, float] = field(default_factory=dict)  # the parameters as they ran off, when limit is set

    @property
    def predicts_as(self) -> str:
        """The model whose formulas predict with these parameters (the limit when there is one)."""
        return self.limit or self.model

    def as_dict(self) -> dict:
        """JSON-serialisable: the parameters at top level, plus se, log_likelihood and customers."""
        # at a boundary the model's own parameter names keep their run-off values (a = 1e-7 ...), and the
        # limit's parameters (r, alpha of the NBD) stand beside them
        return {
            **{k: float(v) for k, v in self.boundary.items()},
            **{k: float(v) for k, v in self.params.items()},
            "se": {**{k: None for k in self.boundary}, **{k: _finite_or_none(v) for k, v in self.se.items()}},
            "log_likelihood": float(self.log_likelihood),
            "customers": int(self.customers),
            "iterations": int(self.iterations),
            "model": self.model,
            "limit": self.limit,
            "boundary": {k: float(v) for k, v in self.boundary.items()},
        }

    def to_state(self) -> dict:
        """Every field, JSON-serialisable (NaN kept as NaN), for `from_state` to rebuild the same Fit."""
        return {
            "model": self.model, "params": {k: float(v) for k, v in self.params.items()},
            "se": {k: float(v) for k, v in self.se.items()}, "log_likelihood": float(self.log_likelihood),
            "customers": int(self.customers), "iterations": int(self.iterations), "warnings": list(self.warnings),
            "limit": self.limit, "boundary": {k: float(v) for k, v in self.boundary.items()},
        }

    @classmethod
    def from_state(cls, state: dict) -> "Fit":
        """The Fit that `to_state` described."""
        return cls(**state)


def _finite_or_none(value: float):
    return float(value) if np.isfinite(value) else None


def group_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows of the given equal-length columns and how many times each occurs."""
    unique, inverse = unique_rows(*columns)
    return unique, np.bincount(inverse, minlength=len(unique[0])).astype(float)


def unique_rows(*columns: np.ndarray) -> tuple[list[np.ndarray], np.ndarray]:
    """Unique rows (sorted) and, for each input row, the index of its unique row."""
    columns = [np.asarray(c, dtype=float) for c in columns]
    n = len(columns[0])
    packed = _packed_key(columns)
    if packed is not None:  # whole days: one integer sort instead of a three-key lexsort (same order)
        sizes = [int(c.max()) + 1 for c in columns]
        if math.prod(sizes) <= max(2**24, 4 * n):  # few possible rows (x, T): a table of them, no sort at all
            dense = np.zeros(n, dtype=np.int64)
            for column, size in zip(columns, sizes):
                dense = dense * size + column.astype(np.int64)
            present = np.zeros(math.prod(sizes), dtype=bool)
            present[dense] = True
            keys = np.flatnonzero(present)
            inverse = (np.cumsum(present) - 1)[dense]
        else:
            keys, inverse = np.unique(packed, return_inverse=True)
            sizes = [2**20] * len(columns)
        unique = []
        for size in reversed(sizes):  # the last column is the lowest digit
            keys, digit = np.divmod(keys, size)
            unique.append(digit.astype(float))
        return unique[::-1], inverse.ravel()
    order = np.lexsort(columns[::-1])
    ordered = [c[order] for c in columns]
    starts = np.ones(n, dtype=bool)
    if n:
        starts[1:] = np.logical_or.reduce([c[1:] != c[:-1] for c in ordered])
    inverse = np.empty(n, dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return [c[starts] for c in ordered], inverse


def _packed_key(columns: list[np.ndarray]) -> np.ndarray | None:
    """Each row as one int64 that sorts like the row (mixed radix), when every value is a whole number
    from 0 to below 2^20 (days, purchases); else None."""
    if not columns or not len(columns[0]) or len(columns) > 3:
        return None
    key = np.zeros(len(columns[0]), dtype=np.int64)
    for column in columns:
        if column.min() < 0 or column.max() >= 2**20 or not np.array_equal(column, np.floor(column)):
            return None
        key = key * 2**20 + column.astype(np.int64)
    return key


# ---------------------------------------------------------------------------------------------
# BG/NBD
# ---------------------------------------------------------------------------------------------


def bgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each row: FHL (2005) eq. 6, with log-sum-exp for the two-term mixture."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    a1 = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    a2 = betaln(a, b + x) - betaln(a, b)
    a3 = -(r + x) * np.log(alpha + T)
    repeat = x > 0
    a4 = np.where(
        repeat,
        np.log(a) - np.log(np.where(repeat, b + x - 1, 1.0)) - (r + x) * np.log(alpha + t_x),
        -np.inf,
    )
    return a1 + a2 + np.logaddexp(a3, a4)


class _Rows:
    """Rows prepared for repeated likelihood evaluations: terms that depend on x alone are computed per distinct x."""

    def __init__(self, x, w, **columns):
        self.x, self.w = x, w
        self.xu, inverse = np.unique(x, return_inverse=True)
        self.inv = inverse.ravel()
        self.wx = np.bincount(self.inv, weights=w, minlength=len(self.xu))  # total weight per distinct x
        self.repeat = x > 0
        for name, values in columns.items():
            setattr(self, name, values)


def _bgnbd_objective(params, rows: _Rows) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, xu, w, wx = rows.x, rows.xu, rows.w, rows.wx
    log_b_x_1 = np.log(np.where(xu > 0, b + xu - 1, 1.0))
    per_x = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xu) - betaln(a, b)
    log_alpha_T, log_alpha_t_x = np.log(alpha + rows.T), np.log(alpha + rows.t_x)
    a3 = -(r + x) * log_alpha_T
    a4 = np.where(rows.repeat, np.log(a) - log_b_x_1[rows.inv] - (r + x) * log_alpha_t_x, -np.inf)
    total = wx @ per_x + w @ np.logaddexp(a3, a4)

    w4 = expit(a4 - a3)  # share of the likelihood from "dropped out after the last purchase"
    w3 = 1.0 - w4
    ww4 = w * w4
    common = digamma(a + b) - digamma(a + b + xu)
    gradient = np.array([
        wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - w @ (w3 * log_alpha_T) - ww4 @ log_alpha_t_x,
        wx.sum() * r / alpha - w @ ((r + x) * (w3 / (alpha + rows.T) + w4 / (alpha + rows.t_x))),
        wx @ common + ww4.sum() / a,
        wx @ (common + digamma(b + xu) - digamma(b)) - ww4 @ np.exp(-log_b_x_1[rows.inv]),
    ])
    return float(total), gradient


@_with_one_blas_thread
def fit_bgnbd(x, t_x, T, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS, start=None) -> Fit:
    """Maximum-likelihood BG/NBD fit (optimised in log-parameters); SEs from the Hessian in (r, alpha, a, b).

    When the likelihood is highest at the no-dropout boundary (a -> 0 or b -> infinity) the result is
    the NBD limit (limit = "nbd", with its own parameters and likelihood, and a note in warnings).
    `start`: where the optimiser starts (r, alpha, a, b), e.g. an earlier fit's parameters.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    customers = int(round(w.sum()))
    _check_purchase_data(x, t_x, T, w, min_repeat_customers)

    rows = _Rows(x, w, t_x=t_x, T=T)
    total = w.sum()

    def objective(log_params):
        params = np.exp(log_params)
        ll, grad = _bgnbd_objective(params, rows)
        return -ll / total, -(grad * params) / total  # chain rule for log-parameters

    warm = start is not None
    if start is None:
        start = _default_start("bgnbd", x, T, w)
    params, iterations = _optimise(objective, np.log(start), "purchase model (BG/NBD)", BGNBD_PARAMS,
                                   allow_runaway=True, warm=warm)
    boundary = (_dropout_boundary("bgnbd", params, x, t_x, T, w)
                or _common_dropout_boundary("bgnbd", params, x, t_x, T, w))
    if boundary is not None:
        return boundary
    se, hessian_warning = _standard_errors(lambda theta: _bgnbd_objective(theta, rows)[1], params, "BG/NBD")
    log_likelihood = _bgnbd_objective(params, rows)[0]
    return Fit("bgnbd", dict(zip(BGNBD_PARAMS, map(float, params))), dict(zip(BGNBD_PARAMS, se)),
               log_likelihood, customers, iterations, hessian_warning + _runaway_warning("BG/NBD", BGNBD_PARAMS, params))


# ---------------------------------------------------------------------------------------------
# NBD (the no-dropout limit), MBG/NBD and Pareto/NBD
# ---------------------------------------------------------------------------------------------

NBD_PARAMS = ("r", "alpha")
MBGNBD_PARAMS = ("r", "alpha", "a", "b")
PARETONBD_PARAMS = ("r", "alpha", "s", "beta")
PURCHASE_MODELS = ("bgnbd", "mbgnbd", "paretonbd")
MODEL_LABELS = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD", "nbd": "NBD"}
MODEL_PARAMS = {"bgnbd": BGNBD_PARAMS, "mbgnbd": MBGNBD_PARAMS, "paretonbd": PARETONBD_PARAMS, "nbd": NBD_PARAMS}
_NO_DROPOUT = 1e-3  # mean dropout (per purchase, or over the longest T) below this is "no dropout"
_EDGE = 6.0  # a dropout parameter below e^-6 (0.0025) or above e^6 (403) is at the edge of its range
# The NBD has two parameters fewer; it stands in for the boundary fit unless a likelihood-ratio test
# rejects it at 5% (chi-squared, 2 degrees of freedom: 5.99 / 2 log-likelihood units).
_SAME_LIKELIHOOD = 5.991 / 2
NUMERIC_FIT_SAMPLE = 20_000  # customers: MBG/NBD and Pareto/NBD are fitted on a sample of a larger store


def nbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each row under the NBD model (Poisson purchases, Gamma(r, alpha) rates, no dropout)."""
    r, alpha = params
    x, T = np.asarray(x, dtype=float), np.asarray(T, dtype=float)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) - (r + x) * np.log(alpha + T)


def mbgnbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each row under MBG/NBD (Batislam, Denizel and Filiztekin 2007): as BG/NBD, but a
    customer may also drop out right after the first purchase, so one-time buyers can be inactive."""
    r, alpha, a, b = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + betaln(a, b + x + 1) - betaln(a, b)
    return head + np.logaddexp(-(r + x) * np.log(alpha + T),
                               np.log(a) - np.log(b + x) - (r + x) * np.log(alpha + t_x))


_LAGUERRE_NODES, _LAGUERRE_WEIGHTS = roots_laguerre(60)


def log_hyp2f1_a_a1(a, b, z, one_minus_z) -> np.ndarray:
    """log 2F1(a, b; a+1; z) for 0 <= z < 1, with 1 - z given exactly (Pareto/NBD's A_0 terms).

    scipy's hyp2f1 takes 3-40 us a value for a above 100 (a = r + s + x: large when dropout is nearly
    homogeneous), returns NaN for many a above 250 and overflows for large b. The identity
    2F1(a, b; a+1; z) = int_0^inf e^-v (1 - z e^(-v/a))^(-b) dv, summed on 60 Gauss-Laguerre nodes scaled to the
    integrand's decay at v = 0 (kappa = 1 + b z / (a (1 - z))), is within 2e-9 of the integral
    (tests/test_clv_hypergeometric.py) wherever a >= 10 and a (1 - z) >= 0.2, or b >= 30: it is used there,
    scipy's value elsewhere.
    """
    a, b, z, eps = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (a, b, z, one_minus_z)))
    quadrature = ((a >= 10.0) & (a * eps >= 0.2)) | (b >= 30.0)
    out = np.empty(a.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        out[~quadrature] = np.log(hyp2f1(a[~quadrature], b[~quadrature], a[~quadrature] + 1, z[~quadrature]))
    if quadrature.any():
        aq, bq, zq, eq = (v[quadrature][:, None] for v in (a, b, z, eps))
        kappa = 1.0 + bq * zq / (aq * eq)
        v = _LAGUERRE_NODES / kappa
        # the integrand over e^-(kappa v) and over its value at v = 0, (1 - z)^-b, which is factored out
        scaled = np.exp(_LAGUERRE_NODES - v - bq * np.log1p(-zq * np.expm1(-v / aq) / eq))
        out[quadrature] = np.log(scaled @ _LAGUERRE_WEIGHTS) - np.log(kappa[:, 0]) - bq[:, 0] * np.log(eq[:, 0])
    return out


def _pareto_a0_term(params, xs, times) -> np.ndarray:
    """One hypergeometric term of log A_0 at (x, t): log 2F1(r+s+x, b; r+s+x+1; |alpha-beta| / (max + t))
    - (r+s+x) log(max + t), b = s + 1 when alpha >= beta, else r + x (max, min: of alpha and beta)."""
    r, alpha, s, beta = params
    big, small = max(alpha, beta), min(alpha, beta)
    a = r + s + xs
    second = s + 1 if alpha >= beta else r + xs
    with np.errstate(divide="ignore"):
        return log_hyp2f1_a_a1(a, second, (big - small) / (big + times), (small + times) / (big + times)) \
            - a * np.log(big + times)


def _pareto_log_a0_of(first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """log A_0 from its terms at t_x (first) and at T (last): log(e^first - e^last), -inf when equal."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return first + np.log1p(-np.exp(np.minimum(last - first, 0.0)))


def _pareto_log_a0(params, x, t_x, T) -> np.ndarray:
    """log A_0 of Fader and Hardie's Pareto/NBD note (2005, eq. 19); -inf when t_x = T.

    The Gauss hypergeometric terms depend on (x, t_x) and (x, T) only; each is evaluated once per distinct pair.
    """
    x, t_x, T = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x, t_x, T)))

    def term(time):
        (xu, tu), inverse = unique_rows(x.ravel(), time.ravel())
        return _pareto_a0_term(params, xu, tu)[inverse].reshape(x.shape)

    return _pareto_log_a0_of(term(t_x), term(T))


def paretonbd_log_likelihood(params, x, t_x, T) -> np.ndarray:
    """Log-likelihood of each row under Pareto/NBD (Schmittlein, Morrison and Colombo 1987), in the form of
    Fader and Hardie's note "A note on deriving the Pareto/NBD model" (2005, eq. 18-19)."""
    r, alpha, s, beta = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    head = gammaln(r + x) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dropped = np.log(s) - np.log(r + s + x) + _pareto_log_a0(params, x, t_x, T)
    return head + np.logaddexp(alive, dropped)


_LOG_LIKELIHOODS = {"nbd": nbd_log_likelihood, "mbgnbd": mbgnbd_log_likelihood,
                    "paretonbd": paretonbd_log_likelihood, "bgnbd": bgnbd_log_likelihood,
                    "bgnbd_common_p": lambda params, x, t_x, T: common_p_log_likelihood(params, x, t_x, T),
                    "mbgnbd_common_p": lambda params, x, t_x, T: common_p_log_likelihood(params, x, t_x, T, True)}


def _check_purchase_data(x, t_x, T, w, min_repeat_customers: int) -> None:
    """Raise ClvFitError when the data cannot support a purchase model (too few repeaters, no history)."""
    customers, repeaters = int(round(w.sum())), int(round(w[x > 0].sum()))
    if repeaters < min_repeat_customers:
        raise ClvFitError(
            f"Too few repeat customers to fit the purchase model: {repeaters} of {customers} customers "
            f"bought again before the cut-off, and at least {min_repeat_customers} are needed. "
            "Use a later cut-off date or load a longer order history.",
            code="too_few_repeat_customers", repeaters=repeaters, customers=customers, needed=min_repeat_customers,
        )
    if not np.any(T > 0):
        raise ClvFitError(
            "The order history is too short to fit the purchase model: every customer made their "
            "first purchase on the cut-off date. Use a later cut-off date or load more history.",
            code="no_history_before_cutoff",
        )
    if np.any(t_x > T) or np.any(t_x < 0) or np.any((x == 0) & (t_x != 0)):
        raise ValueError("inconsistent summary: need 0 <= t_x <= T, and t_x = 0 when x = 0")


def _total_log_likelihood(model: str, x, t_x, T, w):
    log_likelihood = _LOG_LIKELIHOODS[model]
    return lambda params: float(w @ log_likelihood(params, x, t_x, T))


def _nbd_objective(params, rows: _Rows) -> tuple[float, np.ndarray]:
    """Weighted total NBD log-likelihood and its gradient in (r, alpha)."""
    r, alpha = params
    x, xu, w, wx = rows.x, rows.xu, rows.w, rows.wx
    log_alpha_T = np.log(alpha + rows.T)
    total = wx @ (gammaln(r + xu) - gammaln(r) + r * np.log(alpha)) - w @ ((r + x) * log_alpha_T)
    gradient = np.array([
        wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - w @ log_alpha_T,
        wx.sum() * r / alpha - w @ ((r + x) / (alpha + rows.T)),
    ])
    return float(total), gradient


def _mbgnbd_objective(params, rows: _Rows) -> tuple[float, np.ndarray]:
    """Weighted total MBG/NBD log-likelihood and its gradient in (r, alpha, a, b)."""
    r, alpha, a, b = params
    x, xu, w, wx = rows.x, rows.xu, rows.w, rows.wx
    per_x = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + betaln(a, b + xu + 1) - betaln(a, b)
    log_alpha_T, log_alpha_t_x = np.log(alpha + rows.T), np.log(alpha + rows.t_x)
    log_b_x = np.log(b + xu)
    a3 = -(r + x) * log_alpha_T
    a4 = np.log(a) - log_b_x[rows.inv] - (r + x) * log_alpha_t_x
    total = wx @ per_x + w @ np.logaddexp(a3, a4)

    w4 = expit(a4 - a3)  # share of the likelihood from "dropped out after the last purchase"
    w3 = 1.0 - w4
    ww4 = w * w4
    common = digamma(a + b) - digamma(a + b + xu + 1)
    gradient = np.array([
        wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - w @ (w3 * log_alpha_T) - ww4 @ log_alpha_t_x,
        wx.sum() * r / alpha - w @ ((r + x) * (w3 / (alpha + rows.T) + w4 / (alpha + rows.t_x))),
        wx @ common + ww4.sum() / a,
        wx @ (common + digamma(b + xu + 1) - digamma(b)) - ww4 @ np.exp(-log_b_x[rows.inv]),
    ])
    return float(total), gradient


class _ParetoRows(_Rows):
    """_Rows with the distinct (x, t_x) and (x, T) pairs the hypergeometric terms of A_0 depend on."""

    def __init__(self, x, w, t_x, T):
        super().__init__(x, w, t_x=t_x, T=T)
        (self.x_last, self.t_last), self.last_inv = unique_rows(x, t_x)
        (self.x_end, self.T_end), self.end_inv = unique_rows(x, T)
        self.censored = t_x < T  # A_0 > 0: the customer may have dropped out after the last purchase


def _pareto_log_a0_rows(params, rows: "_ParetoRows") -> np.ndarray:
    """log A_0 (see _pareto_log_a0) of the censored rows, each hypergeometric term once per distinct pair."""
    first = _pareto_a0_term(params, rows.x_last, rows.t_last)[rows.last_inv[rows.censored]]
    last = _pareto_a0_term(params, rows.x_end, rows.T_end)[rows.end_inv[rows.censored]]
    return _pareto_log_a0_of(first, last)


_A0_STEP = 1e-6  # relative step of the central differences of log A_0 in r, alpha, s, beta


def _paretonbd_total(params, rows: "_ParetoRows") -> float:
    """Weighted total Pareto/NBD log-likelihood (no gradient), each hypergeometric term once per distinct pair."""
    r, alpha, s, beta = params
    x, T, keep = rows.x, rows.T, rows.censored
    per_x = gammaln(r + rows.xu) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * np.log(alpha + T) - s * np.log(beta + T)
    dropped = np.full(x.shape, -np.inf)
    dropped[keep] = np.log(s) - np.log(r + s + x[keep]) + _pareto_log_a0_rows(params, rows)
    return float(rows.wx @ per_x + rows.w @ np.logaddexp(alive, dropped))


def _paretonbd_objective(params, rows: "_ParetoRows") -> tuple[float, np.ndarray]:
    """Weighted total Pareto/NBD log-likelihood and its gradient in (r, alpha, s, beta).

    Every term is differentiated analytically except log A_0 (a difference of two Gauss hypergeometric
    functions, whose derivatives in their parameters have no closed form): its four partial derivatives
    are central differences, computed on the distinct (x, t_x) and (x, T) pairs only.
    """
    r, alpha, s, beta = params
    x, xu, w, wx, T, keep = rows.x, rows.xu, rows.w, rows.wx, rows.T, rows.censored
    log_alpha_T, log_beta_T = np.log(alpha + T), np.log(beta + T)
    per_x = gammaln(r + xu) - gammaln(r) + r * np.log(alpha) + s * np.log(beta)
    alive = -(r + x) * log_alpha_T - s * log_beta_T
    log_a0 = _pareto_log_a0_rows(params, rows)
    dropped = np.full(x.shape, -np.inf)
    dropped[keep] = np.log(s) - np.log(r + s + x[keep]) + log_a0
    total = wx @ per_x + w @ np.logaddexp(alive, dropped)

    share = expit(dropped - alive)  # share of the likelihood from "dropped out after the last purchase"
    w_alive, w_dropped = w * (1.0 - share), (w * share)[keep]
    d_log_a0 = np.empty((4, int(keep.sum())))
    for i in range(4):
        up, down = np.array(params, dtype=float), np.array(params, dtype=float)
        up[i] *= math.exp(_A0_STEP)
        down[i] *= math.exp(-_A0_STEP)
        d_log_a0[i] = (_pareto_log_a0_rows(up, rows) - _pareto_log_a0_rows(down, rows)) / (2 * _A0_STEP * params[i])
    inv_rsx = 1.0 / (r + s + x[keep])
    gradient = np.array([
        wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - w_alive @ log_alpha_T + w_dropped @ (d_log_a0[0] - inv_rsx),
        wx.sum() * r / alpha - w_alive @ ((r + x) / (alpha + T)) + w_dropped @ d_log_a0[1],
        wx.sum() * np.log(beta) - w_alive @ log_beta_T + w_dropped @ (1.0 / s - inv_rsx + d_log_a0[2]),
        wx.sum() * s / beta - w_alive @ (s / (beta + T)) + w_dropped @ d_log_a0[3],
    ])
    return float(total), gradient


_OBJECTIVES = {"nbd": (_nbd_objective, _Rows), "bgnbd": (_bgnbd_objective, _Rows), "mbgnbd": (_mbgnbd_objective, _Rows),
               "paretonbd": (_paretonbd_objective, _ParetoRows)}


def _model_objective(model: str, x, t_x, T, w):
    """The model's (log-likelihood, gradient) as a function of its parameters, on these rows."""
    objective, prepare = _OBJECTIVES[model]
    rows = prepare(x, w, t_x=t_x, T=T)
    return lambda params: objective(params, rows)


def _default_start(model: str, x, T, w) -> list[float]:
    """A scale-aware start: mean purchase rate r / alpha equal to the observed repeat rate; dropout
    parameters at 1 (Pareto/NBD: beta at the mean customer age)."""
    rate = max((x @ w) / max(T @ w, 1e-12), 1e-6)
    dropout = {"nbd": [], "bgnbd": [1.0, 1.0], "mbgnbd": [1.0, 1.0],
               "paretonbd": [1.0, max((T @ w) / w.sum(), 1e-6)]}[model]
    return [1.0, 1.0 / rate, *dropout]


def _numeric_fit(model: str, x, t_x, T, w, start, allow_runaway: bool, warm: bool = False) -> tuple[np.ndarray, int, float]:
    """Maximum likelihood in log-parameters with the model's gradient: (params, iterations, LL)."""
    log_likelihood = _model_objective(model, x, t_x, T, w)
    total = w.sum()

    def objective(log_params):
        params = np.exp(log_params)
        ll, grad = log_likelihood(params)
        return -ll / total, -(grad * params) / total  # chain rule for log-parameters

    label = f"purchase model ({MODEL_LABELS[model]})"
    params, iterations = _optimise(objective, np.log(start), label, MODEL_PARAMS[model], allow_runaway,
                                   polish=model != "paretonbd", warm=warm)
    return params, iterations, log_likelihood(params)[0]


def _numeric_standard_errors(model: str, x, t_x, T, w, params: np.ndarray) -> tuple[list[float], list[str]]:
    """Standard errors from the inverse Hessian: central differences of the model's gradient, or for
    Pareto/NBD (whose gradient costs nine likelihoods) second differences of its likelihood."""
    params = np.asarray(params, dtype=float)
    if model != "paretonbd":
        log_likelihood = _model_objective(model, x, t_x, T, w)
        return _standard_errors(lambda theta: log_likelihood(theta)[1], params, MODEL_LABELS[model])
    rows = _ParetoRows(x, w, t_x=t_x, T=T)
    total_ll = lambda theta: _paretonbd_total(theta, rows)  # noqa: E731
    k = len(params)
    h = 1e-4 * params
    hessian = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            values = []
            for si, sj in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
                shifted = params.copy()
                shifted[i] += si * h[i]
                shifted[j] += sj * h[j]
                values.append(total_ll(shifted))
            hessian[i, j] = hessian[j, i] = -(values[0] - values[1] - values[2] + values[3]) / (4 * h[i] * h[j])
    try:
        variances = np.diag(np.linalg.inv(hessian))
    except np.linalg.LinAlgError:
        variances = np.full(k, np.nan)
    if not np.all(variances > 0):
        label = MODEL_LABELS[model]
        return [float("nan")] * k, [Note(f"{label} standard errors are unavailable: the Hessian is not positive "
                                         "definite.", "no_standard_errors", model=label)]
    return [float(v) for v in np.sqrt(variances)], []


@_with_one_blas_thread
def fit_nbd(x, t_x, T, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS, start=None) -> Fit:
    """Maximum-likelihood NBD fit: every customer keeps buying at their own Poisson rate (no dropout)."""
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    _check_purchase_data(x, t_x, T, w, min_repeat_customers)
    params, iterations, ll = _numeric_fit("nbd", x, t_x, T, w, start or _default_start("nbd", x, T, w),
                                          allow_runaway=False, warm=start is not None)
    se, warnings = _numeric_standard_errors("nbd", x, t_x, T, w, params)
    return Fit("nbd", dict(zip(NBD_PARAMS, map(float, params))), dict(zip(NBD_PARAMS, se)), ll,
               int(round(w.sum())), iterations, warnings)


def _mean_dropout(model: str, params, T) -> float:
    """Mean dropout probability per purchase (BG, MBG) or over the longest customer age (Pareto)."""
    if model == "paretonbd":
        _, _, s, beta = params
        return float(s / beta * np.max(T))
    _, _, a, b = params
    return float(a / (a + b))


def _dropout_boundary(model: str, params, x, t_x, T, w) -> Fit | None:
    """The NBD limit as the fit, when `params` lie at the no-dropout boundary (mean dropout negligible)
    and the NBD fits as well; else None."""
    names = MODEL_PARAMS[model]
    at_edge = any(abs(np.log(v)) > _EDGE for v in params[2:])
    if _mean_dropout(model, params, T) > _NO_DROPOUT and not at_edge:
        return None
    # the dropout parameters that ran off (the optimiser may stop short of the runaway threshold)
    ran_off = {n: float(v) for n, v in zip(names[2:], params[2:])}
    boundary_ll = _total_log_likelihood(model, x, t_x, T, w)(params)
    nbd = fit_nbd(x, t_x, T, w, min_repeat_customers=0, start=[float(v) for v in params[:2]])
    if nbd.log_likelihood < boundary_ll - _SAME_LIKELIHOOD:
        return None
    label = MODEL_LABELS[model]
    ran = ", ".join(f"{n} = {v:.3g}" for n, v in ran_off.items())
    note = Note(f"No dropout detected in the calibration period: the {label} likelihood is highest at its boundary "
                f"({ran}), where the model becomes the NBD model (customers keep buying at their own rate). "
                f"Predictions use that NBD limit (log-likelihood {nbd.log_likelihood:,.1f}, against "
                f"{boundary_ll:,.1f} at the boundary: no significant difference).", "no_dropout_nbd_limit",
                model=label, parameters=ran, nbd_ll=float(nbd.log_likelihood), boundary_ll=float(boundary_ll))
    return Fit(model, nbd.params, nbd.se, nbd.log_likelihood, nbd.customers, nbd.iterations,
               nbd.warnings + [note], limit="nbd", boundary=dict(zip(names, map(float, params))))


# The common-dropout limit of BG/NBD and MBG/NBD: a, b -> infinity together with a / (a + b) -> p. The Beta
# mixing distribution of the dropout probability then collapses onto p: every customer drops out with the
# same probability p after each repeat purchase (MBG/NBD: after the first purchase too); purchase rates
# still differ (Gamma(r, alpha)). Its likelihood is the supremum of the model's along that direction.
COMMON_DROPOUT = {"bgnbd": "bgnbd_common_p", "mbgnbd": "mbgnbd_common_p"}
COMMON_P_PARAMS = ("r", "alpha", "p")
BOUNDARY_NOTE_CODES = ("no_dropout_nbd_limit", "common_dropout_limit", "common_dropout_limit_first")
MODEL_PARAMS.update({limit: COMMON_P_PARAMS for limit in COMMON_DROPOUT.values()})
MODEL_LABELS.update({"bgnbd_common_p": "BG/NBD (one dropout probability)",
                     "mbgnbd_common_p": "MBG/NBD (one dropout probability)"})
# the limit has one parameter fewer: it stands in unless a likelihood-ratio test rejects it at 5%
# (chi-squared, 1 degree of freedom: 3.84 / 2 log-likelihood units)
_SAME_LIKELIHOOD_ONE = 3.841 / 2


def _common_p_terms(params, x, t_x, T, after_first: bool):
    """The two log terms of the common-dropout likelihood (alive at T; dropped out after the last purchase),
    without the rate mixture's head; after_first: MBG/NBD (a customer may stop after the first purchase)."""
    r, alpha, p = params
    shift = 1.0 if after_first else 0.0
    alive = (x + shift) * np.log1p(-p) - (r + x) * np.log(alpha + T)
    can_drop = np.ones(np.shape(x), dtype=bool) if after_first else x > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        dropped = np.where(can_drop, np.log(p) + (x + shift - 1) * np.log1p(-p) - (r + x) * np.log(alpha + t_x),
                           -np.inf)
    return alive, dropped


def common_p_log_likelihood(params, x, t_x, T, after_first: bool = False) -> np.ndarray:
    """Log-likelihood of each row under the common-dropout limit (see COMMON_DROPOUT): Gamma(r, alpha)
    purchase rates, and after each repeat purchase (after_first: also after the first) a dropout with
    probability p, the same for everyone."""
    r, alpha, _ = params
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    alive, dropped = _common_p_terms(params, x, t_x, T, after_first)
    return gammaln(r + x) - gammaln(r) + r * np.log(alpha) + np.logaddexp(alive, dropped)


def _common_p_objective(params, rows: _Rows, after_first: bool) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood of the common-dropout limit and its gradient in (r, alpha, p)."""
    r, alpha, p = params
    x, xu, w, wx = rows.x, rows.xu, rows.w, rows.wx
    alive, dropped = _common_p_terms(params, x, rows.t_x, rows.T, after_first)
    total = wx @ (gammaln(r + xu) - gammaln(r) + r * np.log(alpha)) + w @ np.logaddexp(alive, dropped)
    w4 = expit(dropped - alive)  # share of the likelihood from "dropped out after the last purchase"
    w3 = 1.0 - w4
    shift = 1.0 if after_first else 0.0
    gradient = np.array([
        wx @ (digamma(r + xu) - digamma(r) + np.log(alpha)) - w @ (w3 * np.log(alpha + rows.T)
                                                                  + w4 * np.log(alpha + rows.t_x)),
        wx.sum() * r / alpha - w @ ((r + x) * (w3 / (alpha + rows.T) + w4 / (alpha + rows.t_x))),
        w @ (-(w3 * (x + shift) + w4 * (x + shift - 1)) / (1 - p) + w4 / p),
    ])
    return float(total), gradient


def fit_common_p(model: str, x, t_x, T, weights=None, start=None) -> Fit:
    """Maximum-likelihood fit of `model`'s common-dropout limit (model: "bgnbd" or "mbgnbd"), optimised in
    (log r, log alpha, logit p); `start`: (r, alpha, p). Its Fit's model is the limit's name."""
    limit, after_first = COMMON_DROPOUT[model], model == "mbgnbd"
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    rows = _Rows(x, w, t_x=t_x, T=T)
    total = w.sum()

    def values(theta):
        return np.array([math.exp(theta[0]), math.exp(theta[1]), expit(theta[2])])

    def objective(theta):
        params = values(theta)
        ll, grad = _common_p_objective(params, rows, after_first)
        chain = np.array([params[0], params[1], params[2] * (1 - params[2])])  # d params / d theta
        return -ll / total, -(grad * chain) / total

    if start is None:
        start = [*_default_start("nbd", x, T, w), 0.5]
    r, alpha, p = (float(v) for v in start)
    p = min(max(p, 1e-9), 1 - 1e-9)
    # _optimise returns exp(theta): the third value is the odds p / (1 - p)
    odds_params, iterations = _optimise(objective, np.array([math.log(r), math.log(alpha), math.log(p / (1 - p))]),
                                        f"purchase model ({MODEL_LABELS[limit]})", ("r", "alpha", "p / (1 - p)"),
                                        allow_runaway=True)
    params = np.array([odds_params[0], odds_params[1], odds_params[2] / (1 + odds_params[2])])
    se, warnings = _standard_errors(lambda theta: _common_p_objective(theta, rows, after_first)[1], params,
                                    MODEL_LABELS[limit])
    return Fit(limit, dict(zip(COMMON_P_PARAMS, map(float, params))), dict(zip(COMMON_P_PARAMS, se)),
               _common_p_objective(params, rows, after_first)[0], int(round(total)), iterations, warnings)


def _common_dropout_boundary(model: str, params, x, t_x, T, w) -> Fit | None:
    """The common-dropout limit as the fit, when a and b both ran to the upper edge of their range and the
    limit fits as well (it is the likelihood's supremum along that direction); else None."""
    if model not in COMMON_DROPOUT:
        return None
    r, alpha, a, b = (float(v) for v in params)
    if min(math.log(a), math.log(b)) <= _EDGE:
        return None
    boundary_ll = _total_log_likelihood(model, x, t_x, T, w)(params)
    limit = fit_common_p(model, x, t_x, T, w, start=[r, alpha, a / (a + b)])
    if not np.isfinite(limit.log_likelihood) or limit.log_likelihood < boundary_ll - _SAME_LIKELIHOOD_ONE:
        return None
    label, p, share = MODEL_LABELS[model], limit.params["p"], a / (a + b)
    ran = f"a = {a:.3g}, b = {b:.3g}"
    head = (f"Customers do not differ in how likely they are to stop: the {label} likelihood is highest at its "
            f"boundary ({ran}, a / (a + b) = {share:.3g}), where every customer stops with the same probability after ")
    tail = (f". Predictions use that limit: p = {p:.3g} (log-likelihood {limit.log_likelihood:,.1f}, against "
            f"{boundary_ll:,.1f} at the boundary: no significant difference).")
    if model == "mbgnbd":
        note = Note(head + "each purchase, the first included" + tail, "common_dropout_limit_first", model=label,
                    parameters=ran, share=float(share), p=float(p), limit_ll=float(limit.log_likelihood),
                    boundary_ll=float(boundary_ll))
    else:
        note = Note(head + "each repeat purchase" + tail, "common_dropout_limit", model=label, parameters=ran,
                    share=float(share), p=float(p), limit_ll=float(limit.log_likelihood), boundary_ll=float(boundary_ll))
    return Fit(model, limit.params, limit.se, limit.log_likelihood, limit.customers, limit.iterations,
               limit.warnings + [note], limit=limit.model, boundary=dict(zip(MODEL_PARAMS[model], map(float, params))))


def _runaway_warning(label: str, names, params) -> list[str]:
    ran = [f"{n} = {v:.3g}" for n, v in zip(names, params) if abs(np.log(v)) > _RUNAWAY]
    if not ran:
        return []
    return [Note(f"{label}: {', '.join(ran)} ran to the edge of the parameter range (the likelihood keeps rising "
                 "that way); predictions use the fitted values, which are the model's limit there.",
                 "parameters_at_edge", model=label, parameters=", ".join(ran))]


def sample_customers(x, t_x, T, w, size: int, seed: int = 0):
    """A random sample of about `size` customers from grouped rows (each customer kept with the same
    probability, so the sample has the population's mix); the rows as they are when they hold fewer."""
    total = w.sum()
    if total <= size:
        return x, t_x, T, w
    thinned = np.random.default_rng(seed).binomial(np.round(w).astype(np.int64), size / total).astype(float)
    keep = thinned > 0
    return x[keep], t_x[keep], T[keep], thinned[keep]


def _fit_numeric_model(model: str, x, t_x, T, weights, min_repeat_customers: int, start=None) -> Fit:
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    _check_purchase_data(x, t_x, T, w, min_repeat_customers)
    # on a large store fit on a sample (the estimates' standard errors say how much that costs; the
    # likelihood reported is every customer's)
    sx, st_x, sT, sw = sample_customers(x, t_x, T, w, NUMERIC_FIT_SAMPLE)
    params, iterations, _ = _numeric_fit(model, sx, st_x, sT, sw, start or _default_start(model, sx, sT, sw),
                                         allow_runaway=True, warm=start is not None)
    sampled = [] if len(sw) == len(w) else [Note(
        f"{MODEL_LABELS[model]} was fitted on a random sample of {int(sw.sum()):,} of {int(round(w.sum())):,} "
        "customers, for speed; its holdout check and predictions cover every customer.", "fitted_on_sample",
        model=MODEL_LABELS[model], sample=int(sw.sum()), customers=int(round(w.sum())))]
    boundary = _dropout_boundary(model, params, sx, st_x, sT, sw)
    if boundary is not None:
        full = fit_nbd(x, t_x, T, w, min_repeat_customers=0,  # the NBD is cheap on every customer
                       start=[boundary.params["r"], boundary.params["alpha"]])
        return replace(boundary, params=full.params, se=full.se, log_likelihood=full.log_likelihood,
                       customers=full.customers, warnings=boundary.warnings + sampled)
    common = _common_dropout_boundary(model, params, x, t_x, T, w)  # the limit's fit is cheap on every customer
    if common is not None:
        return replace(common, warnings=common.warnings + sampled)
    names = MODEL_PARAMS[model]
    se, warnings = _numeric_standard_errors(model, sx, st_x, sT, sw, params)
    ll = _total_log_likelihood(model, x, t_x, T, w)(params)
    return Fit(model, dict(zip(names, map(float, params))), dict(zip(names, se)), ll, int(round(w.sum())),
               iterations, warnings + sampled + _runaway_warning(MODEL_LABELS[model], names, params))


@_with_one_blas_thread
def fit_mbgnbd(x, t_x, T, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS, start=None) -> Fit:
    """Maximum-likelihood MBG/NBD fit; the NBD limit when the data show no dropout. `start`: (r, alpha, a, b)."""
    return _fit_numeric_model("mbgnbd", x, t_x, T, weights, min_repeat_customers, start)


@_with_one_blas_thread
def fit_paretonbd(x, t_x, T, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS, start=None) -> Fit:
    """Maximum-likelihood Pareto/NBD fit; the NBD limit when the data show no dropout. `start`: (r, alpha, s, beta)."""
    return _fit_numeric_model("paretonbd", x, t_x, T, weights, min_repeat_customers, start)


def fit_purchase_model(model: str, x, t_x, T, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS,
                       start=None) -> Fit:
    """Fit one of PURCHASE_MODELS by name; `start`: its parameters where the optimiser starts (see start_of)."""
    fitters = {"bgnbd": fit_bgnbd, "mbgnbd": fit_mbgnbd, "paretonbd": fit_paretonbd}
    if model not in fitters:
        raise ValueError(f"unknown purchase model {model!r}; choose one of {', '.join(PURCHASE_MODELS)}")
    return fitters[model](x, t_x, T, weights, min_repeat_customers, start=start)


def start_of(fit: Fit) -> list[float]:
    """A fit's parameters as a start for refitting its model (at a boundary: the model's parameters as they
    ran off, not the limit's)."""
    values = fit.boundary if fit.limit else fit.params
    return [float(values[name]) for name in MODEL_PARAMS.get(fit.model, GAMMA_GAMMA_PARAMS)]


def _model_and_params(params) -> tuple[str, tuple]:
    """(formulas to use, parameter tuple): a Fit predicts as its model (or its limit); bare values are BG/NBD."""
    if isinstance(params, Fit):
        model = params.predicts_as
        return model, _params(params, MODEL_PARAMS[model])
    return "bgnbd", _params(params, BGNBD_PARAMS)


def p_alive(params, x, t_x, T) -> np.ndarray:
    """P(alive): probability the customer has not dropped out by T.

    BG/NBD: 1 for customers with no repeat purchase (they cannot have dropped out yet); MBG/NBD and
    Pareto/NBD: below 1 for them too; the NBD limit: 1 for everyone; the common-dropout limits: as their
    models with a / (b + x - 1) (MBG/NBD: a / (b + x)) replaced by its limit p / (1 - p).
    """
    model, params = _model_and_params(params)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    if model == "nbd":
        return np.ones(np.broadcast(x, t_x, T).shape)
    if model in ("bgnbd_common_p", "mbgnbd_common_p"):  # the a, b -> infinity limit of a / (b + x - 1): p / (1 - p)
        r, alpha, p = params
        repeat = x > 0 if model == "bgnbd_common_p" else np.ones(x.shape, dtype=bool)
        log_odds_dead = np.log(p) - np.log1p(-p) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
        return np.where(repeat, expit(-log_odds_dead), 1.0)
    if model == "paretonbd":
        r, alpha, s, beta = params
        with np.errstate(over="ignore"):
            log_odds_dead = (np.log(s) - np.log(r + s + x) + (r + x) * np.log(alpha + T) + s * np.log(beta + T)
                             + _pareto_log_a0(params, x, t_x, T))
        return expit(-log_odds_dead)
    r, alpha, a, b = params
    repeat = x > 0 if model == "bgnbd" else np.ones(x.shape, dtype=bool)
    shift = -1 if model == "bgnbd" else 0  # MBG/NBD: a/(b+x), BG/NBD: a/(b+x-1)
    log_odds_dead = np.log(a) - np.log(np.where(repeat, b + x + shift, 1.0)) + (r + x) * (
        np.log(alpha + T) - np.log(alpha + t_x)
    )
    return np.where(repeat, expit(-log_odds_dead), 1.0)


def _purchases_if_alive(params, t, x, T, model: str = "bgnbd") -> np.ndarray:
    """Expected purchases in (T, T + t] for a customer known to be alive at T (depends on x and T only).

    BG/NBD: FHL (2005) eq. 10 with the hypergeometric term in its Euler-transformed form
    (1-z)^(a-1) 2F1(a+b-1-r, a-1; a+b+x-1; z), z = t/(alpha+T+t), which stays finite for large x.
    MBG/NBD: the same expression with b + 1 for b (Batislam et al. 2007). Pareto/NBD:
    (r+x)(beta+T)/((alpha+T)(s-1)) [1 - ((beta+T)/(beta+T+t))^(s-1)]. NBD: (r+x) t/(alpha+T).
    Common-dropout limits (a, b -> infinity, a/(a+b) -> p): [1 - ((alpha+T)/(alpha+T+p t))^(r+x)] / p, the
    limit of FHL eq. 10 (its 2F1 tends to (1 - (1-p) z)^-(r+x)).
    """
    if model == "nbd":
        r, alpha = params
        return (r + x) / (alpha + T) * t
    if model in ("bgnbd_common_p", "mbgnbd_common_p"):
        # rate lambda ~ Gamma(r + x, alpha + T) given the past, a dropout with probability p after each purchase:
        # E[(1 - exp(-p lambda t)) / p] = (1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p
        r, alpha, p = params
        return -np.expm1(-(r + x) * np.log1p(p * t / (alpha + T))) / p
    if model == "paretonbd":
        r, alpha, s, beta = params
        rate = (r + x) / (alpha + T)
        ratio = np.log1p(t / (beta + T))  # log((beta+T+t)/(beta+T))
        if abs(s - 1.0) < 1e-7:  # the limit at s = 1
            return rate * (beta + T) * ratio
        return rate * (beta + T) / (s - 1) * -np.expm1(-(s - 1) * ratio)
    r, alpha, a, b = params
    if model == "mbgnbd":
        b = b + 1.0
    if abs(a - 1.0) < 1e-7:  # the expression is 0/0 at a = 1; its limit is continuous there
        a = 1.0 + 1e-7
    z = t / (alpha + T + t)
    c = a + b + x - 1
    with np.errstate(invalid="ignore", over="ignore"):
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp2f1(a + b - 1 - r, a - 1, c, z)
        closed = c / (a - 1) * (1.0 - tail)
    broken = ~np.isfinite(closed)
    if broken.any():  # large a and b (weak heterogeneity in dropout): 2F1 overflows where (1-z)^(a-1) underflows
        t, x, T = (np.broadcast_to(v, closed.shape) for v in (t, x, T))
        closed[broken] = _beta_mixture_if_alive(r, alpha, a, b, t[broken], x[broken], T[broken])
    return closed


_JACOBI_NODES = 64


def _beta_mixture_if_alive(r, alpha, a, b, t, x, T) -> np.ndarray:
    """BG/NBD's purchases-if-alive (MBG/NBD: b + 1 for b) as the average over the dropout probability:
    given alive after x repeat purchases, p ~ Beta(a, b + x) and the rate ~ Gamma(r + x, alpha + T), so the
    expectation is E_p[(1 - ((alpha + T) / (alpha + T + p t))^(r + x)) / p] (the common-dropout formula,
    averaged over p), by Gauss-Jacobi quadrature for each distinct x. FHL eq. 10 in closed form, without its
    overflow; finite wherever the quadrature rule can be built."""
    out = np.empty(np.shape(x))
    for value in np.unique(x):
        rows = x == value
        try:
            nodes, weights = roots_jacobi(_JACOBI_NODES, b + value - 1, a - 1)  # weight (1-u)^(b+x-1) (1+u)^(a-1)
        except (ValueError, np.linalg.LinAlgError):
            out[rows] = np.nan
            continue
        p = (1 + nodes) / 2
        weights = weights / weights.sum()
        scaled = np.outer(t[rows] / (alpha + T[rows]), p)
        out[rows] = (-np.expm1(-(r + value) * np.log1p(scaled)) / p) @ weights
    return out


def expected_purchases(params, t, x, t_x, T) -> np.ndarray:
    """Conditional expected purchases in (T, T + t] given (x, t_x, T): P(alive) x purchases-if-alive."""
    model, values = _model_and_params(params)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    t = np.asarray(t, dtype=float)
    return p_alive(params, x, t_x, T) * _purchases_if_alive(values, t, x, T, model)


def purchases_if_alive(params, ts, x, T) -> np.ndarray:
    """Expected purchases in (T, T + t] for each horizon t in ts of a customer known to be alive at T; shape
    (len(x), len(ts)). Times P(alive) it is the conditional expectation (expected_purchases)."""
    model, values = _model_and_params(params)
    x, T, ts = (np.asarray(v, dtype=float) for v in (x, T, ts))
    return _purchases_if_alive(values, ts[None, :], x[:, None], T[:, None], model)


def expected_purchases_grid(params, ts, x, t_x, T) -> np.ndarray:
    """Conditional expected purchases at each horizon in ts for every customer; shape (n, len(ts)).

    The purchases-if-alive part depends on (x, T) only, so it is evaluated once per distinct (x, T).
    """
    model, values = _model_and_params(params)
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    ts = np.asarray(ts, dtype=float)
    (x_u, T_u), inverse = unique_rows(x, T)
    per_pair = _purchases_if_alive(values, ts[None, :], x_u[:, None], T_u[:, None], model)
    return p_alive(params, x, t_x, T)[:, None] * per_pair[inverse]


def time_to_expected_purchases(params, x, t_x, T, horizon: float, target: float = 1.0,
                               step: float | None = None) -> np.ndarray:
    """First time at which conditional expected purchases reach `target`; NaN when not within `horizon`.

    With `step` (e.g. one day in the model's unit) the answer is the first multiple of step that
    reaches the target; without it, the time to within horizon / 2^20.
    """
    x, t_x, T = (np.asarray(v, dtype=float) for v in (x, t_x, T))
    result = np.full(x.shape, np.nan)
    reaches = expected_purchases(params, horizon, x, t_x, T) >= target
    if not reaches.any():
        return result
    x, t_x, T = x[reaches], t_x[reaches], T[reaches]
    # bisection on an integer grid of times k * dt, k = 0..n (expected purchases increase with time)
    n = int(np.ceil(horizon / step)) if step else 2**20
    dt = step if step else horizon / n
    lo, hi = np.zeros(x.shape, dtype=np.int64), np.full(x.shape, n, dtype=np.int64)
    while np.any(hi - lo > 1):
        mid = (lo + hi) // 2
        above = expected_purchases(params, np.minimum(mid * dt, horizon), x, t_x, T) >= target
        hi, lo = np.where(above, mid, hi), np.where(above, lo, mid)
    result[reaches] = np.minimum(hi * dt, horizon)
    return result


# ---------------------------------------------------------------------------------------------
# Gamma-Gamma
# ---------------------------------------------------------------------------------------------


def gamma_gamma_log_likelihood(params, x, m) -> np.ndarray:
    """Log-likelihood of each repeat customer's average spend m over x purchases (Fader-Hardie 2013, eq. 1a)."""
    p, q, gamma = params
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    return (
        gammaln(p * x + q) - gammaln(p * x) - gammaln(q) + q * np.log(gamma)
        + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(gamma + m * x)
    )


def _gamma_gamma_objective(params, rows: _Rows) -> tuple[float, np.ndarray]:
    """Weighted total log-likelihood and its gradient in (p, q, gamma)."""
    p, q, gamma = params
    xu, wx, w = rows.xu, rows.wx, rows.w
    psi = digamma(p * xu + q)
    log_gamma_mx = np.log(gamma + rows.mx)
    per_x = gammaln(p * xu + q) - gammaln(p * xu) - gammaln(q) + q * np.log(gamma) + p * xu * np.log(xu)
    total = wx @ per_x + p * rows.sum_x_log_m - rows.sum_log_m - w @ ((p * rows.x + q) * log_gamma_mx)
    gradient = np.array([
        wx @ (xu * (psi - digamma(p * xu) + np.log(xu))) + rows.sum_x_log_m - w @ (rows.x * log_gamma_mx),
        wx @ (psi - digamma(q) + np.log(gamma)) - w @ log_gamma_mx,
        wx.sum() * q / gamma - w @ ((p * rows.x + q) / (gamma + rows.mx)),
    ])
    return float(total), gradient


@_with_one_blas_thread
def fit_gamma_gamma(x, m, weights=None, min_repeat_customers: int = MIN_REPEAT_CUSTOMERS, start=None) -> Fit:
    """Maximum-likelihood Gamma-Gamma fit on repeat customers (x > 0, m > 0); SEs from the Hessian.
    `start`: (p, q, gamma) where the optimiser starts, e.g. an earlier fit's."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & np.isfinite(m) & (m > 0)
    x, m, w = x[keep], m[keep], w[keep]
    customers = int(round(w.sum()))
    if customers < min_repeat_customers:
        raise ClvFitError(
            f"Too few repeat customers to fit the spend model: {customers} customers bought again with "
            f"a positive amount before the cut-off, and at least {min_repeat_customers} are needed.",
            code="too_few_spend_customers", customers=customers, needed=min_repeat_customers,
        )
    if np.ptp(m) == 0:
        raise ClvFitError("The spend model needs variation in spend, but every repeat customer spent the same.",
                          code="no_spend_variation")
    log_m = np.log(m)
    rows = _Rows(x, w, mx=m * x, sum_log_m=w @ log_m, sum_x_log_m=w @ (x * log_m))
    total = w.sum()

    def objective(log_params):
        params = np.exp(log_params)
        ll, grad = _gamma_gamma_objective(params, rows)
        return -ll / total, -(grad * params) / total

    mean = (m * w).sum() / total
    # default: population mean p*gamma/(q-1) matches the observed mean
    warm = start is not None
    start = np.log(start if warm else [1.0, 2.0, mean])
    params, iterations = _optimise(objective, start, "spend model (Gamma-Gamma)", GAMMA_GAMMA_PARAMS,
                                   allow_runaway=True, warm=warm)
    warnings = []
    limit = None
    ran_off = [n for n, v in zip(GAMMA_GAMMA_PARAMS, params) if abs(np.log(v)) > _RUNAWAY]
    if ran_off and set(ran_off) <= {"q", "gamma"} and params[1] > 1 and params[2] > 1:
        # q, gamma -> infinity with gamma / q fixed: every customer has the same spend scale (no heterogeneity);
        # the fitted values are that limit and E[M | x, m] is the population mean p gamma / (q - 1) for everyone
        limit = "homogeneous"
        warnings.append(Note(
            f"Average spend does not differ between customers beyond chance (q = {params[1]:.3g} and gamma = "
            f"{params[2]:.3g} ran off together): every customer's expected order value is the overall mean, "
            f"{params[0] * params[2] / (params[1] - 1):,.2f}.", "homogeneous_spend", q=float(params[1]),
            gamma=float(params[2]), mean=float(params[0] * params[2] / (params[1] - 1)),
        ))
    elif ran_off:
        _optimise(objective, start, "spend model (Gamma-Gamma)", GAMMA_GAMMA_PARAMS)  # raises, saying why
    if params[1] <= 1:
        raise ClvFitError(
            f"The spend model found q = {params[1]:.2f} <= 1, so average spend has no finite expected "
            "value (a few very large orders dominate). Check for outliers or wholesale orders.",
            code="spend_without_mean", q=float(params[1]),
        )

    if limit:
        se = [float("nan")] * 3
    else:
        se, hessian_warning = _standard_errors(lambda theta: _gamma_gamma_objective(theta, rows)[1], params,
                                               "Gamma-Gamma")
        warnings += hessian_warning
    log_likelihood = _gamma_gamma_objective(params, rows)[0]
    return Fit("gamma_gamma", dict(zip(GAMMA_GAMMA_PARAMS, map(float, params))),
               dict(zip(GAMMA_GAMMA_PARAMS, se)), log_likelihood, customers, iterations, warnings, limit=limit)


def expected_spend(params, x, m) -> np.ndarray:
    """Expected average order value: E[M | x, m] = p (gamma + m x) / (p x + q - 1); the population mean when x = 0."""
    p, q, gamma = _params(params, GAMMA_GAMMA_PARAMS)
    x = np.asarray(x, dtype=float)
    m = np.where(x > 0, np.nan_to_num(np.asarray(m, dtype=float)), 0.0)
    return p * (gamma + m * x) / (p * x + q - 1)


def spend_frequency_correlation(x, m, weights=None) -> float:
    """Pearson correlation of repeat purchases x and average spend m among repeat customers (NaN if undefined)."""
    x, m = np.asarray(x, dtype=float), np.asarray(m, dtype=float)
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float)
    keep = (x > 0) & np.isfinite(m)
    x, m, w = x[keep], m[keep], w[keep]
    if w.sum() < 3 or np.ptp(x) == 0 or np.ptp(m) == 0:
        return float("nan")
    cov = np.cov(x, m, aweights=w)
    return float(cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1]))


# ---------------------------------------------------------------------------------------------
# shared
# ---------------------------------------------------------------------------------------------


def _params(params, names) -> tuple:
    if isinstance(params, Fit):
        params = params.params
    if isinstance(params, dict):
        return tuple(float(params[n]) for n in names)
    return tuple(float(v) for v in params)


def _optimise(objective, start, label: str, names, allow_runaway: bool = False,
              polish: bool = True, warm: bool = False) -> tuple[np.ndarray, int]:
    """Minimise the mean negative log-likelihood in log-parameters; raise ClvFitError if it does not converge.

    allow_runaway: a parameter running off towards 0 or infinity is returned as it stands (the caller
    reports the boundary) instead of raising. polish: finish an interior optimum with Newton steps
    (_newton_polish), so that where the optimiser started (a warm start, a cold one) does not show in
    the result; off where the gradient is expensive. warm: the start is a nearby fit's optimum, so Newton
    steps from it are tried first (with polish), and L-BFGS-B runs only if they do not converge.
    """
    if warm and polish and np.all(np.abs(np.asarray(start)) < _RUNAWAY):
        with np.errstate(all="ignore"):
            theta, converged = _newton_polish(objective, np.asarray(start, dtype=float), objective(start)[0])
        if converged and np.all(np.abs(theta) < _RUNAWAY):
            return np.exp(theta), 0
    bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
    with np.errstate(all="ignore"):
        result = minimize(objective, start, jac=True, method="L-BFGS-B", bounds=bounds,
                          options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
    if not np.all(np.isfinite(result.x)) or not np.isfinite(result.fun):
        raise ClvFitError(f"The {label} did not converge: the likelihood became undefined.",
                          code="likelihood_undefined", model=label)
    runaway = [f"{n} = {v:.3g}" for n, v in zip(names, np.exp(result.x)) if abs(np.log(v)) > _RUNAWAY]
    if runaway and allow_runaway:
        return np.exp(result.x), int(result.nit)
    if runaway:
        raise ClvFitError(
            f"The {label} did not converge: {', '.join(runaway)} ran off towards 0 or infinity, so the data "
            "do not pin the model down. This usually means too short a history or too few repeat customers "
            "(or, for the purchase model, no sign yet of customers dropping out). Try an earlier cut-off "
            "with a longer holdout, or load more history.", code="parameters_ran_off", model=label,
            parameters=", ".join(runaway),
        )
    if not result.success and np.max(np.abs(result.jac)) > 1e-4:
        raise ClvFitError(f"The {label} did not converge after {result.nit} iterations ({result.message}).",
                          code="not_converged", model=label, iterations=int(result.nit), message=str(result.message))
    if polish:
        with np.errstate(all="ignore"):
            return np.exp(_newton_polish(objective, result.x, result.fun)[0]), int(result.nit)
    return np.exp(result.x), int(result.nit)


def _newton_polish(objective, theta: np.ndarray, value: float, steps: int = 8) -> tuple[np.ndarray, bool]:
    """Newton steps from theta (log-parameters): (the point reached, whether it converged).

    L-BFGS-B stops within its tolerance of the optimum at a point that depends on its path (about 1e-6
    relative in a weakly determined parameter); Newton's steps land on the optimum itself (to about 1e-10)
    whatever the start, and from a warm start (a fit at a nearby cut-off) they replace L-BFGS-B. The
    Hessian is a forward difference of the gradient, refreshed while the steps are large. A step is kept
    only if the objective does not rise beyond rounding; otherwise the best point so far is returned.
    """
    k = len(theta)
    gradient, hessian = objective(theta)[1], None
    for _ in range(steps):
        if hessian is None:
            hessian = np.empty((k, k))
            for i in range(k):
                shifted = theta.copy()
                shifted[i] += 1e-6
                hessian[:, i] = (objective(shifted)[1] - gradient) / 1e-6
            hessian = (hessian + hessian.T) / 2
        try:
            np.linalg.cholesky(hessian)
            step = -np.linalg.solve(hessian, gradient)
        except np.linalg.LinAlgError:
            return theta, False
        candidate = theta + step
        if not np.all(np.abs(candidate) <= _LOG_BOUND):
            return theta, False
        new_value, new_gradient = objective(candidate)
        if not np.isfinite(new_value) or new_value > value + 1e-14 * max(abs(value), 1.0):
            return theta, False
        theta, value, gradient = candidate, new_value, new_gradient
        if np.max(np.abs(step)) < 1e-10:
            return theta, True
        if np.max(np.abs(step)) > 1e-4:
            hessian = None  # far from the optimum: the curvature changes, measure it again
    return theta, False


def _standard_errors(gradient, params: np.ndarray, label: str) -> tuple[list[float], list[str]]:
    """Standard errors from the inverse Hessian of the negative log-likelihood in the original parameters.

    The Hessian is the central finite difference of the analytic gradient (relative step 1e-5).
    """
    k = len(params)
    hessian = np.empty((k, k))
    for i in range(k):
        h = 1e-5 * params[i]
        up, down = params.copy(), params.copy()
        up[i] += h
        down[i] -= h
        hessian[:, i] = -(gradient(up) - gradient(down)) / (2 * h)
    hessian = (hessian + hessian.T) / 2
    try:
        covariance = np.linalg.inv(hessian)
        variances = np.diag(covariance)
    except np.linalg.LinAlgError:
        variances = np.full(k, np.nan)
    if not np.all(variances > 0):
        return [float("nan")] * k, [Note(f"{label} standard errors are unavailable: the Hessian is not positive "
                                         "definite.", "no_standard_errors", model=label)]
    return [float(v) for v in np.sqrt(variances)], []

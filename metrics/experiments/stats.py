"""Statistics for strategy tests, computed from per-arm totals (n, sums, sums of squares, products).

Pure Python + numpy/scipy: no DuckDB, no Streamlit. Formulas follow GrowthBook's frequentist
engine (gbstats): Welch t-test on absolute and relative lift, delta method for relative lift and
for ratio metrics, CUPED with theta from the pooled covariance. Definitions: docs/experiments.md.
"""

from dataclasses import dataclass
import math

import numpy as np
from scipy import optimize, stats


# ---- per-arm totals ------------------------------------------------------------------------


@dataclass(frozen=True)
class MeanTotals:
    """Totals of a per-customer value x: n, sum x, sum x^2; sample variance with n - 1."""

    n: int
    sum: float
    sum_sq: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        if self.n <= 1:
            return math.nan
        return max((self.sum_sq - self.sum**2 / self.n) / (self.n - 1), 0.0)

    @property
    def unadjusted_mean(self) -> float:
        return self.mean


@dataclass(frozen=True)
class ProportionTotals:
    """Totals of a 0/1 value: n and number of ones; variance p(1 - p) as in the Wald test."""

    n: int
    sum: float

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n else math.nan

    @property
    def variance(self) -> float:
        p = self.mean
        return p * (1 - p) if self.n else math.nan

    @property
    def unadjusted_mean(self) -> float:
        return self.mean


@dataclass(frozen=True)
class RatioTotals:
    """A ratio of sums (e.g. AOV = revenue / orders) over n customers, variance by the delta method."""

    n: int
    num: MeanTotals
    den: MeanTotals
    sum_product: float  # sum of num_i * den_i

    @property
    def mean(self) -> float:
        return self.num.sum / self.den.sum if self.den.sum else math.nan

    @property
    def covariance(self) -> float:
        return covariance(self.n, self.num.sum, self.den.sum, self.sum_product)

    @property
    def variance(self) -> float:
        """Per-customer variance of the ratio: Var(m)/d^2 - 2 m Cov/d^3 + m^2 Var(d)/d^4 (means m, d)."""
        m, d = self.num.mean, self.den.mean
        if self.n <= 1 or not d:
            return math.nan
        v = self.num.variance / d**2 - 2 * self.covariance * m / d**3 + m**2 * self.den.variance / d**4
        return max(v, 0.0)  # rounding can leave -1e-17 when every order has the same amount

    @property
    def unadjusted_mean(self) -> float:
        return self.mean


@dataclass(frozen=True)
class AdjustedTotals:
    """A CUPED-adjusted mean: post - theta * pre, with the post-pre cross-product for its variance."""

    post: MeanTotals
    pre: MeanTotals
    sum_product: float
    theta: float

    @property
    def n(self) -> int:
        return self.post.n

    @property
    def mean(self) -> float:
        return self.post.mean - self.theta * self.pre.mean

    @property
    def unadjusted_mean(self) -> float:
        return self.post.mean

    @property
    def covariance(self) -> float:
        return covariance(self.n, self.post.sum, self.pre.sum, self.sum_product)

    @property
    def variance(self) -> float:
        """Var(post - theta pre) = Var(post) + theta^2 Var(pre) - 2 theta Cov(post, pre)."""
        if self.n <= 1:
            return math.nan
        v = self.post.variance + self.theta**2 * self.pre.variance - 2 * self.theta * self.covariance
        return max(v, 0.0)


def covariance(n: int, sum_x: float, sum_y: float, sum_xy: float) -> float:
    """Sample covariance (n - 1) from totals."""
    if n <= 1:
        return math.nan
    return (sum_xy - sum_x * sum_y / n) / (n - 1)


def cuped_theta(arms: list[tuple[MeanTotals, MeanTotals, float]]) -> float:
    """theta = Cov(post, pre) / Var(pre) over all arms pooled; arms are (post, pre, sum post*pre)."""
    n = sum(post.n for post, _, _ in arms)
    sum_post = sum(post.sum for post, _, _ in arms)
    pre = MeanTotals(n, sum(p.sum for _, p, _ in arms), sum(p.sum_sq for _, p, _ in arms))
    var_pre = pre.variance
    if not var_pre or math.isnan(var_pre):
        return 0.0
    return covariance(n, sum_post, pre.sum, sum(s for _, _, s in arms)) / var_pre


# ---- comparing a variant with the control -------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Variant vs control: absolute and relative lift, each with a 95% (1 - alpha) CI and p-value."""

    control_mean: float
    variant_mean: float
    abs_lift: float
    abs_se: float
    abs_ci_low: float
    abs_ci_high: float
    abs_p_value: float
    rel_lift: float
    rel_se: float
    ci_low: float  # relative
    ci_high: float
    p_value: float  # of the relative lift, as gbstats reports it
    dof: float
    chance_to_win: float


def welch_dof(var_a: float, n_a: int, var_b: float, n_b: int) -> float:
    """Welch-Satterthwaite degrees of freedom from per-unit variances."""
    a, b = var_a / n_a, var_b / n_b
    denominator = a**2 / (n_a - 1) + b**2 / (n_b - 1)
    return (a + b) ** 2 / denominator if denominator > 0 else math.inf


def _test(estimate: float, se: float, dof: float, alpha: float) -> tuple[float, float, float]:
    """Two-sided p-value and CI of estimate/se against 0, t with dof (normal when dof is inf)."""
    if not se > 0 or math.isnan(estimate):
        return math.nan, math.nan, math.nan
    dist = stats.norm if math.isinf(dof) else stats.t(dof)
    p = 2 * dist.sf(abs(estimate) / se)
    width = dist.ppf(1 - alpha / 2) * se
    return float(p), estimate - width, estimate + width


def compare(control, variant, alpha: float = 0.05, normal: bool | None = None) -> Comparison:
    """Compare two arms (any totals with n, mean, unadjusted_mean and per-unit variance).

    Welch t-test (Satterthwaite dof) on mean metrics; the normal (Wald) test on proportions
    unless `normal` says otherwise. Relative lift = (variant - control) / control, with the
    delta-method variance Var_b / (mu_a^2 n_b) + Var_a mu_b^2 / (mu_a^4 n_a) (unadjusted means).
    """
    n_a, n_b = control.n, variant.n
    mean_a, mean_b = control.mean, variant.mean
    var_a, var_b = control.variance, variant.variance
    if normal is None:
        normal = isinstance(control, ProportionTotals)
    nan = math.nan
    if n_a < 2 or n_b < 2 or math.isnan(mean_a) or math.isnan(mean_b) or math.isnan(var_a) or math.isnan(var_b):
        return Comparison(mean_a, mean_b, mean_b - mean_a, *[nan] * 11)
    dof = math.inf if normal else welch_dof(var_a, n_a, var_b, n_b)
    abs_lift = mean_b - mean_a
    abs_se = math.sqrt(var_a / n_a + var_b / n_b)
    abs_p, abs_low, abs_high = _test(abs_lift, abs_se, dof, alpha)
    base_a, base_b = control.unadjusted_mean, variant.unadjusted_mean
    if base_a:
        rel_lift = abs_lift / base_a
        rel_se = math.sqrt(var_b / (base_a**2 * n_b) + var_a * base_b**2 / (base_a**4 * n_a))
    else:
        rel_lift = rel_se = nan
    p, low, high = _test(rel_lift, rel_se, dof, alpha)
    return Comparison(
        control_mean=mean_a, variant_mean=mean_b,
        abs_lift=abs_lift, abs_se=abs_se, abs_ci_low=abs_low, abs_ci_high=abs_high, abs_p_value=abs_p,
        rel_lift=rel_lift, rel_se=rel_se, ci_low=low, ci_high=high, p_value=p,
        dof=dof, chance_to_win=chance_to_win(rel_lift, rel_se),
    )


def chance_to_win(lift: float, se: float) -> float:
    """P(true lift > 0) under a flat prior and a normal approximation: Phi(lift / se)."""
    if not se > 0 or math.isnan(lift):
        return math.nan
    return float(stats.norm.cdf(lift / se))


# ---- experiment health --------------------------------------------------------------------


def srm_test(counts: list[int], weights: list[float] | None = None) -> tuple[float, float]:
    """Sample-ratio mismatch: chi-square goodness of fit of arm counts vs the expected split; (stat, p)."""
    observed = np.asarray(counts, dtype=float)
    w = np.ones_like(observed) if weights is None else np.asarray(weights, dtype=float)
    if observed.size < 2 or observed.sum() == 0:
        return math.nan, math.nan
    expected = observed.sum() * w / w.sum()
    statistic = float(((observed - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, observed.size - 1))


# ---- multiple comparisons -----------------------------------------------------------------


def holm(p_values: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (NaN stays NaN and is not counted)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def benjamini_hochberg(p_values: list[float]) -> list[float]:
    """Benjamini-Hochberg step-up adjusted p-values (false discovery rate; NaN ignored)."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.size, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    order = idx[np.argsort(p[idx], kind="stable")]
    running = 1.0
    for rank in range(m - 1, -1, -1):
        i = order[rank]
        running = min(running, p[i] * m / (rank + 1))
        out[i] = running
    return out.tolist()


# ---- time to repurchase -------------------------------------------------------------------


def kaplan_meier(times, events, censored, alpha: float = 0.05) -> dict[str, np.ndarray]:
    """Kaplan-Meier survival from an aggregated table: per distinct time, events and censorings.

    Censored at t counts as at risk at t (events come first). Greenwood standard error and a
    plain (linear) CI, clipped to [0, 1].
    """
    t = np.asarray(times, dtype=float)
    d = np.asarray(events, dtype=float)
    c = np.asarray(censored, dtype=float)
    order = np.argsort(t, kind="stable")
    t, d, c = t[order], d[order], c[order]
    at_risk = (d + c)[::-1].cumsum()[::-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(np.where(at_risk > 0, 1 - d / at_risk, 1.0))
        terms = np.where((at_risk > d) & (at_risk > 0), d / (at_risk * (at_risk - d)), 0.0)
        se = survival * np.sqrt(np.cumsum(terms))
    z = stats.norm.ppf(1 - alpha / 2)
    return {
        "time": t, "at_risk": at_risk, "events": d, "censored": c, "survival": survival, "se": se,
        "ci_low": np.clip(survival - z * se, 0, 1), "ci_high": np.clip(survival + z * se, 0, 1),
    }


# ---- planning ------------------------------------------------------------------------------


def power(effect: float, variance: float, n_per_arm: float, alpha: float = 0.05) -> float:
    """Power of a two-sided normal test of a difference `effect` with equal arms of n (both tails)."""
    z = stats.norm.ppf(1 - alpha / 2)
    shift = abs(effect) / math.sqrt(2 * variance / n_per_arm)
    return float(stats.norm.sf(z - shift) + stats.norm.cdf(-z - shift))


def minimum_detectable_effect(variance: float, n_per_arm: float, alpha: float = 0.05, power_: float = 0.8) -> float:
    """Smallest absolute difference detected with the given power, two arms of n_per_arm."""
    se = math.sqrt(2 * variance / n_per_arm)
    upper = (stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power_) + 1) * se
    return float(optimize.brentq(lambda e: power(e, variance, n_per_arm, alpha) - power_, 0.0, upper, xtol=1e-14))


def sample_size(effect: float, variance: float, alpha: float = 0.05, power_: float = 0.8) -> float:
    """Customers per arm (not rounded) to detect an absolute difference `effect` with the given power."""
    if not effect:
        return math.inf
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power_)
    guess = 2 * variance * z**2 / effect**2
    return float(optimize.brentq(lambda n: power(effect, variance, n, alpha) - power_, guess / 2, guess * 2, xtol=1e-10))

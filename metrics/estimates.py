"""Estimates from the orders sample: the Customers and Cohorts pages' figures counted on 1 in n customers (the
store's `orders_sample`: every order of the customers whose key is a multiple of n, and 1 in n guest orders),
stated for every customer, with the margin of error of their main share.

A count or a sum on the sample times n estimates the same count or sum on every order; a share, a rate, an
average or a quartile estimates itself. Estimated counts and sums are rounded to ESTIMATE_DIGITS significant
digits: the sample knows no more. The sample is a random one as far as the figures are concerned (keys are
numbered by first order, then id), so a share of the sample's customers has the simple random sample's
margin: the Wilson score interval at 95% (`share_margin`).
"""

import math

import pandas as pd

from metrics.cohorts import MIN_COHORT_SIZE

ESTIMATE_DIGITS = 3  # significant digits of an estimated count or sum
# per view: its columns that count or sum customers, orders or money (the rest are shares, rates, averages)
COUNT_COLUMNS = {
    "funnel": ("customers",),
    "days_between_orders": ("repeat_orders",),
    "time_to_second_order": ("customers",),
    "rfm_segments": ("customers", "revenue"),
}
KPI_COUNT_COLUMNS = ("orders", "revenue", "customers", "new_customers", "returning_customers", "guest_orders")
COHORT_COUNT_COLUMNS = ("cohort_customers", "active_customers", "revenue")
Z_95 = 1.959964


def estimated_total(sampled: float, one_in: int) -> float:
    """A count or sum on the sample, stated for every customer: times `one_in`, to ESTIMATE_DIGITS significant
    digits."""
    total = float(sampled) * one_in
    if total == 0 or math.isnan(total):
        return total
    return round(total, ESTIMATE_DIGITS - 1 - math.floor(math.log10(abs(total))))


def _scaled(frame: pd.DataFrame | None, columns: tuple[str, ...], one_in: int) -> pd.DataFrame | None:
    if frame is None:
        return None
    scaled = frame.copy()
    for column in columns:
        if column in scaled:
            values = [estimated_total(value, one_in) if pd.notna(value) else value for value in scaled[column]]
            # a count stays a whole number (shown as 384, not 384.0)
            scaled[column] = pd.Series(values, index=scaled.index).astype(scaled[column].dtype) \
                if pd.api.types.is_integer_dtype(scaled[column]) else values
    return scaled


def customer_views_estimate(views: dict, one_in: int) -> dict:
    """The Customers page's views (ui.data: funnel, days between orders, time to the second order, RFM segments,
    due list and count, members and tiers) counted on a sample of 1 in `one_in` customers, stated for every
    customer: counts and sums estimated (`estimated_total`), the rest as counted. The due list names the sample's
    customers only, so it is left empty; its count is estimated."""
    estimate = {name: _scaled(views[name], columns, one_in) for name, columns in COUNT_COLUMNS.items()}
    estimate["due"] = views["due"].iloc[0:0]
    estimate["due_count"] = int(estimated_total(views["due_count"], one_in))
    estimate["members"] = {**views["members"], "table": _scaled(views["members"]["table"], KPI_COUNT_COLUMNS, one_in)}
    estimate["tiers"] = _scaled(views["tiers"], KPI_COUNT_COLUMNS, one_in)
    return estimate


def share_margin(share: float, sampled: int) -> float:
    """The 95% margin of error of a share p of n customers drawn at random: the farther end of its Wilson score
    interval, (p + z²/2n ± z·sqrt(p(1 - p)/n + z²/4n²)) / (1 + z²/n), from p (never 0 points at a share of 0 or 1,
    as 1.96 x sqrt(p(1 - p) / n) would say)."""
    if not sampled:
        return math.nan
    z2 = Z_95 ** 2
    centre = (share + z2 / (2 * sampled)) / (1 + z2 / sampled)
    half = Z_95 * math.sqrt(share * (1 - share) / sampled + z2 / (4 * sampled ** 2)) / (1 + z2 / sampled)
    return max(centre + half - share, share - (centre - half))


def customer_views_note(views: dict, one_in: int) -> dict:
    """What the estimate of the Customers page rests on, from its views counted on the sample: one_in, the
    sampled customers under the filters, the share of them with a second order and its 95% margin."""
    funnel = views["funnel"].set_index("order_number")
    sampled = int(funnel.loc[1, "customers"]) if 1 in funnel.index else 0
    repeat = float(funnel.loc[2, "share_of_customers"]) if 2 in funnel.index else 0.0
    return {"one_in": one_in, "sampled_customers": sampled, "repeat_share": repeat,
            "repeat_margin": share_margin(repeat, sampled)}


def cohort_matrix_estimate(matrix: pd.DataFrame, one_in: int) -> pd.DataFrame:
    """The cohort matrix (metrics.cohorts) counted on a sample of 1 in `one_in` customers, stated for every customer:
    sizes, active customers and revenue estimated, the rates as counted; a cohort is small (flagged, as a cohort
    under MIN_COHORT_SIZE customers is) when fewer than MIN_COHORT_SIZE of its customers were sampled: its rates
    rest on them."""
    estimate = _scaled(matrix, COHORT_COUNT_COLUMNS, one_in)
    estimate["small_cohort"] = matrix["cohort_customers"] < MIN_COHORT_SIZE
    return estimate


def cohort_matrix_note(matrix: pd.DataFrame, one_in: int) -> dict:
    """What the estimate of the cohort matrix rests on, from the matrix counted on the sample: one_in, the sampled
    customers under the filters, the fewest sampled in a cohort not flagged small, and the 95% margin of a
    retention rate there at its widest (a rate of 50%)."""
    sizes = matrix.loc[matrix["age"] == 0, "cohort_customers"]
    shown = sizes[sizes >= MIN_COHORT_SIZE]
    fewest = int(shown.min()) if len(shown) else 0
    return {"one_in": one_in, "sampled_customers": int(sizes.sum()), "fewest_in_a_cohort": fewest,
            "retention_margin": share_margin(0.5, fewest)}

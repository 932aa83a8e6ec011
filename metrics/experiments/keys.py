"""The strategy tests' keys: metric names and kinds, strategy tags, control-arm names, the refusal.

Keys only: the words for them (English and Chinese) are in ui/strategy_words.py.
"""

CONTROL_NAMES = ("control", "ctrl", "baseline", "对照", "对照组", "a")
METRICS = {  # metric -> kind (how its per-arm totals compare)
    "repurchased": "proportion",
    "orders": "mean",
    "revenue": "mean",
    "aov": "ratio",
    "margin": "mean",
}
STRATEGIES = {  # tag as written in an assignments file -> the strategy's canonical tag
    "points_tiers": "points_tiers",
    "personalised_offers": "personalised_offers",
    "personalized_offers": "personalised_offers",
    "new_products": "new_products",
    "seasonal_products": "new_products",
    "service_followup": "service_followup",
    "community": "community",
    "bundles": "bundles",
    "cross_category_bundles": "bundles",
    "subscription": "subscription",
    "subscriptions": "subscription",
}
STRATEGY_TAGS = tuple(dict.fromkeys(STRATEGIES.values()))  # one tag per strategy, the article's order
TOTAL_KEYS = ("n", "sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy", "sum_d", "sum_d2", "sum_yd")


class ExperimentError(ValueError):
    """A strategy test that cannot be analysed; the message says why in plain words."""


def canonical_strategy(tag) -> str | None:
    """The canonical tag of a strategy tag as written (case, spaces, hyphens and aliases forgiven);
    None for a missing or unknown tag."""
    if not isinstance(tag, str) or not tag.strip():  # missing tags arrive as None or NaN
        return None
    return STRATEGIES.get(tag.strip().lower().replace(" ", "_").replace("-", "_"))

"""Every metric's key and kind, and the English name the command line prints.

`kind` says how a number is shown and how its change is measured: rates change in
percentage points, everything else as a relative change. The screens' words for each key (name and
one-line definition, in English and Chinese) live in ui/words/metrics.py; docs/metrics.md holds the
formulas.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str
    name: str  # English, for `python -m metrics summary` (the screens word the key in ui/)
    kind: str  # count, money, rate, ratio, days


KPIS = [
    Definition("orders", "Orders", "count"),
    Definition("revenue", "Revenue", "money"),
    Definition("customers", "Customers", "count"),
    Definition("new_customers", "New customers", "count"),
    Definition("returning_customers", "Returning customers", "count"),
    Definition("repurchase_rate", "Repurchase rate", "rate"),
    Definition("repeat_rate", "Repeat rate within period", "rate"),
    Definition("frequency", "Purchase frequency", "ratio"),
    Definition("annual_frequency", "Annual frequency", "ratio"),
    Definition("aov", "AOV", "money"),
    Definition("revenue_per_customer", "Revenue per customer", "money"),
    Definition("guest_orders", "Guest orders", "count"),
]

COHORTS = [
    Definition("retention", "Customer retention", "rate"),
    Definition("revenue_retention", "Revenue retention", "rate"),
    Definition("cumulative_revenue_per_customer", "Cumulative revenue per customer (historical LTV)", "money"),
]

CUSTOMERS = [
    Definition("reach_order_n", "Reached order n", "rate"),
    Definition("days_between_orders", "Days between orders", "days"),
    Definition("frequency_multiple", "Member frequency multiple", "ratio"),
    Definition("due_for_repurchase", "Due for repurchase", "count"),
    Definition("rfm", "RFM segment", "count"),
]

ALL = {d.key: d for d in [*KPIS, *COHORTS, *CUSTOMERS]}
RATES = tuple(d.key for d in KPIS if d.kind == "rate")

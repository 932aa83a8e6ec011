"""Global filters (date range, member tier, channel, region, category), applied the same way to
every metric: they select the valid orders that metrics count. Values reach SQL as bound
parameters only. Metrics and screens import them as `metrics.filters`.
"""

from dataclasses import dataclass
from datetime import date

DIMENSIONS = ("member_tier", "channel", "region", "category")


@dataclass(frozen=True)
class Filters:
    """Which orders count: order date in [start, end] and dimension values in the given sets."""

    start: date | None = None
    end: date | None = None  # inclusive
    member_tier: tuple[str, ...] = ()
    channel: tuple[str, ...] = ()
    region: tuple[str, ...] = ()
    category: tuple[str, ...] = ()

    def dimension_values(self) -> dict[str, tuple[str, ...]]:
        return {d: getattr(self, d) for d in DIMENSIONS if getattr(self, d)}

    def where(self, alias: str = "orders", dates: bool = True) -> tuple[str, dict]:
        """SQL condition on valid orders plus its parameters, e.g. ('o.is_valid and o.channel in ...', {...})."""
        conditions = [f"{alias}.is_valid"]
        params: dict = {}
        if dates and self.start:
            conditions.append(f"{alias}.order_date >= $filter_start")
            params["filter_start"] = self.start
        if dates and self.end:
            conditions.append(f"{alias}.order_date <= $filter_end")
            params["filter_end"] = self.end
        for dimension, values in self.dimension_values().items():
            names = [f"filter_{dimension}_{i}" for i in range(len(values))]
            conditions.append(f"{alias}.{dimension} in ({', '.join('$' + n for n in names)})")
            params.update(zip(names, values))
        return " and ".join(conditions), params

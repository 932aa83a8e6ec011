"""The sidebar's date range: the quick ranges it offers, and which dates filter at all.

A quick range is the last N whole months up to the latest full month, the month the Overview and the
Customers page's tables describe: one click in a meeting ("the last six months"), and a range the
store's warm-up works out ahead at 100M orders (`ui.data._warm_quick_ranges`), where a first view of
the Customers page under a date range nobody asked for takes 10-20 s (bench/README.md).
"""

from datetime import date, timedelta

QUICK_MONTHS = (3, 6, 12)  # the quick ranges offered: the last N whole months


def data_days(facts: dict) -> tuple[date | None, date | None]:
    """The data's first and last order days, from a store inventory (`metrics.inventory.store_inventory`)."""
    first, last = facts["first_order"], facts["last_order"]
    return (first.date() if first is not None else None, last.date() if last is not None else None)


def _month_start(month: date, shift: int) -> date:
    """The first day of the month `shift` months after `month`'s (before it when negative)."""
    year, index = divmod(month.year * 12 + month.month - 1 + shift, 12)
    return date(year, index + 1, 1)


def quick_ranges(latest_full_month: date | None, first: date | None, last: date | None) -> dict[int, tuple[date, date]]:
    """{N: (first day, last day)} of the last N whole months ending with `latest_full_month`, for each N of
    QUICK_MONTHS whose range narrows the data's (`first` to `last`) unlike a shorter one's (in a store of four
    months, the last 6 and 12 months are its 3 months: offered once)."""
    if latest_full_month is None or first is None or last is None:
        return {}
    end = _month_start(latest_full_month, 1) - timedelta(days=1)
    if end < first:  # no full month yet (a few weeks of orders): the ranges would hold none
        return {}
    ranges, filters_seen = {}, {(None, None)}
    for months in QUICK_MONTHS:
        start = _month_start(latest_full_month, 1 - months)
        filters = date_filters(start, end, first, last)
        if filters not in filters_seen:
            ranges[months] = (start, end)
            filters_seen.add(filters)
    return ranges


def date_filters(start, end, first: date | None, last: date | None) -> tuple[date | None, date | None]:
    """The sidebar's dates as the filter's start and end: None for a date that does not narrow the data's
    range (so the default view reads the summaries; counted from the orders it took a minute at 100M orders);
    dates in the wrong order swapped."""
    if isinstance(start, date) and isinstance(end, date) and start > end:
        start, end = end, start
    return (start if isinstance(start, date) and (first is None or start > first) else None,
            end if isinstance(end, date) and (last is None or end < last) else None)


def quick_range_shown(ranges: dict[int, tuple[date, date]], start, end, first: date | None,
                      last: date | None) -> int | None:
    """The quick range the sidebar's dates make (so a shared link shows its range chosen), else None."""
    shown = date_filters(start, end, first, last)
    return next((months for months, (s, e) in ranges.items() if date_filters(s, e, first, last) == shown), None)

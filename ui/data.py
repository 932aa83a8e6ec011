"""Cached access to the store for the pages: the seam between Streamlit and `metrics`.

Every cached result is keyed by the store folder and its manifest version (plus the filters), so
an upload or a removed batch invalidates exactly the results of the previous version. A store
version is immutable, so a cached result can never go stale.
"""

import hashlib
import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pyarrow as pa
import streamlit as st

from ingest import period_values
from metrics import clv, clv_views, cohorts, due, estimates, experiments, kpis, launch, narrative, segments
from metrics import customer_facts
from metrics import customer_views as customer_views_metrics
from metrics import inventory as inventory_metrics
from metrics import playbook as playbook_metrics
from metrics.filters import DIMENSIONS, Filters
from store import NoSample, Store, default_store_dir, sample_one_in
from store import launches as saved_launch_file
from ui import date_ranges
from ui import kept_results as kept

CACHE = {"show_spinner": False, "max_entries": 64}
T = TypeVar("T")


def current_store() -> Store:
    """The store at $REPURCHASE_STORE or data/store, read afresh on every run (a path, no state)."""
    return Store(default_store_dir())


def store_version(store: Store) -> int:
    return store.manifest()["version"]


def _run(root: str, version: int, compute: Callable, *args, **kwargs):
    """compute(con, ...) on exactly store version `version` (StoreChanged if it is gone), so a
    cached result keyed by version always holds that version's numbers."""
    con = Store(root).connect(version)
    try:
        return compute(con, *args, **kwargs)
    finally:
        con.close()


@st.cache_data(**CACHE)
def inventory(root: str, version: int) -> dict:
    """Row counts and date range of the store at `root`, version `version`."""
    return _run(root, version, inventory_metrics.store_inventory)


@st.cache_data(**CACHE)
def dimension_values(root: str, version: int) -> dict[str, list[str]]:
    return _run(root, version, inventory_metrics.dimension_values)


@st.cache_data(show_spinner=False, max_entries=32)
def order_column_values(root: str, version: int, column: str, start: date, end: date) -> list[str]:
    """Values of orders.<column> in the period, most customers first (a derived experiment's variants)."""
    return [value for value, _ in _run(root, version, period_values, column, start, end)]


@st.cache_data(**CACHE)
def latest_full_month(root: str, version: int) -> date | None:
    return _run(root, version, kpis.latest_full_month)


@st.cache_data(**CACHE)
def kpi_table(root: str, version: int, filters: Filters, grain: str = "month", by: str | None = None) -> pd.DataFrame:
    """The KPI table; under a filter kept per store version and request (`_kept_filtered`)."""
    return _kpi_table(root, version, filters, grain, by)


def _kpi_table(root: str, version: int, filters: Filters, grain: str = "month", by: str | None = None) -> pd.DataFrame:
    return _kept_filtered(root, version, "kpi_table", filters, lambda con: kpis.kpi_table(con, filters, grain, by),
                          grain=grain, by=by)


def default_month(periods: pd.Series, latest_full: date | None) -> date | None:
    """The Overview's month when the link names none: the latest full month if the table has it, else the
    table's last period (None for an empty table)."""
    months = pd.to_datetime(pd.Series(periods)).dt.date.tolist()
    if latest_full in months:
        return latest_full
    return max(months) if months else None


@st.cache_data(**CACHE)
def cohort_matrix(root: str, version: int, filters: Filters) -> pd.DataFrame:
    """The cohort matrix; under a filter kept per store version and request (`_kept_filtered`)."""
    return _cohort_matrix(root, version, filters)


def _cohort_matrix(root: str, version: int, filters: Filters) -> pd.DataFrame:
    return _kept_filtered(root, version, "cohort_matrix", filters, lambda con: cohorts.cohort_matrix(con, filters))


ROWS_SHOWN = 500  # a customer list on screen: a page's worth; the downloads hold every customer


@st.cache_data(**CACHE)
def customers_month(root: str, version: int, filters: Filters) -> date | None:
    """The month the Customers page's member and tier tables describe: the latest full month, or the filter's
    last month when the filter ends before it."""
    month = latest_full_month(root, version)
    return filters.end.replace(day=1) if filters.end and month and filters.end < month else month


@st.cache_data(**CACHE)
def customer_views(root: str, version: int, filters: Filters, month: date | None) -> dict:
    """The Customers page's results: per customer (funnel, days between orders, time to the second order, RFM
    segments, the ROWS_SHOWN most valuable customers due and how many are due), counted on one connection
    (under a filter each kept customer's orders once for all of them: metrics.customer_facts), then members
    vs non-members and the member tiers in `month` (tiers None without members). Unfiltered they are read
    from summaries; under a filter (4-22 s at 100M orders) they are worked out once per store version,
    filter set and month and kept in the version's results folder, so a later view in any process (a
    meeting reopening a shared link) reads them."""
    return _customer_views(root, version, filters, month)


def _customer_views(root: str, version: int, filters: Filters, month: date | None) -> dict:
    return _kept_filtered(root, version, "customers", filters, lambda con: _customer_page_views(con, filters, month),
                          month=month)


# ---- a large store's first view of a filter set: the sample's estimate while the exact count runs --------------

# valid orders from which a filtered Customers page nobody has asked for yet shows the orders sample's estimate
# first: 3 s and more for the exact count above it, 15-20 s at 100M orders (bench/README.md); below it the sample
# is too small for a useful estimate (1 in 128 customers). A faster machine may set it higher (README.md).
ESTIMATE_FROM_ORDERS_ENV = "REPURCHASE_ESTIMATE_FROM_ORDERS"
_SETTING = os.environ.get(ESTIMATE_FROM_ORDERS_ENV) or "20000000"
if not _SETTING.replace("_", "").isdigit():
    raise ValueError(f"{ESTIMATE_FROM_ORDERS_ENV}={_SETTING!r}: give a whole number of valid orders, e.g. 20000000")
ESTIMATE_FROM_ORDERS = int(_SETTING.replace("_", ""))
ESTIMATE_MIN_CUSTOMERS = 400  # sampled customers under the filters an estimate needs: a share within 5 points
EXACT_COUNT_CHECK_SECONDS = 2  # how often a page drawn from an estimate checks whether the exact count is ready
_EXACT_COUNTS: dict[tuple, str] = {}  # (root, version, request) -> "waiting", "counting" or "done"
_EXACT_COUNTS_LOCK = threading.Condition()
_EXACT_COUNTS_WAITING: list[tuple[tuple, Callable[[], None]]] = []


def _exact_counter() -> None:
    """One exact count at a time (each may hold DuckDB's 4 GB), the one asked last first: a user trying filter sets
    one after another waits for the one on screen, not for those left behind. A daemon: a server that stops
    abandons the count under way (a kept result is moved into place whole, so nothing half-written is read)."""
    while True:
        with _EXACT_COUNTS_LOCK:
            while not _EXACT_COUNTS_WAITING:
                _EXACT_COUNTS_LOCK.wait()
            key, count = _EXACT_COUNTS_WAITING.pop()
            _EXACT_COUNTS[key] = "counting"
        try:
            count()
        except Exception:  # noqa: BLE001 - the page counts it itself when it looks again, and says why
            logging.getLogger(__name__).exception("the exact count of %s failed", key[2])
        with _EXACT_COUNTS_LOCK:
            _EXACT_COUNTS[key] = "done"
            _EXACT_COUNTS_LOCK.notify_all()


threading.Thread(target=_exact_counter, name="exact-counts", daemon=True).start()


def wait_for_exact_counts(timeout: float | None = None) -> bool:
    """Until every exact count asked for in this process has ended (tests, the benchmark): whether they all have."""
    with _EXACT_COUNTS_LOCK:
        return _EXACT_COUNTS_LOCK.wait_for(lambda: all(state == "done" for state in _EXACT_COUNTS.values()), timeout)


def customer_views_now(root: str, version: int, filters: Filters, month: date | None) -> tuple[dict, dict | None]:
    """(views, None): the Customers page's `customer_views`, when kept, unfiltered, or in a store under
    ESTIMATE_FROM_ORDERS valid orders. Otherwise (estimated views, note): the same views counted on the orders
    sample and stated for every customer (metrics.estimates), in under a second at 100M orders, while the exact
    count runs in the background and is kept (`exact_count_ready` says when the page can show it)."""
    return _estimate_first(root, version, "customers", filters, {"month": month},
                           lambda: customer_views(root, version, filters, month),
                           lambda: _estimated_customer_views(root, version, filters, month))


OVERVIEW_TABLE = {"grain": "month", "by": None}  # the Overview's KPI table: its request's arguments when kept


def kpi_table_now(root: str, version: int, filters: Filters) -> tuple[pd.DataFrame, bool]:
    """(table, False): the Overview's `kpi_table`, when kept, unfiltered, answered by kpi_base, or in a store under
    ESTIMATE_FROM_ORDERS valid orders. Otherwise (the table without its annual frequency, True): every other KPI
    exact at once (under a second at 100M orders), while the annual frequency's trailing-year customers (1-8 s) are
    counted in the background and the whole table kept (`exact_count_ready` with kind "kpi_table" says when)."""
    if not _estimating(root, version, "kpi_table", filters, OVERVIEW_TABLE) \
            or not _run(root, version, kpis.counts_each_customer, filters):
        return kpi_table(root, version, filters), False
    _count_exactly(root, version, "kpi_table", filters, OVERVIEW_TABLE)
    return _kpi_table_without_annual_frequency(root, version, filters), True


@st.cache_data(**CACHE)
def _kpi_table_without_annual_frequency(root: str, version: int, filters: Filters) -> pd.DataFrame:
    return _run(root, version, lambda con: kpis.kpi_table(con, filters, annual_frequency=False))


def cohort_matrix_now(root: str, version: int, filters: Filters) -> tuple[pd.DataFrame, dict | None]:
    """(matrix, None): the Cohorts page's `cohort_matrix`, when kept, unfiltered, or in a store under
    ESTIMATE_FROM_ORDERS valid orders, or a date range alone (its summary answers in a fraction of a second).
    Otherwise (estimated matrix, note), as `customer_views_now` does."""
    if not filters.dimension_values():
        return cohort_matrix(root, version, filters), None
    # no cohort sampled enough to show its rates: as too few sampled, their count is quicker
    return _estimate_first(root, version, "cohort_matrix", filters, {}, lambda: cohort_matrix(root, version, filters),
                           lambda: _estimated_cohort_matrix(root, version, filters),
                           lambda note: note["fewest_in_a_cohort"] > 0)


def _estimate_first(root: str, version: int, kind: str, filters: Filters, arguments: dict, exact: Callable[[], T],
                    estimated: Callable[[], tuple[T, dict]],
                    shows_enough: Callable[[dict], bool] = lambda note: True) -> tuple[T, dict | None]:
    """(exact(), None), or while `kind`'s exact figures are neither kept nor counted (`_estimating`) the estimate
    and its note (`estimated()`), with the exact count started in the background. Exact all the same without a
    sample (its late table not built yet), or with too few customers sampled to say much (fewer than
    ESTIMATE_MIN_CUSTOMERS, or not `shows_enough(note)`): their count is quicker."""
    if not _estimating(root, version, kind, filters, arguments):
        return exact(), None
    try:
        estimate = estimated()
    except NoSample:
        return exact(), None
    if estimate[1]["sampled_customers"] < ESTIMATE_MIN_CUSTOMERS or not shows_enough(estimate[1]):
        return exact(), None
    _count_exactly(root, version, kind, filters, arguments)
    return estimate


def exact_count_ready(root: str, version: int, kind: str, filters: Filters, **arguments) -> bool:
    """Whether a page's exact figures (`kind`: customers with its month, cohort_matrix, kpi_table with its grain and
    breakdown) under `filters` can be shown
    (kept, or their count has ended: a store that keeps nothing, or a count that failed, is counted by the page
    itself, which says why)."""
    return not _estimating(root, version, kind, filters, arguments)


def _estimating(root: str, version: int, kind: str, filters: Filters, arguments: dict) -> bool:
    """Whether a page shows `kind`'s estimate now: a filtered request on a large store, neither kept nor counted."""
    if filters == Filters() or inventory(root, version)["valid_orders"] < ESTIMATE_FROM_ORDERS:
        return False
    path = _kept_request_path(root, version, kind, filters, arguments)
    # a store that keeps nothing (read-only) would count twice: in the background, then on the page
    if path is None or path.exists() or not os.access(path.parents[3], os.W_OK):
        return False
    with _EXACT_COUNTS_LOCK:
        return _EXACT_COUNTS.get(_count_key(root, version, kind, filters, arguments)) != "done"


def _count_key(root: str, version: int, kind: str, filters: Filters, arguments: dict) -> tuple:
    return root, version, _request(kind, filters, **arguments)[1]


def _count_exactly(root: str, version: int, kind: str, filters: Filters, arguments: dict) -> None:
    """`kind`'s exact figures worked out and kept in the background (`_work_out`), once per process."""
    key = _count_key(root, version, kind, filters, arguments)

    def count() -> None:
        _wait_for_writer(root)  # as the warm-up does: an upload being written (its import, its late tables) first
        if store_version(Store(root)) == version:  # a newer upload: nobody will look at this version's figures
            _work_out(root, version, kind, filters, arguments)

    with _EXACT_COUNTS_LOCK:
        if key not in _EXACT_COUNTS:
            _EXACT_COUNTS[key] = "waiting"
            _EXACT_COUNTS_WAITING.append((key, count))
            _EXACT_COUNTS_LOCK.notify_all()


@st.cache_data(**CACHE)
def _estimated_customer_views(root: str, version: int, filters: Filters, month: date | None) -> tuple[dict, dict]:
    # the sample's last orders are 1 in 128: its customers' days since their last order count to the day the
    # exact figures count to (an end on that day keeps the same orders)
    counted_to = replace(filters, end=_run(root, version, customer_facts.kept_last_day, filters))
    views, one_in = _run_on_sample(root, version, _customer_page_views, counted_to, month)
    return estimates.customer_views_estimate(views, one_in), estimates.customer_views_note(views, one_in)


@st.cache_data(**CACHE)
def _estimated_cohort_matrix(root: str, version: int, filters: Filters) -> tuple[pd.DataFrame, dict]:
    matrix, one_in = _run_on_sample(root, version, cohorts.cohort_matrix, filters)
    return estimates.cohort_matrix_estimate(matrix, one_in), estimates.cohort_matrix_note(matrix, one_in)


def _run_on_sample(root: str, version: int, compute: Callable, *args) -> tuple:
    """(compute(con, *args), the share sampled) on store version `version`'s orders sample, as `_run` on every order
    (NoSample without one)."""
    con = Store(root).connect(version, sample=True)
    try:
        return compute(con, *args), sample_one_in(con)
    finally:
        con.close()


def _customer_page_views(con, filters: Filters, month: date | None) -> dict:
    views = customer_views_metrics.customer_views(con, filters, ROWS_SHOWN)
    members = segments.members_vs_non_members(con, month, filters)
    # no membership column (or every tier empty/none): no members, so no tier table
    has_members = "member" in set(members["table"]["segment"])
    tiers = segments.segment_kpis(con, "member_tier", month, filters) if has_members else None
    return {**views, "members": members, "tiers": tiers}


# ---- filtered requests, kept per store version -----------------------------------------------------------

FILTERED_KEPT = "filtered"  # the results folder's sub-folder of kept filtered requests
CARRIED_REQUESTS = 24  # the warm-up works out again this many requests last viewed on the versions before


def _kept_filtered(root: str, version: int, kind: str, filters: Filters, compute: Callable, **arguments):
    """compute(con) on store version `version`: unfiltered at once (summaries answer in a fraction of a second);
    under a filter (seconds at 100M orders: docs/architecture.md) worked out once per store version and request
    and kept in the version's results folder, so a later view in any process (a meeting reopening a shared
    link) reads it. The request (kind, filter set, `arguments`) is kept beside the result, and the time it was
    last viewed (outside a warm-up): the next version's warm-up carries those viewed last (`_warm_filtered`)."""
    if filters == Filters():
        return _run(root, version, compute)
    request, name = _request(kind, filters, **arguments)

    def kept_result(con):
        result = _kept_views(root, version, name, lambda: {"result": compute(con), "request": request})["result"]
        path = kept.kept_path(root, version, name)
        if path is not None:
            kept.viewed(path / "views.json")  # read, worked out, or shared with a warm-up working it out
        return result
    return _run(root, version, kept_result)


def _request(kind: str, filters: Filters, **arguments) -> tuple[dict, str]:
    """A filtered request as JSON values, and the name it is kept under in a version's results folder: the
    request's digest (the filter values are the shop's text)."""
    request = {"kind": kind, "filters": _filters_as_json(filters),
               **{name: value.isoformat() if isinstance(value, date) else value for name, value in arguments.items()}}
    digest = hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()[:32]
    return request, f"{FILTERED_KEPT}/{kind}-{digest}"


def _filters_as_json(filters: Filters) -> dict:
    """A filter set as JSON values: dates as ISO text, each dimension's values sorted (the same set, one digest)."""
    return {"start": filters.start and filters.start.isoformat(), "end": filters.end and filters.end.isoformat(),
            **{dimension: sorted(getattr(filters, dimension)) for dimension in DIMENSIONS}}


def _filters_from_json(kept_filters: dict) -> Filters:
    return Filters(start=kept_filters["start"] and date.fromisoformat(kept_filters["start"]),
                   end=kept_filters["end"] and date.fromisoformat(kept_filters["end"]),
                   **{dimension: tuple(kept_filters[dimension]) for dimension in DIMENSIONS})


EARLIER_VERSIONS_READ = 3  # the versions before this one whose viewed requests the warm-up carries over


def _warm_filtered(root: str, version: int) -> None:
    """The filtered requests viewed on the versions before this one (a monthly meeting's saved links: two uploads
    in a row leave the one before unviewed), the CARRIED_REQUESTS most recently viewed, worked out and kept for
    this version, each keeping the time it was last viewed (a request nobody views again drops out): the same
    filter sets, the KPI table's grain and breakdown; the biggest move and the Customers page's month as the
    pages default to them."""
    for viewed, request in _viewed_requests(root, version)[:CARRIED_REQUESTS]:
        if store_version(Store(root)) != version:  # a newer upload: its own warm-up does the work
            return
        kind, filters = request["kind"], _filters_from_json(request["filters"])
        try:
            with kept.ahead():
                arguments = _as_asked_now(root, version, kind, filters, request.get("grain"), request.get("by"))
                if arguments is None:
                    continue
                _work_out(root, version, kind, filters, arguments)
        except Exception:  # noqa: BLE001 - the page works it out when opened; the other requests go on
            logging.getLogger(__name__).exception("warm-up of store version %s: a kept request failed", version)
            continue
        path = _kept_request_path(root, version, kind, filters, arguments)
        if path is not None:
            kept.mark_viewed(path / "views.json", viewed)  # unless viewed since on this version


ANTICIPATED_VALUES = 12  # per filter dimension: its values with most orders, each alone, worked out ahead
# below this many valid orders a filtered first view takes under a second (bench/README.md): nothing to gain
ANTICIPATED_FROM_ORDERS = 1_000_000
PAGE_REQUESTS = ("kpi_table", "biggest_move", "cohort_matrix", "customers")  # as the Overview, Cohorts, Customers ask


def _warm_quick_ranges(root: str, version: int) -> None:
    """The sidebar's quick ranges (the last 3, 6, 12 whole months: ui.date_ranges), each alone: the Overview's,
    Cohorts' and Customers pages' requests worked out and kept in a store of ANTICIPATED_FROM_ORDERS valid
    orders or more, as never viewed (the Customers page under six months took 15 s at 100M orders)."""
    facts = _run(root, version, inventory_metrics.store_inventory)
    if facts["valid_orders"] < ANTICIPATED_FROM_ORDERS:
        return
    first, last = date_ranges.data_days(facts)
    for start, end in date_ranges.quick_ranges(latest_full_month(root, version), first, last).values():
        start, end = date_ranges.date_filters(start, end, first, last)
        if not _anticipate_requests(root, version, Filters(start=start, end=end)):
            return


def _anticipate_requests(root: str, version: int, filters: Filters) -> bool:
    """The pages' requests (PAGE_REQUESTS) under `filters`, each worked out and kept unless kept already:
    False when there is no use going on (a newer upload, or a store that keeps nothing)."""
    for kind in PAGE_REQUESTS:
        if store_version(Store(root)) != version:  # a newer upload: its own warm-up does the work
            return False
        try:
            with kept.ahead():
                if _anticipate(root, version, kind, filters) is False:
                    return False  # a store that keeps nothing (read-only): each page view would count again
        except Exception:  # noqa: BLE001 - the page works it out when opened; the other requests go on
            logging.getLogger(__name__).exception("warm-up of store version %s: a request failed", version)
    return True


def _warm_single_values(root: str, version: int) -> None:
    """Each filter value alone, the sidebar's usual first choice (one channel, one region): for the
    ANTICIPATED_VALUES values of each dimension with most orders, most orders first, the Overview's, Cohorts'
    and Customers pages' requests worked out and kept (4-22 s each at 100M orders: the first view then reads
    them), in the warm-up as never viewed, in a store of ANTICIPATED_FROM_ORDERS valid orders or more. A
    request already kept (viewed, or carried) is left as it is."""
    if _run(root, version, inventory_metrics.store_inventory)["valid_orders"] < ANTICIPATED_FROM_ORDERS:
        return
    taken: dict[str, int] = {}
    for dimension, value in _run(root, version, inventory_metrics.dimension_values_by_orders):
        taken[dimension] = taken.get(dimension, 0) + 1
        if taken[dimension] > ANTICIPATED_VALUES:
            continue
        if not _anticipate_requests(root, version, Filters(**{dimension: (value,)})):
            return


def _anticipate(root: str, version: int, kind: str, filters: Filters) -> bool | None:
    """The request as the page asks it by default, worked out and kept unless kept already: whether it could
    be kept (None: nothing to do)."""
    arguments = _as_asked_now(root, version, kind, filters)
    path = arguments is not None and _kept_request_path(root, version, kind, filters, arguments)
    if not path or path.exists():
        return None
    _work_out(root, version, kind, filters, arguments)
    return path.exists()


def _viewed_requests(root: str, version: int) -> list[tuple[float, dict]]:
    """(time last viewed, request) of the filtered requests viewed on the EARLIER_VERSIONS_READ versions before
    `version` (those worked out ahead and never viewed passed over), most recent first, each once as the next
    version asks it (the biggest moves of several months are one request: this version's default month)."""
    found = [kept_value for earlier in range(version - 1, max(version - 1 - EARLIER_VERSIONS_READ, 0), -1)
             for kept_value in kept.kept_values_under(root, earlier, FILTERED_KEPT, "request")
             if kept_value[0] > kept.NEVER_VIEWED]
    viewed, seen = [], set()
    for when, request in sorted(found, key=lambda kept_value: kept_value[0], reverse=True):
        asked = json.dumps({key: value for key, value in request.items() if key != "month"}, sort_keys=True)
        if asked not in seen:
            seen.add(asked)
            viewed.append((when, request))
    return viewed


def _as_asked_now(root: str, version: int, kind: str, filters: Filters, grain: str | None = None,
                  by: str | None = None) -> dict | None:
    """A request's arguments as this version's pages ask it: the KPI table's `grain` (default month) and `by`;
    the biggest move's and the Customers page's month as the pages default to it (None: no month to show)."""
    if kind == "kpi_table":
        return {"grain": grain or "month", "by": by}
    if kind == "cohort_matrix":
        return {}
    if kind == "biggest_move":
        month = default_month(_kpi_table(root, version, filters)["period"], latest_full_month(root, version))
        return month and {"month": month}
    return {"month": customers_month(root, version, filters)}


def _kept_request_path(root: str, version: int, kind: str, filters: Filters, arguments: dict) -> Path | None:
    return kept.kept_path(root, version, _request(kind, filters, **arguments)[1])


def _work_out(root: str, version: int, kind: str, filters: Filters, arguments: dict) -> None:
    """The request worked out and kept on this version (read, when kept already). Not through Streamlit's memory
    cache: a page's first view then reads it from disk, which records the view."""
    if kind == "kpi_table":
        _kpi_table(root, version, filters, **arguments)
    elif kind == "cohort_matrix":
        _cohort_matrix(root, version, filters)
    elif kind == "biggest_move":
        _biggest_move(root, version, arguments["month"], filters)
    else:
        _customer_views(root, version, filters, arguments["month"])


def every_customer_due(root: str, version: int, filters: Filters) -> pd.DataFrame:
    """Every customer due for repurchase, for a download made on click: not cached, as it can hold millions."""
    return _run(root, version, due.due_for_repurchase, filters)


@st.cache_data(**CACHE)
def biggest_move(root: str, version: int, month: date, filters: Filters) -> dict | None:
    """The month's biggest move and what drove it; under a filter kept per store version and request."""
    return _biggest_move(root, version, month, filters)


def _biggest_move(root: str, version: int, month: date, filters: Filters) -> dict | None:
    def move(con):
        return narrative.biggest_move(con, month, filters, _kept_month_row(root, version, month, filters))
    return _kept_filtered(root, version, "biggest_move", filters, move, month=month)


def _kept_month_row(root: str, version: int, month: date, filters: Filters) -> dict | None:
    """The month's row of the KPI table under `filters` when that table is kept (the Overview asks for it first), or
    while its annual frequency is counted (`kpi_table_now`), of the table without it: at 100M orders under two
    filters, counting the month's row again took 0.4-0.9 s. None otherwise (unfiltered, a read-only store, a
    carried sentence without its table): the move counts the month's row itself."""
    path = _kept_request_path(root, version, "kpi_table", filters, OVERVIEW_TABLE)
    if path is not None and (path / "views.json").exists():
        return kpis.month_row(_kpi_table(root, version, filters), month)
    with _EXACT_COUNTS_LOCK:
        counting = _count_key(root, version, "kpi_table", filters, OVERVIEW_TABLE) in _EXACT_COUNTS
    return kpis.month_row(_kpi_table_without_annual_frequency(root, version, filters), month) if counting else None


# ---- strategy tests and customer value ---------------------------------------------------------


@st.cache_data(**CACHE)
def experiment_names(root: str, version: int) -> pd.DataFrame:
    return _run(root, version, experiments.list_experiments)


# the Strategy tests page's first view: 60-day window, decided on margin at 30%, no CUPED, no cap
STRATEGY_DEFAULTS = {"window_days": 60, "decision_metric": "margin", "cuped_days": None, "cap_percentile": None,
                     "margin": 0.3}


@st.cache_data(**CACHE)
def strategy_overview(root: str, version: int, window_days: int, **options) -> dict:
    """Every strategy test's report, the scorecard and the list of tests for this window and these options:
    worked out once per store version and setting, and kept in the version's results folder (the warm-up
    keeps the page's default setting after an upload)."""
    return _run(root, version, _kept_overview, root, version, {"window_days": window_days, **options})


def _kept_overview(con, root: str, version: int, setting: dict) -> dict:
    return _kept_views(root, version, f"strategy/overview-{_setting_name(setting)}",
                       lambda: experiments.strategy_overview(con, **setting))


def _kept_views(root: str, version: int, name: str, compute: Callable[[], dict]) -> dict:
    """compute()'s views kept as `name` in the store version's results folder: read if any process kept them,
    else worked out once at a time in this process and kept."""
    folder = kept.kept_path(root, version, name)
    return kept.once((root, version, name), lambda: kept.kept_views(folder, compute))


def _setting_name(setting: dict) -> str:
    """A setting as part of a file name: its options in name order (numbers and words only)."""
    return "-".join(f"{key}={setting[key]}" for key in sorted(setting))


@st.cache_data(**CACHE)
def experiment_report(root: str, version: int, experiment: str, window_days: int, **options) -> dict:
    return _run(root, version, experiments.experiment_report, experiment, window_days=window_days, **options)


@st.cache_data(**CACHE)
def experiment_time_views(root: str, version: int, experiment: str, window_days: int) -> dict:
    """One test's cumulative lift, lift by days since assignment and time to repurchase: worked out once per
    store version, test and window, and kept in the version's results folder."""
    return _run(root, version, _kept_time_views, root, version, experiment, window_days)


def _kept_time_views(con, root: str, version: int, experiment: str, window_days: int) -> dict:
    def views() -> dict:
        return {
            "cumulative": experiments.cumulative_lift(con, experiment, "repurchased", window_days, view="to_date"),
            "novelty": experiments.lift_by_days_since_assignment(con, experiment, window_days),
            "survival": experiments.time_to_repurchase(con, experiment, max_days=window_days),
        }
    # a test's name is the shop's text: the folder is named by its digest
    digest = hashlib.sha256(experiment.encode()).hexdigest()[:32]
    return _kept_views(root, version, f"strategy/time_views-{digest}-{window_days}", views)


@st.cache_data(**CACHE)
def plan_test(root: str, version: int, metric: str, window_days: int, n_per_arm: int) -> dict:
    return _run(root, version, experiments.plan_test, metric=metric, window_days=window_days, n_per_arm=n_per_arm)


@st.cache_data(**CACHE)
def value_dates(root: str, version: int) -> dict:
    """First and last purchase date of identified customers and the default calibration cut-off."""
    def dates(con):
        first, last = clv.data_range(con)
        return {"first": first, "last": last, "default_cutoff": clv.default_cutoff(con)}
    return _run(root, version, dates)


def _fit_file(root: str, version: int, cutoff: date | None, model: str) -> Path | None:
    return kept.kept_path(root, version, f"value_fit-{cutoff or 'default'}-{model}.json")


def _computed_fit(root: str, version: int, cutoff: date | None, model: str) -> dict:
    """clv.page_fit on this store version, read from the version's results folder when an earlier run (this
    process, another one, or the warm-up after the upload) kept it there; else fitted now and kept."""
    def fit(con):  # the open connection pins the version, so its folder stays while we read or write it
        path = _fit_file(root, version, cutoff, model)
        if path is not None and path.exists():
            try:
                return clv.page_fit_from_state(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError, KeyError, TypeError):
                pass  # unreadable (an older format): fit again and replace it
        result = clv.page_fit(con, cutoff=cutoff, model=model)
        kept.keep(path, lambda file: file.write_text(json.dumps(clv.page_fit_state(result)), encoding="utf-8"))
        return result
    return _run(root, version, fit)


_WARM_UPS_STARTED: set[tuple] = set()
_WARM_UPS_LOCK = threading.Lock()
_WARM_UP_RUNNING = threading.Lock()


def warm_up(root: str, version: int) -> None:
    """Start, in the background and once per process and store version, what the Strategy tests, Customer value
    and Playbook pages work out once per version and keep (the default strategy overview and time views, the
    default fit and the value page's default views, the Playbook's evidence and lists), and the filtered
    requests kept on the version before: called on every page view and when the server starts
    (`warm_up_current_store`), so it starts right after an upload and those pages' first views find it done.
    A store without orders has nothing to warm up."""
    if not inventory(root, version)["orders"]:
        return
    key = (root, version)
    with _WARM_UPS_LOCK:
        if key in _WARM_UPS_STARTED:
            return
        _WARM_UPS_STARTED.add(key)

    def run():
        try:  # in the background too: a second at 100M orders, which every new process's first view waited for
            cutoff = value_dates(root, version)["default_cutoff"]  # the pages' default: the same cache key
        except Exception:  # noqa: BLE001 - nothing to model (ClvFitError) or the version is gone: the page says why
            cutoff = None
        steps = [lambda: _warm_strategy_tests(root, version)]  # seconds, where the others take minutes at 100M orders
        steps += [lambda: _value_views(root, version, _fit(root, version, cutoff, "auto"), *VALUE_DEFAULTS, cutoff, "auto")
                 ] if cutoff is not None else []
        steps.append(lambda: _run(root, version, _kept_evidence, root, version))
        steps += [lambda name=name: _run(root, version, _kept_list_file, root, version, name, cutoff)
                  for name in (*playbook_metrics.LIST_SQL, *([LAPSING] if cutoff is not None else []))]
        # last: the sidebar's quick ranges (50 s at 100M orders; first, as the carry below also brings last month's,
        # whose dates no pill makes now), up to CARRIED_REQUESTS of 1-22 s each, then each filter value alone
        steps += [lambda: _warm_quick_ranges(root, version), lambda: _warm_filtered(root, version),
                  lambda: _warm_single_values(root, version)]
        _wait_for_writer(root)  # the version's late tables, which these steps read, are built after it is published
        with _WARM_UP_RUNNING:  # one warm-up at a time: each holds up to 4 GB of DuckDB memory
            for step in steps:
                if store_version(Store(root)) != version:  # a newer upload: its own warm-up does the work
                    break
                try:
                    step()
                except clv.ClvFitError as cannot:  # this data cannot be modelled: the Customer value page says why
                    logging.getLogger(__name__).info("warm-up of store version %s: no value fit (%s)", version, cannot)
                except Exception:  # noqa: BLE001 - a page that needs it works it out again when opened, and says why
                    logging.getLogger(__name__).exception("warm-up of store version %s: a step failed", version)
            # the customer summary the value tables started from is one row per customer (5 GB at 17M
            # customers): kept, the tables need it no more (every cached summary goes; a page reads it again)
            value_customers.clear()

    # a daemon: a server that stops abandons the step under way; what it was keeping stays a *.tmp file nobody
    # reads (kept results are moved into place whole: ui.kept_results.keep), and the next process works it out
    threading.Thread(target=run, name=f"warm-up-{version}", daemon=True).start()


def warm_up_current_store() -> None:
    """The current store's `warm_up`, started when the server starts: the first page view then finds it under way
    or done instead of starting it beside its own queries."""
    store = current_store()
    warm_up(str(store.root), store_version(store))


def _wait_for_writer(root: str) -> None:
    """Until no upload, removal or rebuild is being written: an upload publishes its version and then builds
    the version's late tables (store.models.registry.LATE_TABLES) still holding the store's writer lock."""
    try:
        with Store(root).lock():
            pass
    except OSError:  # a read-only store: nobody writes to it
        pass


def _warm_strategy_tests(root: str, version: int) -> None:
    """The Strategy tests page's default view: the overview, and each analysable test's time views."""
    if _run(root, version, experiments.list_experiments).empty:
        return
    overview = _run(root, version, _kept_overview, root, version, STRATEGY_DEFAULTS)
    for experiment in overview["experiments"].query("status == 'ok'")["experiment"]:
        _run(root, version, _kept_time_views, root, version, experiment, STRATEGY_DEFAULTS["window_days"])


def value_fit_kept(root: str, version: int, cutoff: date | None, model: str) -> bool:
    """Whether this fit is kept in the store version's results folder (no fitting on the next view)."""
    path = _fit_file(root, version, cutoff, model)
    return bool(path and path.exists())


@st.cache_data(show_spinner=False, max_entries=8)
def value_fit(root: str, version: int, cutoff: date | None, model: str) -> dict:
    """The CLV report at `cutoff` (every model fitted and checked), the chosen model refitted on all data
    (clv.page_fit): what horizon, discount and margin re-use. Fitted once per store version, cut-off and
    model, and kept in the version's results folder (warm_up starts the default one after an upload)."""
    return _fit(root, version, cutoff, model)


def _fit(root: str, version: int, cutoff: date | None, model: str) -> dict:
    """The fit, worked out once at a time in this process (a second request waits for the first)."""
    return kept.once((root, version, cutoff, model), lambda: _computed_fit(root, version, cutoff, model))


@st.cache_resource(show_spinner=False, max_entries=2)
def value_customers(root: str, version: int, as_of: date) -> pd.DataFrame:
    """The customer summary at `as_of` (the data's last day) with each customer's RFM segment: what the
    predictions start from. A resource, not data: a million-row frame is shared, not copied on every rerun
    (nothing changes it: add_predictions returns a new frame)."""
    return _run(root, version, clv.value_summary, as_of, lean=True)


VALUE_DEFAULTS = (12, 0.01, 0.3)  # the Customer value page's horizon (months), monthly discount and margin


@st.cache_data(show_spinner=False, max_entries=8)
def value_model(root: str, version: int, horizon_months: int, monthly_discount: float, margin: float,
                cutoff: date | None = None, model: str = "auto") -> dict:
    """The fitted CLV report and what the page draws from the per-customer predictions (as of the data's last
    day: clv_views.page_views); the fit is value_fit's, so a new horizon, discount or margin only recomputes the
    predictions. The expected next order, the customer id and dates are worked out for the listed customers only."""
    fitted = value_fit(root, version, cutoff, model)
    views = _value_views(root, version, fitted, horizon_months, monthly_discount, margin, cutoff, model)
    return {"report": fitted["report"], "final": fitted["final"], **views}


def _value_views(root: str, version: int, fitted: dict, horizon_months: int, monthly_discount: float, margin: float,
                 cutoff: date | None, model: str) -> dict:
    """clv_views.page_views of this fit and setting, kept per store version and setting (at 100M orders
    they take 16 s and 5 GB to work out: the predictions of 17M customers)."""
    final, as_of = fitted["final"], fitted["as_of"]
    setting = f"{cutoff or 'default'}-{model}-{horizon_months}-{monthly_discount}-{margin}"

    def tables(con):
        def complete(rows: pd.DataFrame) -> pd.DataFrame:  # the listed customers' next order, id and dates
            rows = rows.assign(expected_next_order=clv.next_order_dates(rows, final, as_of, horizon_months))
            return clv.listing_details(con, rows)

        def views() -> dict:
            predictions = clv.add_predictions(value_customers(root, version, as_of), final, as_of, horizon_months,
                                              monthly_discount, margin, next_order=False)
            return clv_views.page_views(predictions, complete)
        return kept.kept_views(kept.kept_path(root, version, f"value_views/{setting}"), views)

    return kept.once((root, version, "value_views", setting), lambda: _run(root, version, tables))


# ---- launch evaluation ---------------------------------------------------------------------------


@st.cache_data(**CACHE)
def launch_column_values(root: str, version: int, column: str) -> list[str]:
    """The values of a launch column among valid orders (tier, channel, region, store, category, coupon)."""
    return _run(root, version, launch.column_values, column)


@st.cache_data(**CACHE)
def launch_evaluation(root: str, version: int, launched_at: date, column: str, values: tuple[str, ...],
                      window_days: int, matched: bool) -> dict:
    """metrics.launch.evaluate_launch on this store version (LaunchError when the data cannot answer)."""
    return _run(root, version, launch.evaluate_launch, launched_at, column, values, window_days, matched)


def saved_launches(root: str) -> list[dict]:
    """The evaluations saved for the Playbook (a small file read afresh: it changes without a new version)."""
    return saved_launch_file.load_launches(root)


def save_launch(root: str, strategy: str, launched_at: date, column: str, values, window_days: int, matched: bool,
                saved_by: str = "") -> list[dict]:
    return saved_launch_file.save_launch(root, strategy, launched_at, column, values, window_days, matched, saved_by)


# ---- the Playbook page ----------------------------------------------------------------------------


def playbook_launches(root: str, version: int) -> tuple[dict, ...]:
    """The saved launch evaluations rerun on this store version, as the Playbook reads them
    ({strategy, launched_at, did_estimate, ci_low, ci_high, p_value, pre_trend_p}); those the data can
    no longer answer are left out."""
    entries = tuple(json.dumps(entry, sort_keys=True, default=str) for entry in saved_launches(root))
    return _launch_results(root, version, entries)


@st.cache_data(**CACHE)
def _launch_results(root: str, version: int, entries: tuple[str, ...]) -> tuple[dict, ...]:
    def compute(con):
        results = []
        for entry in map(json.loads, entries):
            result = launch.evaluate_saved(con, entry)
            if "error" in result:
                continue
            did = result["did"]
            results.append({"strategy": entry["strategy"], "launched_at": entry["launched_at"],
                            "did_estimate": did["estimate"], "ci_low": did["ci_low"], "ci_high": did["ci_high"],
                            "p_value": did["p_value"], "pre_trend_p": result["pre_trend"]["p_value"]})
        return tuple(results)
    return _run(root, version, compute)


def _kept_evidence(con, root: str, version: int) -> dict:
    """The Playbook's descriptive evidence and cross-category tables, kept per store version (worked out now
    if no process has yet)."""
    def evidence() -> dict:
        return {"described": playbook_metrics.descriptive_evidence(con),
                "categories_bought": playbook_metrics.categories_bought(con),
                "second_categories": playbook_metrics.second_categories(con)}
    return _kept_views(root, version, "playbook/evidence", evidence)


@st.cache_data(**CACHE)
def playbook(root: str, version: int, launches: tuple = ()) -> dict:
    """The seven strategies with this shop's evidence (the descriptive part kept per store version), the
    cross-category tables and the day the lists are counted to (`launches`: dicts as saved_launches gives them)."""
    def compute(con):
        evidence = _kept_evidence(con, root, version)
        return {
            # the tests' evidence is the Strategy tests page's default overview (8.7 s at 100M orders): kept
            "strategies": playbook_metrics.playbook(con, list(launches),
                                                    overview=_kept_overview(con, root, version, STRATEGY_DEFAULTS),
                                                    described=evidence["described"]),
            "categories_bought": evidence["categories_bought"],
            "second_categories": evidence["second_categories"],
            "as_of": clv.data_range(con)[1],
        }
    return _run(root, version, compute)


LAPSING = "lapsing_high_value"  # the one list from the customer-value model; the others are SQL (LIST_SQL)


@st.cache_data(show_spinner=False, max_entries=64)
def playbook_list(root: str, version: int, name: str, cutoff: date | None = None) -> tuple[pd.DataFrame, int]:
    """The ROWS_SHOWN most valuable customers of the Playbook's list `name` and how many it holds. Each whole
    list is kept per store version (the lapsing list per value-model `cutoff`, with the Customer value page's
    defaults, so both pages share one fit)."""
    return _read_list(root, version, name, cutoff, lambda path: kept.first_rows(path, ROWS_SHOWN),
                      lambda frame: (frame.head(ROWS_SHOWN), len(frame)))


def whole_playbook_list(root: str, version: int, name: str, cutoff: date | None = None) -> pd.DataFrame:
    """Every customer of the Playbook's list `name`, for a download made on click (not cached)."""
    return _read_list(root, version, name, cutoff, kept.all_rows, lambda frame: frame)


def _read_list(root: str, version: int, name: str, cutoff: date | None, read: Callable[[Path], T],
               from_frame: Callable[[pd.DataFrame], T]) -> T:
    """read(the kept file of list `name`), kept now if no process has yet; from_frame(the whole list) when
    it cannot be kept (a read-only store)."""
    already = kept.read_kept(root, version, _list_path(root, version, name, cutoff), read)
    if already is not None:  # no DuckDB connection needed
        return already

    def compute(con):
        path = _kept_list_file(con, root, version, name, cutoff)
        return read(path) if path else from_frame(_whole_list(con, root, version, name, cutoff))
    return _run(root, version, compute)


def _list_path(root: str, version: int, name: str, cutoff: date | None) -> Path | None:
    setting = f"-{cutoff or 'default'}-auto-" + "-".join(map(str, VALUE_DEFAULTS)) if name == LAPSING else ""
    return kept.kept_path(root, version, f"playbook/{name}{setting}.parquet")


def _kept_list_file(con, root: str, version: int, name: str, cutoff: date | None) -> Path | None:
    """The kept Parquet file of list `name`, written now if no process has yet; None if it cannot be kept."""
    path = _list_path(root, version, name, cutoff)
    if path is None:
        return None
    if not path.exists():
        def rows() -> pa.RecordBatchReader:  # a SQL list streams from DuckDB; the model's list is already a frame
            if name != LAPSING:
                return playbook_metrics.action_list_batches(con, name)
            return pa.Table.from_pandas(_whole_list(con, root, version, name, cutoff), preserve_index=False).to_reader()
        kept.once((root, version, "playbook", name, cutoff),
                  lambda: path.exists() or kept.keep(path, lambda file: kept.write_rows(file, rows())))
    return path if path.exists() else None


def _whole_list(con, root: str, version: int, name: str, cutoff: date | None) -> pd.DataFrame:
    if name != LAPSING:
        return playbook_metrics.action_list(con, name)
    fitted = value_fit(root, version, cutoff, "auto")
    final, as_of = fitted["final"], fitted["as_of"]
    predictions = clv.add_predictions(value_customers(root, version, as_of), final, as_of, *VALUE_DEFAULTS,
                                      next_order=False)
    candidates = playbook_metrics.lapsing_candidates(predictions)
    return playbook_metrics.lapsing_high_value_list(clv.listing_details(con, candidates))

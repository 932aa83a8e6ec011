"""The sidebar's quick ranges: the last 3, 6, 12 whole months in one click, worked out ahead on a large store."""

import json
import threading
from datetime import date

from metrics import cohorts, kpis, narrative
from metrics import customer_views as customer_views_metrics
from metrics.filters import Filters
from store import Store
from tests.conftest import open_app
from tests.test_filtered_kept import upload
from ui import data
from ui.date_ranges import date_filters, quick_range_shown, quick_ranges


def test_a_quick_range_is_the_last_whole_months_up_to_the_latest_full_month():
    # data from 3 March 2023 to 15 January 2026: December 2025 is the latest full month
    ranges = quick_ranges(date(2025, 12, 1), date(2023, 3, 3), date(2026, 1, 15))
    assert ranges == {3: (date(2025, 10, 1), date(2025, 12, 31)),
                      6: (date(2025, 7, 1), date(2025, 12, 31)),
                      12: (date(2025, 1, 1), date(2025, 12, 31))}
    # ending on the data's last day, the range has no end; starting before its first, no start
    assert date_filters(date(2025, 10, 1), date(2025, 12, 31), date(2023, 3, 3), date(2025, 12, 31)) == (
        date(2025, 10, 1), None)
    assert date_filters(date(2025, 10, 1), date(2025, 12, 31), date(2025, 11, 2), date(2026, 1, 15)) == (
        None, date(2025, 12, 31))
    assert date_filters(date(2025, 12, 31), date(2025, 10, 1), None, None) == (date(2025, 10, 1), date(2025, 12, 31))


def test_a_range_that_holds_every_order_is_not_offered():
    # data from 20 November to 31 December 2025: three months (October-December) hold it all
    assert quick_ranges(date(2025, 12, 1), date(2025, 11, 20), date(2025, 12, 31)) == {}
    # a year across a year end: February 2025 - January 2026
    assert quick_ranges(date(2026, 1, 1), date(2024, 6, 1), date(2026, 1, 31))[12] == (date(2025, 2, 1),
                                                                                      date(2026, 1, 31))
    assert quick_ranges(None, date(2025, 11, 20), date(2025, 12, 31)) == {}
    # orders of 5-20 January 2026 only: no full month, no range (December's would hold no order)
    assert quick_ranges(date(2025, 12, 1), date(2026, 1, 5), date(2026, 1, 20)) == {}
    # four months of data: the last 6 and 12 months are its last 3 (every order up to March), offered once
    assert list(quick_ranges(date(2026, 3, 1), date(2026, 1, 5), date(2026, 4, 20))) == [3]


def test_the_dates_of_a_shared_link_show_their_quick_range_and_a_date_typed_by_hand_none():
    ranges = quick_ranges(date(2025, 12, 1), date(2023, 3, 3), date(2025, 12, 31))
    first, last = date(2023, 3, 3), date(2025, 12, 31)
    assert quick_range_shown(ranges, date(2025, 7, 1), date(2025, 12, 31), first, last) == 6
    assert quick_range_shown(ranges, date(2025, 7, 1), None, first, last) == 6  # no end box: the data's last day
    assert quick_range_shown(ranges, date(2025, 7, 2), date(2025, 12, 31), first, last) is None
    assert quick_range_shown(ranges, first, last, first, last) is None


def _dates(app) -> tuple:
    return app.date_input(key="from").value, app.date_input(key="to").value


def test_clicking_a_quick_range_sets_the_dates_and_the_pages_count_inside_them(demo_store, monkeypatch):
    con = demo_store.connect()
    first, last, latest_full = con.execute(
        "select min(order_ts)::date, max(order_ts)::date, "
        "cast(date_trunc('month', max(order_ts) filter (where is_valid) + interval 1 day) - interval 1 month as date) "
        "from orders").fetchone()
    con.close()
    month_end = date(latest_full.year + latest_full.month // 12, latest_full.month % 12 + 1, 1)
    start = date(latest_full.year - (latest_full.month <= 2), (latest_full.month - 3) % 12 + 1, 1)

    app = open_app(monkeypatch, demo_store.root, "pages/customers.py")
    pills = app.button_group(key="quick_range")
    assert pills.options == ["Last 3 months", "Last 6 months", "Last 12 months"] and pills.value is None
    assert _dates(app) == (first, last)

    pills.set_value(3).run()
    assert _dates(app) == (start, month_end - date.resolution)
    assert app.button_group(key="quick_range").value == 3
    funnel_title = json.loads(app.get("plotly_chart")[0].proto.spec)["layout"]["title"]["text"]
    assert f"{start:%Y-%m-%d}" in funnel_title and f"{month_end - date.resolution:%Y-%m-%d}" in funnel_title
    assert any(f"{start:%Y-%m-%d}" in info.value for info in app.info)  # the filter named above the numbers

    app.date_input(key="from").set_value(start.replace(day=2)).run()  # a date typed by hand: no quick range
    assert app.button_group(key="quick_range").value is None and _dates(app)[0] == start.replace(day=2)

    shared = open_app(monkeypatch, demo_store.root, "pages/customers.py", **{"from": start.isoformat()})
    assert shared.button_group(key="quick_range").value == 3  # a shared link's range, shown chosen

    app.button_group(key="quick_range").set_value(12).run()
    app.button_group(key="quick_range").set_value(None).run()  # clicked again: the whole history
    assert _dates(app) == (first, last)


def test_the_warm_up_works_out_each_quick_range_so_its_first_view_reads_it(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    # orders from 5 January to 20 April 2026: March is the latest full month. The last 3 months, January to
    # March, leave out a's April order; the last 6 and 12 months are the same orders: offered once
    version = upload(store, tmp_path, "jan.csv", "1,a,2026-01-05,10,app\n2,a,2026-02-20,20,web\n"
                                                 "3,b,2026-03-10,15,app\n4,a,2026-04-20,30,app\n")
    root = str(store.root)
    monkeypatch.setattr(data, "ANTICIPATED_FROM_ORDERS", 4)  # as if it were large
    monkeypatch.setattr(data, "ANTICIPATED_VALUES", 0)  # no single values: the quick ranges alone
    data.warm_up(root, version)
    for thread in threading.enumerate():
        if thread.name == f"warm-up-{version}":
            thread.join()

    kept_requests = data.kept.kept_values_under(root, version, "filtered", "request")
    three_months = Filters(end=date(2026, 3, 31))  # from the first order: no start
    assert sorted(request["kind"] for _, request in kept_requests) == sorted(data.PAGE_REQUESTS)
    assert {(request["filters"]["start"], request["filters"]["end"]) for _, request in kept_requests} == {
        (None, "2026-03-31")}

    for cached in (data.customer_views, data.kpi_table, data.cohort_matrix, data.biggest_move):
        cached.clear()  # a new process
    monkeypatch.setattr(data, "warm_up", lambda *arguments: None)  # nothing counts in the background
    for page in ("pages/overview.py", "pages/cohorts.py", "pages/customers.py"):
        app = open_app(monkeypatch, store.root, page)  # unfiltered: read from the summaries, or counted
        with monkeypatch.context() as counting:
            for module, name in ((customer_views_metrics, "customer_views"), (kpis, "kpi_table"),
                                 (cohorts, "cohort_matrix"), (narrative, "biggest_move")):
                counting.setattr(module, name, _fails(name))
            app.button_group(key="quick_range").set_value(3).run()  # the pill, as a user clicks it
        assert not app.exception, [e.value for e in app.exception]
    funnel_chart = json.loads(app.get("plotly_chart")[0].proto.spec)
    assert funnel_chart["data"][0]["y"] == [1.0, 0.5]  # a (2 orders until March) and b reach order 1, a order 2
    views = data.customer_views(root, version, three_months, data.customers_month(root, version, three_months))
    assert views["funnel"]["customers"].tolist() == [2, 1]
    assert data.kpi_table(root, version, three_months)["revenue"].tolist() == [10.0, 20.0, 15.0]


def _fails(name: str):
    def counted(*arguments, **options):  # an error the page shows, so the test sees it
        raise AssertionError(f"{name} counted instead of reading what the warm-up kept")
    return counted


def test_a_link_to_a_range_ending_mid_data_shows_it_chosen_and_after_an_upload_the_pills_follow_the_new_data(
        tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "jan.csv", "1,a,2025-09-05,10,app\n2,a,2026-02-20,20,web\n3,b,2026-04-20,15,app\n")
    monkeypatch.setattr(data, "warm_up", lambda *arguments: None)
    # March 2026 is the latest full month: the last 3 months are January-March, both dates in the link
    app = open_app(monkeypatch, store.root, "pages/customers.py", **{"from": "2026-01-01", "to": "2026-03-31"})
    assert app.button_group(key="quick_range").value == 3
    # the last 12 months start before the data: no start, but they end in March, unlike the whole history
    assert app.button_group(key="quick_range").options == ["Last 3 months", "Last 6 months", "Last 12 months"]

    upload(store, tmp_path, "may.csv", "4,b,2026-05-31,30,app\n")  # the page stays open: May is now full
    app.button_group(key="quick_range").set_value(None).run()  # the pill clicked again: the whole history, now
    assert _dates(app) == (date(2025, 9, 5), date(2026, 5, 31))
    app.button_group(key="quick_range").set_value(3).run()
    assert _dates(app) == (date(2026, 3, 1), date(2026, 5, 31))  # March-May: the new latest full month
    assert app.button_group(key="quick_range").value == 3

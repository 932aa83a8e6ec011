"""Filtered requests of the Overview, Cohorts and Customers pages, kept per store version and request (ui.data):
at 100M orders under app + East the KPI table took 1.5 s, the biggest move 1.2 s, the cohort matrix 1.9 s and
the Customers page 5 s (22 s under app, web) on each new process's first view."""

import json
import os
import threading
from datetime import date

import pandas as pd
import pytest

from ingest.pipeline import import_file
from metrics import customer_views as customer_views_metrics
from metrics import cohorts, inventory, kpis, narrative, segments
from metrics.filters import Filters
from store import Store
from tests.conftest import open_app
from ui import data

EAST_APP = Filters(channel=("app",), region=("East",))


HEADER = "order_id,customer_id,order_date,amount,channel"


def upload(store: Store, folder, name: str, rows: str, header: str = HEADER) -> int:
    """`rows` (CSV lines under `header`) imported into `store` as the export `name`; the new store version."""
    (folder / name).write_text(f"{header}\n{rows}", encoding="utf-8")
    import_file(folder / name, store, currency="USD")
    return store.manifest()["version"]


def _kept_folders(root) -> list:
    return sorted(path.parent for path in root.glob("versions/*/results/kept-*/filtered/*/views.json"))


def _never_counted(monkeypatch):
    monkeypatch.setattr(customer_views_metrics, "customer_views",
                        lambda *a, **k: pytest.fail("counted again instead of read"))


def test_filtered_views_are_kept_and_read_back_as_counted(demo_store, monkeypatch):
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    month = data.customers_month(root, version, EAST_APP)
    con = demo_store.connect()
    counted = customer_views_metrics.customer_views(con, EAST_APP, data.ROWS_SHOWN)
    members = segments.members_vs_non_members(con, month, EAST_APP)
    tiers = segments.segment_kpis(con, "member_tier", month, EAST_APP)
    con.close()
    assert counted["due_count"] > 0 and len(counted["funnel"]) >= 3  # a filter with customers due and repeat buyers
    assert len(tiers) >= 3 and members["frequency_multiple"] > 1
    first = data.customer_views(root, version, EAST_APP, month)

    data.customer_views.clear()  # a new process: nothing cached in memory
    _never_counted(monkeypatch)
    monkeypatch.setattr(segments, "segment_kpis", lambda *a, **k: pytest.fail("counted again instead of read"))
    again = data.customer_views(root, version, Filters(channel=("app",), region=("East",)), month)
    assert set(again) == {*counted, "members", "tiers"}
    assert again["due_count"] == counted["due_count"] == first["due_count"]
    for name in ("funnel", "days_between_orders", "time_to_second_order", "rfm_segments", "due"):
        pd.testing.assert_frame_equal(again[name], counted[name], check_exact=True)
        assert again[name].dtypes.map(str).tolist() == counted[name].dtypes.map(str).tolist()
    pd.testing.assert_frame_equal(again["tiers"], tiers, check_exact=True)
    pd.testing.assert_frame_equal(again["members"]["table"], members["table"], check_exact=True)
    assert again["members"]["frequency_multiple"] == members["frequency_multiple"]


def test_the_overview_and_cohorts_requests_are_kept_and_read_back_as_counted(demo_store, monkeypatch):
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    month = data.latest_full_month(root, version)
    con = demo_store.connect()
    table, by_quarter = kpis.kpi_table(con, EAST_APP), kpis.kpi_table(con, EAST_APP, "quarter")
    matrix, move = cohorts.cohort_matrix(con, EAST_APP), narrative.biggest_move(con, month, EAST_APP)
    con.close()
    assert len(table) > 12 and len(matrix) > 12 and move is not None
    data.kpi_table(root, version, EAST_APP), data.kpi_table(root, version, EAST_APP, "quarter")
    data.cohort_matrix(root, version, EAST_APP), data.biggest_move(root, version, month, EAST_APP)

    for cached in (data.kpi_table, data.cohort_matrix, data.biggest_move):
        cached.clear()  # a new process: nothing cached in memory
    for module, name in ((kpis, "kpi_table"), (cohorts, "cohort_matrix"), (narrative, "biggest_move")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("counted again instead of read"))
    pd.testing.assert_frame_equal(data.kpi_table(root, version, EAST_APP), table, check_exact=True)
    pd.testing.assert_frame_equal(data.kpi_table(root, version, EAST_APP, "quarter"), by_quarter, check_exact=True)
    pd.testing.assert_frame_equal(data.cohort_matrix(root, version, EAST_APP), matrix, check_exact=True)
    assert data.biggest_move(root, version, month, EAST_APP) == move


def test_the_sentence_reads_its_month_from_the_kept_kpi_table_else_counts_it(demo_store, monkeypatch):
    """At 100M orders under two filters, counting the month's row again took 0.4-0.9 s of the Overview's first view."""
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    filters, months = Filters(channel=("store",), region=("South",)), [date(2025, 10, 1), date(2025, 11, 1)]
    con = demo_store.connect()
    moves = [narrative.biggest_move(con, month, filters) for month in months]
    con.close()
    assert None not in moves and moves[0] != moves[1]
    counted, kpi_row = [], narrative.kpi_row
    monkeypatch.setattr(narrative, "kpi_row", lambda *a, **k: counted.append(a[1]) or kpi_row(*a, **k))

    assert data._biggest_move(root, version, months[0], filters) == moves[0]  # the table not kept: counted
    assert counted == [months[0]]
    data._kpi_table(root, version, filters)  # the Overview asks for its table first: kept
    assert data._biggest_move(root, version, months[1], filters) == moves[1]
    assert counted == [months[0]]  # read from the kept table


def test_each_months_biggest_move_is_kept_apart(demo_store, monkeypatch):
    """The Overview's month picker under a filter: each month its own move, never the first month's read back."""
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    months = [date(2025, 3, 1), date(2025, 11, 1)]
    con = demo_store.connect()
    moves = [narrative.biggest_move(con, month, EAST_APP) for month in months]
    con.close()
    assert moves[0] is not None and moves[1] is not None and moves[0] != moves[1]
    for month in months:
        data.biggest_move(root, version, month, EAST_APP)
    data.biggest_move.clear()
    monkeypatch.setattr(narrative, "biggest_move", lambda *a, **k: pytest.fail("counted again instead of read"))
    assert [data.biggest_move(root, version, month, EAST_APP) for month in months] == moves


def test_one_filter_set_is_one_kept_folder_named_by_a_digest_and_the_unfiltered_page_keeps_nothing(tmp_path):
    store = Store(tmp_path / "store")
    version = upload(store, tmp_path, "orders.csv",
                     "1,a,2026-01-05,10,<b>app</b>\n2,a,2026-01-20,20,web\n3,b,2026-01-10,15,app\n")
    root = str(store.root)
    data.customer_views(root, version, Filters(), None)
    assert _kept_folders(store.root) == []  # read from the summaries in a fraction of a second: nothing to keep

    data.customer_views(root, version, Filters(channel=("<b>app</b>", "web")), None)
    data.customer_views.clear()
    data.customer_views(root, version, Filters(channel=("web", "<b>app</b>")), None)  # the same set in another order
    folders = _kept_folders(store.root)
    assert len(folders) == 1
    assert folders[0].name.startswith("customers-") and len(folders[0].name) == len("customers-") + 32
    assert "app" not in folders[0].name and "<" not in folders[0].name  # the shop's text never names a file


def test_after_an_upload_the_warm_up_works_out_the_filter_sets_viewed_on_the_version_before(tmp_path, monkeypatch):
    """A monthly meeting's saved link (channel app) is ready after next month's upload, with the new numbers."""
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "jan.csv", "1,a,2026-01-05,10,app\n2,a,2026-01-20,20,web\n3,b,2026-01-10,15,app\n"
                                       "4,c,2026-01-12,30,web\n")
    root, app = str(store.root), Filters(channel=("app",))
    january = data.customer_views(root, store.manifest()["version"], app, date(2026, 1, 1))
    assert january["funnel"]["customers"].tolist() == [2]  # a and b, one app order each
    assert data.kpi_table(root, store.manifest()["version"], app)["customers"].tolist() == [2]

    version = upload(store, tmp_path, "feb.csv", "5,a,2026-02-10,25,app\n6,b,2026-02-01,5,web\n")
    data._warm_filtered(root, version)

    data.customer_views.clear(), data.kpi_table.clear()
    _never_counted(monkeypatch)
    monkeypatch.setattr(kpis, "kpi_table", lambda *a, **k: pytest.fail("counted again instead of read"))
    table = data.kpi_table(root, version, app)
    assert table["customers"].tolist() == [2, 1] and table["revenue"].tolist() == [25.0, 25.0]  # February: a's 25
    february = data.customer_views(root, version, app, data.customers_month(root, version, app))
    # a's app orders: 5 Jan and 10 Feb (36 days); b's: 10 Jan (b's February order was on the web)
    assert february["funnel"]["customers"].tolist() == [2, 1]
    assert february["funnel"]["share_of_customers"].tolist() == [1.0, 0.5]
    assert february["days_between_orders"][["from_order", "days_median"]].values.tolist() == [[1, 36.0]]
    assert february["rfm_segments"]["revenue"].sum() == 10 + 15 + 25


def test_the_warm_up_carries_only_the_most_recently_viewed_filter_sets(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    root, january = str(store.root), upload(store, tmp_path, "jan.csv",
                                            "1,a,2026-01-05,10,app\n2,b,2026-01-20,20,web\n")
    monkeypatch.setattr(data, "CARRIED_REQUESTS", 2)
    viewed = [Filters(channel=("app",)), Filters(channel=("web",)), Filters(channel=("app", "web"))]
    names = []
    for order, filters in enumerate(viewed):
        data.customer_views(root, january, filters, None)
        (new,) = [folder for folder in _kept_folders(store.root) if folder.name not in names]
        names.append(new.name)
        os.utime(new / "views.json", (1_000_000 + order, 1_000_000 + order))  # viewed in this order

    data.customer_views.clear()
    data.customer_views(root, january, viewed[0], None)  # app again, read from what was kept: viewed last now

    february = upload(store, tmp_path, "feb.csv", "3,a,2026-02-10,25,app\n")
    data._warm_filtered(root, february)
    carried = [(when, request["filters"]["channel"])
               for when, request in data.kept.kept_values_under(root, february, "filtered", "request")]
    assert sorted(channels for _, channels in carried) == [["app"], ["app", "web"]]  # the two viewed last
    # each keeps the time it was last viewed: app + web's old one, so unless viewed again it drops out next month
    assert dict((tuple(channels), when) for when, channels in carried)[("app", "web")] == 1_000_002


def test_requests_viewed_two_uploads_ago_are_carried_and_a_months_moves_once(tmp_path, monkeypatch):
    """Orders, then assignments (or a removal and a re-upload) with no page viewed between: the saved views of
    the version before that still come across, and the biggest moves of several months are one request."""
    store = Store(tmp_path / "store")
    first = upload(store, tmp_path, "jan.csv", "1,a,2026-01-05,10,app\n2,b,2026-01-20,20,web\n3,a,2026-02-03,30,app\n")
    root, app = str(store.root), Filters(channel=("app",))
    data.kpi_table(root, first, app)
    for month in (date(2026, 1, 1), date(2026, 2, 1)):
        data.biggest_move(root, first, month, app)
    upload(store, tmp_path, "feb.csv", "4,b,2026-02-10,25,app\n")  # nobody looks at this version
    third = upload(store, tmp_path, "mar.csv", "5,a,2026-03-02,40,app\n")
    assert third == first + 2

    monkeypatch.setattr(data, "CARRIED_REQUESTS", 2)  # room for both requests only if the moves count once
    data._warm_filtered(root, third)
    carried = sorted((request["kind"], request.get("month")) for _, request in
                     data.kept.kept_values_under(root, third, "filtered", "request"))
    # the table runs to March, the latest full month is February: the page's default month
    assert carried == [("biggest_move", "2026-02-01"), ("kpi_table", None)]


def test_the_default_view_counts_no_filter_and_a_narrowing_date_does(demo_store, monkeypatch):
    """The date boxes always hold the store's range: as a filter, the Customers page counted every customer's
    orders again (a minute per new process at 100M orders) instead of reading its summaries."""
    from metrics import customer_facts

    counted = []
    real_kept_tables = customer_facts.kept_tables
    monkeypatch.setattr(customer_facts, "kept_tables", lambda con, filters: counted.append(filters) or
                        real_kept_tables(con, filters))
    data.customer_views.clear()
    open_app(monkeypatch, demo_store.root, "pages/customers.py")
    # read from the summaries, as the unfiltered command line reads them (only the warm-up in the background
    # counts: each filter value alone)
    assert all(not filters.start and not filters.end and sum(map(len, filters.dimension_values().values())) == 1
               for filters in counted)

    con = demo_store.connect()
    first = con.execute("select min(order_ts)::date from orders").fetchone()[0]
    con.close()
    open_app(monkeypatch, demo_store.root, "pages/customers.py", **{"from": (first + pd.Timedelta(days=1)).isoformat()})
    assert Filters(start=first + pd.Timedelta(days=1)) in counted


def test_the_warm_up_works_out_each_filter_value_alone_most_orders_first_as_never_viewed(tmp_path, monkeypatch):
    """One channel or one region is the sidebar's usual first choice: ready before anybody opens it, and not
    carried to the next version unless somebody did."""
    store = Store(tmp_path / "store")
    january = upload(store, tmp_path, "jan.csv", "1,a,2026-01-05,10,app,East\n2,a,2026-01-20,20,web,East\n"
                                                 "3,b,2026-01-10,15,app,West\n4,c,2026-01-12,30,app,East\n",
                     header=f"{HEADER},region")
    root = str(store.root)
    con = store.connect()
    # app 3 orders, web 1; East 3, West 1: the most orders first, ties by dimension then value
    assert inventory.dimension_values_by_orders(con) == [("channel", "app"), ("region", "East"),
                                                        ("channel", "web"), ("region", "West")]
    con.close()
    data._warm_single_values(root, january)
    assert _kept_folders(store.root) == []  # a small store: every first view is quick, nothing to work out ahead
    monkeypatch.setattr(data, "ANTICIPATED_FROM_ORDERS", 4)  # as if it were large
    monkeypatch.setattr(data, "ANTICIPATED_VALUES", 1)  # each dimension's value with most orders
    data.warm_up(root, january)  # as the first page view after the upload starts it, in the background
    for thread in threading.enumerate():
        if thread.name == f"warm-up-{january}":
            thread.join()

    kept_requests = data.kept.kept_values_under(root, january, "filtered", "request")
    assert sorted((request["kind"], request["filters"]["channel"], request["filters"]["region"])
                  for _, request in kept_requests) == sorted(
        (kind, channel, region) for kind in data.PAGE_REQUESTS for channel, region in ((["app"], []), ([], ["East"])))
    assert {when for when, _ in kept_requests} == {data.kept.NEVER_VIEWED}

    for cached in (data.customer_views, data.kpi_table, data.cohort_matrix, data.biggest_move):
        cached.clear()  # a new process
    _never_counted(monkeypatch)
    for module, name in ((kpis, "kpi_table"), (cohorts, "cohort_matrix"), (narrative, "biggest_move")):
        monkeypatch.setattr(module, name, lambda *a, **k: pytest.fail("counted again instead of read"))
    app = Filters(channel=("app",))
    table = data.kpi_table(root, january, app)
    assert table["customers"].tolist() == [3] and table["revenue"].tolist() == [55.0]  # a, b and c's app orders
    assert data.biggest_move(root, january, date(2026, 1, 1), app) is None  # no month before to move from
    assert data.cohort_matrix(root, january, app)["cohort_customers"].tolist() == [3]

    monkeypatch.setattr(data, "warm_up", lambda *arguments: None)  # nothing else counts in the background
    page = open_app(monkeypatch, store.root, "pages/customers.py", region="East")
    funnel_chart = json.loads(page.get("plotly_chart")[0].proto.spec)
    assert funnel_chart["data"][0]["y"] == [1.0, 0.5]  # both East customers reach order 1, a (of two) order 2
    (east_customers,) = [folder for folder in _kept_folders(store.root) if folder.name.startswith("customers-")
                         and '"East"' in (folder / "views.json").read_text()]
    assert (east_customers / "views.json").stat().st_mtime > data.kept.NEVER_VIEWED  # the page's view counts
    # a's East orders: 5 and 20 January (15 days); c's: 12 January
    east = Filters(region=("East",))
    views = data.customer_views(root, january, east, data.customers_month(root, january, east))
    assert views["funnel"]["customers"].tolist() == [2, 1]
    assert views["days_between_orders"][["from_order", "days_median"]].values.tolist() == [[1, 15.0]]
    assert views["rfm_segments"]["revenue"].sum() == 10 + 20 + 30

    monkeypatch.undo()  # February's carry counts again
    february = upload(store, tmp_path, "feb.csv", "5,a,2026-02-10,25,app,East\n", header=f"{HEADER},region")
    data._warm_filtered(root, february)  # what was viewed comes across; the rest worked out ahead does not
    assert sorted((request["kind"], request["filters"]["channel"], request["filters"]["region"]) for _, request in
                  data.kept.kept_values_under(root, february, "filtered", "request")) == [
        ("biggest_move", ["app"], []), ("cohort_matrix", ["app"], []), ("customers", [], ["East"]),
        ("kpi_table", [], ["East"]), ("kpi_table", ["app"], [])]  # the link opened the Overview first


def test_a_result_worked_out_ahead_is_never_viewed_until_a_page_reads_it_and_a_carry_never_turns_time_back(tmp_path):
    folder = tmp_path / "kept" / "customers-x"
    with data.kept.ahead():
        assert data.kept.kept_views(folder, lambda: {"due_count": 3}) == {"due_count": 3}
        data.kept.viewed(folder / "views.json")  # the warm-up reading it again
    assert (folder / "views.json").stat().st_mtime == data.kept.NEVER_VIEWED

    data.kept.viewed(folder / "views.json")  # a page reads it
    read_at = (folder / "views.json").stat().st_mtime
    assert read_at > 1_000_000
    data.kept.mark_viewed(folder / "views.json", 1_000_000)  # carried with last version's older time
    assert (folder / "views.json").stat().st_mtime == read_at


def test_on_a_store_that_keeps_nothing_the_step_stops_after_one_request(tmp_path, monkeypatch):
    """A read-only store: every page view counts for itself, so working values out ahead would only take the cores."""
    store = Store(tmp_path / "store")
    version = upload(store, tmp_path, "jan.csv", "1,a,2026-01-05,10,app,East\n2,b,2026-01-20,20,web,West\n",
                     header=f"{HEADER},region")
    counted = []
    real_kpi_table = kpis.kpi_table
    monkeypatch.setattr(kpis, "kpi_table", lambda con, filters, *a: counted.append(filters) or
                        real_kpi_table(con, filters, *a))
    monkeypatch.setattr(data.kept, "keep", lambda path, write: False)  # as on a read-only folder
    monkeypatch.setattr(data, "ANTICIPATED_FROM_ORDERS", 0)
    data._warm_single_values(str(store.root), version)
    assert counted == [Filters(channel=("app",))]

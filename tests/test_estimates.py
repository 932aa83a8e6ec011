"""A large store's first view of a filter set: the Customers page drawn from the orders sample's estimate at once,
then redrawn with the exact figures when their count (in the background) is kept.

The sample's share is 1 in 2 here (SAMPLE_ONE_IN patched before the import), so that a store of ten customers has
one; which orders it holds is worked out from the raw rows with plain Python (customers numbered by their first
valid order, then id; guest orders by their id's MD5)."""

import base64
import csv
import hashlib
import json
import math
from datetime import date

import numpy as np
import pandas as pd
import pytest

from metrics import cohorts, estimates
from metrics import kpis as kpis_metrics
from metrics import customer_views as customer_views_metrics
from metrics.customer_facts import kept_last_day
from metrics.filters import Filters
from store import NoSample, Store
from store.models import dialect
from store.models import orders as order_models
from tests.conftest import open_app
from tests.test_filtered_kept import upload
from ui import data

HEADER = "order_id,customer_id,order_date,amount,channel,status"
# ten customers, first orders on ten days of January in id order (keys c01=1 ... c10=10), two more in February
# (c13=11, c14=12), guests, a cancelled order, c09's second app order on the last app day, c05's store order
HISTORY = "\n".join([
    *(f"o{n:02d}a,c{n:02d},2025-01-{n:02d},{10 * n},app,paid" for n in range(1, 11)),
    "o13a,c13,2025-02-12,13,app,paid", "o14a,c14,2025-02-14,14,app,paid",
    "o09c,c09,2025-03-20,90,app,paid", "o05b,c05,2025-03-08,50,store,paid",
    "o01b,c01,2025-02-03,15,app,paid", "o02b,c02,2025-02-04,25,app,paid", "o02c,c02,2025-03-01,30,web,paid",
    "o03b,c03,2025-02-10,12,web,paid", "o04b,c04,2025-02-11,40,web,paid", "o04c,c04,2025-03-02,44,app,paid",
    "o06b,c06,2025-03-05,60,web,paid", "o08b,c08,2025-03-06,80,app,paid", "o09b,c09,2025-03-07,90,app,cancelled",
    *(f"g{n:02d},,2025-02-{n:02d},7,app,paid" for n in range(1, 21)),
]) + "\n"
# the next month: returning c02 and c03, new c11 (key 13) and c12 (key 14), more guests
LATER = "\n".join([
    "o02d,c02,2025-04-02,20,app,paid", "o03c,c03,2025-04-03,33,app,paid",
    "o11a,c11,2025-04-04,11,web,paid", "o12a,c12,2025-04-05,12,app,paid", "o12b,c12,2025-04-20,13,app,paid",
    *(f"h{n:02d},,2025-04-{n:02d},9,web,paid" for n in range(1, 11)),
]) + "\n"


def _rows(*texts: str) -> list[dict]:
    return [row for text in texts for row in csv.DictReader(f"{HEADER}\n{text}".splitlines())]


def _sampled_ids(rows: list[dict], one_in: int) -> set[str]:
    """The order ids the sample holds, from the raw rows: every order of the customers whose number (by first
    paid order, then id) is a multiple of one_in; other orders (guests, cancelled) when their id's MD5 starts
    with one of 256 / one_in two-digit prefixes."""
    first = {}
    for row in rows:
        if row["customer_id"] and row["status"] == "paid":
            first[row["customer_id"]] = min(first.get(row["customer_id"], row["order_date"]), row["order_date"])
    keys = {customer: n for n, customer in enumerate(sorted(first, key=lambda c: (first[c], c)), start=1)}
    prefixes = {f"{bucket:02x}" for bucket in range(256 // one_in)}
    return {row["order_id"] for row in rows
            if (keys.get(row["customer_id"], 0) % one_in == 0 if row["customer_id"] and row["status"] == "paid"
                else hashlib.md5(row["order_id"].encode()).hexdigest()[:2] in prefixes)}


@pytest.fixture
def one_in_two(monkeypatch):
    monkeypatch.setattr(order_models, "SAMPLE_ONE_IN", 2)


def _sample_ids(store: Store) -> set[str]:
    return {row[0] for row in store.connect(sample=True).execute("select order_id from orders").fetchall()}


def test_the_sample_holds_one_customer_in_n_with_every_order_and_one_other_order_in_n(tmp_path, one_in_two):
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "history.csv", HISTORY, HEADER)
    expected = _sampled_ids(_rows(HISTORY), 2)
    assert {"o02a", "o02b", "o02c", "o04a", "o04b", "o04c", "o10a"} <= expected and "o01a" not in expected
    assert _sample_ids(store) == expected
    con = store.connect(sample=True)
    assert con.execute("select count(*) from order_facts").fetchone()[0] == 1  # the whole store's dates
    assert {row[0] for row in con.execute("show tables").fetchall()} == {"orders", "order_facts", "sample_share"}

    # next month's export, appended: the sample grows by the new orders alone, as a new import of both counts it
    upload(store, tmp_path, "later.csv", LATER, HEADER)
    assert store.batches()[-1]["build_path"] == "append"
    assert _sample_ids(store) == _sampled_ids(_rows(HISTORY, LATER), 2)
    assert {"o02d", "o12a", "o12b"} <= _sample_ids(store) and not {"o03c", "o11a"} & _sample_ids(store)
    rebuilt = Store(tmp_path / "rebuilt")
    upload(rebuilt, tmp_path, "all.csv", HISTORY + LATER, HEADER)
    assert _sample_ids(rebuilt) == _sample_ids(store)


def test_a_filter_counts_to_its_own_last_day(tmp_path, one_in_two):
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "history.csv", HISTORY, HEADER)
    upload(store, tmp_path, "later.csv", LATER, HEADER)
    con = store.connect()
    assert dialect.has_table(con, "last_order_days")
    # the last paid order of a customer: web 2025-04-04 (c11), app 2025-04-20 (c12), both appended; store
    # 2025-03-08 (c05), from the first upload; from March on, the same
    assert kept_last_day(con, Filters(channel=("store",))) == date(2025, 3, 8)
    assert kept_last_day(con, Filters(channel=("web",))) == date(2025, 4, 4)
    assert kept_last_day(con, Filters(channel=("app",))) == date(2025, 4, 20)
    assert kept_last_day(con, Filters(start=date(2025, 3, 1), channel=("web",))) == date(2025, 4, 4)
    assert kept_last_day(con, Filters(end=date(2025, 3, 31), channel=("web",))) == date(2025, 3, 31)
    assert kept_last_day(con, Filters(start=date(2025, 5, 1))) is None


def test_a_version_without_a_sample_says_so(tmp_path):
    with pytest.raises(NoSample):
        Store(tmp_path / "empty").connect(sample=True)


def test_counts_and_sums_are_scaled_and_rounded_shares_left_as_counted():
    assert estimates.estimated_total(3, 128) == 384
    assert estimates.estimated_total(12_345, 128) == 1_580_000  # 1,580,160 to three significant digits
    assert estimates.estimated_total(0.5, 2) == 1
    # a share of 400 customers at 50%: Wilson's interval 0.5 ± 1.96 x sqrt(0.25/400 + 1.96²/640000) / (1 + 1.96²/400)
    assert estimates.share_margin(0.5, 400) == pytest.approx(0.048765, abs=1e-6)
    # nobody of 100 with a second order: not "give or take 0", but up to 3.7 points (1.96² / (100 + 1.96²))
    assert estimates.share_margin(0.0, 100) == pytest.approx(1.959964 ** 2 / (100 + 1.959964 ** 2))
    funnel = pd.DataFrame({"order_number": [1, 2], "customers": [200, 50], "share_of_customers": [1.0, 0.25],
                           "share_of_previous_step": [math.nan, 0.25]})
    members = pd.DataFrame({"segment": ["member"], "customers": [10], "revenue": [1234.5], "aov": [61.7],
                            "repurchase_rate": [0.4]})
    views = {"funnel": funnel, "days_between_orders": pd.DataFrame({"from_order": [1], "repeat_orders": [50],
                                                                    "days_median": [30.0]}),
             "time_to_second_order": pd.DataFrame({"within_days": [30], "customers": [20], "share": [0.1]}),
             "rfm_segments": pd.DataFrame({"segment": ["champions"], "customers": [7], "revenue": [999.0],
                                           "revenue_share": [0.3]}),
             "due": pd.DataFrame({"customer_id": ["c2"]}), "due_count": 9,
             "members": {"table": members, "frequency_multiple": 1.5}, "tiers": None}
    estimate = estimates.customer_views_estimate(views, 4)
    assert estimate["funnel"]["customers"].tolist() == [800, 200]
    assert estimate["funnel"]["share_of_customers"].tolist() == [1.0, 0.25]
    assert estimate["days_between_orders"][["repeat_orders", "days_median"]].values.tolist() == [[200, 30.0]]
    assert estimate["rfm_segments"][["customers", "revenue", "revenue_share"]].values.tolist() == [[28, 4000.0, 0.3]]
    assert estimate["due"].empty and estimate["due_count"] == 36
    assert estimate["members"]["table"][["customers", "revenue", "aov", "repurchase_rate"]].values.tolist() == [
        [40, 4940.0, 61.7, 0.4]]  # 4,938 to three digits
    assert estimate["members"]["frequency_multiple"] == 1.5 and estimate["tiers"] is None
    note = estimates.customer_views_note(views, 4)
    assert note == {"one_in": 4, "sampled_customers": 200, "repeat_share": 0.25,
                    "repeat_margin": pytest.approx(estimates.share_margin(0.25, 200))}


def _funnel_shares(rows: list[dict], customers: set[str] | None, channel: str) -> list[float]:
    """The share of the customers with a paid order in `channel` reaching their 2nd, 3rd... order in it."""
    counts: dict[str, int] = {}
    for row in rows:
        if row["customer_id"] and row["status"] == "paid" and row["channel"] == channel and (
                customers is None or row["customer_id"] in customers):
            counts[row["customer_id"]] = counts.get(row["customer_id"], 0) + 1
    return [sum(n >= k for n in counts.values()) / len(counts) for k in range(1, max(counts.values()) + 1)]


def test_the_customers_page_shows_the_estimate_then_the_exact_figures_once_counted(tmp_path, monkeypatch, one_in_two):
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "history.csv", HISTORY, HEADER)
    monkeypatch.setattr(data, "ESTIMATE_FROM_ORDERS", 1)  # as if it were large
    monkeypatch.setattr(data, "ESTIMATE_MIN_CUSTOMERS", 1)
    rows = _rows(HISTORY)
    sampled = {row["customer_id"] for row in rows if row["order_id"] in _sampled_ids(rows, 2) and row["customer_id"]}
    assert sampled == {"c02", "c04", "c06", "c08", "c10", "c14"}
    # under app: sampled c02 (o02a, o02b), c04 (o04a, o04c), c06, c08 (o08a, o08b), c10, c14: 3 of 6 reach a 2nd
    assert _funnel_shares(rows, sampled, "app") == [1.0, 0.5]

    app = open_app(monkeypatch, store.root, "pages/customers.py", channel="app")
    notice = [info.value for info in app.info if "Estimated" in info.value]
    assert notice and "1 in 2 customers (6 of them under these filters)" in notice[0]
    assert "50.0% placed a second order" in notice[0]
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"] == [1.0, 0.5]
    # due, counted to the last app order of all (c09, 20 March), not the sample's (c08, 6 March): of the sampled,
    # c02 (app orders 2 January and 4 February: usual interval 33 days, 44 days since): 1 x 2. Counted to
    # 6 March, 30 days since: nobody
    assert "Due for repurchase: about 2 customers" in [header.value for header in app.subheader]
    assert "The list of customers due appears with the exact figures." in [c.value for c in app.caption]
    due_tables = len(app.dataframe)

    assert data.wait_for_exact_counts(timeout=60)
    month = data.customers_month(str(store.root), store.manifest()["version"], Filters(channel=("app",)))
    assert data.exact_count_ready(str(store.root), store.manifest()["version"], "customers", Filters(channel=("app",)),
                                  month=month)
    monkeypatch.setattr(customer_views_metrics, "customer_views", _fails)  # kept by the count: read, not counted
    app.run()  # what the page's check does every two seconds once the exact figures are kept
    assert not app.exception, [e.value for e in app.exception]
    assert not [info.value for info in app.info if "Estimated" in info.value]
    # every customer with an app order: c01-c10, c13, c14, of whom c01, c02, c04, c08, c09 reach a 2nd app order
    assert _funnel_shares(rows, None, "app") == [1.0, 5 / 12]
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["y"] == pytest.approx([1.0, 5 / 12])
    # c01 (3 February, interval 33 days, 45 since) and c02; c09's last order is on the day counted to
    assert "Due for repurchase: 2 customers" in [header.value for header in app.subheader]
    assert len(app.dataframe) == due_tables + 1  # the due list


def test_the_overview_shows_every_kpi_at_once_and_the_annual_frequency_once_counted(tmp_path, monkeypatch):
    """Two channels: no stored summary holds their customers' trailing years (seconds at 100M orders), so on a large
    store the first view shows every other KPI exact and counts the annual frequency in the background."""
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "history.csv", HISTORY, HEADER)
    monkeypatch.setattr(data, "ESTIMATE_FROM_ORDERS", 1)  # as if it were large
    counting = "Annual frequency is still being counted under these filters"
    app = open_app(monkeypatch, store.root, channel=["app", "web"])
    assert any(caption.value.startswith(counting) for caption in app.caption)
    first = app.dataframe[0].value.set_index("period")
    assert (first["annual_frequency"] == "–").all()

    assert data.wait_for_exact_counts(timeout=60)
    monkeypatch.setattr(kpis_metrics, "kpi_table", _fails)  # kept by the count: read, not counted
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not any(caption.value.startswith(counting) for caption in app.caption)
    table = app.dataframe[0].value.set_index("period")
    others = [column for column in table.columns if column != "annual_frequency"]
    assert table[others].equals(first[others])
    # each month: app and web orders with a customer id in the 12 months to it, over their distinct customers
    rows = [r for r in _rows(HISTORY) if r["customer_id"] and r["status"] == "paid" and r["channel"] in ("app", "web")]
    expected = {}
    for month in ("2025-01", "2025-02", "2025-03"):
        year = [r for r in rows if r["order_date"][:7] <= month]  # the data starts in January
        expected[month] = len(year) / len({r["customer_id"] for r in year})
    assert expected["2025-02"] == 16 / 12
    assert {f"{period:%Y-%m}": value for period, value in table["annual_frequency"].items()} == pytest.approx(expected)

    # one channel alone: its stored summary answers the whole table at once
    monkeypatch.undo()
    monkeypatch.setattr(data, "ESTIMATE_FROM_ORDERS", 1)
    alone = open_app(monkeypatch, store.root, channel="app")
    assert not any(caption.value.startswith(counting) for caption in alone.caption)
    assert alone.dataframe[0].value["annual_frequency"].notna().all()
    # a range ending inside a month counts from the orders anyway: once, the annual frequency with the rest
    cut = open_app(monkeypatch, store.root, channel=["app", "web"], to="2025-02-14")
    assert not any(caption.value.startswith(counting) for caption in cut.caption)
    assert cut.dataframe[0].value["annual_frequency"].notna().all()


def _fails(*arguments, **options):
    raise AssertionError("counted again instead of reading what the background count kept")


def test_the_cohorts_page_shows_the_estimate_then_the_exact_matrix_once_counted(tmp_path, monkeypatch, one_in_two):
    store = Store(tmp_path / "store")
    upload(store, tmp_path, "history.csv", HISTORY, HEADER)
    monkeypatch.setattr(data, "ESTIMATE_FROM_ORDERS", 1)
    monkeypatch.setattr(data, "ESTIMATE_MIN_CUSTOMERS", 1)
    monkeypatch.setattr(estimates, "MIN_COHORT_SIZE", 2)  # the sample's January cohort (5 customers) is shown
    # two cohorts under app. January: c01-c10, active in February (age 1) c01, c02 (c04's February order is on
    # the web), in March (age 2) c04, c08, c09; of the sampled five (c02, c04, c06, c08, c10): c02, then c04 and
    # c08. February: c13, c14 (sampled alone: a cohort of 1 in the sample, marked small), neither back in March
    app = open_app(monkeypatch, store.root, "pages/cohorts.py", channel="app")
    notice = [info.value for info in app.info if "Estimated" in info.value]
    assert notice and "1 in 2 customers (6 of them under these filters)" in notice[0]
    assert "(5 customers sampled)" in notice[0]
    assert _heatmap(app) == [[1.0, 0.2, 0.4], [1.0, 0.0, -1.0]]
    heatmap = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]
    assert heatmap["y"] == ["2025-01", "2025-02 *"]
    assert heatmap["customdata"][0][0].endswith("Cohort size: 10") and heatmap["customdata"][1][0].endswith(": 2")
    assert any(caption.value.startswith("1 cohorts have fewer than") and "in the sample" in caption.value
               for caption in app.caption)

    assert data.wait_for_exact_counts(timeout=60)
    monkeypatch.setattr(cohorts, "cohort_matrix", _fails)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert not [info.value for info in app.info if "Estimated" in info.value]
    assert _heatmap(app) == [[1.0, 0.2, 0.3], [1.0, 0.0, -1.0]]
    assert json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["customdata"][0][0].endswith(
        "Cohort size: 10")

    # a date range alone: the cohort summary answers at once, so the matrix is counted, never estimated
    monkeypatch.undo()
    monkeypatch.setattr(data, "ESTIMATE_FROM_ORDERS", 1)
    monkeypatch.setattr(data, "ESTIMATE_MIN_CUSTOMERS", 1)
    dated = open_app(monkeypatch, store.root, "pages/cohorts.py", **{"from": "2025-01-05"})
    assert not [info.value for info in dated.info if "Estimated" in info.value]


def _heatmap(app) -> list[list[float]]:
    """The cohort heatmap's cells as drawn (Plotly sends them as a typed array: base64 of float64s); -1 for none."""
    z = json.loads(app.get("plotly_chart")[0].proto.spec)["data"][0]["z"]
    rows, columns = (int(n) for n in z["shape"].split(","))
    cells = np.frombuffer(base64.b64decode(z["bdata"]), dtype=z["dtype"]).reshape(rows, columns)
    return np.nan_to_num(cells.round(6), nan=-1.0).tolist()  # -1: no such month yet

"""Incremental uploads (issue 18): a batch of later orders is appended, and gives the same tables as the
full rebuild; other uploads (overlapping, older, re-uploads) and removals take the full rebuild.

Data: the demo generator (600 customers over 2023-2025, returning and new customers, guests,
cancellations and refunds, ids like C7 and C512 so that new ids sort among the old ones), with a
sku column so that order lines are stored too, split into the history (to November 2025) and the
next month (December 2025); and a real export (Etsy 2023) split in two by date. The reference
store imports the same files with appending turned off.
"""

import csv
import json
import math
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from ingest.assignments import import_assignments
from ingest.demo import write_demo
from ingest.pipeline import import_file
from metrics.experiments.report import experiment_report
from metrics.inventory import store_inventory
from store import Store, derived
from store.models import registry
from store.models.registry import APPEND_STARTS_FROM, BUILD_ORDER, Request

ROOT = Path(__file__).resolve().parent.parent
CUT = datetime(2025, 12, 1)
ETSY = ROOT / "tests" / "fixtures" / "real" / "etsy_sold_orders_2023.csv"  # tab-separated, one row per order


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("incremental")
    demo = write_demo(folder / "demo", customers=600)
    table = pq.read_table(demo["orders"])
    table = table.append_column("sku", pc.binary_join_element_wise("SKU-", table["category"], ""))
    before = pc.less(table["order_ts"], pa.scalar(CUT, pa.timestamp("s")))
    parts = {
        "history": table.filter(before),
        "month": table.filter(pc.invert(before)),
        "both": table,
        # November and December: November's orders are already in the store after the history
        "overlap": table.filter(pc.greater_equal(table["order_ts"], pa.scalar(datetime(2025, 11, 1), pa.timestamp("s")))),
        "early": table.filter(pc.less(table["order_ts"], pa.scalar(datetime(2024, 6, 1), pa.timestamp("s")))),
        "late": table.filter(pc.greater_equal(table["order_ts"], pa.scalar(datetime(2024, 6, 1), pa.timestamp("s")))),
        # the history in two: to October, then November (three uploads: two appends in a row)
        "to_october": table.filter(pc.less(table["order_ts"], pa.scalar(datetime(2025, 11, 1), pa.timestamp("s")))),
        "november": table.filter(pc.and_(before, pc.greater_equal(table["order_ts"],
                                                                  pa.scalar(datetime(2025, 11, 1), pa.timestamp("s"))))),
    }
    # December in two halves: the second half's month is already the store's last month
    mid_december = pa.scalar(datetime(2025, 12, 15), pa.timestamp("s"))
    parts["to_mid_december"] = table.filter(pc.less(table["order_ts"], mid_december))
    parts["late_december"] = table.filter(pc.greater_equal(table["order_ts"], mid_december))
    # the month with a channel the store never had: kpi_base needs a row of it for every earlier month
    month = parts["month"]
    livestream = pc.equal(pc.modulo(pa.array(range(month.num_rows)), 7), 0)
    parts["month_new_channel"] = month.set_column(month.schema.get_field_index("channel"), "channel",
                                                  pc.if_else(livestream, "livestream", month["channel"]))
    # the month's orders of customers already in the history: no customer key moves
    known = pa.array(sorted({c for c in parts["history"]["customer_id"].to_pylist() if c}))
    parts["month_returning"] = month.filter(pc.is_in(month["customer_id"], known))
    # to mid-June 2025, then the month after it: orders in the strategy tests' windows (aa_followup_2025 was
    # assigned on 1 June), and the same month without the assigned customers' orders (no new order in a
    # window, but 30 days after 1 June pass: customers whose window has ended count from then on)
    mid_june, mid_july = (pa.scalar(datetime(2025, m, 15), pa.timestamp("s")) for m in (6, 7))
    parts["to_mid_june"] = table.filter(pc.less(table["order_ts"], mid_june))
    june_july = table.filter(pc.and_(pc.greater_equal(table["order_ts"], mid_june), pc.less(table["order_ts"], mid_july)))
    parts["june_july"] = june_july
    with open(demo["assignments"], newline="") as handle:
        assigned = pa.array(sorted({row["customer_id"] for row in csv.DictReader(handle)}))
    parts["june_july_unassigned"] = june_july.filter(pc.invert(pc.fill_null(pc.is_in(june_july["customer_id"], assigned), False)))
    # without the sku column: a store without order lines (the append reads no order ids then)
    for name in ("history", "month"):
        parts[f"{name}_without_lines"] = parts[name].drop_columns(["sku"])
    paths = {"assignments": demo["assignments"]}
    for name, part in parts.items():
        paths[name] = folder / f"{name}.parquet"
        pq.write_table(part, paths[name])
    return paths


def tables(store: Store, leave_out: tuple[str, ...] = ("batch_id",)) -> dict[str, list[tuple]]:
    """Every registry table of the store's published version, rows sorted by all columns.
    batch_id is left out: it holds a random part that differs between two stores."""
    con = store.connect()
    result = {}
    for name in BUILD_ORDER:
        columns = [c for c in con.sql(f"select * from {name} limit 0").columns if c not in leave_out]
        listed = ", ".join(f'"{c}"' for c in columns)
        rows = con.sql(f"select {listed} from {name} order by all").fetchall()
        result[name] = (columns, rows)
    con.close()
    return result


def same_value(a, b) -> bool:
    """Equal; a double (not a DECIMAL) to 1e-12 relative: sums of doubles (planner_base's squares, averages)
    add in the order rows are read, which differs with the order of the rows in the orders file, in
    the last bit (463315.0889999999 against 463315.08900000004). Counts, dates, keys, decimals: exact."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or math.isclose(a, b, rel_tol=1e-12) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same_tables(ours: Store, reference: Store, leave_out: tuple[str, ...] = ("batch_id",)) -> None:
    mine, theirs = tables(ours, leave_out), tables(reference, leave_out)
    for name in BUILD_ORDER:
        assert mine[name][0] == theirs[name][0], f"{name}: columns differ"
        assert len(mine[name][1]) == len(theirs[name][1]), f"{name}: row counts differ"
        for row, other in zip(mine[name][1], theirs[name][1]):
            assert len(row) == len(other) and all(map(same_value, row, other)), f"{name}: {row} != {other}"
    assert ours.manifest()["tables"] == reference.manifest()["tables"]


def load(store: Store, files: dict, *names: str):
    """Import the named files in order (assignments after the first); return the last import's report."""
    report = None
    for number, name in enumerate(names):
        report = import_file(files[name], store)
        if number == 0:
            import_assignments(files["assignments"], store)
    return report


@pytest.fixture(scope="module")
def appended(files, tmp_path_factory) -> tuple[Store, object]:
    store = Store(tmp_path_factory.mktemp("appended") / "store")
    report = load(store, files, "history", "month")
    return store, report


@pytest.fixture(scope="module")
def rebuilt(files, tmp_path_factory) -> tuple[Store, object]:
    store = Store(tmp_path_factory.mktemp("rebuilt") / "store", append_uploads=False)
    report = load(store, files, "history", "month")
    return store, report


def test_the_data_has_what_an_append_must_handle(files, appended):
    """Returning and new customers in the month, new ids sorting among the old ones, invalid and guest orders."""
    history, month = pq.read_table(files["history"]).to_pylist(), pq.read_table(files["month"]).to_pylist()
    old_ids = {r["customer_id"] for r in history if r["customer_id"]}
    month_ids = {r["customer_id"] for r in month if r["customer_id"]}
    new_ids = month_ids - old_ids
    assert len(month_ids & old_ids) >= 20 and len(new_ids) >= 5
    assert any(min(new_ids) < old < max(new_ids) for old in old_ids)  # keys of old customers move
    assert any(r["status"] != "paid" for r in month) and any(r["customer_id"] is None for r in month)


def test_next_month_is_appended_and_every_table_equals_the_full_rebuild(appended, rebuilt):
    store, report = appended
    assert report.build_path == "append" and report.build_path_reason is None
    assert store.batches()[-1]["build_path"] == "append"
    assert rebuilt[1].build_path == "full" and rebuilt[1].build_path_reason
    assert_same_tables(store, rebuilt[0])


def test_appended_store_equals_one_import_of_both_files(files, appended, tmp_path):
    one = Store(tmp_path / "one")
    load(one, files, "both")
    # the batch columns and source_row name the upload and file row an order came from (one file against two)
    assert_same_tables(appended[0], one, leave_out=("batch_id", "batch_seq", "source_row"))


def test_orders_continue_each_customers_numbering(files, appended):
    """Hand-checked on the raw files: a returning customer's first December order is numbered one
    after their valid orders before December, with the days since their last one."""
    history, month = pq.read_table(files["history"]).to_pylist(), pq.read_table(files["month"]).to_pylist()
    valid_month = sorted((r for r in month if r["status"] == "paid" and r["customer_id"]),
                         key=lambda r: (r["order_ts"], r["order_id"]))
    earlier = {}
    for r in history:
        if r["status"] == "paid" and r["customer_id"]:
            earlier.setdefault(r["customer_id"], []).append(r["order_ts"])
    first = next(r for r in valid_month if r["customer_id"] in earlier)
    con = appended[0].connect()
    seq, days = con.execute("select customer_order_seq, days_since_previous from orders where order_id = $id",
                            {"id": first["order_id"]}).fetchone()
    con.close()
    previous = earlier[first["customer_id"]]
    assert seq == len(previous) + 1
    assert days == (first["order_ts"].date() - max(previous).date()).days


def appended_equals_rebuilt(files: dict, tmp_path: Path, *names: str) -> Store:
    """Import the named files with appending (the last one must take the append path) and without; assert
    the two stores hold the same tables; return the appended store."""
    store = Store(tmp_path / "ours")
    assert load(store, files, *names).build_path == "append"
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, *names)
    assert_same_tables(store, reference)
    return store


def test_a_month_with_a_new_channel_is_appended_with_the_same_numbers(files, tmp_path):
    store = appended_equals_rebuilt(files, tmp_path, "history", "month_new_channel")
    con = store.connect()
    months = con.execute("select count(*) from kpi_base where dimension = 'channel' and segment = 'livestream'").fetchone()[0]
    con.close()
    assert months == 36  # every month of 2023-2025, not only December


def test_a_month_of_returning_customers_only_is_appended_with_the_same_numbers(files, tmp_path):
    appended_equals_rebuilt(files, tmp_path, "history", "month_returning")


def test_two_months_at_once_are_appended_with_the_same_numbers(files, tmp_path):
    """November and December after the history to October: kpi_base counts two new months' trailing years."""
    appended_equals_rebuilt(files, tmp_path, "to_october", "overlap")


@pytest.mark.parametrize("names", [
    ("to_mid_december", "late_december"),  # the append starts in the store's last month
    ("to_october", "month"),  # a month without orders between the store's last and the append's first
    ("early", "late"),  # the append spans more than a year: kpi_base is counted whole again
])
def test_an_append_within_the_last_month_after_a_gap_or_over_a_year_gets_the_same_numbers(files, tmp_path, names):
    store = Store(tmp_path / "ours")
    assert load(store, files, *names).build_path == "append"
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, *names)
    assert_same_tables(store, reference)


def test_a_store_without_order_lines_is_appended_with_the_same_numbers(files, tmp_path):
    store = appended_equals_rebuilt(files, tmp_path, "history_without_lines", "month_without_lines")
    con = store.connect()
    lines, categories = con.execute("select (select count(*) from order_lines), "
                                    "(select count(*) from customer_categories where second_category is not null)").fetchone()
    con.close()
    assert lines == 0 and categories > 0


@pytest.mark.parametrize("names, reason", [
    (("history", "overlap"), "already in the store"),
    (("late", "early"), "not after the store's last valid order"),
    (("history", "month", "month"), "already in the store"),  # a re-upload
])
def test_other_uploads_take_the_full_rebuild_with_the_same_numbers(files, tmp_path, names, reason):
    store = Store(tmp_path / "ours")
    report = load(store, files, *names)
    assert report.build_path == "full" and reason in report.build_path_reason
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, *names)
    assert_same_tables(store, reference)


@pytest.mark.parametrize("names", [("history",), ("history", "overlap"), ("history", "month", "month")])
def test_orders_written_in_parts_equal_orders_written_at_once(files, tmp_path, monkeypatch, names):
    """A large store's orders table is written in parts of ORDER_PART_ROWS batch rows (one batch, an
    overlapping one, a re-upload): every table is the same as with the table written at once."""
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, *names)
    monkeypatch.setattr(derived, "ORDER_PART_ROWS", 700)
    store = Store(tmp_path / "ours", append_uploads=False)
    load(store, files, *names)
    history_rows = pq.read_metadata(files["history"]).num_rows
    assert len(list(store.version_dir().glob("orders*.parquet"))) >= math.ceil(history_rows / 700) + len(names) - 1
    assert not list(store.version_dir().glob("order_plan*"))
    assert_same_tables(store, reference)


def test_removing_the_appended_month_gives_the_history_again(files, tmp_path):
    store = Store(tmp_path / "ours")
    assert load(store, files, "history", "month").build_path == "append"
    store.remove_batch(store.batches()[-1]["id"])
    assert store.audit_log()[-1]["build_path"] == "full"
    reference = Store(tmp_path / "reference")
    load(reference, files, "history")
    assert_same_tables(store, reference, leave_out=("batch_id", "batch_seq"))
    for batch in store.batches():  # down to an empty store: no upload to append to
        store.remove_batch(batch["id"])
    assert store.connect().execute("select count(*) from orders").fetchone()[0] == 0


def test_cli_json_says_which_path_ran(files, tmp_path):
    root = tmp_path / "cli"
    load(Store(root), files, "history")
    out = subprocess.run([sys.executable, "-m", "ingest", str(files["month"]), "--store", str(root), "--json"],
                         cwd=ROOT, capture_output=True, text=True, check=True).stdout
    report = json.loads(out)
    assert report["build_path"] == "append" and report["build_path_reason"] is None


def _batch_lines(monkeypatch, root: Path, language: str | None = None) -> str:
    """The Data page's batch lines (the page alone under st.navigation, as tests/test_cannot_answer.py)."""
    from streamlit.testing.v1 import AppTest

    from store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(root))
    page = str(ROOT / "pages" / "data.py")
    app = AppTest.from_string(f"import streamlit as st\nst.navigation([st.Page({page!r})]).run()\n", default_timeout=60)
    if language:  # the language picker's state (the dashboard sets it from ?lang=)
        app.session_state["lang"] = language
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    return "\n".join(m.value for m in app.markdown)


def test_data_page_says_which_path_each_upload_took(monkeypatch, appended):
    lines = _batch_lines(monkeypatch, appended[0].root)
    assert "month.parquet" in lines and "appended to the stored orders" in lines
    assert "history.parquet" in lines and "all tables rebuilt" in lines
    chinese = _batch_lines(monkeypatch, appended[0].root, "中文")
    assert "已追加到已存订单" in chinese and "已重建全部数据表" in chinese


def test_an_append_writes_only_the_new_rows_beside_the_previous_files(files, appended):
    """The orders and order lines of the appended version are the history version's files (the same
    inodes: hard links) plus one file holding exactly the month's rows."""
    store = appended[0]
    current = store.version_dir()
    previous = store.root / "versions" / store.manifest()["history"][-2]["dir"]
    month_rows = pq.read_metadata(files["month"]).num_rows
    for table in ("orders", "order_lines"):
        assert (current / f"{table}.parquet").stat().st_ino == (previous / f"{table}.parquet").stat().st_ino
        assert not (previous / f"{table}.2.parquet").exists()
    assert pq.read_metadata(current / "orders.2.parquet").num_rows == month_rows
    month_ids = [r["order_id"] for r in pq.read_table(files["month"]).to_pylist()]
    con = store.connect()
    month_lines = con.execute("select count(*) from order_lines where order_id in (select unnest($ids))",
                              {"ids": month_ids}).fetchone()[0]
    con.close()
    assert month_lines > 0 and pq.read_metadata(current / "order_lines.2.parquet").num_rows == month_lines


def test_an_append_rewrites_only_the_months_from_its_first(files, appended):
    """The two summaries that grow with the customers are kept by month: the appended version links the
    history's files of the months before the month's first paid order, and writes only the months from it."""
    store = appended[0]
    current = store.version_dir()
    previous = store.root / "versions" / store.manifest()["history"][-2]["dir"]
    first_new = min(r["order_ts"] for r in pq.read_table(files["month"]).to_pylist()
                    if r["status"] == "paid").date().replace(day=1)
    previous_inodes = {path.stat().st_ino for path in previous.glob("*.parquet")}
    for table, column in (("kpi_customer_combos", "month"), ("kpi_signatures", "period")):
        linked, written = [], []
        for path in current.glob(f"{table}*.parquet"):
            months = [month.date() if isinstance(month, datetime) else month  # periods are timestamps
                      for month in pq.read_table(path, columns=[column]).column(column).to_pylist()]
            (linked if path.stat().st_ino in previous_inodes else written).append(months)
        assert (current / f"{table}.parquet").stat().st_ino in previous_inodes, table
        assert any(linked) and all(month < first_new for months in linked for month in months), table
        assert any(written) and all(month >= first_new for months in written for month in months), table


def _assignments(files: dict) -> dict[str, dict[str, datetime]]:
    """experiment -> customer id -> assignment time, read from the raw assignments file."""
    result: dict[str, dict[str, datetime]] = {}
    with open(files["assignments"], newline="") as handle:
        for row in csv.DictReader(handle):
            assigned_at = datetime.fromisoformat(row["assigned_at"])
            customers = result.setdefault(row["experiment"], {})
            customers[row["customer_id"]] = min(assigned_at, customers.get(row["customer_id"], assigned_at))
    return result


def _paid_orders(path: Path) -> list[dict]:
    return [r for r in pq.read_table(path).to_pylist() if r["status"] == "paid" and r["customer_id"]]


def _previous_and_current(store: Store, table: str) -> tuple[list, list]:
    """A table's rows in the version before the current one and in the current one, sorted."""
    previous = store.manifest()["history"][-2]["version"]
    rows = []
    for version in (previous, None):
        con = store.connect(version)
        rows.append(con.execute(f"select * from {table} order by all").fetchall())
        con.close()
    return rows[0], rows[1]


def test_an_append_in_a_strategy_tests_window_counts_its_orders_as_the_full_rebuild_does(files, tmp_path):
    """History to mid-June 2025, then a month with assigned customers' orders inside their 90-day windows:
    the strategy-test tables count the new orders (they change) exactly as the full rebuild does."""
    assignments = _assignments(files)
    in_window = [o for o in _paid_orders(files["june_july"]) for customers in assignments.values()
                 if o["customer_id"] in customers
                 and customers[o["customer_id"]] <= o["order_ts"] < customers[o["customer_id"]] + timedelta(days=90)]
    assert in_window  # the data has what this test is about
    store = appended_equals_rebuilt(files, tmp_path, "to_mid_june", "june_july")
    for table in ("experiment_customers", "experiment_days", "experiment_buckets"):
        before, after = _previous_and_current(store, table)
        assert before != after, f"{table}: the month's window orders changed nothing"


def test_an_append_without_window_orders_still_starts_counting_the_customers_whose_window_ended(files, tmp_path):
    """The month after mid-June without any assigned customer's order: the lift-to-date days stay as they
    were, but the 30-day windows of 1 June end in it, so the novelty weeks count those customers from now on."""
    assignments = _assignments(files)
    month = pq.read_table(files["june_july_unassigned"]).to_pylist()
    assert not {o["customer_id"] for o in month} & set().union(*assignments.values())
    history_end = max(o["order_ts"] for o in pq.read_table(files["to_mid_june"]).to_pylist())
    month_end = max(o["order_ts"] for o in month)
    assert any(history_end < at + timedelta(days=30) <= month_end for customers in assignments.values()
               for at in customers.values())
    store = appended_equals_rebuilt(files, tmp_path, "to_mid_june", "june_july_unassigned")
    before, after = _previous_and_current(store, "experiment_days")
    assert before == after
    before, after = _previous_and_current(store, "experiment_buckets")
    assert before != after


def test_an_append_rewrites_only_the_strategy_test_rows_its_orders_change(files, appended):
    """December 2025, long after both tests' windows: the rows of experiment_customers written again are those
    of the customers whose first order after assignment is in December (every test they are in); the rest
    stay in the linked first file. The equality with the full rebuild is checked above."""
    assignments = _assignments(files)
    history = _paid_orders(files["history"])
    december = _customers_with_a_paid_order(files["month"])
    first_after_in_december = {
        customer for customers in assignments.values() for customer, at in customers.items()
        if customer in december and not any(o["customer_id"] == customer and o["order_ts"] >= at for o in history)}
    assert first_after_in_december  # the data has what this test is about
    expected_rows = sum(customer in customers for customers in assignments.values()
                        for customer in first_after_in_december)
    store = appended[0]
    current = store.version_dir()
    previous = store.root / "versions" / store.manifest()["history"][-2]["dir"]
    first = "experiment_customers.parquet"
    assert (current / first).stat().st_ino == (previous / first).stat().st_ino
    changed = pq.read_table(current / "experiment_customers.2.parquet", columns=["customer_id"])
    assert changed.num_rows == expected_rows
    assert set(changed.column("customer_id").to_pylist()) == first_after_in_december


def test_a_strategy_tag_reads_the_same_after_an_append_as_after_a_rebuild(tmp_path):
    """An experiment whose customers carry two tags (a1 "coupon", the rest "none"): after a1's first order
    after assignment is appended, its row is read last, and the report still names the tag the rebuilt
    store's report names (the first in order, "coupon"), not whichever row comes first."""
    header = "order_id,customer_id,order_date,amount\n"
    history = header + "".join(f"p{i},pad{i:02d},2024-03-{10 + i} 08:00,{10 + i}\n" for i in range(10)) + \
        "o1,a1,2025-01-05 10:00,50\n"
    assignments = "experiment,customer_id,variant,assigned_at,strategy\nexp,a1,treatment,2025-01-15,coupon\n" + \
        "".join(f"exp,pad{i:02d},control,2025-01-15,none\n" for i in range(10))
    (tmp_path / "history.csv").write_text(history)
    (tmp_path / "assignments.csv").write_text(assignments)
    (tmp_path / "month.csv").write_text(header + "o10,a1,2025-02-20 10:00,11\n")
    tags = {}
    for name, append in (("ours", True), ("reference", False)):
        store = Store(tmp_path / name, append_uploads=append)
        import_file(tmp_path / "history.csv", store, currency="EUR")
        import_assignments(tmp_path / "assignments.csv", store)
        assert import_file(tmp_path / "month.csv", store, currency="EUR").build_path == ("append" if append else "full")
        con = store.connect()
        tags[name] = experiment_report(con, "exp", 30)["strategy"]
        con.close()
    assert tags == {"ours": "coupon", "reference": "coupon"}


def test_assignments_naming_a_customer_first_seen_in_an_append_are_not_said_to_lack_orders(files, tmp_path):
    """A customer whose first order came in the appended month is in the customers table's second file: an
    assignments upload naming them finds them; an id with no order at all is still counted."""
    newcomer = sorted(_customers_with_a_paid_order(files["month"]) - _customers_with_a_paid_order(files["history"]))[0]
    path = tmp_path / "assignments.csv"
    path.write_text("experiment,customer_id,variant,assigned_at\n"
                    f"welcome,{newcomer},treatment,2025-12-20\nwelcome,nobody-at-all,control,2025-12-20\n")
    store = Store(tmp_path / "store")
    load(store, files, "history", "month")
    report = import_assignments(path, store)
    assert [w for w in report["warnings"] if "no valid order" in w] == [
        "1 assigned customers have no valid order in the store"]


def test_the_customers_page_under_filters_is_the_same_after_an_append(files, appended, rebuilt):
    """orders_by_dimension gets the month's orders as one more part; the Customers page's per-customer
    results under dimension filters, counted from it, equal the full rebuild's."""
    from metrics.customer_views import customer_views
    from metrics.filters import Filters

    current = appended[0].version_dir()
    assert pq.read_table(current / "orders_by_dimension.2.parquet").num_rows > 0
    ours, reference = appended[0].connect(), rebuilt[0].connect()
    channels = [r[0] for r in ours.execute("select distinct channel from orders where channel is not null "
                                           "order by 1").fetchall()]
    for filters in (Filters(channel=(channels[0],)), Filters(channel=tuple(channels[:2]), member_tier=("gold",))):
        ours_views, reference_views = customer_views(ours, filters, 50), customer_views(reference, filters, 50)
        assert ours_views["due_count"] == reference_views["due_count"] > 0
        for name in ("funnel", "days_between_orders", "time_to_second_order", "rfm_segments", "due"):
            assert ours_views[name].equals(reference_views[name]), (name, filters)
    ours.close()
    reference.close()


def test_new_combinations_are_numbered_after_the_historys(files, appended):
    """The month brings combinations of tier, channel, region and category the history lacks: numbered
    in order of first paid order (then values, missing last), computed here from the raw file, so the
    history's combinations keep their ids and the append needs no rebuild of the combination tables."""
    dimensions = ("member_tier", "channel", "region", "category")
    first = {}
    for r in pq.read_table(files["both"]).to_pylist():
        if r["status"] == "paid":
            combo = tuple(r[d] for d in dimensions)
            first[combo] = min(first.get(combo, r["order_ts"]), r["order_ts"])
    in_history = {tuple(r[d] for d in dimensions) for r in pq.read_table(files["history"]).to_pylist()
                  if r["status"] == "paid"}
    assert len(first) > len(in_history)
    expected = {combo: number for number, combo in enumerate(sorted(
        first, key=lambda c: (first[c], *((v is None, v or "") for v in c))), start=1)}
    con = appended[0].connect()
    rows = con.execute(f"select {', '.join(dimensions)}, combo_id from kpi_combos").fetchall()
    stored = {tuple(row[:4]): row[4] for row in rows}
    con.close()
    assert stored == expected


def test_customer_keys_follow_first_valid_orders_and_never_move(files, appended, tmp_path):
    """Keys computed in plain Python from the raw files: customers with a paid order, numbered by their
    first paid order's time, then id. The history store's customers keep their keys after the append."""
    rows = pq.read_table(files["both"]).to_pylist()
    first = {}
    for r in rows:
        if r["status"] == "paid" and r["customer_id"]:
            first[r["customer_id"]] = min(first.get(r["customer_id"], r["order_ts"]), r["order_ts"])
    expected = {c: key for key, c in enumerate(sorted(first, key=lambda c: (first[c], c)), start=1)}
    con = appended[0].connect()
    stored = dict(con.execute("select customer_id, customer_key from customers").fetchall())
    invalid_keys = con.execute("select count(*) from orders where not is_valid and customer_key is not null").fetchone()[0]
    con.close()
    assert stored == expected and invalid_keys == 0
    history = Store(tmp_path / "history")
    load(history, files, "history")
    con = history.connect()
    before = dict(con.execute("select customer_id, customer_key from customers").fetchall())
    con.close()
    assert before and all(stored[c] == k for c, k in before.items())


def test_two_appends_in_a_row_equal_the_full_rebuild(files, tmp_path):
    store = Store(tmp_path / "ours")
    load(store, files, "to_october", "november")
    assert store.batches()[-1]["build_path"] == "append"
    assert load(store, files, "month").build_path == "append"
    assert sorted(p.name for p in store.version_dir().glob("orders.*parquet")) == [
        "orders.2.parquet", "orders.3.parquet", "orders.parquet"]
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, "to_october", "november", "month")
    assert_same_tables(store, reference)


def _customers_with_a_paid_order(path: Path) -> set[str]:
    """The customer ids of a file's paid orders, read from the raw file."""
    return {r["customer_id"] for r in _paid_orders(path)}


def test_an_append_writes_only_the_rows_of_the_customers_it_touches(files, tmp_path, monkeypatch):
    """Below the share at which it is written whole, an append links the customers file (and the Playbook's
    and the Customer value page's per-customer tables) and writes the rows of the customers with a new paid
    order as a second file, whose rows replace theirs; the next append keeps the earlier one's rows there.
    Every table equals the full rebuild's."""
    monkeypatch.setattr(derived, "CHANGED_ROWS_SHARE", 1.0)
    store = Store(tmp_path / "ours")
    load(store, files, "to_october")
    tables = ("customers", "customer_categories", "clv_customer_rows")
    # the version goes; the files stay linked
    linked = {name: (store.version_dir() / f"{name}.parquet").stat().st_ino for name in tables}
    assert import_file(files["november"], store).build_path == "append"
    second = store.version_dir()
    november = _customers_with_a_paid_order(files["november"])
    for name in tables:
        assert (second / f"{name}.parquet").stat().st_ino == linked[name]
        assert pq.read_metadata(second / f"{name}.2.parquet").num_rows == len(november)
    assert import_file(files["month"], store).build_path == "append"
    third = store.version_dir()
    touched = november | _customers_with_a_paid_order(files["month"])
    for name in tables:
        assert (third / f"{name}.parquet").stat().st_ino == linked[name]
        assert pq.read_metadata(third / f"{name}.2.parquet").num_rows == len(touched)
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, "to_october", "november", "month")
    assert_same_tables(store, reference)
    everyone = _customers_with_a_paid_order(files["both"])
    con = store.connect()
    assert con.execute("select count(*), count(distinct customer_id) from customers").fetchone() == (
        len(everyone), len(everyone))
    assert store_inventory(con)["customers"] == len(everyone)  # from order_facts: every page shows it
    con.close()


def _as_written_before(store: Store, column: str) -> None:
    """Rewrite the current version's order_facts without `column`, as a version written before it existed."""
    facts = store.version_dir() / "order_facts.parquet"
    older = pq.read_table(facts).drop_columns([column])
    facts.unlink()  # a hard link shared with the earlier version: replaced, not written through
    pq.write_table(older, facts)


def test_a_version_whose_order_facts_did_not_count_customers_is_appended_to_with_the_right_count(files, tmp_path):
    store = Store(tmp_path / "ours")
    load(store, files, "history")
    _as_written_before(store, "customers")
    con = store.connect()
    assert store_inventory(con)["customers"] == len(_customers_with_a_paid_order(files["history"]))
    con.close()
    assert import_file(files["month"], store).build_path == "append"
    con = store.connect()
    assert store_inventory(con)["customers"] == len(_customers_with_a_paid_order(files["both"]))
    con.close()


@pytest.mark.parametrize("names, path", [(("history", "month"), "append"), (("late", "early"), "full")])
def test_a_version_whose_order_facts_lack_the_last_valid_order_is_checked_from_its_orders(
        files, tmp_path, names, path):
    store = Store(tmp_path / "ours")
    load(store, files, names[0])
    _as_written_before(store, "last_valid_order")
    assert import_file(files[names[1]], store).build_path == path
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, *names)
    assert_same_tables(store, reference)  # order_facts included: counted whole again after the append


def test_customers_are_written_whole_once_the_changed_rows_pass_their_share(files, tmp_path, monkeypatch):
    monkeypatch.setattr(derived, "CHANGED_ROWS_SHARE", 0.0)
    store = Store(tmp_path / "ours")
    load(store, files, "to_october", "november")
    assert store.batches()[-1]["build_path"] == "append"
    assert [p.name for p in store.version_dir().glob("customers*.parquet")] == ["customers.parquet"]
    reference = Store(tmp_path / "reference", append_uploads=False)
    load(reference, files, "to_october", "november")
    assert_same_tables(store, reference)


def _etsy_halves(folder: Path, cut: datetime) -> tuple[Path, Path, list[dict]]:
    """The Etsy export's records before `cut` and from it, as two files shaped like the download."""
    with open(ETSY, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t")
        header, rows = reader.fieldnames, list(reader)
    paths = []
    for name, keep in (("etsy_first.csv", lambda d: d < cut), ("etsy_second.csv", lambda d: d >= cut)):
        path = folder / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, header, delimiter="\t")
            writer.writeheader()
            writer.writerows(r for r in rows if keep(datetime.strptime(r["Sale Date"], "%m/%d/%Y")))
        paths.append(path)
    return paths[0], paths[1], rows


def test_a_real_export_split_by_date_is_appended_with_the_same_numbers(tmp_path):
    """Etsy's 2023 download in two at 1 October: the fourth quarter is appended (14 buyers of the
    first nine months come back in it, counted here from the raw file) and every table equals the
    full rebuild and one import of the whole file."""
    cut = datetime(2023, 10, 1)
    first, second, rows = _etsy_halves(tmp_path, cut)
    buyers = [{r["Buyer User ID"] for r in rows if r["Buyer User ID"].strip()
               and (datetime.strptime(r["Sale Date"], "%m/%d/%Y") < cut) == early} for early in (True, False)]
    assert len(buyers[0] & buyers[1]) == 14
    ours = Store(tmp_path / "ours")
    import_file(first, ours)
    assert import_file(second, ours).build_path == "append"
    reference = Store(tmp_path / "reference", append_uploads=False)
    import_file(first, reference)
    assert import_file(second, reference).build_path == "full"
    assert_same_tables(ours, reference)
    whole = Store(tmp_path / "whole")
    import_file(ETSY, whole)
    assert_same_tables(ours, whole, leave_out=("batch_id", "batch_seq", "source_row"))


def test_a_store_whose_keys_were_numbered_by_id_is_rebuilt_once(files, tmp_path):
    """A version written before keys followed first appearance has no key marker: the next upload
    takes the full rebuild (which numbers them the new way); the one after it appends again."""
    from store.derived import KEYS_MARKER

    store = Store(tmp_path / "ours")
    load(store, files, "to_october")
    (store.version_dir() / KEYS_MARKER).unlink()
    report = import_file(files["november"], store)
    assert report.build_path == "full" and "numbered the earlier way" in report.build_path_reason
    assert import_file(files["month"], store).build_path == "append"


@pytest.mark.parametrize("table, names", [
    ("rfm_customer_segments", ("history", "month")),
    ("kpi_customers_since", ("to_mid_december", "late_december")),  # the append starts in the last month
    ("orders_by_dimension", ("to_october", "november")),
])
def test_a_version_written_before_a_table_built_whole_on_append_is_still_appended_to(files, tmp_path, table, names):
    """A table an append builds whole when the previous version lacks it (each customer's RFM segment, from the
    new tables; the trailing years' state, which kpi_base's append then counts from the previous customer-months;
    the orders sorted by dimension, whose new part alone would lose the history's orders)
    does not stop the append: a version written before it is appended to (a full rebuild of a 100M-order store
    with two batches runs out of memory), and gets the same numbers as the full rebuild."""
    assert table not in APPEND_STARTS_FROM and "customers" in APPEND_STARTS_FROM
    store = Store(tmp_path / "ours")
    load(store, files, names[0])
    (store.version_dir() / f"{table}.parquet").unlink()
    report = import_file(files[names[1]], store)
    assert report.build_path == "append", report.build_path_reason
    rebuilt = Store(tmp_path / "rebuilt", append_uploads=False)
    load(rebuilt, files, *names)
    assert_same_tables(store, rebuilt)


def alike(a, b) -> bool:
    """Equal, the doubles in them to 1e-12 relative (same_value), within lists, tuples and dicts."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(alike(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(map(alike, a, b))
    return same_value(a, b)


def test_pages_read_an_upload_once_published_and_its_late_tables_once_built(files, rebuilt, tmp_path):
    """The tables that move with the last date (the due list, RFM, Customer value, Playbook, planner) and the
    KPI and cohort shortcuts are built after the version is published. Read in between, the version has every
    other table, and those requests count from the base models or the combination summaries: the same due
    list, RFM segments, planner, KPI table and cohort matrix as the late tables then give, and as the full
    rebuild's. The process's next connection to the version sees the late tables."""
    from metrics.cohorts import cohort_matrix
    from metrics.due import due_for_repurchase
    from metrics.experiments import planner_baseline
    from metrics.filters import Filters
    from metrics.funnel import repeat_funnel
    from metrics.kpis import kpi_table
    from metrics.segments import rfm_segments
    from store.models.dialect import has_table
    from store.models.registry import LATE_TABLES

    assert {"due_list", "rfm_segment_totals", "clv_customer_rows", "planner_base", "customer_categories",
            "orders_by_dimension", "kpi_base", "cohort_base"} <= set(LATE_TABLES)
    app = Filters(channel=("app",))

    def figures(con) -> tuple:
        return (due_for_repurchase(con).to_dict("records"), rfm_segments(con).to_dict("records"),
                planner_baseline(con, 60), repeat_funnel(con, app).to_dict("records"),
                due_for_repurchase(con, app).to_dict("records"), kpi_table(con).to_dict("records"),
                kpi_table(con, by="channel").to_dict("records"), cohort_matrix(con).to_dict("records"))

    store = Store(tmp_path / "store")
    load(store, files, "history")
    seen = {}

    def on_published(report) -> None:
        con = store.connect()
        seen["tables"] = {name: has_table(con, name) for name in BUILD_ORDER}
        seen["figures"] = figures(con)
        seen["report"] = (report.build_path, report.published_seconds, report.batch_id)
        con.close()

    report = import_file(files["month"], store, on_published=on_published)
    assert seen["report"] == ("append", report.published_seconds, report.batch_id)
    assert 0 < report.published_seconds <= report.seconds
    assert {name for name, present in seen["tables"].items() if not present} == set(LATE_TABLES)
    con = store.connect()
    assert all(has_table(con, name) for name in BUILD_ORDER)
    assert seen["figures"][3][0]["customers"] > 0  # the filtered funnel, counted from the orders table then
    assert alike(seen["figures"], figures(con)) and alike(figures(con), figures(rebuilt[0].connect()))
    assert set(LATE_TABLES) <= set(store.manifest()["tables"])
    assert not (store.version_dir() / ".late").exists()
    assert_same_tables(store, rebuilt[0])


def test_a_customers_latest_tier_channel_and_region_are_the_same_before_and_after_the_late_tables(tmp_path):
    """Two orders of one customer in the same second: the later by order id (O3) is the latest, whether the
    filtered due list reads the orders table (before orders_by_dimension is built) or orders_by_dimension
    (sorted by the values, so another row comes last), and in the customers table."""
    from metrics.due import due_for_repurchase
    from metrics.filters import Filters

    rows = ["Order ID,Customer ID,Order Date,Amount,Status,Channel,Member Tier,Region",
            "O1,c1,2024-01-01 10:00,10,paid,web,Silver,South",
            "O2,c1,2024-01-31 10:00,10,paid,web,Silver,South",
            "O3,c1,2024-01-31 10:00,10,paid,app,Gold,North"]
    rows += [f"P{i},c{i},2024-02-{20 if i == 2 else 1 + i:02d} 10:00,5,paid,web,Silver,South" for i in range(2, 12)]
    path = tmp_path / "same_second.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    both_channels = Filters(channel=("app", "web"))
    store = Store(tmp_path / "store")
    seen = {}

    def latest_values(con) -> list:
        due = due_for_repurchase(con, both_channels)
        return due[due["customer_id"] == "c1"][["member_tier", "last_channel", "region"]].values.tolist()

    def on_published(report) -> None:
        con = store.connect()
        seen["source"] = registry.source_for(con, "orders_by_dimension", Request(filters=both_channels))
        seen["latest"] = latest_values(con)
        con.close()

    import_file(path, store, on_published=on_published)
    con = store.connect()
    assert seen["source"] is None  # read from the orders table then
    assert registry.source_for(con, "orders_by_dimension", Request(filters=both_channels)) == "orders_by_dimension"
    assert seen["latest"] == latest_values(con) == [["Gold", "app", "North"]]
    assert con.execute("select member_tier, first_channel, last_channel, last_region from customers "
                       "where customer_id = 'c1'").fetchall() == [("Gold", "web", "app", "North")]


def test_a_late_build_that_fails_leaves_the_upload_published_and_the_next_append_builds_them(
        files, rebuilt, tmp_path, monkeypatch, caplog):
    """An upload is done once published: a late table that fails to build is logged, not raised, and its
    requests count from the base models (the same planner). The next upload, appended, builds the missing
    late tables whole, and every table equals the full rebuild's."""
    import dataclasses

    from metrics.experiments import planner_baseline
    from store.models import registry
    from store.models.registry import LATE_TABLES

    def fails(con):
        raise RuntimeError("no space left on device")

    monkeypatch.setitem(registry.MODELS, "planner_base", dataclasses.replace(registry.MODELS["planner_base"], build=fails))
    store = Store(tmp_path / "store")
    report = load(store, files, "history")
    assert report.build_path == "full" and report.orders_accepted > 0
    assert "late tables were not built" in caplog.text and "no space left on device" in caplog.text
    built = {path.name.split(".")[0] for path in store.version_dir().glob("*.parquet")}
    assert "planner_base" not in built and "orders" in built and "kpi_signatures" in built
    reference = Store(tmp_path / "reference")
    load(reference, files, "history")
    assert alike(planner_baseline(store.connect(), 60), planner_baseline(reference.connect(), 60))

    monkeypatch.undo()
    report = import_file(files["month"], store)
    assert report.build_path == "append", report.build_path_reason
    assert set(LATE_TABLES) <= {path.name.split(".")[0] for path in store.version_dir().glob("*.parquet")}
    assert_same_tables(store, rebuilt[0])


def test_an_assignments_upload_that_cannot_reuse_the_order_tables_stores_its_assignments(files, tmp_path):
    """Assignments uploaded to a version missing an order table (its late build stopped) rebuild every table,
    and the assignments are stored: they were once kept as the previous version's (none), by the append path
    taken for a batch without orders."""
    store = Store(tmp_path / "store")
    import_file(files["history"], store)
    (store.version_dir() / "planner_base.parquet").unlink()
    with open(files["assignments"], newline="", encoding="utf-8") as handle:
        rows = {(row["experiment"], row["customer_id"]) for row in csv.DictReader(handle)}
    import_assignments(files["assignments"], store)
    assert store.manifest()["change"]["build_path"] == "full"
    stored = store.connect().sql("select experiment, customer_id from assignments").fetchall()
    assert len(stored) == len(rows) > 0 and set(stored) == rows
    assert (store.version_dir() / "planner_base.parquet").exists()

"""Shared fixtures: a fresh store per test, the fixture files, a small demo store."""

import hashlib
import sys
import threading
from pathlib import Path

import pytest

from store import Store

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).resolve().parent.parent
# The tests' local Spark: small data, so one task a step, and a JVM that compiles quickly (the quick JIT
# alone, one GC thread) instead of optimising for hours of work: a fifth less time for the same queries.
# The quick JIT alone reserves 48 MB for compiled code, which a whole store's queries outgrow ("Out of space
# in CodeCache"): 256 MB, the tiered JIT's usual size.
SPARK_TEST_CONF = {"spark.sql.shuffle.partitions": "1",
                   "spark.driver.extraJavaOptions":
                       "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:ReservedCodeCacheSize=256m"}
APP = str(ROOT / "dashboard.py")


@pytest.fixture(autouse=True)
def warm_ups_finish_within_their_test():
    """A page view starts the store version's warm-up in a background thread (ui.data.warm_up): it ends
    inside the test that started it, not beside a later test that replaces functions it calls."""
    yield
    for thread in threading.enumerate():
        if thread.name.startswith("warm-up-"):
            thread.join(timeout=300)
    data = sys.modules.get("ui.data")  # so do the exact counts a page drawn from an estimate started
    if data is not None:
        data.wait_for_exact_counts(timeout=300)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


@pytest.fixture(params=["in memory", "on disk"])
def parsed_kept(request, monkeypatch) -> str:
    """Where the import keeps its typed rows: in memory, or (a file past PARSED_IN_MEMORY_ROWS rows) in a
    database file and a Parquet file in the staging folder; the answers must be the same."""
    if request.param == "on disk":
        monkeypatch.setattr("ingest.pipeline.PARSED_IN_MEMORY_ROWS", 0)
    return request.param


def fixture(name: str) -> Path:
    return FIXTURES / name


def stored_orders(store: Store) -> dict:
    """order_id -> row dict of the store's derived `orders` table."""
    con = store.connect()
    relation = con.sql("select * from orders")
    columns, rows = relation.columns, relation.fetchall()
    con.close()
    return {row[0]: dict(zip(columns, row)) for row in rows}


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (except the lock file) with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Store:
    """The demo data at 5,000 customers, loaded once for the tests that only read."""
    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("demo")
    demo_store = Store(root / "store")
    paths = write_demo(root / "files", customers=5_000)
    import_file(paths["orders"], demo_store)
    import_assignments(paths["assignments"], demo_store)
    return demo_store


def write_one_month_export(path: Path) -> dict:
    """An export whose orders all fall in 1-20 May 2024 (an old export cut mid-month), with the
    figures a reader would compute from it: customers, orders and revenue."""
    import csv
    import random

    rng = random.Random(16)
    rows, customers, revenue = [], set(), 0
    for customer in range(60):
        for _ in range(rng.choice([1, 1, 2, 3])):
            amount = rng.randint(20, 300)
            rows.append([f"O{len(rows) + 1}", f"c{customer}", f"2024-05-{rng.randint(1, 20):02d} 12:00", f"{amount}.00",
                         "paid", rng.choice(["web", "app"]), rng.choice(["none", "gold"])])
            customers.add(customer)
            revenue += amount
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Order ID", "Customer ID", "Order Date", "Amount", "Status", "Channel", "Member Tier"])
        writer.writerows(rows)
    return {"orders": len(rows), "customers": len(customers), "revenue": revenue}


@pytest.fixture(scope="session")
def one_month_store(tmp_path_factory) -> Store:
    """A store holding one (partial, long past) month of orders: May 2024."""
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("one_month")
    write_one_month_export(root / "may.csv")
    store = Store(root / "store")
    import_file(root / "may.csv", store, currency="CNY")
    return store


def open_app(monkeypatch, store_root, page: str = "pages/overview.py", timeout: int = 60, **params):
    """The whole dashboard (AppTest) on the store at `store_root`, on `page`, with URL `params`."""
    from streamlit.testing.v1 import AppTest

    from store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(store_root))
    app = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    if page != "pages/overview.py":
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def data_page_app():
    """The Data page alone under st.navigation (AppTest loses a click after the dashboard's first run)."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_string(
        f"import streamlit as st\nst.navigation([st.Page({str(ROOT / 'pages' / 'data.py')!r})]).run()\n",
        default_timeout=60,
    )

"""The Data page's import returns once the upload is published (issue 18): the store's late tables
(store.models.registry.LATE_TABLES) go on being built in the background, under the store's writer lock,
and the warm-up of the pages that read them waits for that lock."""

import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from streamlit.testing.v1 import AppTest

from ingest import ImportRefused
from store import STORE_ENV, Store
from store.models.dialect import has_table
from store.models.registry import LATE_TABLES
from ui import data, upload_flow


def test_the_page_gets_the_report_once_published_while_the_late_tables_are_built(monkeypatch):
    monkeypatch.setattr(upload_flow, "LATE_TABLES_WAIT_SECONDS", 0.2)
    late_tables_built = threading.Event()
    steps = []

    def run_import(on_published, progress):
        progress(0.5, "checking")
        report = SimpleNamespace(batch_id="b00001")
        on_published(report)
        progress(0.95, "summaries")  # after the page has its report: not drawn
        late_tables_built.wait(5)
        return report

    started = time.monotonic()
    report, still_building = upload_flow._import_until_published(run_import, lambda f, s: steps.append(s))
    assert report.batch_id == "b00001" and still_building
    assert time.monotonic() - started < 3 and steps == ["checking"]
    late_tables_built.set()


def test_a_small_upload_returns_with_its_late_tables_built():
    def run_import(on_published, progress):
        on_published(SimpleNamespace(batch_id="b00002"))
        time.sleep(0.1)  # the late tables of a small store

    report, still_building = upload_flow._import_until_published(run_import, lambda f, s: None)
    assert report.batch_id == "b00002" and not still_building


def test_a_refusal_before_publishing_reaches_the_page():
    def run_import(on_published, progress):
        raise ImportRefused("no order id column", code="missing_fields")

    with pytest.raises(ImportRefused, match="no order id column"):
        upload_flow._import_until_published(run_import, lambda f, s: None)


def test_the_warm_up_waits_while_a_change_is_being_written(tmp_path):
    store = Store(tmp_path / "store")
    locked, release = threading.Event(), threading.Event()

    def writer():
        with store.lock():
            locked.set()
            release.wait(5)

    threading.Thread(target=writer).start()
    locked.wait(5)
    threading.Timer(0.5, release.set).start()
    started = time.monotonic()
    data._wait_for_writer(str(store.root))
    assert time.monotonic() - started >= 0.4


def test_the_data_page_shows_the_import_while_its_late_tables_are_built(monkeypatch, tmp_path):
    """As an upload at scale: the Data page reports it once published and says the late tables are still
    being built; they are there once the writer lock is free."""
    monkeypatch.setattr(upload_flow, "LATE_TABLES_WAIT_SECONDS", 0)
    gate = threading.Event()
    build_late_tables = Store._build_late_tables

    def gated(self, *args):
        gate.wait(30)
        return build_late_tables(self, *args)

    monkeypatch.setattr(Store, "_build_late_tables", gated)
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    page = str(Path(__file__).resolve().parent.parent / "pages" / "data.py")
    app = AppTest.from_string(f"import streamlit as st\nst.navigation([st.Page({page!r})]).run()\n", default_timeout=60)
    app.run()
    app.file_uploader(key="upload").set_value(("orders.csv", b"order id,customer id,order date,amount,currency\n"
                                               b"O1,c1,2024-03-01,12.50,GBP\nO2,c1,2024-04-01,20.00,GBP\n"
                                               b"O3,c2,2024-04-02,5.00,GBP\n", "text/csv")).run()
    app.button(key="import_button").click().run()
    try:
        assert not app.exception and "Imported 3 orders" in app.success[0].value
        assert any("still being built" in info.value for info in app.info)
        con = store.connect()
        assert has_table(con, "orders") and not any(has_table(con, name) for name in LATE_TABLES)
        con.close()
    finally:
        gate.set()
        data._wait_for_writer(str(store.root))
    con = store.connect()
    assert all(has_table(con, name) for name in LATE_TABLES)

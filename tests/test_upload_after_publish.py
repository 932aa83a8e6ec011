"""The Data page's import returns once the upload is published (issue 18): the store's late tables
(store.models.registry.LATE_TABLES) go on being built in the background, under the store's writer lock,
and the warm-up of the pages that read them waits for that lock."""

import threading
import time
from types import SimpleNamespace

import pytest

from ingest import ImportRefused
from store import Store
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

"""Pages through Streamlit's AppTest, on the demo store and on an empty store."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from store import STORE_ENV

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.fixture
def app_on(monkeypatch):
    def make(store_root) -> AppTest:
        monkeypatch.setenv(STORE_ENV, str(store_root))
        app = AppTest.from_file(APP, default_timeout=30)
        app.run()
        assert not app.exception, app.exception
        return app

    return make


def test_overview_shows_store_counts(app_on, demo_store):
    app = app_on(demo_store.root)
    con = demo_store.connect()
    orders, customers = con.sql(
        "select count(*), count(distinct customer_id) filter (where is_valid) from orders"
    ).fetchall()[0]
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Orders"] == f"{orders:,}"
    assert tiles["Customers"] == f"{customers:,}"
    assert "2023-01" in app.caption[0].value and "2025-12" in app.caption[0].value


def test_overview_on_empty_store_explains_what_to_do(app_on, tmp_path):
    app = app_on(tmp_path / "empty")
    assert "The store is empty" in app.info[0].value
    assert not app.metric

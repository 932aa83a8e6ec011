"""Deriving an experiment from coupon codes on the demo data: the Data page section, the Strategy
page's observational label, in English and Chinese."""

import shutil
from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from hostile import as_read
from ingest.derived_assignments import derive_assignments
from metrics import experiments as ex
from store import STORE_ENV, Store
from ui.strategy_words import summary

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.fixture
def demo_copy(demo_store, tmp_path) -> Store:
    """A private copy of the shared demo store, which other tests only read."""
    shutil.copytree(demo_store.root, tmp_path / "store")
    return Store(tmp_path / "store")


def open_page(monkeypatch, root: Path, page: str, **params) -> AppTest:
    monkeypatch.setenv(STORE_ENV, str(root))
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


def test_demo_double11_derivation(demo_copy):
    result = derive_assignments(demo_copy, "double11_2025", date(2025, 11, 1), date(2025, 11, 30),
                                values=["DOUBLE11"], strategy="personalised_offers")
    assert set(result["arms"]) == {"DOUBLE11", "control"} and min(result["arms"].values()) > 100
    report = ex.experiment_report(demo_copy.connect(), "double11_2025", window_days=30, cuped_days=90)
    assert report["design"] == "observational" and report["derived_from"] == "coupon_code"
    assert sum(a["matured"] for a in report["arms"]) == sum(result["arms"].values())  # every 30-day window elapsed
    assert report["health"]["srm_p"] is None and report["health"]["balance_p"] is not None
    assert "Observational (from orders.coupon_code)" in summary(report)["en"]
    for text in summary(report).values():
        assert " made " not in text and "worked" not in text


def test_data_page_derives_an_experiment(demo_copy, monkeypatch):
    version = demo_copy.manifest()["version"]
    monkeypatch.setenv(STORE_ENV, str(demo_copy.root))
    # the page alone under st.navigation: AppTest loses a click after the dashboard's switch_page (see test_auth)
    page = str(Path(APP).parent / "pages" / "data.py")
    app = AppTest.from_string(f"import streamlit as st\nst.navigation([st.Page({page!r})]).run()\n", default_timeout=60)
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert app.selectbox(key="derive_column").value == "coupon_code"
    assert (app.date_input(key="derive_start").value, app.date_input(key="derive_end").value) == \
        (date(2025, 11, 1), date(2025, 11, 30))  # the last whole month before the data's last month
    assert app.multiselect(key="derive_values").options == ["DOUBLE11"]
    app.button(key="derive_button").click().run()  # no name yet: refused, nothing stored
    assert any("Give the experiment a name" in e.value for e in app.error)
    assert demo_copy.manifest()["version"] == version
    app.text_input(key="derive_name").input("double11_nov")
    app.selectbox(key="derive_strategy").set_value("personalised_offers").run()
    app.button(key="derive_button").click().run()
    assert not app.exception
    assert any("Derived double11_nov from orders.coupon_code" in as_read(s.value) for s in app.success)
    assert demo_copy.manifest()["version"] == version + 1
    assert any("derived_coupon_code_double11_nov" in as_read(m.value) for m in app.markdown)  # listed as a batch
    experiments = ex.list_experiments(demo_copy.connect()).set_index("experiment")
    assert experiments.loc["double11_nov", "design"] == "observational"

    app.button(key="derive_button").click().run()  # the same name again: refused, nothing changes
    assert any("already exists" in e.value for e in app.error)
    assert demo_copy.manifest()["version"] == version + 1


@pytest.mark.parametrize("language,label,srm", [
    ("English", "customers chose to use the coupon, so this lift is an association", "not applicable"),
    ("中文", "客户自行选择是否使用优惠券", "不适用"),
])
def test_strategy_page_labels_an_observational_experiment(demo_copy, monkeypatch, language, label, srm):
    derive_assignments(demo_copy, "double11_2025", date(2025, 11, 1), date(2025, 11, 30), values=["DOUBLE11"],
                       strategy="personalised_offers")
    app = open_page(monkeypatch, demo_copy.root, "pages/strategy.py", lang=language, experiment="double11_2025",
                    window="30")
    assert any(label in w.value for w in app.warning)
    assert any(srm in i.value for i in app.info)
    lines = [as_read(m.value) for m in app.markdown if "double11_2025" in as_read(m.value)]
    assert lines and ("_observational_" in lines[0] or "_观察性_" in lines[0])
    assert ("Observational (from orders.coupon_code)" in lines[0]) or ("观察性比较" in lines[0])

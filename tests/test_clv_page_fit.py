"""Customer value page speed (issue 15): the fit is kept with the store version and re-used, the page's
numbers come from grouped rows and small tables, and none of that changes a single figure.

Every check compares the fast path with the straightforward one (customer by customer, or a pandas merge,
or the fit computed again), on the demo store or on CDNOW.
"""

import json
import math
import time
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from metrics import clv, clv_model, clv_views, segments
from tests.test_clv import CDNOW_CUTOFF


@pytest.fixture(scope="module")
def demo_fit(demo_store):
    con = demo_store.connect()
    fit = clv.page_fit(con)
    yield con, fit
    con.close()


def test_unique_rows_of_whole_numbers_match_the_general_grouping():
    rng = np.random.default_rng(5)
    T = rng.integers(0, 1100, 50_000).astype(float)
    x = rng.integers(0, 30, 50_000).astype(float)
    t_x = np.where(x > 0, np.floor(rng.random(50_000) * T), 0.0)
    fast, fast_inverse = clv_model.unique_rows(x, t_x, T)
    # the general path (three-key lexsort) runs for values that are not whole numbers: shift x by a half
    slow, slow_inverse = clv_model.unique_rows(x + 0.5, t_x, T)
    assert np.array_equal(fast[0] + 0.5, slow[0]) and np.array_equal(fast[1], slow[1]) and np.array_equal(fast[2], slow[2])
    assert np.array_equal(fast_inverse, slow_inverse)
    # every row maps back to itself, and the unique rows are sorted by x, then t_x, then T
    assert np.array_equal(fast[0][fast_inverse], x) and np.array_equal(fast[1][fast_inverse], t_x)
    assert np.array_equal(fast[2][fast_inverse], T)
    assert len(set(zip(x, t_x, T))) == len(fast[0])
    assert list(zip(*fast)) == sorted(zip(*fast))


def test_a_fit_kept_as_json_predicts_exactly_as_the_fit_in_memory(demo_fit):
    con, fit = demo_fit
    kept = clv.page_fit_from_state(json.loads(json.dumps(clv.page_fit_state(fit))))
    assert kept["final"] == fit["final"] and kept["as_of"] == fit["as_of"] and kept["report"] == fit["report"]
    summary = clv.value_summary(con, fit["as_of"])
    a = clv.add_predictions(summary, fit["final"], fit["as_of"])
    b = clv.add_predictions(summary, kept["final"], kept["as_of"])
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_notes_kept_on_disk_keep_their_code_for_the_page_words(demo_fit):
    _, fit = demo_fit
    note = clv_model.Note("No purchases after the cut-off, so the holdout check was skipped.", "holdout_skipped")
    final = fit["final"]
    noted = {**fit, "report": {**fit["report"], "warnings": [note]},
             "final": clv.ClvModel(**{**final.__dict__, "warnings": [note],
                                      "fit_errors": {"paretonbd": clv_model.Note("did not converge", "fit_failed", model="x")}})}
    kept = clv.page_fit_from_state(json.loads(json.dumps(clv.page_fit_state(noted))))
    for back in (kept["report"]["warnings"][0], kept["final"].warnings[0]):
        assert isinstance(back, clv_model.Note) and back.code == "holdout_skipped" and back == note
    error = kept["final"].fit_errors["paretonbd"]
    assert error.code == "fit_failed" and error.values == {"model": "x"}


def test_a_fit_with_unavailable_standard_errors_survives_the_round_trip():
    fit = clv_model.Fit("bgnbd", {"r": 0.2, "alpha": 4.0, "a": 0.8, "b": 2.4}, {k: float("nan") for k in "r alpha a b".split()},
                        -100.0, 10, 3, ["a note"], limit="nbd", boundary={"a": 1e-7})
    back = clv_model.Fit.from_state(json.loads(json.dumps(fit.to_state())))
    assert back.params == fit.params and back.boundary == fit.boundary and back.warnings == fit.warnings
    assert all(math.isnan(v) for v in back.se.values()) and back.predicts_as == "nbd"


def test_page_fit_is_the_report_and_the_refit_on_all_data(demo_fit):
    con, fit = demo_fit
    report = clv.ltv_report(con, predictions=False)
    assert fit["report"] == {**report, "fit_seconds": fit["report"]["fit_seconds"]}
    # the refit reads the stored customer summary at the last date; counted from the orders it is the same fit
    first, last = clv.data_range(con)
    assert fit["as_of"] == last
    summary = clv.calibration_summary(con, last)
    again = clv.fit_models(con, last, summary=summary, models=(report["model"],), starts=clv._report_starts(report))
    assert fit["final"].purchase.params == again.purchase.params
    assert fit["final"].gamma_gamma.params == again.gamma_gamma.params
    assert fit["final"].purchase.log_likelihood == again.purchase.log_likelihood
    # the refit starts where the cut-off's fit ended (warm); started cold it reaches the same optimum
    cold = clv.fit_models(con, last, summary=summary, models=(report["model"],))
    for warm_fit, cold_fit in ((fit["final"].purchase, cold.purchase), (fit["final"].gamma_gamma, cold.gamma_gamma)):
        assert warm_fit.log_likelihood == pytest.approx(cold_fit.log_likelihood, rel=1e-9)
        for name, value in cold_fit.params.items():
            assert warm_fit.params[name] == pytest.approx(value, rel=1e-6), name


def test_value_summary_is_the_customer_summary_with_the_rfm_segment(demo_fit):
    con, fit = demo_fit
    merged = clv_views.with_rfm_segment(clv.calibration_summary(con, fit["as_of"]), segments.rfm_customers(con))
    pd.testing.assert_frame_equal(clv.value_summary(con, fit["as_of"]), merged, check_exact=True)


def _per_customer(summary: pd.DataFrame, model: clv.ClvModel, as_of, horizon: int, discount: float, margin: float):
    """The page's figures for each customer, one customer at a time, straight from the model's formulas."""
    rows = []
    for customer in summary.head(300).itertuples():
        months = np.arange(horizon + 1) * clv.DAYS_PER_MONTH
        cumulative = clv_model.expected_purchases(model.purchase, months, customer.x, customer.t_x, customer.T)
        aov = float(clv_model.expected_spend(model.gamma_gamma, [customer.x], [customer.monetary])[0])
        clv_value = sum((cumulative[m] - cumulative[m - 1]) * aov * margin / (1 + discount) ** m for m in range(1, horizon + 1))
        rows.append({"customer_key": customer.customer_key, "predicted_clv": clv_value,
                     "p_alive": float(clv_model.p_alive(model.purchase, customer.x, customer.t_x, customer.T)),
                     "expected_orders_horizon": cumulative[-1]})
    return pd.DataFrame(rows).set_index("customer_key")


@pytest.mark.parametrize("horizon, discount, margin", [(12, 0.01, 0.3), (24, 0.02, 0.5)])
def test_grouped_predictions_equal_customer_by_customer_figures(demo_fit, horizon, discount, margin):
    con, fit = demo_fit
    summary = clv.value_summary(con, fit["as_of"])
    frame = clv.add_predictions(summary, fit["final"], fit["as_of"], horizon, discount, margin).set_index("customer_key")
    by_hand = _per_customer(summary, fit["final"], fit["as_of"], horizon, discount, margin)
    for column in by_hand.columns:
        assert np.allclose(frame.loc[by_hand.index, column], by_hand[column], rtol=1e-9, atol=0), column


def test_next_order_of_the_listed_customers_equals_the_full_column(demo_fit):
    con, fit = demo_fit
    summary = clv.value_summary(con, fit["as_of"])
    full = clv.add_predictions(summary, fit["final"], fit["as_of"])
    lean = clv.add_predictions(summary, fit["final"], fit["as_of"], next_order=False)
    assert "expected_next_order" not in lean
    pd.testing.assert_frame_equal(lean, full.drop(columns="expected_next_order"), check_exact=True)
    listed = lean.sample(400, random_state=1)
    dates = clv.next_order_dates(listed, fit["final"], fit["as_of"])
    pd.testing.assert_series_equal(dates, full.loc[listed.index, "expected_next_order"], check_names=False)
    assert dates.notna().any() and dates.isna().any()


def test_page_views_are_the_tables_of_the_full_predictions(demo_fit):
    con, fit = demo_fit
    summary = clv.value_summary(con, fit["as_of"])
    full = clv.add_predictions(summary, fit["final"], fit["as_of"])
    # the page's way: the summary without the listing columns, predictions without the next order; both
    # worked out for the listed customers only
    lean = clv.add_predictions(clv.value_summary(con, fit["as_of"], lean=True), fit["final"], fit["as_of"],
                               next_order=False)
    assert not set(clv.LISTING_COLUMNS) & set(lean.columns)

    def complete(rows):
        rows = rows.assign(expected_next_order=clv.next_order_dates(rows, fit["final"], fit["as_of"]))
        return clv.listing_details(con, rows)

    views = clv_views.page_views(lean, complete)
    totals = views["totals"]
    assert totals["predicted_clv"] == pytest.approx(sum(full["predicted_clv"].tolist()), rel=1e-12)
    assert totals["high_risk"] == sum(band == "high" for band in full["risk_band"])
    assert totals["customers"] == len(full) == views["histogram"]["count"].sum()
    pd.testing.assert_frame_equal(views["top_customers"], clv_views.top_customers(full))
    pd.testing.assert_frame_equal(views["slipping_valuable"], clv_views.slipping_valuable(full))
    for column in clv_views.BREAKDOWNS:
        pd.testing.assert_frame_equal(views["by"][column], clv_views.clv_by(full, column))
    # the histogram: 50 equal bins from the smallest value to the 99th percentile, the rest in the last bin
    values = full["predicted_clv"]
    bins = views["histogram"]
    assert bins["left"].iloc[0] == values.min() and bins["right"].iloc[-1] == pytest.approx(values.quantile(0.99))
    assert bins["count"].iloc[-1] >= (values >= values.quantile(0.99)).sum()


def test_the_fit_is_kept_with_the_store_version_and_read_back(demo_store, monkeypatch):
    from ui import data

    root, version = str(demo_store.root), demo_store.manifest()["version"]
    cutoff = data.value_dates(root, version)["default_cutoff"] - timedelta(days=7)  # a key no other test fitted
    assert not data.value_fit_kept(root, version, cutoff, "bgnbd")
    first = data.value_fit(root, version, cutoff, "bgnbd")
    assert data.value_fit_kept(root, version, cutoff, "bgnbd")
    path = demo_store.results_dir(version)
    assert path.parent.name == demo_store.manifest()["current"]  # inside the version: deleted with it
    # a new process (nothing cached in memory) reads it back instead of fitting
    data.value_fit.clear()
    monkeypatch.setattr(clv, "page_fit", lambda *a, **k: pytest.fail("fitted again instead of reading the kept fit"))
    again = data.value_fit(root, version, cutoff, "bgnbd")
    assert again["report"] == first["report"] and again["final"] == first["final"]


def test_a_page_view_starts_the_default_fit_in_the_background(tmp_path, monkeypatch):
    """And the Strategy tests page's default view, the value page's default tables and the Playbook's evidence
    and lists, all kept; the customer summary they started from (5 GB at 17M customers) is not held on afterwards."""
    import threading

    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file
    from metrics import playbook
    from store import Store
    from ui import data

    store = Store(tmp_path / "store")
    files = write_demo(tmp_path / "files", customers=600)
    import_file(files["orders"], store)
    import_assignments(files["assignments"], store)
    root, version = str(store.root), store.manifest()["version"]
    cutoff = data.value_dates(root, version)["default_cutoff"]
    data.warm_up(root, version)
    deadline = time.monotonic() + 120
    while not data.value_fit_kept(root, version, cutoff, "auto") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert data.value_fit_kept(root, version, cutoff, "auto")
    kept = json.loads(next(data.kept.kept_path(root, version, ".").glob("value_fit-*-auto.json")).read_text())
    con = store.connect(version)
    assert kept["report"]["model"] == clv.page_fit(con, cutoff)["report"]["model"]
    con.close()
    for thread in threading.enumerate():
        if thread.name == f"warm-up-{version}":
            thread.join(timeout=120)
    results = data.kept.kept_path(root, version, ".")
    assert (results / "value_views" / f"{cutoff}-auto-12-0.01-0.3" / "views.json").exists()
    assert (results / "strategy" / f"overview-{data._setting_name(data.STRATEGY_DEFAULTS)}" / "views.json").exists()
    kept_time_views = len(list((results / "strategy").glob("time_views-*-60")))
    overview = data.strategy_overview(root, version, **data.STRATEGY_DEFAULTS)  # read from what the warm-up kept
    assert kept_time_views == (overview["experiments"]["status"] == "ok").sum() == 2
    assert {f"{name}.parquet" for name in playbook.LIST_SQL} | {"evidence", f"lapsing_high_value-{cutoff}-auto-12-0.01-0.3.parquet"} <= {
        path.name for path in (results / "playbook").iterdir()}
    summaries = []
    monkeypatch.setattr(clv, "value_summary", lambda *args, **kwargs: summaries.append(args))
    data.value_customers(root, version, data.value_fit(root, version, cutoff, "auto")["as_of"])
    assert summaries, "the warm-up held on to the customer summary"


def test_the_page_views_are_kept_per_setting_and_read_back_as_computed(demo_store, monkeypatch):
    """At 100M orders (17M customers) the Customer value page took 16 s and 5 GB on each new process's first
    view: its tables are kept per store version and setting, and read back equal to the computed ones."""
    from ui import data

    root, version = str(demo_store.root), demo_store.manifest()["version"]
    cutoff = data.value_dates(root, version)["default_cutoff"]
    first = data.value_model(root, version, 18, 0.02, 0.25, cutoff, "auto")  # a setting no other test asks for
    assert (data.kept.kept_path(root, version, "value_views") / f"{cutoff}-auto-18-0.02-0.25" / "views.json").exists()
    data.value_model.clear()  # a new process: nothing cached in memory
    data.value_customers.clear()
    monkeypatch.setattr(clv, "add_predictions", lambda *a, **k: pytest.fail("predicted again instead of reading"))
    again = data.value_model(root, version, 18, 0.02, 0.25, cutoff, "auto")
    assert again.keys() == first.keys() and again["totals"] == first["totals"]
    for name in ("histogram", "p_alive_matrix", "slipping_valuable", "top_customers"):
        pd.testing.assert_frame_equal(again[name], first[name], check_exact=True)
    assert again["by"].keys() == first["by"].keys() and len(first["slipping_valuable"]) > 0
    for column in first["by"]:
        pd.testing.assert_frame_equal(again["by"][column], first["by"][column], check_exact=True)


def test_a_warm_up_for_a_replaced_version_stops_and_keeps_nothing(tmp_path):
    """After two quick uploads the first version's warm-up has no reader left: it stops before its first step."""
    import threading

    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file
    from store import Store
    from ui import data

    store = Store(tmp_path / "store")
    files = write_demo(tmp_path / "files", customers=600)
    import_file(files["orders"], store)
    import_assignments(files["assignments"], store)
    root = str(store.root)
    data.warm_up(root, 1)
    for thread in threading.enumerate():
        if thread.name == "warm-up-1":
            thread.join(timeout=120)
    assert not data.kept.kept_path(root, 1, "playbook").exists()
    assert not data.kept.kept_path(root, 1, "value_views").exists()


def test_what_cannot_be_kept_is_still_shown_and_leaves_no_half_written_file(tmp_path):
    from datetime import date

    from ui import kept_results

    views = {"as_of": date(2025, 12, 31), "table": pd.DataFrame({"a": [1]})}  # a date: not JSON
    assert kept_results.kept_views(tmp_path / "views", lambda: views) is views
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(RuntimeError, match="already being worked out"):  # waiting on itself would never end
        kept_results.once(("k",), lambda: kept_results.once(("k",), lambda: 1))

"""Launch evaluation without a control group (issue 17, part 1): difference-in-differences.

The generated shop has returning customers whose purchase rate is lifted by a season for everyone
in the 90 days after the launch (x1.5), plus:
- channel "app" (random 40%): a planted +0.3 orders per 30 days after the launch (the launch worked);
- region "North" (random 30%): nothing (a launch that did nothing);
- member tier "gold" (random 20%): a rate that grows 0.15 orders per 30 days every 90 days, before
  and after the launch (parallel trends violated on purpose).
Every figure the tests expect is either planted or computed here in plain Python from the raw rows.
"""

import csv
import json
import math
import statistics
import subprocess
import sys
from datetime import date, timedelta

import numpy as np
import pytest

from store import Store
from hostile import as_read
from tests.conftest import ROOT, open_app

START, END = date(2023, 1, 1), date(2024, 12, 31)
LAUNCH = date(2024, 7, 1)
WINDOW = 90
SEASON = 1.5
PLANT = 0.3
TREND = 0.15  # gold's extra orders per 30 days gained every 90 days
HEADER = ["Order ID", "Customer ID", "Order Date", "Amount", "Status", "Channel", "Region", "Member Tier"]


def generate_shop(customers: int = 3000, seed: int = 17) -> tuple[list[list], dict]:
    """Order rows (HEADER) of the generated shop and each customer's attributes."""
    rng = np.random.default_rng(seed)
    days = np.array([START + timedelta(days=i) for i in range((END - START).days + 1)])
    offset = np.array([(d - LAUNCH).days for d in days])
    after = (offset >= 0) & (offset < WINDOW)
    base = rng.gamma(2.0, 0.25, customers)  # orders per 30 days, mean 0.5
    app = rng.random(customers) < 0.4
    north = rng.random(customers) < 0.3
    gold = rng.random(customers) < 0.2
    rows, people = [], {}
    for i in range(customers):
        rate = base[i] * np.where(after, SEASON, 1.0)
        if app[i]:
            rate = rate + np.where(after, PLANT, 0.0)
        if gold[i]:
            rate = rate + TREND * (offset - offset[0]) / 90.0
        bought = rng.random(days.size) < np.minimum(rate / 30.0, 1.0)
        cid = f"c{i:05d}"
        people[cid] = {"app": bool(app[i]), "north": bool(north[i]), "gold": bool(gold[i]), "base": float(base[i])}
        for day in days[bought]:
            rows.append([f"o{len(rows) + 1}", cid, f"{day.isoformat()} 10:00", f"{rng.integers(50, 150)}.00", "paid",
                         "app" if app[i] else "web", "North" if north[i] else "South", "gold" if gold[i] else "none"])
    return rows, people


def write_rows(path, rows) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    """The generated shop in a store, and its raw rows."""
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("launch")
    rows, people = generate_shop()
    write_rows(root / "orders.csv", rows)
    store = Store(root / "store")
    import_file(root / "orders.csv", store, currency="CNY")
    return {"store": store, "rows": rows, "people": people}


def evaluate(store: Store, *args, **kwargs) -> dict:
    from metrics.launch import evaluate_launch

    con = store.connect()
    try:
        return evaluate_launch(con, *args, **kwargs)
    finally:
        con.close()


def covers(interval: dict, value: float) -> bool:
    return interval["ci_low"] <= value <= interval["ci_high"]


# ---- the estimate separates a planted effect from the season ---------------------------------------


def test_did_recovers_the_plant_and_the_naive_change_does_not(shop):
    result = evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW)
    did, naive = result["did"], result["naive"]
    assert covers(did, PLANT), did
    assert did["ci_low"] > 0 and did["p_value"] < 0.001
    # the naive change carries the season (and gold's drift): what the generator added for everyone
    year_ago = LAUNCH - timedelta(days=365)
    treated = {r[1] for r in shop["rows"] if year_ago <= date.fromisoformat(r[2][:10]) < LAUNCH and r[5] == "app"}
    common = sum((SEASON - 1) * shop["people"][c]["base"] + TREND * shop["people"][c]["gold"] for c in treated) / len(treated)
    assert common > 0.2
    assert not covers(naive, PLANT), naive
    assert naive["estimate"] == pytest.approx(PLANT + common, abs=0.06)
    assert naive["estimate"] - did["estimate"] == pytest.approx(result["control_change"]["estimate"], abs=1e-9)
    # nothing launched one window earlier, and the groups moved together before
    assert covers(result["placebo"], 0.0) and result["placebo"]["p_value"] > 0.05
    assert result["pre_trend"]["p_value"] > 0.05 and result["pre_trend"]["windows"] == 2
    assert result["notes"] == [] and result["assumptions"] == ["parallel_trends"]
    # revenue: the plant brings about 0.3 x 100 per 30 days (amounts 50..149)
    assert covers(result["metrics"]["revenue_per_customer"]["did"], PLANT * 99.5)


def test_groups_match_the_raw_rows(shop):
    """Treated and comparison customers as a reader would count them from the file."""
    result = evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW)
    year_ago = LAUNCH - timedelta(days=365)
    active = {row[1] for row in shop["rows"] if year_ago <= date.fromisoformat(row[2][:10]) < LAUNCH}
    treated = {c for c in active if shop["people"][c]["app"]}
    assert result["treated_customers"] == len(treated)
    assert result["control_customers"] == len(active) - len(treated)
    assert result["metrics"]["orders_per_30d"]["did"] == result["did"]


def test_a_launch_that_did_nothing_shows_nothing(shop):
    result = evaluate(shop["store"], LAUNCH, "region", ["North"], WINDOW)
    assert covers(result["did"], 0.0), result["did"]
    assert result["naive"]["ci_low"] > 0  # the season alone lifted the North customers' orders
    assert result["pre_trend"]["p_value"] > 0.05


def test_pre_trend_violation_is_flagged(shop):
    result = evaluate(shop["store"], LAUNCH, "member_tier", ["gold"], WINDOW)
    assert result["pre_trend"]["p_value"] < 0.01
    assert "pre_trend_doubt" in result["notes"]
    for estimate in result["pre_trend"]["estimates"]:  # gold gained about TREND per window before the launch
        assert estimate["estimate"] == pytest.approx(TREND, abs=0.08)


def test_matched_comparison_still_recovers_the_plant(shop):
    result = evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW, matched=True)
    assert result["matched"] and result["matching"]["method"] == "coarsened_exact"
    assert covers(result["did"], PLANT) and result["did"]["ci_low"] > 0
    matching = result["matching"]
    assert matching["treated_matched"] + matching["treated_unmatched"] == evaluate(
        shop["store"], LAUNCH, "channel", ["app"], WINDOW)["treated_customers"]
    assert result["treated_customers"] == matching["treated_matched"]


def test_clustered_standard_error_agrees_with_statsmodels(shop):
    """The closed form equals OLS y ~ treated * post on the customer-period panel, clustered by customer."""
    import pandas as pd
    import statsmodels.formula.api as smf

    from metrics.launch import _customer_rows

    result = evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW)
    con = shop["store"].connect()
    rows = _customer_rows(con, LAUNCH, "channel", ("app",), WINDOW, 1, WINDOW)
    con.close()
    panel = pd.concat([
        pd.DataFrame({"customer": rows["customer_key"], "treated": rows["treated"].astype(int), "post": post,
                      "y": rows[f"orders_per_30d_{k}"]}) for post, k in ((0, -1), (1, 0))])
    fit = smf.ols("y ~ treated * post", panel).fit(cov_type="cluster",
                                                    cov_kwds={"groups": panel["customer"], "use_correction": False})
    assert result["did"]["estimate"] == pytest.approx(fit.params["treated:post"], rel=1e-9)
    # ours multiplies each group's variance by n/(n-1): equal to 0.1% at these sizes
    assert result["did"]["se"] == pytest.approx(fit.bse["treated:post"], rel=2e-3)


def test_pre_trend_test_agrees_with_a_clustered_event_study(shop):
    """The joint pre-trend test equals the Wald test of the event-study leads (treated x window, the
    first window as reference) of OLS on the customer-window panel, clustered by customer."""
    import numpy as np
    import pandas as pd
    import statsmodels.formula.api as smf

    from metrics.launch import _customer_rows

    result = evaluate(shop["store"], LAUNCH, "member_tier", ["gold"], WINDOW)
    con = shop["store"].connect()
    rows = _customer_rows(con, LAUNCH, "member_tier", ("gold",), WINDOW, 3, WINDOW)
    con.close()
    panel = pd.concat([pd.DataFrame({"customer": rows["customer_key"], "treated": rows["treated"].astype(int),
                                     "period": k, "y": rows[f"orders_per_30d_{k}"]}) for k in (-3, -2, -1)])
    panel["lead_2"] = panel["treated"] * (panel["period"] == -2)
    panel["lead_1"] = panel["treated"] * (panel["period"] == -1)
    fit = smf.ols("y ~ treated + C(period) + lead_2 + lead_1", panel).fit(
        cov_type="cluster", cov_kwds={"groups": panel["customer"], "use_correction": False})
    wald = fit.wald_test("lead_2 = 0, lead_1 = 0", use_f=False, scalar=True)
    assert result["pre_trend"]["windows"] == 2
    assert np.log(result["pre_trend"]["p_value"]) == pytest.approx(np.log(float(wald.pvalue)), rel=0.01)
    steps = [e["estimate"] for e in result["pre_trend"]["estimates"]]  # consecutive windows
    assert steps[0] == pytest.approx(fit.params["lead_2"]) and sum(steps) == pytest.approx(fit.params["lead_1"])


# ---- a case small enough to check by hand ------------------------------------------------------------


TINY_LAUNCH = date(2024, 3, 1)
HOSTILE = "[x](https://e.example) **b**"


def tiny_rows() -> list[list]:
    """24 customers (12 with a coupon-channel 'wechat' order before the launch) plus traps."""
    rows = []

    def order(cid, day, channel="web", status="paid", amount="100.00"):
        rows.append([f"t{len(rows) + 1}", cid, f"{day.isoformat()} 12:00", amount, status, channel, "East", "none"])

    for i in range(24):
        cid = f"k{i:02d}"
        treated = i < 12
        order(cid, date(2023, 6, 1) + timedelta(days=i), channel="wechat" if treated else "web")
        for j in range(i % 3):  # 0, 1 or 2 orders in the 30 days before the launch
            order(cid, TINY_LAUNCH - timedelta(days=5 + 7 * j))
        for j in range(i % 4 + (2 if treated else 0)):  # after the launch: treated buy two more
            order(cid, TINY_LAUNCH + timedelta(days=2 + 6 * j))
    order("k00", TINY_LAUNCH + timedelta(days=3), status="cancelled")  # not counted
    order("k13", TINY_LAUNCH - timedelta(days=2), status="refunded")  # not counted
    order("late", TINY_LAUNCH + timedelta(days=4), channel="wechat")  # first order after the launch: not in it
    order("old", date(2022, 1, 1), channel="wechat")  # last order over a year before: not in it
    order("old", TINY_LAUNCH + timedelta(days=4))
    order("k20", TINY_LAUNCH + timedelta(days=10), channel="wechat")  # wechat only after: still comparison
    order("z", date(2024, 6, 30))  # the data run to the end of June
    order("evil", TINY_LAUNCH + timedelta(days=5), channel=HOSTILE)  # a new customer: not in the population
    return rows


def hand_did(rows, launch, window, values=("wechat",)) -> dict:
    """The DiD of orders per 30 days computed the plain way from the file rows."""
    paid = [(r[1], date.fromisoformat(r[2][:10]), r[5]) for r in rows if r[4] == "paid"]
    population = {c for c, d, _ in paid if launch - timedelta(days=365) <= d < launch}
    treated = {c for c, d, ch in paid if d < launch and ch in values} & population

    def rate(c, lo, hi):
        return sum(1 for cc, d, _ in paid if cc == c and lo <= d < hi) * 30 / window

    change = {c: rate(c, launch, launch + timedelta(days=window)) - rate(c, launch - timedelta(days=window), launch)
              for c in population}
    t = [change[c] for c in treated]
    k = [change[c] for c in population - treated]
    se = math.sqrt(statistics.variance(t) / len(t) + statistics.variance(k) / len(k))
    return {"did": sum(t) / len(t) - sum(k) / len(k), "naive": sum(t) / len(t), "treated": len(t), "control": len(k),
            "se": se}


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("tiny_launch")
    write_rows(root / "tiny.csv", tiny_rows())
    store = Store(root / "store")
    import_file(root / "tiny.csv", store, currency="CNY")
    return store


def test_tiny_case_matches_the_hand_computation(tiny_store):
    expected = hand_did(tiny_rows(), TINY_LAUNCH, 30)
    # by hand: treated buy 2 more after the launch than the pattern both groups share, and one
    # comparison customer (k20) 1 more: 2 - 1/12; "late", "old" and "z" are not in the population
    assert expected["did"] == pytest.approx(2 - 1 / 12)
    assert (expected["treated"], expected["control"]) == (12, 12)
    result = evaluate(tiny_store, TINY_LAUNCH, "channel", ["wechat"], 30)
    assert result["did"]["estimate"] == pytest.approx(expected["did"])
    assert result["did"]["se"] == pytest.approx(expected["se"])
    # every paid amount is 100.00: revenue per customer per 30 days moves 100 x the orders
    assert result["metrics"]["revenue_per_customer"]["did"]["estimate"] == pytest.approx(100 * expected["did"])
    assert result["naive"]["estimate"] == pytest.approx(expected["naive"])
    assert (result["treated_customers"], result["control_customers"]) == (expected["treated"], expected["control"])


def test_a_saved_evaluation_reruns_to_the_same_numbers(shop, tmp_path):
    from metrics.launch import LAUNCH_COLUMNS, evaluate_saved
    from store import schema
    from store.launches import load_launches, save_launch

    assert set(LAUNCH_COLUMNS) <= set(schema.ORDERS)  # every launch column is an orders column
    save_launch(tmp_path, "community", LAUNCH, "channel", ["app"], WINDOW, False)
    save_launch(tmp_path, "bundles", date(2030, 1, 1), "channel", ["app"], WINDOW, False)
    con = shop["store"].connect()
    try:
        rerun, gone = [evaluate_saved(con, entry) for entry in load_launches(tmp_path)]
    finally:
        con.close()
    assert rerun["did"] == evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW)["did"]
    assert gone == {"error": "date_outside_data", "values": {"launched_at": "2030-01-01", "first": "2023-01-01",
                                                              "last": "2024-12-31"}}


# ---- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, key", [
    ((LAUNCH, "amount; drop table orders", ["x"]), "unknown_column"),
    ((LAUNCH, "channel", ["telegram"]), "values_not_seen"),
    ((date(2026, 1, 1), "channel", ["app"]), "date_outside_data"),
    ((date(2023, 2, 1), "channel", ["app"]), "no_pre_window"),
    ((LAUNCH, "channel", []), "no_values"),
])
def test_bad_input_is_refused_with_a_reason(shop, args, key):
    from metrics.launch import LaunchError

    with pytest.raises(LaunchError) as refusal:
        evaluate(shop["store"], *args, WINDOW)
    assert refusal.value.key == key


def test_too_few_customers_is_refused(tiny_store):
    from metrics.launch import LaunchError

    with pytest.raises(LaunchError) as refusal:  # web before the launch: all but k00, k03, k06, k09
        evaluate(tiny_store, TINY_LAUNCH, "channel", ["web"], 30)
    assert refusal.value.key == "too_few_customers"


# ---- the demo data: a launch that had no effect shows none ------------------------------------------


def test_demo_region_launch_before_the_november_peak_shows_no_effect(demo_store):
    """Region is fixed per demo customer and plays no part in how often they buy: a 'launch' for
    East on 1 November 2024 did nothing, while November's peak lifted everyone."""
    result = evaluate(demo_store, date(2024, 11, 1), "region", ["East"], 30)
    assert covers(result["did"], 0.0), result["did"]
    assert result["naive"]["ci_low"] > 0  # the season alone: East bought more in November
    assert result["pre_trend"]["p_value"] > 0.05 and result["placebo"]["p_value"] > 0.05


# ---- command line ------------------------------------------------------------------------------------


def run_cli(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", "launch", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


def test_cli_json_has_the_issue_keys_and_the_same_numbers(shop):
    done = run_cli("--store", shop["store"].root, "--launched-at", LAUNCH, "--treated", "channel=app", "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert {"naive", "did", "pre_trend", "placebo", "treated_customers", "control_customers", "window_days",
            "metrics"} <= set(report)
    assert set(report["naive"]) >= {"estimate", "ci_low", "ci_high"}
    assert set(report["did"]) >= {"estimate", "ci_low", "ci_high", "p_value"}
    assert "p_value" in report["pre_trend"] and {"estimate", "p_value"} <= set(report["placebo"])
    assert set(report["metrics"]) == {"orders_per_30d", "repurchase_share", "revenue_per_customer"}
    assert all(set(m) == {"naive", "did"} for m in report["metrics"].values())
    assert report["window_days"] == WINDOW
    expected = evaluate(shop["store"], LAUNCH, "channel", ["app"], WINDOW)
    assert report["did"]["estimate"] == pytest.approx(expected["did"]["estimate"])
    assert report["treated_customers"] == expected["treated_customers"]


def test_cli_matched_and_window_flags(shop):
    done = run_cli("--store", shop["store"].root, "--launched-at", LAUNCH, "--treated", "channel=app",
                   "--window", 60, "--matched", "--json")
    report = json.loads(done.stdout)
    assert report["window_days"] == 60 and report["matched"] and report["matching"]["treated_matched"] > 0


@pytest.mark.parametrize("treated, launched_at, says", [
    ("colour=red", "2024-07-01", "not a column"),
    ("channel=telegram", "2024-07-01", "never had telegram"),
    ("channel=app", "2030-01-01", "outside the data"),
])
def test_cli_refuses_bad_input_with_exit_2(shop, treated, launched_at, says):
    done = run_cli("--store", shop["store"].root, "--launched-at", launched_at, "--treated", treated)
    assert done.returncode == 2 and says in done.stderr, done.stderr


def test_cli_text_names_both_estimates(shop):
    done = run_cli("--store", shop["store"].root, "--launched-at", LAUNCH, "--treated", "channel=app")
    assert done.returncode == 0
    assert "naive change" in done.stdout and "difference-in-differences" in done.stdout
    assert "parallel trends" in done.stdout


# ---- the page ----------------------------------------------------------------------------------------

DEMO_LINK = {"launch_at": "2024-11-01", "launch_column": "region", "launch_values": "East", "launch_window": "30"}


def as_shown(change: float) -> str:
    """A change in orders per customer as people write it: +0.25 / -0.25, and 0.00 (never -0.00 nor
    +0.00) for one that rounds to zero."""
    text = f"{change:+.2f}"
    return "0.00" if text in ("+0.00", "-0.00") else text


def test_page_shows_both_estimates_and_the_checks(monkeypatch, demo_store):
    app = open_app(monkeypatch, demo_store.root, "pages/launch.py", **DEMO_LINK)
    expected = evaluate(demo_store, date(2024, 11, 1), "region", ["East"], 30)
    assert app.title[0].value == "Did our launch work?"
    shown = {metric.label: metric.value for metric in app.metric}
    assert shown["Naive change: launched group, after − before"] == as_shown(expected["naive"]["estimate"])
    assert shown["Difference-in-differences: launched group's change − others' change"] == as_shown(expected["did"]["estimate"])
    text = " ".join(m.value for m in app.markdown)
    assert "No effect detected" in text and "parallel trends" in text
    assert any("moved together" in s.value for s in app.success)  # pre-trend check passed
    assert any("Placebo" in s.value for s in app.success)
    assert any(f"{expected['treated_customers']:,}" in c.value for c in app.caption)
    assert app.get("plotly_chart")
    app.selectbox(key="launch_column").set_value("member_tier").run()
    assert app.query_params["launch_column"] == "member_tier"  # the link keeps the column's code, not its label
    assert app.multiselect(key="launch_values").value == []  # East is no member tier


def test_page_in_chinese_has_no_english_words(monkeypatch, demo_store):
    from tests.test_chinese import ABBREVIATIONS, data_words, english_words, shown_texts

    app = open_app(monkeypatch, demo_store.root, "pages/launch.py", lang="中文", **DEMO_LINK)
    assert app.title[0].value == "上线效果评估"
    assert any("未发现效果" in m.value for m in app.markdown)
    found = english_words(shown_texts(app), ABBREVIATIONS | data_words(demo_store.root))
    assert not found, found


def test_page_says_why_it_cannot_answer(monkeypatch, demo_store):
    app = open_app(monkeypatch, demo_store.root, "pages/launch.py", **{**DEMO_LINK, "launch_at": "2023-01-15"})
    assert "less than 30 days of orders before it" in app.warning[0].value
    app = open_app(monkeypatch, demo_store.root, "pages/launch.py", launch_column="region")
    assert "Choose the value" in app.info[0].value  # nothing chosen yet: the page asks


def test_page_detects_the_planted_effect_and_saves_the_evaluation(monkeypatch, shop):
    from store.launches import load_launches

    from streamlit.testing.v1 import AppTest

    from store import STORE_ENV

    # the page alone under st.navigation, signed in as the dashboard does (AppTest loses a click
    # after the whole dashboard's first run)
    monkeypatch.setenv(STORE_ENV, str(shop["store"].root))
    app = AppTest.from_string(
        "import streamlit as st\nfrom ui import auth\nauth.current_user('en')\n"
        f"st.navigation([st.Page({str(ROOT / 'pages' / 'launch.py')!r})]).run()\n", default_timeout=90)
    for key, value in {"launch_at": LAUNCH.isoformat(), "launch_column": "channel", "launch_values": "app",
                       "launch_window": "90"}.items():
        app.query_params[key] = value
    app.run()
    assert not app.exception, app.exception
    assert any("more than the comparison explains" in m.value for m in app.markdown)
    app.selectbox(key="launch_strategy").set_value("points_tiers").run()
    app.button(key="launch_save").click().run()
    assert not app.exception
    saved = load_launches(shop["store"].root)
    assert [{k: e[k] for k in ("strategy", "launched_at", "treated_column", "treated_values", "window_days", "matched")}
            for e in saved] == [{"strategy": "points_tiers", "launched_at": "2024-07-01", "treated_column": "channel",
                                 "treated_values": ["app"], "window_days": 90, "matched": False}]
    assert "Saved: Points and tiers" in app.success[-1].value
    saved_table = app.dataframe[-1].value
    assert list(saved_table["launched_at"]) == ["2024-07-01"]

    # the Playbook reruns the saved evaluation: points and tiers now has before/after evidence
    book = AppTest.from_string(
        "import streamlit as st\nfrom ui import auth\nauth.current_user('en')\n"
        f"st.navigation([st.Page({str(ROOT / 'pages' / 'playbook.py')!r})]).run()\n", default_timeout=120)
    book.run()
    assert not book.exception, book.exception
    strategies = book.table[0].value.map(as_read)  # st.table: the sentences wrap; cells are escaped Markdown
    row = strategies[strategies.apply(lambda r: r.astype(str).str.contains("Points and tiers").any(), axis=1)]
    assert len(row) == 1
    text = " ".join(row.iloc[0].astype(str))
    assert "Before/after with a comparison group" in text and "Launch of 2024-07-01" in text, text


def test_a_viewer_cannot_save(monkeypatch, shop):
    from streamlit.testing.v1 import AppTest

    from store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(shop["store"].root))
    app = AppTest.from_string(
        "import streamlit as st\nfrom ui import auth\n"
        "st.session_state[auth.SESSION_KEY] = auth.User('vera', 'viewer', 'password')\n"
        f"st.navigation([st.Page({str(ROOT / 'pages' / 'launch.py')!r})]).run()\n", default_timeout=90)
    for key, value in {"launch_at": LAUNCH.isoformat(), "launch_column": "region", "launch_values": "North"}.items():
        app.query_params[key] = value
    app.run()
    assert app.button(key="launch_save").disabled
    assert any("Analysts and admins can save" in c.value for c in app.caption)


# ---- the saved-launches file -------------------------------------------------------------------------


def test_saved_launches_file_round_trip(tmp_path):
    from store.launches import load_launches, remove_launch, save_launch

    root = tmp_path / "store"
    assert load_launches(root) == []
    save_launch(root, "points_tiers", date(2024, 7, 1), "member_tier", ["gold", "diamond"], 90, False, "ann")
    save_launch(root, "community", date(2024, 9, 1), "channel", ["wechat"], 60, True)
    # saving the same evaluation again re-tags it instead of adding a second row
    launches = save_launch(root, "bundles", date(2024, 7, 1), "member_tier", ["gold", "diamond"], 90, False)
    assert [(e["strategy"], e["launched_at"], e["matched"]) for e in launches] == [
        ("community", "2024-09-01", True), ("bundles", "2024-07-01", False)]
    on_disk = json.loads((root / "launches.json").read_text(encoding="utf-8"))
    assert on_disk["format"] == 1 and on_disk["launches"][0]["treated_values"] == ["wechat"]
    assert remove_launch(root, launches[0]) == load_launches(root) == [launches[1]]


def test_a_damaged_launches_file_reads_as_what_it_still_holds(tmp_path):
    from store.launches import load_launches

    (tmp_path / "launches.json").write_text("{not json", encoding="utf-8")
    assert load_launches(tmp_path) == []
    (tmp_path / "launches.json").write_text(json.dumps({"format": 1, "launches": [
        {"strategy": "community", "launched_at": "2024-13-01", "treated_column": "channel", "treated_values": ["a"],
         "window_days": 90, "matched": False},
        {"strategy": "community", "launched_at": "2024-12-01", "treated_column": "channel", "treated_values": "a",
         "window_days": 90, "matched": False},
        {"strategy": "community", "launched_at": "2024-12-01", "treated_column": "channel", "treated_values": ["a"],
         "window_days": "60", "matched": 0}]}), encoding="utf-8")
    assert [(e["launched_at"], e["window_days"], e["matched"]) for e in load_launches(tmp_path)] == [("2024-12-01", 60, False)]


def test_the_page_words_a_failed_check_as_doubt_in_both_languages(shop):
    from ui.launch_view import checks, verdict

    result = evaluate(shop["store"], LAUNCH, "member_tier", ["gold"], WINDOW)
    english, chinese = checks(result, "en"), checks(result, "zh")
    assert english[0][0] == chinese[0][0] == "warning"
    assert "already moving apart" in english[0][1] and "parallel trends is doubtful" in english[0][1]
    assert "平行趋势假设存疑" in chinese[0][1]
    assert "more than the comparison explains" in verdict(result, "en")  # the estimate alone would mislead


def test_a_value_from_the_data_shows_as_text_not_markup(monkeypatch, tiny_store):
    app = open_app(monkeypatch, tiny_store.root, "pages/launch.py", launch_at=TINY_LAUNCH.isoformat(),
                   launch_column="channel", launch_values=HOSTILE, launch_window="30")
    warning = app.warning[0].value  # first seen after the launch: nobody was in the launched group
    assert "No order before" in warning and "nobody was in the launched group" in warning
    assert "\\[x\\]\\(https" in warning and "\\*\\*b\\*\\*" in warning


# ---- in a real browser ------------------------------------------------------------------------------


@pytest.mark.browser
def test_launch_page_in_the_browser_both_languages(demo_store):
    from playwright.sync_api import sync_playwright

    from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, start_server, tile, wait_for_app

    expected = evaluate(demo_store, date(2024, 11, 1), "region", ["East"], 30)
    url, process = start_server(demo_store.root)
    link = "&".join(f"{k}={v}" for k, v in DEMO_LINK.items())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 2600})
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            for code, language, did_label in (
                    ("en", "English", "Difference-in-differences: launched group's change − others' change"),
                    ("zh", "中文", "双重差分：目标客户变化 − 其他客户变化")):
                page.goto(f"{url}/launch?lang={language}&{link}")
                wait_for_app(page)
                assert tile(page, did_label).inner_text() == as_shown(expected["did"]["estimate"])
                page.screenshot(path=ARTIFACTS / f"launch_east_{code}.png", full_page=True)  # not the review set's launch_{code}.png
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)

"""The Playbook: strategies beside the shop's evidence, the action lists, cross-category evidence.

Expected figures come from the raw rows with plain Python (tests/naive-style rules written out
here), or are stated by hand for customers built to land on a list.
"""

import csv
import statistics
from datetime import date, timedelta

import pandas as pd
import pytest

from conftest import open_app
from hostile import as_read
from ingest.assignments import import_assignments
from ingest.pipeline import import_file
from metrics import playbook as pb
from store import Store
from ui.downloads import to_csv_bytes
from ui.i18n import t
from ui.playbook_text import strategy_name, with_reasons
from ui.tables import for_download

END = date(2025, 6, 30)
HEADER = ["Order ID", "Customer ID", "Order Date", "Amount", "Status", "Channel", "Member Tier", "Category"]


def _write(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)


def _order(rows, customer, day: date, category="Food", amount=100, tier="none", channel="web"):
    rows.append([f"O{len(rows) + 1}", customer, f"{day:%Y-%m-%d} 12:00", f"{amount}.00", "paid", channel, tier, category])


def _ago(days: int) -> date:
    return END - timedelta(days=days)


# ---- evidence levels and the members multiple --------------------------------------------------


@pytest.fixture
def members_store(tmp_path):
    """10 gold members with 6 orders each and 10 non-members with 2 each, January to June 2025."""
    rows = []
    for i in range(10):
        for k in range(6):
            _order(rows, f"m{i}", date(2025, 1, 5) + timedelta(days=28 * k + i), tier="gold")
        for k in range(2):
            _order(rows, f"n{i}", date(2025, 1, 10) + timedelta(days=90 * k + i))
    _order(rows, "m0", END, tier="gold")  # the data ends on a month end: June is the latest full month
    _write(tmp_path / "orders.csv", rows)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "orders.csv", store, currency="CNY")
    return store, rows


def _by_strategy(rows):
    return {row["strategy"]: row for row in rows}


def test_member_multiple_and_levels_without_tests(members_store):
    store, rows = members_store
    member_orders = sum(1 for r in rows if r[6] == "gold")
    other_orders = sum(1 for r in rows if r[6] == "none")
    expected = (member_orders / 10) / (other_orders / 10)  # 61 / 10 over 20 / 10 = 3.05
    con = store.connect()
    book = _by_strategy(pb.playbook(con))
    assert set(book) == set(pb.CLAIMS) and len(book) == 7
    points = book["points_tiers"]
    assert points["evidence_level"] == "descriptive" and points["next_step"] == "run_test"
    assert points["evidence"][0]["measure"] == "member_frequency_multiple"
    assert points["evidence"][0]["value"] == pytest.approx(expected)
    for strategy in ("personalised_offers", "new_products", "service_followup"):  # nothing at all: none
        assert book[strategy]["evidence_level"] == "none" and book[strategy]["evidence"] == []
    assert book["community"]["next_step"] == "tag_community_channel"  # no community channel in the data
    assert points["claim"] == {"points_repurchase_lift": 0.35, "member_frequency_multiple": 3.0}


def test_randomised_test_tagged_with_a_strategy_makes_it_randomised(members_store, tmp_path):
    store, _ = members_store
    lines = ["experiment,customer_id,variant,assigned_at,strategy"]
    lines += [f"followup,{who}{i},{'control' if i < 5 else 'treatment'},2025-01-01,service_followup"
              for who in ("m", "n") for i in range(10)]
    (tmp_path / "assignments.csv").write_text("\n".join(lines) + "\n")
    import_assignments(tmp_path / "assignments.csv", store)
    book = _by_strategy(pb.playbook(store.connect()))
    service = book["service_followup"]
    assert service["evidence_level"] == "randomised"
    assert [item["experiment"] for item in service["evidence"]] == ["followup"]
    assert service["evidence"][0]["n"] == 20
    assert book["personalised_offers"]["evidence_level"] == "none"


def test_a_launch_evaluation_is_before_after_with_comparison(members_store):
    store, _ = members_store
    launch = {"strategy": "seasonal_products", "launched_at": "2025-03-01", "did_estimate": 0.12, "ci_low": 0.04,
              "ci_high": 0.20, "p_value": 0.003, "pre_trend_p": 0.6}
    con = store.connect()
    book = _by_strategy(pb.playbook(con, [launch]))
    assert book["new_products"]["evidence_level"] == "before_after_with_comparison"
    assert book["new_products"]["evidence"][0]["verdict"] == "worked"
    assert book["new_products"]["next_step"] == "confirm_with_test"
    doubtful = _by_strategy(pb.playbook(con, [{**launch, "pre_trend_p": 0.01}]))["new_products"]
    assert doubtful["evidence"][0]["trend_doubtful"] and doubtful["next_step"] == "trend_doubtful"
    flat = _by_strategy(pb.playbook(con, [{**launch, "did_estimate": 0.01, "p_value": 0.7}]))["new_products"]
    assert flat["next_step"] == "rethink"


# ---- the action lists and cross-category evidence, against plain Python -------------------------


def _lists_rows():
    rows = []
    _order(rows, "t30", _ago(30))  # one order exactly 30 days ago: the 30-day trigger
    _order(rows, "usual", _ago(90), category="Home")  # two orders 45 days apart, the last 45 days ago
    _order(rows, "usual", _ago(45), category="Home")
    for i, gap in enumerate((10, 20, 30, 40, 50, 60)):  # first-to-second gaps for the second-order window
        _order(rows, f"g{i}", _ago(300), category="Apparel")
        _order(rows, f"g{i}", _ago(300 - gap), category="Beauty" if i < 4 else "Food")
    _order(rows, "s_in", _ago(25), category="Apparel")  # one order, inside the window
    _order(rows, "s_out", _ago(200), category="Apparel")  # one order, long past the window
    _order(rows, "vip", _ago(60), category="Baby")  # two orders, still active: VIP at the third
    _order(rows, "vip", _ago(29), category="Baby")
    _order(rows, "lapsed2", _ago(180), category="Baby")  # two orders 10 days apart, 170 days ago: lapsed
    _order(rows, "lapsed2", _ago(170), category="Baby")
    for day in (120, 90, 60, 31):  # Food about every 30 days: a subscription candidate
        _order(rows, "regular", _ago(day), category="Food")
    for day in (200, 190, 20):  # Food at irregular gaps of 10 and 170 days
        _order(rows, "irregular", _ago(day), category="Food")
    _order(rows, "anchor", _ago(400), category="Home")  # makes the data end on END
    _order(rows, "anchor", END, category="Home")
    return rows


@pytest.fixture(scope="module")
def lists_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("playbook_lists")
    rows = _lists_rows()
    _write(root / "orders.csv", rows)
    store = Store(root / "store")
    import_file(root / "orders.csv", store, currency="CNY")
    return store, rows


def _quantile(values, q):  # linear interpolation, like quantile_cont
    values = sorted(values)
    position = q * (len(values) - 1)
    low = int(position)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (position - low)


def _customers(rows):
    """Per customer: sorted (date, category) orders, computed from the raw rows."""
    out = {}
    for _, customer, when, _, _, _, _, category in rows:
        out.setdefault(customer, []).append((date.fromisoformat(when[:10]), category))
    return {c: sorted(orders) for c, orders in out.items()}


def _naive_lists(rows):
    customers = _customers(rows)
    end = max(d for orders in customers.values() for d, _ in orders)
    facts = {}
    for customer, orders in customers.items():
        gaps = [(b[0] - a[0]).days for a, b in zip(orders, orders[1:])]
        facts[customer] = {"orders": len(orders), "days": (end - orders[-1][0]).days,
                           "usual": statistics.median(gaps) if gaps else None, "first_gap": gaps[0] if gaps else None}
    trigger = {}
    for customer, f in facts.items():
        if f["orders"] >= 2 and abs(f["days"] - f["usual"]) <= min(3, 0.2 * f["usual"]):
            trigger[customer] = "usual_interval"
        elif abs(f["days"] - 30) <= 3:
            trigger[customer] = "thirty_days"
    first_gaps = [f["first_gap"] for f in facts.values() if f["first_gap"] is not None]
    window = (_quantile(first_gaps, 0.25), _quantile(first_gaps, 0.75))
    second = {c for c, f in facts.items() if f["orders"] == 1 and window[0] <= f["days"] <= window[1]}
    vip = {c for c, f in facts.items() if f["orders"] == 2 and f["days"] <= min(3 * f["usual"], 365)}
    return trigger, window, second, vip, facts


def _naive_paths(rows):
    """First category, the first category bought on a later order, and the categories of each customer."""
    firsts, seconds, counts = {}, {}, {}
    for customer, orders in _customers(rows).items():
        first_day = {}
        for day, category in orders:
            first_day.setdefault(category, day)
        ranked = sorted((day, category) for category, day in first_day.items())
        firsts[customer] = ranked[0][1]
        later = [(day, category) for day, category in ranked if day > ranked[0][0]]
        if later:
            seconds[customer] = later[0][1]
        counts[customer] = len(first_day)
    return firsts, seconds, counts


def test_trigger_and_graded_lists_match_plain_python(lists_store):
    store, rows = lists_store
    con = store.connect()
    trigger, window, second, vip, facts = _naive_lists(rows)
    listed = pb.action_list(con, "trigger_30d")
    assert dict(zip(listed["customer_id"], listed["reason_code"])) == trigger
    assert trigger["t30"] == "thirty_days" and trigger["usual"] == "usual_interval"  # by construction
    assert "regular" in trigger  # its last order was 31 days ago
    assert pb.second_purchase_window(con) == pytest.approx(window)
    graded = pb.action_list(con, "graded_second")
    assert set(graded["customer_id"]) == second and "s_in" in second and "s_out" not in second
    assert graded["window_low_days"].iloc[0] == pytest.approx(window[0])
    assert set(pb.action_list(con, "graded_vip")["customer_id"]) == vip
    assert "vip" in vip and "lapsed2" not in vip and "usual" in vip
    assert set(listed.columns[:3]) == {"customer_id", "list", "reason_code"}


def test_cross_category_tables_and_candidates_match_plain_python(lists_store):
    store, rows = lists_store
    con = store.connect()
    firsts, seconds, counts = _naive_paths(rows)
    table = pb.second_categories(con).set_index("first_category")
    for category in set(firsts.values()):
        starters = [c for c, f in firsts.items() if f == category]
        moved = [seconds[c] for c in starters if c in seconds]
        assert table.loc[category, "customers"] == len(starters)
        assert table.loc[category, "moved_customers"] == len(moved)
        if moved:
            top = sorted(set(moved), key=lambda s: (-moved.count(s), s))[0]
            assert table.loc[category, "second_category"] == top
            assert table.loc[category, "second_share"] == pytest.approx(moved.count(top) / len(moved))
    # by hand: six started with Apparel and moved on, four of them to Beauty
    assert table.loc["Apparel", "second_category"] == "Beauty"
    assert table.loc["Apparel", "second_share"] == pytest.approx(4 / 6)

    facts = _naive_lists(rows)[4]
    by_count = pb.categories_bought(con).set_index("categories")
    for n in set(min(c, 4) for c in counts.values()):
        group = [c for c, k in counts.items() if min(k, 4) == n]
        assert by_count.loc[n, "customers"] == len(group)
        assert by_count.loc[n, "repurchase_rate"] == pytest.approx(sum(facts[c]["orders"] >= 2 for c in group) / len(group))
        assert by_count.loc[n, "orders_per_customer"] == pytest.approx(sum(facts[c]["orders"] for c in group) / len(group))

    candidates = pb.action_list(con, "cross_category").set_index("customer_id")
    moved_from = {f: sum(1 for c in seconds if firsts[c] == f) for f in set(firsts.values())}
    expected = {c for c, k in counts.items() if k == 1 and facts[c]["days"] <= 365 and moved_from[firsts[c]] >= 3}
    assert set(candidates.index) == expected
    assert candidates.loc["s_in", "suggested_category"] == "Beauty"
    assert candidates.loc["s_in", "lookalike_share"] == pytest.approx(4 / 6)


def test_subscription_list_takes_regular_buyers_of_high_frequency_categories(lists_store):
    store, rows = lists_store
    listed = pb.action_list(store.connect(), "subscription").set_index("customer_id")
    # Food: 10 orders by 5 buyers (2.0 per buyer), at the median category's (Apparel and Beauty 1.0, Home
    # and Baby 2.0); the irregular Food buyer and the two-order buyers of Home and Baby are not regular
    assert list(listed.index) == ["regular"]
    assert listed.loc["regular", "category"] == "Food" and listed.loc["regular", "category_orders"] == 4
    assert listed.loc["regular", "interval_days"] == pytest.approx(29.7, abs=0.05)  # gaps 30, 30, 29


def test_lapsing_high_value_takes_the_top_fifth_whose_p_alive_fell():
    predictions = pd.DataFrame({
        "customer_id": [f"c{i}" for i in range(10)], "x": [3] * 10, "T": [300.0] * 10, "t_x": [100.0] * 10,
        "historical_revenue": [100.0] * 10, "last_purchase": [date(2025, 1, 1)] * 10,
        "total_clv": [10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
        "p_alive": [0.1] * 8 + [0.3, 0.9],
    })
    listed = pb.lapsing_high_value_list(predictions)
    # top 20%: total value at or above the 80th percentile (82), i.e. c8 and c9; only c8 has P(alive) < 0.5
    assert listed["customer_id"].tolist() == ["c8"]
    assert listed.loc[0, "reason_code"] == "high_value_falling_p_alive" and listed.loc[0, "orders"] == 4
    assert listed.loc[0, "days_since_last_order"] == 200


def test_downloaded_list_keeps_its_keys_and_words_the_reason_in_chinese(lists_store):
    store, _ = lists_store
    listed = with_reasons(pb.action_list(store.connect(), "trigger_30d"), "zh", "CNY")
    text = to_csv_bytes(for_download(listed)).decode("utf-8-sig")
    header, *lines = text.splitlines()
    assert header.split(",")[:4] == ["customer_id", "list", "reason_code", "reason"]
    t30 = next(line for line in lines if line.startswith("t30,"))
    assert "trigger_30d,thirty_days,上次购买在 30 天前：30 天触发。" in t30


# ---- the page ---------------------------------------------------------------------------------


def shown_strategies(app, language: str) -> pd.DataFrame:
    """The seven-strategies table as it reads on screen (st.table: sentences wrap, never cut off),
    with the columns' keys for headings."""
    table = app.table[0].value
    keys = {t(f"pb_{word}", language): key for word, key in
            (("strategy", "strategy"), ("claim", "claim"), ("shop", "shop"), ("evidence", "evidence"), ("next", "next_step"))}
    return pd.DataFrame({keys[as_read(heading)]: [as_read(cell) for cell in table[heading]]
                         for heading in table.columns})


@pytest.mark.parametrize("language", ["en", "zh"])
def test_page_shows_all_seven_strategies_and_every_list_downloads(monkeypatch, demo_store, language):
    params = {"lang": "中文"} if language == "zh" else {}
    app = open_app(monkeypatch, demo_store.root, "pages/playbook.py", timeout=120, **params)
    assert app.title[0].value == ("复购策略手册" if language == "zh" else "Playbook")
    strategies = shown_strategies(app, language)
    assert sorted(strategies["strategy"]) == sorted(strategy_name(s, language) for s in pb.CLAIMS)
    levels = dict(zip(strategies["strategy"], strategies["evidence"]))
    randomised = "随机对照实验" if language == "zh" else "Randomised test"
    assert levels[strategy_name("points_tiers", language)] == randomised  # the demo's tagged tests
    assert levels[strategy_name("service_followup", language)] == randomised
    keys = {element.key for element in app.get("download_button")}
    assert {f"list_{name}_{kind}" for name in pb.LISTS for kind in ("csv", "xlsx")} <= keys


def test_each_list_is_kept_once_per_store_version_and_the_page_lists_its_first_500(monkeypatch, demo_store, tmp_path):
    """At 100M orders the Playbook took 67 s to open, every view, and held up to 100,000 rows per list in
    pandas: each list is now counted once per store version and kept in its results folder; a page shows
    the first 500 and the count, the download every customer."""
    import shutil

    import streamlit as st

    from ui import data

    store = Store(tmp_path / "store")
    shutil.copytree(demo_store.root, store.root)
    root, version = str(store.root), store.manifest()["version"]
    counted = {name: pb.action_list(store.connect(), name) for name in pb.LIST_SQL}
    assert len(counted["cross_category"]) > 500
    book = data.playbook(root, version)
    assert book["strategies"] == pb.playbook(store.connect())
    for name, expected in counted.items():
        first, count = data.playbook_list(root, version, name)
        assert count == len(expected)
        assert first["customer_id"].tolist() == expected["customer_id"].head(500).tolist()
        pd.testing.assert_frame_equal(data.whole_playbook_list(root, version, name), expected, check_dtype=False)
    assert {f"{name}.parquet" for name in pb.LIST_SQL} <= {f.name for f in data.kept.kept_path(root, version, "playbook").iterdir()}

    def counted_again(*args, **kwargs):
        raise AssertionError("a list kept for this version was counted again")

    st.cache_data.clear()  # as a new process: only the kept files
    monkeypatch.setattr(pb, "action_list_batches", counted_again)
    monkeypatch.setattr(pb, "action_list", counted_again)
    for evidence in ("descriptive_evidence", "categories_bought", "second_categories"):
        monkeypatch.setattr(pb, evidence, counted_again)
    again = data.playbook(root, version)
    assert again["strategies"] == book["strategies"]
    for table in ("categories_bought", "second_categories"):
        pd.testing.assert_frame_equal(again[table], book[table], check_exact=True)
    first, count = data.playbook_list(root, version, "cross_category")
    assert count == len(counted["cross_category"]) and len(first) == 500
    app = open_app(monkeypatch, store.root, "pages/playbook.py", timeout=120)
    assert f"**{len(counted['cross_category']):,} customers**" in [m.value for m in app.markdown]
    assert f"The 500 most valuable are listed here; the downloads hold all {len(counted['cross_category']):,}." in [
        c.value for c in app.caption]
    kept = {f.name for f in data.kept.kept_path(root, version, "playbook").iterdir()}
    assert "evidence" in kept and any(name.startswith("lapsing_high_value-") for name in kept), kept


def test_page_escapes_category_labels_and_says_when_the_value_model_cannot_fit(monkeypatch, tmp_path):
    """A month of orders: too little history for the customer-value model, so the lapsing list is replaced
    by the reason; a category named like markup shows as text in the chart."""
    import json

    rows = []
    hostile = "<b>Evil</b>"
    for i in range(4):
        _order(rows, f"h{i}", date(2025, 6, 1) + timedelta(days=i), category=hostile)
        _order(rows, f"h{i}", date(2025, 6, 20) + timedelta(days=i), category="Food")
    _order(rows, "h0", END, category="Food")
    _write(tmp_path / "orders.csv", rows)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "orders.csv", store, currency="CNY")
    app = open_app(monkeypatch, store.root, "pages/playbook.py", timeout=120)
    assert any("could not be fitted" in info.value for info in app.info)
    labels = [label for chart in app.get("plotly_chart")
              for trace in json.loads(chart.proto.spec)["data"] for label in trace.get("y") or [] if isinstance(label, str)]
    assert "&lt;b&gt;Evil&lt;/b&gt; → Food" in labels
    assert not any("<b>" in label for label in labels)


def test_regular_buyers_match_plain_python(lists_store):
    store, rows = lists_store
    regular = []
    repeat = 0
    for orders in _customers(rows).values():
        gaps = [(b[0] - a[0]).days for a, b in zip(orders, orders[1:])]
        if len(orders) >= 3:
            repeat += 1
            mean = sum(gaps) / len(gaps)
            if mean > 0 and statistics.stdev(gaps) <= 0.5 * mean:
                regular.append(mean)
    found = pb.regular_buyers(store.connect())
    assert found["repeat_customers"] == repeat and found["regular_customers"] == len(regular) == 1  # "regular"
    assert found["share"] == pytest.approx(len(regular) / repeat)
    assert found["median_gap_days"] == pytest.approx(statistics.median(regular))


def test_community_channel_multiple_and_its_evidence(tmp_path):
    rows = []
    for i in range(6):  # six customers order four times through the WeChat community, ten others twice on the web
        for k in range(4):
            _order(rows, f"c{i}", date(2025, 2, 1) + timedelta(days=30 * k + i), channel="WeChat 社群")
    for i in range(10):
        for k in range(2):
            _order(rows, f"w{i}", date(2025, 3, 1) + timedelta(days=60 * k + i))
    _order(rows, "w0", END)
    _write(tmp_path / "orders.csv", rows)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "orders.csv", store, currency="CNY")
    community = sum(1 for r in rows if "社群" in r[5]) / 6
    others = sum(1 for r in rows if "社群" not in r[5]) / 10
    con = store.connect()
    found = pb.community_multiple(con)
    assert found["customers"] == 6 and found["multiple"] == pytest.approx(community / others)  # 4 / 2.1
    row = _by_strategy(pb.playbook(con))["community"]
    assert row["evidence_level"] == "descriptive" and row["evidence"][0]["value"] == pytest.approx(community / others)


@pytest.mark.browser
def test_in_the_browser_an_action_list_downloads_with_its_keys_and_is_logged(demo_store, tmp_path):
    """Chromium on serve.py with sign-in on: an analyst downloads the 30-day trigger list; the file keeps
    the stable keys and the download is in the activity log with the list's rows."""
    import shutil
    from pathlib import Path

    from playwright.sync_api import expect, sync_playwright

    from test_auth import PASSWORDS, browser_sign_in
    from browser_support import CHROMIUM, CHROMIUM_ARGS, start_server, wait_for_app
    from ui.users import USERS_ENV, UsersFile

    store = Store(tmp_path / "store")
    shutil.copytree(demo_store.root, store.root)
    logged_before = len(store.audit_log())
    users = tmp_path / "users.json"
    UsersFile(users).put("ann", "analyst", PASSWORDS["ann"], by="test")
    expected_rows = len(pb.action_list(store.connect(), "trigger_30d"))
    url, process = start_server(store.root, script="serve.py", env={USERS_ENV: str(users)})
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True).new_page()
            page.goto(f"{url}/playbook")
            browser_sign_in(page, "ann")
            expect(page.get_by_text("Signed in as ann (analyst)")).to_be_visible(timeout=30_000)
            wait_for_app(page)
            with page.expect_download() as download_info:  # the strategies table's, then the first tab's list
                page.get_by_role("button", name="⬇ CSV").nth(1).click()
            text = Path(download_info.value.path()).read_text(encoding="utf-8-sig")
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    header, *lines = text.splitlines()
    assert header.startswith("customer_id,list,reason_code,reason,") and len(lines) == expected_rows > 0
    downloads = [e for e in store.audit_log()[logged_before:] if e["action"] == "download_customer_list"]
    assert [(e["user"], e["table"], e["format"], e["rows"]) for e in downloads] == [
        ("ann", "playbook_trigger_30d", "csv", expected_rows)]

"""Experiments derived from an order column (coupon codes): who enters which arm and when, the entry
order never counted as a repurchase, the observational label, refusals that change nothing, the CLI."""

import json
from datetime import date

import duckdb
import pandas as pd
import pytest

from conftest import tree_digest
from ingest import import_file
from ingest.__main__ import main as ingest_main
from ingest.assignments import import_assignments
from ingest.derived_assignments import derive_assignments, period_values
from ingest.readers import ImportRefused
from metrics import experiments as ex
from store import Store, sql_path
from ui.strategy_words import summary as worded

NOV = (date(2024, 11, 1), date(2024, 11, 30))

# order_id, customer, time, status, coupon: the right answer is written next to each customer
ORDERS = [
    # c1 -> DOUBLE11 at its first coupon order; o1 is pre-period, o3 in the 30-day window, o4 after it
    ("o01", "c1", "2024-10-15 09:00", "paid", ""),
    ("o02", "c1", "2024-11-05 10:00", "paid", "DOUBLE11"),
    ("o03", "c1", "2024-11-20 11:00", "paid", ""),
    ("o04", "c1", "2024-12-10 12:00", "paid", ""),
    # c2 -> SAVE20, entering at the coupon order, not at the earlier plain order; no order after it
    ("o05", "c2", "2024-11-02 09:00", "paid", ""),
    ("o06", "c2", "2024-11-10 12:00", "paid", "SAVE20"),
    # c3 -> DOUBLE11 (first of two codes used: a warning); o08 is a repurchase
    ("o07", "c3", "2024-11-03 08:00", "paid", "DOUBLE11"),
    ("o08", "c3", "2024-11-04 08:00", "paid", "SAVE20"),
    # c4 -> control at its first order of the period; o10 is a repurchase
    ("o09", "c4", "2024-11-07 09:30", "paid", ""),
    ("o10", "c4", "2024-11-08 09:30", "paid", ""),
    # c5 -> control: used a code only before the period (a warning)
    ("o11", "c5", "2024-10-20 10:00", "paid", "DOUBLE11"),
    ("o12", "c5", "2024-11-15 10:00", "paid", ""),
    # c6 -> control: its coupon order was cancelled
    ("o13", "c6", "2024-11-01 10:00", "cancelled", "DOUBLE11"),
    ("o14", "c6", "2024-11-25 10:00", "paid", ""),
    # c7 -> not in the experiment: no order in the period
    ("o15", "c7", "2024-09-01 10:00", "paid", ""),
    ("o16", "c7", "2024-12-05 10:00", "paid", "DOUBLE11"),
    # c8 -> DOUBLE11, never bought again
    ("o17", "c8", "2024-11-12 14:00", "paid", "DOUBLE11"),
    # a guest using the code: never in a test
    ("o18", "", "2024-11-11 10:00", "paid", "DOUBLE11"),
    # the data's end, so that every 30- and 60-day window has elapsed
    ("o19", "c1", "2025-03-31 10:00", "paid", ""),
]
EXPECTED = {
    "c1": ("DOUBLE11", "2024-11-05 10:00"), "c2": ("SAVE20", "2024-11-10 12:00"),
    "c3": ("DOUBLE11", "2024-11-03 08:00"), "c4": ("control", "2024-11-07 09:30"),
    "c5": ("control", "2024-11-15 10:00"), "c6": ("control", "2024-11-25 10:00"),
    "c8": ("DOUBLE11", "2024-11-12 14:00"),
}


def write_orders(path) -> None:
    path.write_text("order_id,customer_id,order_date,amount,status,coupon_code\n"
                    + "".join(f"{o},{c},{t},{10 + 3 * i}.00,{s},{code}\n" for i, (o, c, t, s, code) in enumerate(ORDERS)))


@pytest.fixture
def coupons(tmp_path) -> Store:
    store = Store(tmp_path / "store")
    write_orders(tmp_path / "orders.csv")
    import_file(tmp_path / "orders.csv", store)
    return store


def assignments(store: Store, experiment: str) -> dict:
    con = store.connect()
    rows = con.execute("select customer_id, variant, assigned_at, derived_from from assignments "
                       "where experiment = $e", {"e": experiment}).fetchall()
    return {c: (v, f"{pd.Timestamp(t):%Y-%m-%d %H:%M}", d) for c, v, t, d in rows}


def test_derived_assignments_follow_the_rule(coupons):
    result = derive_assignments(coupons, "nov_coupons", *NOV, strategy="personalised_offers", cost=5)
    assert result["values"] == ["DOUBLE11", "SAVE20"]  # every value seen, most customers first
    assert result["arms"] == {"DOUBLE11": 3, "SAVE20": 1, "control": 3}
    assert result["design"] == "observational" and result["derived_from"] == "coupon_code"
    assert any("1 customers used more than one" in w for w in result["warnings"])
    assert any("1 control customers had used one of the values before" in w for w in result["warnings"])
    got = assignments(coupons, "nov_coupons")
    assert {c: (v, t) for c, (v, t, _) in got.items()} == EXPECTED
    assert {d for _, _, d in got.values()} == {"coupon_code"}
    con = coupons.connect()
    costs = dict(con.execute("select variant, max(cost_per_customer) from assignments group by variant").fetchall())
    assert costs == {"DOUBLE11": 5, "SAVE20": 5, "control": None}  # control received nothing
    batch = coupons.batches()[-1]
    assert batch["kind"] == "assignments" and batch["design"] == "observational"
    assert batch["derivation"]["column"] == "coupon_code" and batch["derivation"]["values"] == ["DOUBLE11", "SAVE20"]


def test_chosen_values_only(coupons):
    result = derive_assignments(coupons, "double11_only", *NOV, values=[" DOUBLE11 ", "DOUBLE11"])
    assert result["values"] == ["DOUBLE11"] and result["arms"] == {"DOUBLE11": 3, "control": 4}
    assert assignments(coupons, "double11_only")["c2"][:2] == ("control", "2024-11-02 09:00")


def test_entry_order_is_not_a_repurchase(coupons, tmp_path):
    derive_assignments(coupons, "derived", *NOV, values=["DOUBLE11"])
    # the same rows uploaded as a file: a randomised experiment counts an order at the assignment instant
    frame = pd.DataFrame([(c, v, t) for c, (v, t, _) in assignments(coupons, "derived").items()],
                         columns=["customer_id", "variant", "assigned_at"]).assign(experiment="uploaded")
    frame.to_csv(tmp_path / "uploaded.csv", index=False)
    import_assignments(tmp_path / "uploaded.csv", coupons)
    con = coupons.connect()
    designs = ex.list_experiments(con).set_index("experiment")
    assert designs.loc["derived", "design"] == "observational" and designs.loc["derived", "derived_from"] == "coupon_code"
    assert designs.loc["uploaded", "design"] == "randomised" and pd.isna(designs.loc["uploaded", "derived_from"])

    derived = ex.experiment_report(con, "derived", window_days=30, cuped_days=60)
    by = {(r["metric"]): r for r in derived["results"]}
    # DOUBLE11: c1 (o03), c3 (o08), c8 (none) -> 2 orders; control: c2 (o06), c4 (o10), c5, c6 (none) -> 2
    assert by["orders"]["variant_mean"] == pytest.approx(2 / 3) and by["orders"]["control_mean"] == pytest.approx(2 / 4)
    assert by["repurchased"]["variant_mean"] == pytest.approx(2 / 3)
    # pre-period: c1's o01 and c5's o11 only; the entry order is in neither period
    totals = {a["variant"]: a["totals"]["orders"] for a in derived["arms"]}
    assert totals["DOUBLE11"]["sum_x"] == 1 and totals["control"]["sum_x"] == 1
    assert derived["design"] == "observational" and not derived["health"]["srm_applicable"]
    assert derived["health"]["srm_p"] is None and not derived["health"]["srm_flag"]

    uploaded = ex.experiment_report(con, "uploaded", window_days=30)
    by = {(r["metric"]): r for r in uploaded["results"]}
    assert by["orders"]["variant_mean"] == pytest.approx(5 / 3)  # + each entry order
    assert by["orders"]["control_mean"] == pytest.approx(6 / 4)
    assert uploaded["design"] == "randomised" and uploaded["health"]["srm_applicable"]

    # time views leave the entry order out too
    km = ex.time_to_repurchase(con, "derived")
    assert km.groupby("variant")["events"].sum().to_dict() == {"DOUBLE11": 2, "control": 2}
    novelty = ex.lift_by_days_since_assignment(con, "derived", window_days=30, bucket_days=7)
    assert novelty["variant_mean"].sum() == pytest.approx(2 / 3)
    to_date = ex.cumulative_lift(con, "derived", "orders", window_days=30, view="to_date")
    assert to_date.iloc[-1]["variant_mean"] == pytest.approx(2 / 3)


def test_summary_states_an_association_in_both_languages(coupons):
    derive_assignments(coupons, "derived", *NOV, values=["DOUBLE11"], strategy="personalised_offers")
    summary = worded(ex.experiment_report(coupons.connect(), "derived", window_days=30))
    assert "Observational (from orders.coupon_code)" in summary["en"] and "not proof" in summary["en"]
    assert "观察性比较" in summary["zh"] and "不能证明" in summary["zh"]
    report = {"strategy": "personalised_offers", "window_days": 30, "design": "observational",
              "derived_from": "coupon_code", "health": {"srm_flag": False, "balance_flag": True, "balance_p": 0.0001},
              "results": [{"variant": "DOUBLE11", "metric": "repurchased", "p_holm": 0.001, "abs_lift": 0.071,
                           "variant_mean": 0.4, "control_mean": 0.33}]}
    text = worded(report)
    assert "using DOUBLE11 was associated with a repurchase rate 7.1 points higher" in text["en"]
    assert "made" not in text["en"] and "worked" not in text["en"]
    assert "pre-period balance p < 0.001" in text["en"]
    assert "使用 DOUBLE11 与 30 天内复购率高 7.1 个百分点相关" in text["zh"] and "分组前平衡性" in text["zh"]
    randomised = worded({**report, "design": "randomised"})
    assert randomised["en"].startswith("Personalised offers: DOUBLE11 customers repurchased 7.1 points more often")


@pytest.mark.parametrize("kwargs,message", [
    ({"column": "status"}, "Unknown order column 'status'"),
    ({"column": "region"}, "orders.region is empty"),
    ({"start": date(2030, 1, 1), "end": date(2030, 1, 31)}, "No valid orders"),
    ({"start": date(2024, 11, 30), "end": date(2024, 11, 1)}, "starts"),
    ({"start": date(2024, 11, 3), "end": date(2024, 11, 3)}, "no control group"),
    ({"values": ["DOUBLE12"]}, "'DOUBLE12' never appears in orders.coupon_code"),
    ({"experiment": "taken"}, "already exists"),
    ({"experiment": "  "}, "Give the experiment a name"),
])
def test_refusals_change_nothing(coupons, kwargs, message):
    derive_assignments(coupons, "taken", *NOV)
    before = tree_digest(coupons.root)
    request = {"experiment": "new", "start": NOV[0], "end": NOV[1], **kwargs}
    with pytest.raises(ImportRefused, match=message):
        derive_assignments(coupons, request.pop("experiment"), request.pop("start"), request.pop("end"), **request)
    assert tree_digest(coupons.root) == before


def test_a_value_named_like_control_is_refused(tmp_path):
    store = Store(tmp_path / "store")
    (tmp_path / "o.csv").write_text("order_id,customer_id,order_date,amount,channel\n"
                                    "1,a,2024-11-01,5,control\n2,b,2024-11-02,5,web\n3,c,2024-11-03,5,\n")
    import_file(tmp_path / "o.csv", store)
    with pytest.raises(ImportRefused, match="would be read as the control arm"):
        derive_assignments(store, "x", *NOV, column="channel")
    assert derive_assignments(store, "x", *NOV, column="channel", values=["web"])["arms"] == {"control": 2, "web": 1}


def test_period_values_and_removal(coupons):
    con = coupons.connect()
    assert period_values(con, "coupon_code", *NOV) == [("DOUBLE11", 3), ("SAVE20", 2)]
    result = derive_assignments(coupons, "gone", *NOV)
    coupons.remove_batch(result["batch_id"])
    assert ex.list_experiments(coupons.connect()).empty


def test_pseudonymised_store_keeps_the_ids(coupons, tmp_path, monkeypatch):
    monkeypatch.setenv("REPURCHASE_PSEUDONYM_KEY", "a-long-enough-test-key-123")
    store = Store(tmp_path / "private")
    write_orders(tmp_path / "orders.csv")
    import_file(tmp_path / "orders.csv", store)
    derive_assignments(store, "x", *NOV)
    con = store.connect()
    unmatched = con.execute("select count(*) from assignments where customer_id not in "
                            "(select customer_id from customers)").fetchone()[0]
    assert unmatched == 0 and con.execute("select min(customer_id) from assignments").fetchone()[0].startswith("p_")


def test_versions_built_before_derived_from_read_as_randomised(coupons, tmp_path):
    (tmp_path / "a.csv").write_text("experiment,customer_id,variant,assigned_at\nold,c1,control,2024-11-01\n"
                                    "old,c2,b,2024-11-01\n")
    import_assignments(tmp_path / "a.csv", coupons)
    path = coupons.version_dir() / "assignments.parquet"
    duckdb.execute(f"copy (select * exclude (derived_from) from read_parquet({sql_path(path)})) "
                   f"to {sql_path(tmp_path / 'old.parquet')} (format parquet)")
    (tmp_path / "old.parquet").replace(path)
    experiments = ex.list_experiments(coupons.connect())
    assert experiments.loc[0, "design"] == "randomised"


def test_cli_json_and_refusal(coupons, capsys):
    args = ["assignments-from-orders", "--store", str(coupons.root), "--experiment", "cli", "--start", "2024-11-01",
            "--end", "2024-11-30", "--values", "DOUBLE11", "--strategy", "personalised_offers", "--cost", "5", "--json"]
    assert ingest_main(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["arms"] == {"DOUBLE11": 3, "control": 4} and out["design"] == "observational"
    assert {"batch_id", "experiment", "derived_from", "start", "end", "values", "warnings", "rows_accepted"} <= set(out)
    before = tree_digest(coupons.root)
    assert ingest_main(args) == 2
    assert "already exists" in json.loads(capsys.readouterr().out)["refused"]
    assert ingest_main(args[:-1]) == 2 and "Refused:" in capsys.readouterr().err
    assert tree_digest(coupons.root) == before
    assert ingest_main(["assignments-from-orders", "--store", str(coupons.root), "--experiment", "text",
                        "--start", "2024-11-01", "--end", "2024-11-30"]) == 0
    assert "Observational" in capsys.readouterr().out

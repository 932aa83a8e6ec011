"""Metric functions on a tiny store whose every number is worked out by hand (see comments)."""

from datetime import date

import pandas as pd
import pytest

from ingest import import_file
from metrics.cohorts import average_retention_curve, cohort_matrix
from metrics.due import due_for_repurchase
from metrics.filters import Filters
from metrics.funnel import days_between_orders, repeat_funnel, time_to_second_order
from metrics.kpis import kpi_row, kpi_table, latest_full_month
from metrics.narrative import biggest_move
from metrics.segments import members_vs_non_members, rfm_customers, rfm_segments, segment_kpis
from store import Store

ORDERS = """order_id,customer_id,order_date,amount,status,member_tier,channel,region,category
1,a,2024-01-05,100,paid,gold,app,East,Food
2,b,2024-01-10,50,paid,,web,North,Home
3,,2024-01-12,30,paid,,web,North,Home
4,a,2024-01-20,60,paid,gold,app,East,Food
5,c,2024-01-25,80,cancelled,,web,East,Food
6,a,2024-02-03,40,paid,gold,web,East,Home
7,c,2024-02-14,70,paid,silver,app,South,Food
8,d,2024-02-20,20,refunded,,web,East,Food
9,b,2024-04-02,90,paid,,web,North,Home
"""
# Valid orders: Jan 1,2,3(guest),4; Feb 6,7; Mar none; Apr 9. c's January order is cancelled,
# so c is new in February; d only has a refunded order and is never a customer.


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("metrics")
    (root / "orders.csv").write_text(ORDERS)
    store = Store(root / "store")
    import_file(root / "orders.csv", store)
    connection = store.connect()
    yield connection
    connection.close()


def by_month(frame: pd.DataFrame) -> dict:
    return {row["period"].strftime("%Y-%m"): row for row in frame.to_dict("records")}


def test_monthly_kpis_by_hand(con):
    months = by_month(kpi_table(con))
    assert list(months) == ["2024-01", "2024-02", "2024-03", "2024-04"]  # empty March kept
    jan, feb, mar, apr = months.values()
    assert (jan["orders"], jan["revenue"], jan["guest_orders"]) == (4, 240, 1)
    assert (jan["customers"], jan["new_customers"], jan["returning_customers"]) == (2, 2, 0)
    assert jan["repurchase_rate"] == 0
    assert jan["repeat_rate"] == 0.5  # a bought twice in January
    assert jan["frequency"] == 1.5  # 3 identified orders / 2 customers
    assert jan["aov"] == 60  # 240 / 4, guest order included
    assert jan["revenue_per_customer"] == 105  # 210 identified revenue / 2
    assert (feb["customers"], feb["new_customers"], feb["returning_customers"]) == (2, 1, 1)
    assert feb["repurchase_rate"] == 0.5
    assert feb["aov"] == 55
    assert feb["annual_frequency"] == pytest.approx(5 / 3)  # orders 1,2,4,6,7 by a, b, c
    assert (mar["orders"], mar["customers"]) == (0, 0)
    assert pd.isna(mar["repurchase_rate"])
    assert (apr["customers"], apr["new_customers"], apr["repurchase_rate"]) == (1, 0, 1.0)
    assert apr["annual_frequency"] == 2.0  # 6 identified orders / 3 customers
    assert feb["orders_mom"] == -0.5  # 2 vs 4
    assert feb["repurchase_rate_mom"] == 0.5  # rates change in points: 0.5 - 0
    assert pd.isna(feb["orders_yoy"])  # no February 2023


def test_quarter_and_year_grains(con):
    quarters = kpi_table(con, grain="quarter")
    q1 = quarters.iloc[0]
    assert q1["orders"] == 6 and q1["customers"] == 3 and q1["new_customers"] == 3
    assert q1["repeat_rate"] == pytest.approx(1 / 3)  # only a has 2+ orders in Q1 (b's 2nd is in April)
    year = kpi_table(con, grain="year").iloc[0]
    assert year["customers"] == 3 and year["repeat_rate"] == pytest.approx(2 / 3)
    assert year["is_complete"] == False  # noqa: E712 - data ends in April


def test_filters_apply_to_every_kpi(con):
    app = by_month(kpi_table(con, Filters(channel=("app",))))
    assert (app["2024-01"]["orders"], app["2024-01"]["revenue"], app["2024-01"]["customers"]) == (2, 160, 1)
    # c's first valid order ever is in February: new there under any filter
    assert app["2024-02"]["new_customers"] == 1
    dated = kpi_table(con, Filters(start=date(2024, 2, 1), end=date(2024, 2, 29)))
    assert len(dated) == 1 and dated.iloc[0]["orders"] == 2
    assert dated.iloc[0]["orders_mom"] == -0.5  # the change still sees January
    assert kpi_table(con, Filters(region=("Mars",))).empty


def test_filter_values_are_bound_not_formatted(con):
    hostile = "x') or true or ('"
    assert kpi_table(con, Filters(channel=(hostile,))).empty


def test_kpi_row_and_latest_full_month(con):
    assert latest_full_month(con) == date(2024, 3, 1)  # data ends 2024-04-02
    row = kpi_row(con, date(2024, 2, 1))
    assert row["customers"] == 2 and row["repurchase_rate"] == 0.5


def test_kpi_row_and_what_moved_count_only_the_filtered_days_of_the_month(con):
    cut = Filters(end=date(2024, 2, 10))  # February to the 10th: only a's order 6 (40)
    row = kpi_row(con, date(2024, 2, 1), cut)
    assert (row["orders"], row["customers"], row["repurchase_rate"], row["aov"]) == (1, 1, 1.0, 40)
    feb = by_month(kpi_table(con, cut))["2024-02"]  # the Overview's tiles
    assert {k: row[k] for k in ("orders", "revenue", "aov")} == {k: feb[k] for k in ("orders", "revenue", "aov")}
    move = biggest_move(con, date(2024, 2, 1), cut)  # the sentence under the tiles
    assert move["value"] == feb[move["kpi"]]
    # a start inside the month chooses the month, counted whole (as the KPI table's row)
    late_start = Filters(start=date(2024, 2, 10))
    assert kpi_row(con, date(2024, 2, 1), late_start)["orders"] == by_month(kpi_table(con, late_start))["2024-02"]["orders"] == 2


def test_cohort_retention_by_hand(con):
    matrix = cohort_matrix(con)
    jan = matrix[matrix["cohort_month"] == pd.Timestamp("2024-01-01")].set_index("age")
    assert jan.loc[0, "cohort_customers"] == 2  # a, b
    assert jan.loc[1, "retention"] == 0.5  # a in February
    assert jan.loc[2, "retention"] == 0  # nobody in March
    assert list(jan.index) == [0, 1, 2, 3]
    assert jan.loc[3, "retention"] == 0.5  # b in April
    assert jan.loc[1, "revenue_retention"] == pytest.approx(40 / 210)
    assert jan.loc[3, "cumulative_revenue_per_customer"] == pytest.approx((210 + 40 + 90) / 2)
    feb = matrix[matrix["cohort_month"] == pd.Timestamp("2024-02-01")]
    assert feb.iloc[0]["cohort_customers"] == 1 and bool(feb.iloc[0]["small_cohort"])
    curve = average_retention_curve(matrix).set_index("age")
    assert curve.loc[1, "retention"] == pytest.approx(1 / 3)  # Jan: a of 2; Feb: nobody of 1


def test_repeat_funnel_and_intervals_by_hand(con):
    funnel = repeat_funnel(con).set_index("order_number")
    assert funnel.loc[1, "customers"] == 3
    assert funnel.loc[2, "share_of_customers"] == pytest.approx(2 / 3)  # a, b
    assert funnel.loc[3, "share_of_customers"] == pytest.approx(1 / 3)  # a
    gaps = days_between_orders(con).set_index("from_order")
    assert gaps.loc[1, "days_median"] == 49  # a: 15 days, b: 83 days
    assert gaps.loc[2, "days_median"] == 14  # a: Jan 20 -> Feb 3
    second = time_to_second_order(con).set_index("within_days")
    assert second.loc[30, "customers"] == 1 and second.loc[90, "customers"] == 1


def test_repeat_funnel_and_intervals_under_filters_by_hand(con):
    dated = days_between_orders(con, Filters(start=date(2024, 1, 1))).set_index("from_order")  # counted from the orders
    assert dated.loc[1, ["days_p25", "days_median", "days_p75"]].tolist() == [32, 49, 66]  # 15 + (83 - 15) x 1/4, 1/2, 3/4
    assert dated.loc[2, "days_median"] == 14
    web = Filters(channel=("web",))  # valid web orders: b Jan 10 and Apr 2, a Feb 3 (the guest's has no customer)
    assert repeat_funnel(con, web).set_index("order_number")["customers"].to_dict() == {1: 2, 2: 1}
    gaps = days_between_orders(con, web).set_index("from_order")
    assert gaps.index.tolist() == [1] and gaps.loc[1, "repeat_orders"] == 1 and gaps.loc[1, "days_median"] == 83
    second = time_to_second_order(con, web).set_index("within_days")
    assert second["customers"].sum() == 1 and second.loc[90, "customers"] == 1  # b: 83 days


def test_members_buy_more_often_by_hand(con):
    result = members_vs_non_members(con, date(2024, 1, 1))
    table = result["table"].set_index("segment")
    assert table.loc["member", "customers"] == 1 and table.loc["non-member", "customers"] == 1
    assert result["frequency_multiple"] == 2.0  # a: 2 orders, b: 1 order in the trailing year
    tiers = segment_kpis(con, "member_tier", date(2024, 2, 1)).set_index("segment")
    assert set(tiers.index) == {"gold", "silver"}


def test_due_for_repurchase_by_hand(con):
    # on 2024-02-25: a's usual interval is 14.5 days (15, 14), last order 22 days ago: due;
    # b has a single order before that date
    due = due_for_repurchase(con, Filters(end=date(2024, 2, 25)))
    assert due["customer_id"].tolist() == ["a"]
    assert due.iloc[0]["days_overdue"] == 7.5
    # on the data's last day, a's 59 days exceed 3 x 14.5: lapsed, not due
    assert due_for_repurchase(con).empty


def test_rfm_scores_and_segments(con):
    customers = rfm_customers(con).set_index("customer_id")
    assert customers.loc["a", "frequency"] == 3 and customers.loc["a", "f_score"] == 3
    assert customers.loc["c", "recency_days"] == 48  # Feb 14 -> Apr 2
    segments = rfm_segments(con)
    assert segments["customers"].sum() == 3
    assert segments["revenue_share"].sum() == pytest.approx(1.0)


def test_empty_store_returns_empty_frames(tmp_path):
    con = Store(tmp_path / "empty").connect()
    assert kpi_table(con).empty
    assert cohort_matrix(con).empty
    assert repeat_funnel(con).empty
    assert due_for_repurchase(con).empty
    assert rfm_segments(con).empty
    assert latest_full_month(con) is None


def test_docs_show_the_same_definitions_as_the_app():
    from pathlib import Path

    from metrics.definitions import ALL
    from ui.i18n import metric_help

    docs = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text(encoding="utf-8")
    for key in ALL:
        assert metric_help(key, "en") in docs and metric_help(key, "zh") in docs, key


def test_summary_cli_prints_the_kpi_row(con, tmp_path_factory):
    import json
    import subprocess
    import sys
    from pathlib import Path

    root = tmp_path_factory.mktemp("cli")
    (root / "orders.csv").write_text(ORDERS)
    import_file(root / "orders.csv", Store(root / "store"))
    result = subprocess.run(
        [sys.executable, "-m", "metrics", "summary", "--store", str(root / "store"), "--month", "2024-02", "--json"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["month"] == "2024-02"
    assert report["kpis"]["customers"] == 2
    assert report["kpis"]["repurchase_rate"] == 0.5
    assert report["kpis"]["orders_mom"] == -0.5
    default = json.loads(subprocess.run(
        [sys.executable, "-m", "metrics", "summary", "--store", str(root / "store"), "--json"],
        cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True,
    ).stdout)
    assert default["month"] == "2024-03"  # the latest full month


def test_summary_cli_opens_on_the_only_month_of_an_export_that_covers_no_full_month(tmp_path):
    """A workbook from 1 to 9 December printed "No data for that month." (exit 2) for November, the
    latest full month, where the Overview shows December, marked partial."""
    import json
    import subprocess
    import sys
    from pathlib import Path

    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n"
                                         "A,c1,2009-12-01,10\nB,c1,2009-12-05,30\nC,c2,2009-12-09,20\n")
    import_file(tmp_path / "orders.csv", Store(tmp_path / "store"))
    command = [sys.executable, "-m", "metrics", "summary", "--store", str(tmp_path / "store")]
    ran = subprocess.run([*command, "--json"], cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    report = json.loads(ran.stdout)
    assert (report["month"], report["complete_month"], report["kpis"]["orders"]) == ("2009-12", False, 3)
    assert report["kpis"]["repurchase_rate"] == 0  # c1 bought twice, but first in this month: new, not returning
    text = subprocess.run(command, cwd=Path(__file__).resolve().parent.parent, capture_output=True, text=True).stdout
    assert text.startswith("KPIs for 2009-12 (store version 1; currency not stated; the data covers only part of this month)")
    # an export from 15 November to 9 December: November is the latest full month by its end, but starts inside it
    (tmp_path / "more.csv").write_text("order_id,customer_id,order_date,amount\nN1,c3,2009-11-15,5\n")
    import_file(tmp_path / "more.csv", Store(tmp_path / "store"))
    report = json.loads(subprocess.run([*command, "--json"], cwd=Path(__file__).resolve().parent.parent,
                                       capture_output=True, text=True).stdout)
    assert (report["month"], report["complete_month"]) == ("2009-11", False)

"""Issue 16's last details on screen: no "-0.00", no "None" in a file's preview, a strategy scorecard
that fits at 1440 px (the browser checks are in tests/test_browser.py)."""

import json
import re
from datetime import date

import pandas as pd
import pytest

from conftest import data_page_app, open_app
from store import STORE_ENV

MINUS_ZERO = re.compile(r"(?<![\d.])[-−]\s?[¥$£€]?0(\.0+)?(?![\d.])")  # -0, -0.00, −0.0, -¥0.00, as a whole number


def test_the_minus_zero_pattern_finds_what_it_should():
    found = [text for text in ("-0.00", "−0.0%", "-¥0.00", "(-0.00 to +0.03)", "-0 days") if MINUS_ZERO.search(text)]
    assert len(found) == 5, found
    assert not [text for text in ("0.00", "-0.01", "-10.00", "+0.03", "2024-01-05", "-0.05%") if MINUS_ZERO.search(text)]


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_value_that_rounds_to_zero_shows_without_a_sign(language):
    """Every signed formatter of the screens: a difference that rounds to zero reads 0.00 / 0.0 pt /
    ¥0.00 / 0.0%, never "-0.00" nor "+0.00"; real changes keep their sign."""
    from ui.formatting import format_change, format_decimal_text, format_difference, format_value
    from ui.launch_view import signed
    from ui.playbook_text import evidence_text
    from ui.tables import with_interval_column

    points = "个百分点" if language == "zh" else "pt"
    assert format_difference(-0.004, "ratio", language) == "0.00" == format_difference(0.004, "ratio", language)
    assert format_difference(-0.006, "ratio", language) == "-0.01" and format_difference(0.35, "ratio", language) == "+0.35"
    assert format_difference(-0.004, "money", language, "CNY") == "¥0.00" == format_difference(0.0, "money", language, "CNY")
    assert format_difference(4, "money", language, "CNY") == "+¥4.00" and format_difference(-4, "money", language, "CNY") == "-¥4.00"
    assert format_difference(-0.0004, "rate", language) == f"0.0 {points}"
    assert format_difference(0.021, "rate", language) == f"+2.1 {points}"
    assert format_value(-0.004, "money", language, "USD") == "$0.00" and format_value(-0.004, "ratio", language) == "0.00"
    assert format_value(-4.2, "money", language, "USD") == "-$4.20"
    assert format_decimal_text(-0.04, language, 1) == "0.0" and format_change(-0.00001, "relative", language) == "0.0%"
    assert [signed(v, language) for v in (-0.004, 0.0, 0.004, -0.005001, 0.25)] == ["0.00", "0.00", "0.00", "-0.01", "+0.25"]
    interval = with_interval_column(pd.DataFrame({"ci_low": [-0.0004], "ci_high": [0.053]}), language)["ci"][0]
    assert interval == ("0.0% 至 +5.3%" if language == "zh" else "0.0% to +5.3%")
    launch = {"source": "launch", "launched_at": "2024-11-01", "estimate": -0.001, "ci_low": -0.0302, "ci_high": 0.004,
              "p_value": 0.9, "verdict": "no_effect", "trend_doubtful": False}
    sentence = evidence_text(launch, language)
    assert not MINUS_ZERO.search(sentence) and "0.00" in sentence and "-0.03" in sentence, sentence


def launch_result(did: float, naive: float) -> dict:
    """A launch evaluation's numbers as metrics.launch returns them, with the DiD and naive change given."""
    from metrics.launch import OUTCOMES

    def estimate(value):
        return {"estimate": value, "ci_low": value - 0.03, "ci_high": value + 0.03, "p_value": 0.9}

    return {"metrics": {name: {"naive": estimate(naive), "did": estimate(did)} for name in OUTCOMES},
            "did": estimate(did)}


@pytest.mark.parametrize("language", ["en", "zh"])
def test_the_launch_tables_and_verdict_show_no_minus_zero(language):
    from ui.launch_view import measures, verdict

    shown, numbers = measures(launch_result(-0.0004, 0.11), language, "CNY")
    cells = [str(v) for v in shown.drop(columns=["measure", "p_value"]).to_numpy().ravel()]
    assert not [c for c in cells if MINUS_ZERO.search(c)], cells
    assert shown["did"].tolist()[0] == "0.00" and numbers["did"].tolist()[0] == -0.0004  # the download keeps the number
    assert shown["did"].tolist()[2] == "¥0.00"  # revenue per customer, in money
    sentence = verdict(launch_result(-0.0004, 0.11), language)
    assert not MINUS_ZERO.search(sentence) and "0.00" in sentence and "-0.03" in sentence, sentence


def page_texts(app) -> list[str]:
    """Every text on the page a person reads: metrics, Markdown, captions, alerts, table cells."""
    texts = [m.value for m in app.metric] + [m.label for m in app.metric]
    texts += [e.value for kind in ("markdown", "caption", "success", "info", "warning", "error") for e in app.get(kind)]
    texts += [str(v) for frame in app.dataframe for v in frame.value.to_numpy().ravel()]
    return texts


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_the_demo_launch_page_shows_no_minus_zero(monkeypatch, demo_store, lang):
    """Region Northwest from 2024-06-01 over 60 days: a DiD of -0.0017 orders per customer, which read
    "-0.00" on the tile; now 0.00, and no other number on the page reads as a negative zero."""
    from metrics.launch import evaluate_launch

    con = demo_store.connect()
    did = evaluate_launch(con, date(2024, 6, 1), "region", ["Northwest"], 60, False)["did"]["estimate"]
    con.close()
    assert -0.005 < did < 0  # the case this test is about
    app = open_app(monkeypatch, demo_store.root, "pages/launch.py", lang=lang, launch_at="2024-06-01",
                   launch_column="region", launch_values="Northwest", launch_window="60")
    assert app.metric[1].value == "0.00"  # naive change, then the DiD
    found = [text for text in page_texts(app) if MINUS_ZERO.search(text)]
    assert not found, found
    assert app.dataframe  # the measures table was there to be read


GAPPY_ORDERS = (
    "Order ID,Customer ID,Order Date,Amount,Status,Channel,Note\n"
    "A1,c1,2024-05-01,10.00,paid,,\n"
    "A2,,2024-05-02,12.50,paid,web,gift\n"
    "A3,c2,2024-05-03,,paid,app,\n"
).encode()


@pytest.mark.parametrize("lang", ["English", "中文"])
def test_the_upload_preview_shows_missing_cells_empty(tmp_path, monkeypatch, lang):
    """The preview of an export with empty cells showed Streamlit's English "None" in them, in 中文 too."""
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    app = data_page_app()
    app.session_state["lang"] = lang
    app.run()
    app.get("file_uploader")[0].set_value(("gappy.csv", GAPPY_ORDERS, "text/csv"))
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    preview = next(frame.value for frame in app.dataframe if "Note" in frame.value.columns)
    assert not preview.isna().any().any(), preview
    # the empty cells of the file, counted by hand: channel of A1, customer of A2, amount of A3, two notes
    assert int((preview == "").sum().sum()) == 5, preview
    assert preview["Note"].tolist() == ["", "gift", ""]


def test_the_strategy_scorecard_shows_what_fits_and_downloads_the_rest(monkeypatch, demo_store):
    """At 1440 px the scorecard scrolled sideways, and at 1400 px its last header was cut: on screen now the
    answer (lift, interval, Holm p, chance to win) and the customers per arm in one column, the variant only
    where an experiment has more than one (the demo's have one each); the unadjusted p, strategy, design and
    status stay in the download. With CUPED on, the adjusted lift is a table of its own beneath the results
    (which once grew three CUPED columns and scrolled sideways)."""
    from metrics.experiments import experiment_report, strategy_overview

    app = open_app(monkeypatch, demo_store.root, "pages/strategy.py", cuped="true")
    tables = [frame.value for frame in app.dataframe]
    scorecard = next(frame for frame in tables if "p_holm" in frame.columns and "experiment" in frame.columns)
    assert list(scorecard.columns) == ["experiment", "metric", "rel_lift", "ci", "p_holm", "chance_to_win", "arm_sizes"]
    con = demo_store.connect()
    expected = strategy_overview(con, 60)["scorecard"].query("status == 'ok'")
    assert expected.groupby("experiment")["variant"].nunique().max() == 1  # the case this test is about
    report = experiment_report(con, app.selectbox(key="experiment").value, 60, cuped_days=90)
    con.close()
    assert scorecard["arm_sizes"].tolist() == [f"{int(c):,} / {int(v):,}"
                                               for c, v in zip(expected["n_control"], expected["n_variant"])]
    results = next(frame for frame in tables if "abs_lift" in frame.columns)
    assert list(results.columns) == ["metric", "control_mean", "variant_mean", "abs_lift", "rel_lift", "ci", "p_holm",
                                     "chance_to_win", "arm_sizes"]
    # a chance to win is a probability, never a certainty: the demo's planted effect reads "> 99.9%", not 100.0%
    chances = expected["chance_to_win"].tolist()
    assert max(chances) > 0.999 and any(0.001 <= c <= 0.999 for c in chances)
    assert scorecard["chance_to_win"].tolist() == [
        "> 99.9%" if c > 0.999 else "< 0.1%" if c < 0.001 else f"{100 * c:.1f}%" for c in chances]
    cuped = next(frame for frame in tables if "cuped_variance_reduction" in frame.columns)
    assert list(cuped.columns) == ["metric", "rel_lift", "ci", "p_holm", "cuped_variance_reduction"]
    adjusted = [r for r in report["results"] if r["cuped"]]  # AOV, a ratio, has no adjustment
    assert len(cuped) == len(adjusted) == len(report["results"]) - 1
    # on screen in percent ("43.0%", one decimal each), the report's fractions times 100
    assert cuped["rel_lift"].tolist() == pytest.approx([100 * r["cuped"]["rel_lift"] for r in adjusted])
    assert cuped["cuped_variance_reduction"].tolist() == pytest.approx(
        [100 * r["cuped"]["variance_reduction"] for r in adjusted])


def test_the_sentences_table_shows_values_from_the_data_as_text():
    """The Playbook's sentences name experiments and variants from uploads, and st.table renders
    Markdown: a name written as a link or bold shows as the characters it is made of."""
    from streamlit.testing.v1 import AppTest

    from hostile import as_read

    def script():
        import pandas as pd

        from ui.tables import show_sentences

        show_sentences(pd.DataFrame({"shop": ["Test [x](https://evil.example/) **b** (treatment): +2.0 pt", None]}),
                       "sentences", "sentences_table", "en", labels={"shop": "This shop's *data*"})

    app = AppTest.from_function(script).run()
    assert not app.exception
    table = app.table[0].value
    assert [as_read(c) for c in table.columns] == ["This shop's *data*"]
    cells = table.iloc[:, 0].tolist()
    assert [as_read(c) for c in cells] == ["Test [x](https://evil.example/) **b** (treatment): +2.0 pt", ""]
    assert "[x](" not in cells[0] and "**b**" not in cells[0]  # neither a link nor bold
    assert {b.key for b in app.get("download_button")} == {"sentences_table_csv", "sentences_table_xlsx"}


def test_missing_numbers_and_dates_in_tables_read_as_a_dash():
    """The Customer value page's "expected next order" showed Streamlit's English "None" for customers
    the model expects no order from, in 中文 too: missing numbers and dates now read "–", the others
    keep their format (the download keeps the empty cells)."""
    from streamlit.testing.v1 import AppTest

    def script():
        import pandas as pd

        from ui.tables import show_table

        show_table(pd.DataFrame({"customer_id": ["c1", "c2"],
                                 "expected_next_order": [pd.Timestamp("2026-04-05"), pd.NaT],
                                 "p_alive": [0.1076, None], "total_clv": [21343.0, None], "orders": [56, 112]}),
                   "t", "t_table", "zh", "CNY")

    app = AppTest.from_function(script).run()
    assert not app.exception
    shown = app.dataframe[0].value
    assert shown["expected_next_order"].tolist() == ["2026-04-05", "–"]
    assert shown["p_alive"].tolist() == ["10.8%", "–"] and shown["total_clv"].tolist() == ["¥21,343.00", "–"]
    assert shown["orders"].tolist() == [56, 112]  # a column without a gap stays a number
    config = json.loads(app.dataframe[0].proto.columns)
    assert config["p_alive"]["alignment"] == "right" and config["p_alive"]["label"] == "存活概率"


def test_a_list_longer_than_a_worksheet_downloads_as_csv_only():
    """At 100M orders the due list held 2.6M customers; Excel would refuse the file, so its button says why."""
    from streamlit.testing.v1 import AppTest

    def script():
        import pandas as pd

        from ui.downloads import EXCEL_MAX_ROWS, download_buttons

        download_buttons(lambda: pd.DataFrame({"a": [1]}), "long", "long", "zh", row_count=EXCEL_MAX_ROWS + 1)
        download_buttons(lambda: pd.DataFrame({"a": [1]}), "full", "full", "en", row_count=EXCEL_MAX_ROWS)

    app = AppTest.from_function(script).run()
    assert not app.exception
    buttons = {b.key: b.proto for b in app.get("download_button")}
    assert buttons["long_xlsx"].disabled and buttons["long_xlsx"].help == "Excel 最多容纳 1,048,575 行：请下载 CSV。"
    assert not buttons["long_csv"].disabled
    assert not buttons["full_xlsx"].disabled and not buttons["full_xlsx"].help


def test_a_count_of_one_customer_reads_singular_in_the_playbook_sentences():
    from ui.playbook_text import evidence_text

    item = {"source": "shop", "measure": "community_frequency_multiple", "value": 2.5, "customers": 1}
    assert "(1 customer; association" in evidence_text(item, "en")
    assert "(1,204 customers; association" in evidence_text({**item, "customers": 1204}, "en")
    assert "（1 位客户；" in evidence_text(item, "zh")


def test_money_in_a_currency_without_a_symbol_format_keeps_two_decimals_and_names_its_code():
    """A café's hryvnia: 7,050.20 under "Revenue (UAH)", not a bare 7,050.2; dollars keep their sign."""
    from ui.tables import column_config

    hryvnia = column_config(["revenue"], "en", "UAH")["revenue"]
    assert hryvnia["label"] == "Revenue (UAH)" and hryvnia["type_config"]["format"] == "accounting"
    dollars = column_config(["revenue"], "zh", "USD")["revenue"]
    assert dollars["label"] == "销售额" and dollars["type_config"]["format"] == "dollar"

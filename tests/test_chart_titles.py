"""Chart titles too long for one line are broken in two where a reader would break them (Plotly does not wrap)."""

from ui.charts import _title_lines


def test_a_long_title_breaks_at_its_comma():
    assert _title_lines("Mean predicted value by Member tier, next 12 months, in every channel and region") == [
        "Mean predicted value by Member tier,", "next 12 months, in every channel and region"]


def test_a_bracket_inside_a_word_is_not_a_break():
    """The P(alive) heatmap's title read "P" on one line and "(alive) on 2011-12-09 by ..." on the next."""
    lines = _title_lines("P(alive) on 2011-12-09 by number of repeat orders and days since last order")
    assert lines == ["P(alive) on 2011-12-09 by number of", "repeat orders and days since last order"]


def test_a_chinese_title_breaks_after_its_colon():
    title = "2011-12-09 存活概率：按复购次数与距上次购买天数划分的每位客户存活概率与预期订单数量"
    assert _title_lines(title)[0] == "2011-12-09 存活概率："


def test_a_short_title_stays_whole():
    assert _title_lines("Repurchase rate by month") == ["Repurchase rate by month"]

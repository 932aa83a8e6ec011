"""Numbers written on charts stay readable: nothing drawn across them."""

from ui.charts import interval_ranges


def test_each_median_is_written_beside_its_quartile_whisker_not_under_it():
    """The days-between-orders bars carry a whisker from the lower to the upper quartile through the bar's
    middle; a median written inside the bar was crossed by it (the Customers page, "44" struck through)."""
    figure = interval_ranges(["1→2", "2→3"], [15, 14], [44, 39], [112, 96], "Days between", "Days")
    bars = figure.data[0]
    assert not bars.text  # no label at the bar's centre line
    labels = [(a.x, a.y, a.text) for a in figure.layout.annotations]
    assert labels == [("1→2", 44, "44"), ("2→3", 39, "39")]
    assert all(a.xanchor == "left" and a.xshift > 0 and a.yanchor == "bottom" for a in figure.layout.annotations)


def test_a_treemap_tile_too_small_for_words_shows_none_rather_than_unreadable_ones():
    """The RFM treemap wrote "Need attention 1,303 3%" in a tile a few pixels wide (session 27's new user)."""
    from ui.charts import treemap

    figure = treemap(["Loyal", "Need attention"], [9_501, 12], [0.33, 0.001], "RFM")
    assert figure.layout.uniformtext.mode == "hide" and figure.layout.uniformtext.minsize >= 10

"""The notice over a page drawn from the orders sample's estimate (ui.data.customer_views_now, cohort_matrix_now), and
the check that redraws a page with the exact figures once they are counted (also the Overview's annual frequency:
ui.data.kpi_table_now)."""

from collections.abc import Callable

import streamlit as st

from ui.data import EXACT_COUNT_CHECK_SECONDS
from ui.formatting import format_decimal_text, format_value
from ui.i18n import t


def show_estimate_notice(ctx, note: dict, exact_ready: Callable[[], bool]) -> None:
    """What the estimate rests on (metrics.estimates: the share sampled, the sampled customers, the 95% margin of its
    main share), then every EXACT_COUNT_CHECK_SECONDS whether `exact_ready()`: the whole page is then drawn again,
    with the exact figures."""
    st.info(_what_it_rests_on(ctx, note), icon=":material/hourglass_top:")
    redraw_when_exact(exact_ready)


def redraw_when_exact(exact_ready: Callable[[], bool]) -> None:
    """Every EXACT_COUNT_CHECK_SECONDS whether `exact_ready()`: the whole page is then drawn again."""
    @st.fragment(run_every=EXACT_COUNT_CHECK_SECONDS)
    def rerun_when_exact() -> None:
        if exact_ready():
            st.rerun()

    rerun_when_exact()


def _points(ctx, share: float) -> str:
    return t("unit_points", ctx.language, number=format_decimal_text(share * 100, ctx.language))


def _what_it_rests_on(ctx, note: dict) -> str:
    sampled = {"one_in": f"{note['one_in']:,}", "sampled": f"{note['sampled_customers']:,}"}
    if "repeat_share" in note:  # the Customers page (metrics.estimates.customer_views_note)
        return ctx.md("estimate_notice", **sampled, repeat=format_value(note["repeat_share"], "rate", ctx.language),
                      margin=_points(ctx, note["repeat_margin"]))
    return ctx.md("estimate_notice_cohorts", **sampled, fewest=f"{note['fewest_in_a_cohort']:,}",  # cohort_matrix_note
                  margin=_points(ctx, note["retention_margin"]))

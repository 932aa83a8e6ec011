"""The notice over a page drawn from the orders sample's estimate (ui.data.customer_views_now), and the check that
redraws the page with the exact figures once they are counted."""

from collections.abc import Callable

import streamlit as st

from ui.data import EXACT_COUNT_CHECK_SECONDS
from ui.formatting import format_decimal_text, format_value
from ui.i18n import t


def show_estimate_notice(ctx, note: dict, exact_ready: Callable[[], bool]) -> None:
    """What the estimate rests on (the share sampled, the sampled customers, the second-order share and its 95%
    margin), then every EXACT_COUNT_CHECK_SECONDS whether `exact_ready()`: the whole page is then drawn again,
    with the exact figures."""
    margin = t("unit_points", ctx.language, number=format_decimal_text(note["repeat_margin"] * 100, ctx.language))
    st.info(ctx.md("estimate_notice", one_in=f"{note['one_in']:,}", sampled=f"{note['sampled_customers']:,}",
                   repeat=format_value(note["repeat_share"], "rate", ctx.language), margin=margin), icon=":material/hourglass_top:")

    @st.fragment(run_every=EXACT_COUNT_CHECK_SECONDS)
    def rerun_when_exact() -> None:
        if exact_ready():
            st.rerun()

    rerun_when_exact()

"""Repurchase KPI dashboard: entry point. Navigation, language, presentation mode, global filters."""

import streamlit as st

from ui import context, data
from ui.i18n import t

st.set_page_config(page_title="Repurchase KPIs · 复购指标", page_icon=":material/replay:", layout="wide")

context.draw_top_controls()
language = context.language()
store = data.current_store()
version = data.store_version(store)
facts = data.inventory(str(store.root), version)
if st.session_state.get("present"):
    context.apply_presentation_style()
if facts["orders"]:
    context.draw_sidebar_filters(store, version, facts)

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title=t("overview", language), icon=":material/monitoring:", default=True),
        st.Page("pages/cohorts.py", title=t("cohorts", language), icon=":material/grid_on:"),
        st.Page("pages/customers.py", title=t("customers", language), icon=":material/group:"),
        st.Page("pages/value.py", title=t("value", language), icon=":material/savings:"),
        st.Page("pages/strategy.py", title=t("strategy", language), icon=":material/science:"),
        st.Page("pages/data.py", title=t("data", language), icon=":material/upload_file:"),
    ],
    position="top",
)
navigation.run()

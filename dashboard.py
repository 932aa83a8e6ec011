"""Repurchase KPI dashboard: entry point. Navigation only; each page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Repurchase KPIs", page_icon=":material/replay:", layout="wide")

navigation = st.navigation(
    [
        st.Page("pages/overview.py", title="Overview", icon=":material/monitoring:", default=True),
    ]
)
navigation.run()

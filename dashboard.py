"""Repurchase KPI dashboard: entry point. Sign-in, navigation, language, presentation mode, global filters."""

from pathlib import Path

import streamlit as st

from store import StoreChanged
from ui import auth, context, data
from ui.i18n import t
from ui.uploads import sweep_once_per_process
from ui.users import User

FAVICON = Path(__file__).resolve().parent / "ui" / "favicon.png"

# a local image: an emoji or :material/…: icon makes every browser fetch the favicon from a CDN
st.set_page_config(page_title="Repurchase KPIs · 复购指标", page_icon=str(FAVICON), layout="wide")
sweep_once_per_process()  # upload files a killed process left behind


def page_list(user: User | None) -> list:
    """The pages this user may open (all of them for None: the sign-in screen keeps the link's page)."""
    pages = [
        st.Page("pages/overview.py", title=t("overview", language), icon=":material/monitoring:", default=True),
        st.Page("pages/cohorts.py", title=t("cohorts", language), icon=":material/grid_on:"),
        st.Page("pages/customers.py", title=t("customers", language), icon=":material/group:"),
        st.Page("pages/value.py", title=t("value", language), icon=":material/savings:"),
        st.Page("pages/strategy.py", title=t("strategy", language), icon=":material/science:"),
        st.Page("pages/launch.py", title=t("launch", language), icon=":material/rocket_launch:"),
        st.Page("pages/playbook.py", title=t("playbook", language), icon=":material/menu_book:"),
    ]
    if user is None or user.can("upload"):  # viewers never see the Data page listed (pages/data.py refuses them too)
        pages.append(st.Page("pages/data.py", title=t("data", language), icon=":material/upload_file:"))
    if user is None or (user.can("manage_users") and user.mode != "off"):
        pages.append(st.Page("pages/admin.py", title=t("admin", language), icon=":material/admin_panel_settings:"))
    return pages


context.draw_top_controls()
language = context.language()
# the sign-in screen, when access control is on and no one is signed in (nothing below runs then)
user = auth.current_user(language, before_sign_in=lambda: st.navigation(page_list(None), position="hidden"))
store = data.current_store()
version = data.store_version(store)
facts = data.inventory(str(store.root), version)
if st.session_state.get("present"):
    context.apply_presentation_style()
if facts["orders"]:
    context.draw_sidebar_filters(store, version, facts)
auth.draw_account(user, language)

navigation = st.navigation(page_list(user), position="top")
context.rerun_for_language_link()  # ?lang=zh: once more, with the URL naming the language as the switch does
try:
    navigation.run()
except StoreChanged:  # an upload replaced the version this page was reading, more than twice over
    st.warning(t("store_changed", language))

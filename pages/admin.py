"""Admin: users and their roles, saved column mappings, the activity log (admins only).

Listed by dashboard.py only when access control is on; opened by anyone else it refuses.
"""

import pandas as pd
import streamlit as st

from ui import auth
from ui.activity import draw_activity
from ui.config import secrets
from ui.context import page_context
from ui.presets import draw_presets
from ui.safe_text import markdown_text
from ui.users import MAX_PASSWORD, ROLES, UsersFile, checked_change, users_path

ctx = page_context()
user = auth.require("manage_users", ctx.language)
lang = ctx.language
st.title(ctx.t("admin"))
path = users_path(secrets())
users_file = UsersFile(path)
st.subheader(ctx.t("users"))
st.caption(ctx.t("users_file", path=markdown_text(path)))
if user.mode == "oidc":
    st.caption(ctx.t("oidc_users_help"))
users = users_file.load()
st.dataframe(
    pd.DataFrame([{"name": n, "role": e["role"], "password": bool(e.get("password_hash")),
                   "created_at": e.get("created_at"), "created_by": e.get("created_by")} for n, e in users.items()]),
    hide_index=True, key="_users_table",
)

with st.form("_add_user", clear_on_submit=True):
    st.markdown(f"**{ctx.t('add_user')}** · {ctx.t('change_role')} · {ctx.t('reset_password')}")
    columns = st.columns(4 if user.mode == "password" else 2)
    name = columns[0].text_input(ctx.t("user_name"), max_chars=100)
    role = columns[1].selectbox(ctx.t("role"), ROLES, format_func=lambda r: auth.role_name(r, lang))
    password = again = None
    if user.mode == "password":
        password = columns[2].text_input(ctx.t("password"), type="password", max_chars=MAX_PASSWORD)
        again = columns[3].text_input(ctx.t("password_again"), type="password", max_chars=MAX_PASSWORD)
    if st.form_submit_button(ctx.t("save"), type="primary"):
        try:
            target = checked_change(user, name, role, password, again, users)
            saved = users_file.put(target, role, password or None, by=user.name)
            ctx.store.record_event("set_user", user=user.name, via="app", target=saved, role=role,
                                   password_changed=bool(password))
            st.success(ctx.t("user_added", name=markdown_text(saved), role=auth.role_name(role, lang)))
        except ValueError as problem:
            st.error(markdown_text(problem))

others = [n for n in users if n != user.name]
if others:
    left, right = st.columns([3, 1], vertical_alignment="bottom")
    target = left.selectbox(ctx.t("remove_user"), others, key="_remove_user_name")
    if right.button(ctx.t("remove_user"), key="_remove_user"):
        users_file.remove(target)
        ctx.store.record_event("remove_user", user=user.name, via="app", target=target)
        st.success(ctx.t("user_removed", name=markdown_text(target)))
        st.rerun()

draw_presets(ctx.store, user, lang)
draw_activity(ctx.store, lang)

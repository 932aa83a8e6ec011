"""Who is signed in to this session, and what they may open: sign-in screens, roles, refusals.

Access control is off until configured (see ui/users.py and docs/security.md): the local user
is then an admin. Pages call `require(permission)`; `dashboard.py` lists only the pages a role
may open. The users file, passwords and lock-outs live in `ui.users` (no Streamlit there).

    python -m ui.auth add-user NAME --role viewer|analyst|admin     # the users file's CLI
"""

import sys

import streamlit as st

from ui import users
from ui.config import secrets
from ui.i18n import t
from ui.safe_text import markdown_text
from ui.users import FAILURE_WINDOW, MAX_PASSWORD, ROLES, FailureLog, User, UsersFile

SESSION_KEY = "_auth_user"


def role_name(role: str, language: str) -> str:
    """A role in words ("分析师"); anything that is no role as it is."""
    return t(f"role_{role}", language) if role in ROLES else role


def auth_mode() -> str:
    """off, password or oidc, as this deployment is configured."""
    return users.auth_mode(secrets())


def current_user(language: str = "en", before_sign_in=None) -> User:
    """The signed-in user for this session; draws the sign-in screen and stops the run if there is none.

    `before_sign_in()` is called before the sign-in screen is drawn (the dashboard registers its
    pages there, hidden, so that a shared link's page and filters survive the sign-in).
    """
    configured = secrets()
    mode = users.auth_mode(configured)
    if mode == "off":
        user = User(users.local_user_name(), "admin", "off")
    elif mode == "oidc":
        user = _oidc_user(configured, language, before_sign_in)
    else:
        user = _password_user(configured, language, before_sign_in)
    st.session_state[SESSION_KEY] = user
    return user


def session_user() -> User | None:
    """The user `current_user` found in this session's latest run (None before sign-in)."""
    user = st.session_state.get(SESSION_KEY)
    return user if isinstance(user, User) else None


def _password_user(configured: dict, language: str, before_sign_in=None) -> User:
    known = UsersFile(users.users_path(configured)).load()
    signed_in = st.session_state.get("_auth_password")
    if signed_in:
        name, fingerprint = signed_in
        entry = known.get(name)
        # removed, or given a new password since: sign in again
        if entry and entry.get("password_hash", "")[-16:] == fingerprint:
            return User(name, entry["role"], "password")
        st.session_state.pop("_auth_password", None)
    if before_sign_in:
        before_sign_in()
    st.title(t("sign_in_title", language))
    st.caption(t("sign_in_help", language))
    with st.form("sign_in", enter_to_submit=True):
        name = st.text_input(t("user_name", language), key="_auth_name", max_chars=100, autocomplete="username")
        password = st.text_input(t("password", language), type="password", key="_auth_secret", max_chars=MAX_PASSWORD,
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("sign_in", language), type="primary")
    if submitted:
        found, wait, locked_now = users.check_login(known, name or "", password or "",
                                                    FailureLog(users.users_path(configured)))
        if found:
            st.session_state["_auth_password"] = (found, known[found]["password_hash"][-16:])
            st.session_state.pop(SESSION_KEY, None)
            st.rerun()
        tried = users.name_or_unknown(name or "")
        if wait:
            users.record_access_event("sign_in_refused_locked", tried)
            st.error(t("locked", language, minutes=max(1, round(wait / 60))))
        else:
            users.record_access_event("sign_in_failed", tried)
            if locked_now:
                users.record_access_event("locked_out", tried, minutes=round(FAILURE_WINDOW / 60))
            st.error(t("sign_in_failed", language))
    st.session_state.pop(SESSION_KEY, None)
    st.stop()


def _oidc_user(configured: dict, language: str, before_sign_in=None) -> User:
    access = configured.get("access") or {}
    if not st.user.is_logged_in:
        if before_sign_in:
            before_sign_in()
        st.title(t("sign_in_title", language))
        st.caption(t("oidc_help", language))
        if st.button(t("oidc_sign_in", language), type="primary", key="_auth_oidc"):
            provider = access.get("provider")
            st.login(provider) if provider else st.login()
        st.session_state.pop(SESSION_KEY, None)
        st.stop()
    identity = str(st.user.get("email") or st.user.get("sub") or "").strip().lower()
    role = users.oidc_role(identity, configured)
    if not role:
        st.error(t("no_access", language, name=markdown_text(identity or "?")))
        if st.button(t("sign_out", language), key="_auth_logout_denied"):
            st.logout()
        st.session_state.pop(SESSION_KEY, None)
        st.stop()
    return User(identity, role, "oidc")


def require(permission: str, language: str = "en") -> User:
    """The current user if they may `permission`; otherwise a refusal and the run stops."""
    user = current_user(language)
    if not user.can(permission):
        key = "refused_admin" if permission in ("manage_users", "manage_presets") else "refused_page"
        st.error(t(key, language, role=role_name(user.role, language)))
        st.stop()
    return user


def may_download_customer_lists() -> bool:
    user = session_user()
    return bool(user and user.can("customer_lists"))


def draw_account(user: User, language: str) -> None:
    """Who is signed in, and a sign-out button, at the bottom of the sidebar."""
    if user.mode == "off":
        return
    with st.sidebar:
        st.divider()
        st.markdown(t("signed_in_as", language, name=markdown_text(user.name), role=role_name(user.role, language)))
        if st.button(t("sign_out", language), key="_auth_logout"):
            if user.mode == "oidc":
                st.logout()
            else:
                st.session_state.pop("_auth_password", None)
                st.session_state.pop(SESSION_KEY, None)
                st.rerun()


if __name__ == "__main__":
    sys.exit(users.main())

"""Who may do what: roles, sign-in, the users file and its command line.

Roles: **viewer** (managers: read the pages), **analyst** (also upload and remove batches, and
download customer lists), **admin** (also manage users and saved presets).

Access control is off until configured, for one person on their own machine (`make run`): the
local user is then an admin. It is turned on by configuration (see docs/security.md):

- OIDC: an `[auth]` section in `.streamlit/secrets.toml` (Streamlit's own `st.login` format).
  Roles come from the users file (entries by e-mail address), then from `[access]` lists
  `admins`, `analysts`, `viewers`, then `[access] default_role` (default: no access).
- Built-in users: a users file (`$REPURCHASE_USERS`, `[access] users_file`, else
  `.streamlit/users.json`) with at least one user. Passwords are stored as Argon2id hashes
  (argon2-cffi), never in clear. Add users with
  `python -m ui.auth add-user NAME --role analyst` (the password is read from standard input
  or asked twice at the terminal), or on the Admin page.

Pages call `require(permission)`; `dashboard.py` lists only the pages a role may open.
"""

import argparse
import contextlib
import fcntl
import getpass
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import streamlit as st

from ui.safe_text import markdown_text

ROOT = Path(__file__).resolve().parent.parent
USERS_ENV = "REPURCHASE_USERS"
DEFAULT_USERS_FILE = ROOT / ".streamlit" / "users.json"
ROLES = ("viewer", "analyst", "admin")
PERMISSIONS = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "upload", "remove", "customer_lists", "save_preset"}),
    "admin": frozenset({"read", "upload", "remove", "customer_lists", "save_preset", "manage_users",
                        "manage_presets"}),
}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,99}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_FAILURES = 5  # failed sign-ins per name within FAILURE_WINDOW before that name is locked
FAILURE_WINDOW = 300.0  # seconds
SESSION_KEY = "_auth_user"

TEXT: dict[str, tuple[str, str]] = {
    "sign_in_title": ("Sign in", "登录"),
    "sign_in_help": ("This dashboard holds customer data. Sign in with the name and password your admin gave you.",
                     "本看板包含客户数据。请使用管理员提供的用户名和密码登录。"),
    "user_name": ("Name", "用户名"),
    "password": ("Password", "密码"),
    "sign_in": ("Sign in", "登录"),
    "sign_in_failed": ("Wrong name or password.", "用户名或密码错误。"),
    "locked": ("Too many failed attempts for this name; try again in {minutes} minutes.",
               "该用户名登录失败次数过多，请 {minutes} 分钟后再试。"),
    "oidc_help": ("This dashboard holds customer data. Sign in with your company account.",
                  "本看板包含客户数据。请使用公司账号登录。"),
    "oidc_sign_in": ("Sign in with your company account", "使用公司账号登录"),
    "no_access": ("{name} has no access to this dashboard. Ask an admin to give you a role.",
                  "{name} 没有访问本看板的权限，请联系管理员分配角色。"),
    "sign_out": ("Sign out", "退出登录"),
    "signed_in_as": ("Signed in as **{name}** ({role})", "当前用户 **{name}**（{role}）"),
    "role_viewer": ("viewer", "查看者"),
    "role_analyst": ("analyst", "分析师"),
    "role_admin": ("admin", "管理员"),
    "refused_page": ("This page is for analysts and admins. Your role ({role}) can read the other pages.",
                     "此页面仅限分析师和管理员。您的角色（{role}）可以查看其他页面。"),
    "refused_admin": ("This page is for admins.", "此页面仅限管理员。"),
    "customer_list_note": ("Downloads of customer lists are for analysts.", "客户名单仅限分析师下载。"),
    # admin page
    "admin": ("Admin", "管理"),
    "users": ("Users", "用户"),
    "users_file": ("Users file: `{path}`", "用户文件：`{path}`"),
    "add_user": ("Add a user", "添加用户"),
    "role": ("Role", "角色"),
    "password_again": ("Password again", "再次输入密码"),
    "save": ("Save", "保存"),
    "user_added": ("Saved {name} ({role}).", "已保存 {name}（{role}）。"),
    "remove_user": ("Remove user", "删除用户"),
    "user_removed": ("Removed {name}.", "已删除 {name}。"),
    "change_role": ("Change role", "修改角色"),
    "reset_password": ("Set a new password", "重设密码"),
    "oidc_users_help": ("Signed in through your identity provider: give e-mail addresses a role here.",
                        "通过身份提供商登录：在此为邮箱地址分配角色。"),
    "presets": ("Saved column mappings", "已保存的列映射"),
    "no_presets": ("No saved mappings yet.", "暂无已保存的映射。"),
    "delete": ("Delete", "删除"),
    "preset_deleted": ("Deleted mapping {name}.", "已删除映射 {name}。"),
    "preset_exists": ("A mapping named {name} exists; only an admin can replace it. Choose another name.",
                      "已存在名为 {name} 的映射，只有管理员可以替换。请换一个名称。"),
    "preset_reserved": ("{name} is the name of a built-in mapping, which cannot be replaced. Choose another name.",
                        "{name} 是内置映射的名称，不能被替换。请换一个名称。"),
    "activity": ("Activity log", "操作日志"),
    "no_activity": ("No changes yet.", "暂无变更。"),
    "pseudonymised": ("Customer ids, and e-mail addresses and phone numbers in any mapped column, are pseudonymised at "
                      "import (keyed hash); raw e-mails and phone numbers are not stored.",
                      "导入时客户 ID 以及任何已映射列中的邮箱和电话号码均做假名化处理（带密钥哈希），不会保存原始邮箱或手机号。"),
    "auth_off": ("Access control is off: anyone who can open this address is an admin. See docs/security.md to turn it on.",
                 "访问控制未开启：能打开此地址的任何人都是管理员。开启方法见 docs/security.md。"),
}


def t(key: str, language: str = "en", **values) -> str:
    en, zh = TEXT[key]
    return (zh if language == "zh" else en).format(**values)


def role_name(role: str, language: str) -> str:
    return t(f"role_{role}", language) if role in ROLES else role


@dataclass(frozen=True)
class User:
    name: str
    role: str  # viewer / analyst / admin, or "" for a signed-in identity without access
    mode: str  # off / password / oidc

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


# ---- users file (no Streamlit needed) -------------------------------------------------------


def _hasher():
    from argon2 import PasswordHasher

    return PasswordHasher()  # Argon2id, the library's (RFC 9106) defaults


def hash_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (a dummy hash is checked for unknown names)."""
    from argon2.exceptions import InvalidHashError, VerificationError

    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password[:MAX_PASSWORD]) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash("not a real password, never matches"))
    return _DUMMY[0]


def normalise_name(name: str) -> str:
    name = name.strip().lower()
    if not NAME_PATTERN.match(name):
        raise ValueError("a name is 1-100 letters, digits or . _ @ + - (an e-mail address works)")
    return name


class UsersFile:
    """The users file: {"users": {name: {"role", "password_hash"?, "created_at", "created_by"}}}.

    Written atomically (temporary file, fsync, rename) under a lock, readable by its owner only.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        users = data.get("users", {}) if isinstance(data, dict) else {}
        return {name: entry for name, entry in users.items() if isinstance(entry, dict) and entry.get("role") in ROLES}

    @contextlib.contextmanager
    def _locked(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def _save(self, users: dict[str, dict]) -> None:
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"format": 1, "users": users}, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def put(self, name: str, role: str, password: str | None = None, by: str = "", keep_password: bool = True) -> str:
        """Add or update a user; return the normalised name."""
        name = normalise_name(name)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        new_hash = hash_password(password) if password is not None else None
        with self._locked():
            users = self.load()
            entry = dict(users.get(name) or {"created_at": _now(), "created_by": by})
            entry["role"] = role
            if new_hash:
                entry["password_hash"] = new_hash
            elif not keep_password:
                entry.pop("password_hash", None)
            entry["updated_at"] = _now()
            users[name] = entry
            self._save(users)
        return name

    def remove(self, name: str) -> bool:
        with self._locked():
            users = self.load()
            if users.pop(normalise_name(name), None) is None:
                return False
            self._save(users)
        return True


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


# ---- configuration -------------------------------------------------------------------------


def _secrets() -> dict:
    """secrets.toml as a dict ({} when there is none)."""
    try:
        return st.secrets.to_dict()
    except Exception:  # no secrets file: Streamlit raises its own not-found error
        return {}


def users_path(secrets: dict | None = None) -> Path:
    secrets = _secrets() if secrets is None else secrets
    configured = os.environ.get(USERS_ENV) or (secrets.get("access") or {}).get("users_file")
    return Path(configured) if configured else DEFAULT_USERS_FILE


def auth_mode(secrets: dict | None = None) -> str:
    """off, password or oidc, from the configuration."""
    secrets = _secrets() if secrets is None else secrets
    if secrets.get("auth"):
        return "oidc"
    if any(entry.get("password_hash") for entry in UsersFile(users_path(secrets)).load().values()):
        return "password"
    return "off"


def pseudonym_key() -> str | None:
    """The key for pseudonymising customer ids: secrets [privacy] pseudonym_key, else the environment."""
    from ingest.privacy import key_from_env

    return (_secrets().get("privacy") or {}).get("pseudonym_key") or key_from_env()


def local_user_name() -> str:
    from store import default_user

    return default_user()


# ---- sign-in throttling --------------------------------------------------------------------
# Failed attempts are kept beside the users file (`users.json.failures`, same lock, mode 600), so a
# restart does not clear a lock-out; without a file (tests of the logic alone) they stay in memory.

_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()


class FailureLog:
    """Times of recent failed sign-ins per name, in a small JSON file written like the users file."""

    def __init__(self, users_file: Path | str | None):
        self.users = UsersFile(users_file) if users_file else None

    @property
    def path(self) -> Path | None:
        return self.users.path.with_name(self.users.path.name + ".failures") if self.users else None

    @contextlib.contextmanager
    def _edit(self):
        """The failures (pruned to the window) to read and change; saved afterwards."""
        if self.users is None:
            with _failures_lock:
                yield _failures
            return
        with self.users._locked():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                data = {}
            now = time.time()
            failures = {name: [at for at in times if isinstance(at, (int, float)) and now - at < FAILURE_WINDOW]
                        for name, times in (data if isinstance(data, dict) else {}).items() if isinstance(times, list)}
            failures = {name: times for name, times in failures.items() if times}
            before = json.dumps(failures, sort_keys=True)
            yield failures
            if json.dumps(failures, sort_keys=True) != before or data != failures:
                _write_private_json(self.path, failures)

    def wait(self, name: str) -> float:
        """Seconds until `name` may try again (0 = now)."""
        with self._edit() as failures:
            recent = [at for at in failures.get(name, []) if time.time() - at < FAILURE_WINDOW]
            if len(recent) >= MAX_FAILURES:
                return FAILURE_WINDOW - (time.time() - recent[-MAX_FAILURES])
        return 0.0

    def record(self, name: str) -> bool:
        """Count a failed attempt; True if it locks the name."""
        with self._edit() as failures:
            failures.setdefault(name, []).append(time.time())
            return len(failures[name]) >= MAX_FAILURES

    def clear(self, name: str) -> None:
        with self._edit() as failures:
            failures.pop(name, None)


def _write_private_json(path: Path, data) -> None:
    """Write atomically (temporary file, fsync, rename), readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def check_password_login(users: dict[str, dict], name: str, password: str,
                         users_file: Path | str | None = None) -> tuple[str | None, float]:
    """(normalised name if the password is right, seconds locked). Failed attempts are counted,
    in `users_file`'s failures file when given (a lock-out then survives a restart)."""
    found, wait, _ = _check_login(users, name, password, FailureLog(users_file))
    return found, wait


def _check_login(users: dict[str, dict], name: str, password: str, log: FailureLog) -> tuple[str | None, float, bool]:
    """(name if right, seconds locked, whether this failure locked the name)."""
    try:
        name = normalise_name(name)
    except ValueError:
        name = "?"
    wait = log.wait(name)
    if wait:
        return None, wait, False
    entry = users.get(name) or {}
    if verify_password(entry.get("password_hash"), password):
        log.clear(name)
        return name, 0.0, False
    return None, 0.0, log.record(name)


def record_access_event(action: str, user: str | None, **details) -> None:
    """A failed sign-in, lock-out or customer-list download, in the store's activity log. Never
    stops the app: a log that cannot be written is reported on the server's log instead."""
    from store import Store, default_store_dir

    try:
        Store(default_store_dir()).record_access_event(action, user=user, via="app", **details)
    except OSError as error:
        print(f"activity log not written ({action}, {user}): {error}", file=sys.stderr)


# ---- Streamlit: the signed-in user ---------------------------------------------------------


def current_user(language: str = "en", before_sign_in=None) -> User:
    """The signed-in user for this session; draws the sign-in screen and stops the run if there is none.

    `before_sign_in()` is called before the sign-in screen is drawn (the dashboard registers its
    pages there, hidden, so that a shared link's page and filters survive the sign-in).
    """
    secrets = _secrets()
    mode = auth_mode(secrets)
    if mode == "off":
        user = User(local_user_name(), "admin", "off")
    elif mode == "oidc":
        user = _oidc_user(secrets, language, before_sign_in)
    else:
        user = _password_user(secrets, language, before_sign_in)
    st.session_state[SESSION_KEY] = user
    return user


def session_user() -> User | None:
    """The user `current_user` found in this session's latest run (None before sign-in)."""
    user = st.session_state.get(SESSION_KEY)
    return user if isinstance(user, User) else None


def _password_user(secrets: dict, language: str, before_sign_in=None) -> User:
    users = UsersFile(users_path(secrets)).load()
    signed_in = st.session_state.get("_auth_password")
    if signed_in:
        name, fingerprint = signed_in
        entry = users.get(name)
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
        found, wait, locked_now = _check_login(users, name or "", password or "", FailureLog(users_path(secrets)))
        if found:
            st.session_state["_auth_password"] = (found, users[found]["password_hash"][-16:])
            st.session_state.pop(SESSION_KEY, None)
            st.rerun()
        tried = _name_or_unknown(name or "")
        if wait:
            record_access_event("sign_in_refused_locked", tried)
            st.error(t("locked", language, minutes=max(1, round(wait / 60))))
        else:
            record_access_event("sign_in_failed", tried)
            if locked_now:
                record_access_event("locked_out", tried, minutes=round(FAILURE_WINDOW / 60))
            st.error(t("sign_in_failed", language))
    st.session_state.pop(SESSION_KEY, None)
    st.stop()


def _name_or_unknown(name: str) -> str:
    """The name as typed, normalised, for the log ("?" for text that is no user name at all)."""
    try:
        return normalise_name(name)
    except ValueError:
        return "?"


def _oidc_user(secrets: dict, language: str, before_sign_in=None) -> User:
    access = secrets.get("access") or {}
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
    role = oidc_role(identity, secrets)
    if not role:
        st.error(t("no_access", language, name=markdown_text(identity or "?")))
        if st.button(t("sign_out", language), key="_auth_logout_denied"):
            st.logout()
        st.session_state.pop(SESSION_KEY, None)
        st.stop()
    return User(identity, role, "oidc")


def oidc_role(identity: str, secrets: dict) -> str | None:
    """A signed-in identity's role: the users file, then [access] lists, then [access] default_role."""
    if not identity:
        return None
    entry = UsersFile(users_path(secrets)).load().get(identity)
    if entry:
        return entry["role"]
    access = secrets.get("access") or {}
    for role in ("admin", "analyst", "viewer"):
        if identity in {str(v).strip().lower() for v in access.get(f"{role}s", [])}:
            return role
    default = access.get("default_role")
    return default if default in ROLES else None


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


# ---- admin page ----------------------------------------------------------------------------


def draw_presets(store, user: User, language: str) -> None:
    """Saved column mappings of the store, each deletable by an admin."""
    from ingest.mapping import saved_presets

    presets = saved_presets(store.root)
    st.subheader(t("presets", language))
    if not presets:
        st.caption(t("no_presets", language))
        return
    for name, preset in sorted(presets.items()):
        left, right = st.columns([8, 1], vertical_alignment="center")
        left.markdown(f"**{markdown_text(name)}** · {markdown_text(preset.label or '')}")
        if user.can("manage_presets") and right.button(t("delete", language), key=f"_delete_preset_{name}"):
            (store.root / "presets" / f"{name}.json").unlink(missing_ok=True)
            store.record_event("delete_preset", user=user.name, via="app", preset=name)
            st.toast(t("preset_deleted", language, name=markdown_text(name)))
            st.rerun()


def draw_activity(store, language: str, limit: int = 200) -> None:
    """The latest entries of the store's audit log, newest first."""
    import pandas as pd

    from ui.tables import show_table

    entries = store.audit_log(limit)
    st.subheader(t("activity", language))
    if not entries:
        st.caption(t("no_activity", language))
        return
    columns = ["at", "user", "via", "action", "file", "kind", "rows_read", "rows_accepted", "rows_rejected",
               "rows_removed", "batch_id", "preset", "target", "role", "table", "format", "rows", "sha256"]
    frame = pd.DataFrame(list(reversed(entries)))
    frame = frame[[c for c in columns if c in frame.columns]]
    if "file" in frame.columns:  # entries written before names were cleaned on the way in
        from store import clean_file_name

        frame["file"] = frame["file"].map(lambda name: clean_file_name(name) if isinstance(name, str) else name)
    show_table(frame, "activity_log", "activity_table", language, "", height=300)


def admin_page() -> None:
    """Users, saved presets and the activity log (st.Page callable, admins only)."""
    from ui.context import page_context

    ctx = page_context()
    user = require("manage_users", ctx.language)
    lang = ctx.language
    st.title(t("admin", lang))
    secrets = _secrets()
    path = users_path(secrets)
    users_file = UsersFile(path)
    st.subheader(t("users", lang))
    st.caption(t("users_file", lang, path=markdown_text(path)))
    if user.mode == "oidc":
        st.caption(t("oidc_users_help", lang))
    users = users_file.load()
    import pandas as pd

    st.dataframe(
        pd.DataFrame([{"name": n, "role": e["role"], "password": bool(e.get("password_hash")),
                       "created_at": e.get("created_at"), "created_by": e.get("created_by")} for n, e in users.items()]),
        hide_index=True, key="_users_table",
    )
    with st.form("_add_user", clear_on_submit=True):
        st.markdown(f"**{t('add_user', lang)}** · {t('change_role', lang)} · {t('reset_password', lang)}")
        columns = st.columns(4 if user.mode == "password" else 2)
        name = columns[0].text_input(t("user_name", lang), max_chars=100)
        role = columns[1].selectbox(t("role", lang), ROLES, format_func=lambda r: role_name(r, lang))
        password = again = None
        if user.mode == "password":
            password = columns[2].text_input(t("password", lang), type="password", max_chars=MAX_PASSWORD)
            again = columns[3].text_input(t("password_again", lang), type="password", max_chars=MAX_PASSWORD)
        if st.form_submit_button(t("save", lang), type="primary"):
            try:
                target = normalise_name(name or "")
                if target == user.name and role != "admin":
                    raise ValueError("you cannot take the admin role from yourself")
                if password != again:
                    raise ValueError("the two passwords differ")
                if user.mode == "password" and not password and not users.get(target, {}).get("password_hash"):
                    raise ValueError("a new user needs a password")
                saved = users_file.put(target, role, password or None, by=user.name)
                ctx.store.record_event("set_user", user=user.name, via="app", target=saved, role=role,
                                       password_changed=bool(password))
                st.success(t("user_added", lang, name=markdown_text(saved), role=role_name(role, lang)))
            except ValueError as problem:
                st.error(markdown_text(problem))
    others = [n for n in users if n != user.name]
    if others:
        left, right = st.columns([3, 1], vertical_alignment="bottom")
        target = left.selectbox(t("remove_user", lang), others, key="_remove_user_name")
        if right.button(t("remove_user", lang), key="_remove_user"):
            users_file.remove(target)
            ctx.store.record_event("remove_user", user=user.name, via="app", target=target)
            st.success(t("user_removed", lang, name=markdown_text(target)))
            st.rerun()
    draw_presets(ctx.store, user, lang)
    draw_activity(ctx.store, lang)


# ---- command line --------------------------------------------------------------------------


def _read_password(prompt_twice: bool = True) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if prompt_twice and getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ui.auth", description="Manage the dashboard's users file.")
    parser.add_argument("--file", type=Path, help=f"users file (default: ${USERS_ENV} or .streamlit/users.json)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="add a user, or change a user's role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument("--no-password", action="store_true", help="an OIDC identity (e-mail) with a role, no password")
    remove = commands.add_parser("remove-user", help="remove a user")
    remove.add_argument("name")
    commands.add_parser("list", help="list users and roles")
    args = parser.parse_args(argv)
    path = args.file or Path(os.environ.get(USERS_ENV) or DEFAULT_USERS_FILE)
    users_file = UsersFile(path)
    try:
        if args.command == "add-user":
            password = None if args.no_password else _read_password()
            name = users_file.put(args.name, args.role, password, by=local_user_name(), keep_password=not args.no_password)
            print(f"Saved {name} ({args.role}) in {path}.")
        elif args.command == "remove-user":
            if not users_file.remove(args.name):
                print(f"No user {args.name!r} in {path}.", file=sys.stderr)
                return 2
            print(f"Removed {args.name} from {path}.")
        else:
            for name, entry in sorted(users_file.load().items()):
                print(f"{name:40} {entry['role']:8} {'password' if entry.get('password_hash') else 'no password'}")
    except ValueError as problem:
        print(f"Not saved: {problem}.", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

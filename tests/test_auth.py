"""Access control: roles, sign-in, hashed passwords, the users CLI, the audit log, customer-list downloads.

A viewer (manager) reads pages; an analyst also uploads, removes and downloads customer lists;
an admin also manages users and presets. Tested through the real app (AppTest and Chromium).
"""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import fixture
from hostile import as_read
from store import STORE_ENV, Store
from browser_support import browser  # noqa: F401  (the Chromium fixture)
from ui import users as accounts
from ui.users import USERS_ENV, UsersFile

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
# the Admin page alone under st.navigation, at its own address (AppTest loses a click after the
# dashboard's switch out of Streamlit's pages/-folder mode; see only_page)
ADMIN_APP = f"import streamlit as st\nst.navigation([st.Page({str(ROOT / 'pages' / 'admin.py')!r})]).run()\n"
PASSWORDS = {"vera": "viewer-pass-123", "ann": "analyst-pass-123", "adam": "admin-pass-1234"}
ROLES = {"vera": "viewer", "ann": "analyst", "adam": "admin"}
OIDC = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "c" * 40, "client_id": "dashboard",
        "client_secret": "s" * 20, "server_metadata_url": "https://idp.example.com/.well-known/openid-configuration"}


@pytest.fixture(scope="module")
def users_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "users.json"
    users = UsersFile(path)
    for name, password in PASSWORDS.items():
        users.put(name, ROLES[name], password, by="test")
    return path


@pytest.fixture
def signed_in(monkeypatch, users_file):
    """open(name, store_root) -> an AppTest of the dashboard after signing in as `name`."""
    monkeypatch.setenv(USERS_ENV, str(users_file))
    accounts._failures.clear()
    accounts.FailureLog(users_file).path.unlink(missing_ok=True)  # lock-outs are kept beside the users file

    def open_as(name: str | None, store_root: Path, password: str | None = None) -> AppTest:
        monkeypatch.setenv(STORE_ENV, str(store_root))
        app = AppTest.from_file(APP, default_timeout=90)
        app.run()
        if name:
            sign_in(app, name, password or PASSWORDS[name])
        assert not app.exception, [e.value for e in app.exception]
        return app

    return open_as


def sign_in(app: AppTest, name: str, password: str) -> None:
    # AppTest starts every run in Streamlit's pages/-folder mode, which would run the page file of
    # the previous run directly (the sign-in screen registers the pages to keep a link's page),
    # and that first pass would swallow the click: start from the entry point, as a browser does.
    app._finished_page_script_hash = ""
    app.text_input(key="_auth_name").input(name)
    app.text_input(key="_auth_secret").input(password)
    app.button[0].click().run()


def page_paths(app: AppTest) -> set[str]:
    """The pages st.navigation registered for this session: file names, or url paths of function pages."""
    return {Path(str(info["script_path"])).name if info.get("script_path") else str(info.get("url_pathname"))
            for info in app._registered_pages.values()}


def download_keys(app: AppTest) -> set[str]:
    return {element.key for element in app.get("download_button")}


# ---- passwords and the users file ----------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_only(users_file):
    text = users_file.read_text()
    for password in PASSWORDS.values():
        assert password not in text
    users = UsersFile(users_file).load()
    assert all(entry["password_hash"].startswith("$argon2id$") for entry in users.values())
    assert users["ann"]["password_hash"] != UsersFile(users_file).load()["vera"]["password_hash"]
    assert accounts.verify_password(users["ann"]["password_hash"], PASSWORDS["ann"])
    assert not accounts.verify_password(users["ann"]["password_hash"], PASSWORDS["vera"])
    assert not accounts.verify_password(None, "anything at all")
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600  # readable by the server's user only
    with pytest.raises(ValueError):
        accounts.hash_password("short")


def test_cli_adds_a_user_with_the_password_from_stdin(tmp_path):
    path = tmp_path / "users.json"
    result = subprocess.run([sys.executable, "-m", "ui.auth", "--file", str(path), "add-user", "Lin@Example.com",
                             "--role", "analyst"], input="a long enough password\n", capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode == 0, result.stderr
    entry = UsersFile(path).load()["lin@example.com"]
    assert entry["role"] == "analyst" and accounts.verify_password(entry["password_hash"], "a long enough password")
    assert "a long enough password" not in path.read_text()
    assert accounts.main(["--file", str(path), "add-user", "bad name!", "--role", "viewer", "--no-password"]) == 2
    assert accounts.main(["--file", str(path), "remove-user", "lin@example.com"]) == 0
    assert UsersFile(path).load() == {}


def test_the_admin_form_refuses_what_would_lock_people_out():
    admin = accounts.User("adam", "admin", "password")
    known = {"adam": {"role": "admin", "password_hash": "x"}, "vera": {"role": "viewer", "password_hash": "y"}}
    with pytest.raises(ValueError, match="admin role from yourself"):
        accounts.checked_change(admin, "Adam", "viewer", None, None, known)
    with pytest.raises(ValueError, match="two passwords differ"):
        accounts.checked_change(admin, "mei", "analyst", "mei-password-123", "mei-password-124", known)
    with pytest.raises(ValueError, match="new user needs a password"):
        accounts.checked_change(admin, "mei", "analyst", None, None, known)
    with pytest.raises(ValueError, match="a name is"):
        accounts.checked_change(admin, "bad name!", "viewer", None, None, known)
    assert accounts.checked_change(admin, " Vera ", "analyst", None, None, known) == "vera"  # a role change keeps the password
    oidc_admin = accounts.User("boss@example.com", "admin", "oidc")
    assert accounts.checked_change(oidc_admin, "New@Example.com", "viewer", None, None, {}) == "new@example.com"


def test_access_control_is_off_until_configured(tmp_path, monkeypatch):
    monkeypatch.setenv(USERS_ENV, str(tmp_path / "none.json"))
    assert accounts.auth_mode({}) == "off"
    UsersFile(tmp_path / "none.json").put("someone@example.com", "viewer")  # an OIDC role alone: no passwords
    assert accounts.auth_mode({}) == "off"
    assert accounts.auth_mode({"auth": OIDC}) == "oidc"
    UsersFile(tmp_path / "none.json").put("vera", "viewer", PASSWORDS["vera"])
    assert accounts.auth_mode({}) == "password"


# ---- signing in ----------------------------------------------------------------------------


def test_sign_in_screen_shows_no_data_and_refuses_wrong_passwords(signed_in, demo_store):
    app = signed_in(None, demo_store.root)
    assert [t.value for t in app.title] == ["Sign in"]
    assert not app.metric and not app.get("plotly_chart") and not app.sidebar.get("multiselect")
    sign_in(app, "ann", "not her password")
    assert app.error[0].value == "Wrong name or password."
    assert [t.value for t in app.title] == ["Sign in"]
    sign_in(app, "nobody", "whatever it is")
    assert app.error[0].value == "Wrong name or password."


def test_repeated_failures_lock_the_name_for_a_while(signed_in, demo_store):
    app = signed_in(None, demo_store.root)
    for _ in range(accounts.MAX_FAILURES):
        sign_in(app, "adam", "guessing-the-password")
    sign_in(app, "adam", PASSWORDS["adam"])  # even the right password waits now
    assert "Too many failed attempts" in app.error[0].value
    assert [t.value for t in app.title] == ["Sign in"]


def test_viewer_reads_pages_but_cannot_reach_data_page_or_customer_lists(signed_in, demo_store):
    app = signed_in("vera", demo_store.root)
    assert app.title[0].value == "Repurchase KPIs" and app.metric
    assert page_paths(app) == {"overview.py", "cohorts.py", "customers.py", "value.py", "strategy.py", "launch.py", "playbook.py"}
    assert "Signed in as **vera** (viewer)" in [m.value for m in app.sidebar.markdown]
    app.switch_page("pages/customers.py").run()
    assert not app.exception
    keys = download_keys(app)
    assert "members_table_csv" in keys  # aggregate tables still download
    assert not {"due_table_csv", "due_table_xlsx"} & keys  # the customer list does not
    assert "Downloads of customer lists are for analysts." in [c.value for c in app.caption]
    app.switch_page("pages/value.py").run()
    assert not app.exception
    assert not {"slipping_table_csv", "slipping_table_xlsx", "top_table_csv", "top_table_xlsx"} & download_keys(app)
    app.switch_page("pages/playbook.py").run()
    assert not app.exception
    assert "playbook_table_csv" in download_keys(app)  # the strategies table downloads, the customer lists do not
    assert not {key for key in download_keys(app) if key.startswith("list_")}


def test_admin_sees_the_admin_page_listed(signed_in, demo_store):
    app = signed_in("adam", demo_store.root)
    assert page_paths(app) == {"overview.py", "cohorts.py", "customers.py", "value.py", "strategy.py", "launch.py", "playbook.py", "data.py",
                               "admin.py"}


def test_analyst_sees_data_page_and_customer_list_downloads(signed_in, demo_store):
    app = signed_in("ann", demo_store.root)
    assert page_paths(app) == {"overview.py", "cohorts.py", "customers.py", "value.py", "strategy.py", "launch.py", "playbook.py", "data.py"}
    app.switch_page("pages/customers.py").run()
    assert {"due_table_csv", "due_table_xlsx"} <= download_keys(app)


def test_data_page_itself_refuses_a_viewer(monkeypatch, users_file, demo_store):
    """Even if some navigation listed it, pages/data.py checks the role before drawing anything."""
    monkeypatch.setenv(USERS_ENV, str(users_file))
    monkeypatch.setenv(STORE_ENV, str(demo_store.root))
    app = only_page(str(ROOT / "pages" / "data.py"))
    app.run()
    sign_in(app, "vera", PASSWORDS["vera"])
    assert [e.value for e in app.error] == ["This page is for analysts and admins. Your role (viewer) can read the other pages."]
    assert not app.get("file_uploader") and not app.button and not app.title


def only_page(page: str) -> AppTest:
    """One page under st.navigation, as the dashboard runs it (AppTest loses a button click when the
    dashboard's first run switches Streamlit out of its pages/-folder mode)."""
    return AppTest.from_string(f"import streamlit as st\nst.navigation([st.Page({page!r})]).run()\n",
                               default_timeout=60)


def test_analyst_upload_and_removal_are_in_the_audit_log(monkeypatch, users_file, tmp_path):
    store = Store(tmp_path / "store")
    monkeypatch.setenv(USERS_ENV, str(users_file))
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = only_page(str(ROOT / "pages" / "data.py"))
    app.run()
    sign_in(app, "ann", PASSWORDS["ann"])
    content = fixture("shopify_orders.csv").read_bytes()
    app.get("file_uploader")[0].set_value(("shopify_orders.csv", content, "text/csv"))
    app.run()
    app.button(key="import_button").click().run()
    assert not app.exception and any("Imported 6 orders" in s.value for s in app.success), [s.value for s in app.success]
    [batch] = store.batches()
    assert batch["imported_by"] == "ann"
    app.button(key=f"remove_{batch['id']}").click().run()
    assert [w.value for w in app.warning if "Remove" in w.value] == [
        "Remove shopify\\_orders.csv from the store? Its orders disappear from every page; an order that an earlier "
        "upload also holds is read from that upload again."]
    app.button(key=f"confirm_{batch['id']}").click().run()
    assert store.batches() == []
    imported, removed = store.audit_log()
    assert (imported["action"], imported["user"], imported["via"], imported["file"]) == ("import", "ann", "app", "shopify_orders.csv")
    assert (imported["rows_read"], imported["rows_accepted"], imported["rows_removed"]) == (7, 6, 0)
    assert imported["sha256"] == batch["sha256"]
    assert (removed["action"], removed["user"], removed["rows_removed"]) == ("remove", "ann", 6)
    assert removed["at"] >= imported["at"] and removed["version"] == imported["version"] + 1


def test_admin_page_adds_a_user_who_can_then_sign_in(signed_in, users_file, tmp_path, monkeypatch):
    path = tmp_path / "users.json"
    path.write_bytes(users_file.read_bytes())
    monkeypatch.setenv(USERS_ENV, str(path))
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    admin = AppTest.from_string(ADMIN_APP, default_timeout=60)
    admin.run()
    sign_in(admin, "adam", PASSWORDS["adam"])
    assert admin.title[0].value == "Admin" and not admin.exception
    admin.text_input[0].input("mei")  # name, role, password, again: in the add-user form
    admin.selectbox[0].select("analyst")
    admin.text_input[1].input("mei-password-123")
    admin.text_input[2].input("mei-password-123")
    admin.button[0].click().run()
    assert admin.success[0].value == "Saved mei (analyst)."
    assert UsersFile(path).load()["mei"]["role"] == "analyst"
    event = store.audit_log()[-1]
    assert (event["action"], event["user"], event["target"], event["role"]) == ("set_user", "adam", "mei", "analyst")
    newcomer = AppTest.from_file(APP, default_timeout=60)
    newcomer.run()
    sign_in(newcomer, "mei", "mei-password-123")
    assert "data.py" in page_paths(newcomer)


def test_viewer_cannot_open_the_admin_page(signed_in, demo_store):
    admin = AppTest.from_string(ADMIN_APP, default_timeout=60)
    admin.run()
    sign_in(admin, "ann", PASSWORDS["ann"])
    assert [e.value for e in admin.error] == ["This page is for admins."]
    assert not admin.get("dataframe")


# ---- OIDC (st.login) -----------------------------------------------------------------------


@pytest.fixture
def oidc_app(monkeypatch, demo_store, tmp_path):
    monkeypatch.setenv(STORE_ENV, str(demo_store.root))
    monkeypatch.setenv(USERS_ENV, str(tmp_path / "users.json"))
    UsersFile(tmp_path / "users.json").put("boss@example.com", "admin")

    def make(user: dict) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=60)
        app.secrets["auth"] = OIDC
        app.secrets["access"] = {"analysts": ["ann@example.com"], "viewers": ["vera@example.com"]}
        app.user = user
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return make


def test_oidc_sign_in_and_roles(oidc_app):
    signed_out = oidc_app({"is_logged_in": False})
    assert [t.value for t in signed_out.title] == ["Sign in"] and not signed_out.metric
    assert [b.label for b in signed_out.button] == ["Sign in with your company account"]

    analyst = oidc_app({"is_logged_in": True, "email": "Ann@Example.com"})
    assert "data.py" in page_paths(analyst)
    viewer = oidc_app({"is_logged_in": True, "email": "vera@example.com"})
    assert "data.py" not in page_paths(viewer) and viewer.metric
    admin = oidc_app({"is_logged_in": True, "email": "boss@example.com"})  # role from the users file
    assert "Signed in as **boss@example.com** (admin)" in [as_read(m.value) for m in admin.sidebar.markdown]
    stranger = oidc_app({"is_logged_in": True, "email": "eve@example.com"})  # default: no access
    assert [as_read(e.value) for e in stranger.error] == ["eve@example.com has no access to this dashboard. Ask an admin to give you a role."]
    assert not stranger.metric


def test_role_lookup_order():
    secrets = {"access": {"admins": ["a@x.com"], "analysts": ["b@x.com"], "default_role": "viewer"}}
    assert accounts.oidc_role("a@x.com", secrets) == "admin"
    assert accounts.oidc_role("b@x.com", secrets) == "analyst"
    assert accounts.oidc_role("c@x.com", secrets) == "viewer"
    assert accounts.oidc_role("c@x.com", {"access": {"default_role": "superuser"}}) is None
    assert accounts.oidc_role("", secrets) is None


# ---- in the browser ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secured_server(demo_store, users_file):
    """The real app on the demo store, with the users file switching sign-in on."""
    from browser_support import start_server

    previous = os.environ.get(USERS_ENV)
    os.environ[USERS_ENV] = str(users_file)
    try:
        url, process = start_server(demo_store.root)
    finally:
        os.environ.pop(USERS_ENV) if previous is None else os.environ.__setitem__(USERS_ENV, previous)
    yield url
    process.terminate()
    process.wait(timeout=10)


def browser_sign_in(page, name: str) -> None:
    page.get_by_role("textbox", name="Name").fill(name)
    page.get_by_role("textbox", name="Password").fill(PASSWORDS[name])
    page.get_by_role("button", name="Sign in").click()


@pytest.mark.browser
def test_in_the_browser_a_viewer_never_reaches_data_or_customer_downloads(secured_server, browser):
    from playwright.sync_api import expect

    from browser_support import wait_for_app

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{secured_server}/data")  # straight to the Data page's address
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)
    assert page.get_by_test_id("stMetric").count() == 0
    browser_sign_in(page, "vera")
    expect(page.get_by_text("Signed in as vera (viewer)")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_test_id("stFileUploader").count() == 0
    expect(page.get_by_role("heading", name="Repurchase KPIs")).to_be_visible()  # sent to the Overview
    nav = page.get_by_test_id("stTopNavLink")
    expect(nav.filter(has_text="Customers")).to_be_visible()
    assert nav.filter(has_text="Data").count() == 0
    nav.filter(has_text="Customers").click()
    wait_for_app(page)
    expect(page.get_by_text("Downloads of customer lists are for analysts.")).to_be_visible()
    csv_buttons_viewer = page.get_by_role("button", name="⬇ CSV").count()
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(f"{secured_server}/customers")
    browser_sign_in(page, "ann")
    expect(page.get_by_text("Signed in as ann (analyst)")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    expect(page.get_by_test_id("stTopNavLink").filter(has_text="Data")).to_be_visible()
    assert page.get_by_role("button", name="⬇ CSV").count() == csv_buttons_viewer + 1  # the due list
    with page.expect_download() as download_info:
        page.get_by_role("button", name="⬇ CSV").last.click()
    header = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.startswith("customer_id,")
    context.close()


@pytest.mark.browser
def test_in_the_browser_the_admin_page_opens_at_its_address_for_an_admin_only(secured_server, browser):
    """/admin (pages/admin.py) after signing in: the users, the add-user form and the activity log for an
    admin; an analyst who types the address lands on the Overview and sees no Admin link."""
    from playwright.sync_api import expect

    from browser_support import wait_for_app

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{secured_server}/admin")
    browser_sign_in(page, "adam")
    expect(page.get_by_role("heading", name="Admin", exact=True)).to_be_visible(timeout=30_000)
    wait_for_app(page)
    expect(page.get_by_role("heading", name="Users")).to_be_visible()
    expect(page.get_by_text("Users file:")).to_be_visible()
    expect(page.get_by_text("Add a user")).to_be_visible()
    expect(page.get_by_role("heading", name="Activity log")).to_be_visible()
    context.close()

    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(f"{secured_server}/admin")
    browser_sign_in(page, "ann")
    expect(page.get_by_text("Signed in as ann (analyst)")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    assert page.get_by_role("heading", name="Admin", exact=True).count() == 0
    assert page.get_by_test_id("stTopNavLink").filter(has_text="Admin").count() == 0
    context.close()


# ---- customer privacy: pseudonymised ids ---------------------------------------------------

KEY = "k3y-for-tests-only-0123456789"
PRIVATE = """order_id,email,phone,order_date,amount
A1,Alice@Example.com,+86 138 0000 0001,2024-01-03,100
A2,bob@example.com,+86 138 0000 0002,2024-01-05,50
A3,alice@example.com,+86 138 0000 0001,2024-02-03,70
A4,carol@example.com,+86 138 0000 0003,never,20
"""


def store_text(store: Store) -> str:
    """Every string stored in every Parquet file of the store, plus the manifest."""
    import duckdb

    con = duckdb.connect()
    texts = [(store.root / "manifest.json").read_text()]
    for path in store.root.rglob("*.parquet"):
        texts.append(str(con.execute(f"select * from read_parquet('{path}')").fetchall()))
    return "\n".join(texts)


def test_pseudonymised_import_keeps_no_raw_email_or_phone_and_ids_still_join(tmp_path, monkeypatch):
    from ingest import ImportRefused, import_file
    from ingest.assignments import import_assignments
    from ingest.privacy import KEY_ENV, pseudonym

    monkeypatch.setenv(KEY_ENV, KEY)
    store = Store(tmp_path / "store")
    orders = tmp_path / "orders.csv"
    orders.write_text(PRIVATE)
    report = import_file(orders, store, columns={"order_id": "order_id", "customer_id": "email",
                                                  "order_ts": "order_date", "amount": "amount"})
    assert report.pseudonymised and (report.orders_accepted, report.rows_rejected) == (3, 1)
    stored = store_text(store)
    for raw in ("alice@example.com", "Alice@Example.com", "bob@", "carol@", "+86 138"):
        assert raw not in stored
    con = store.connect()
    ids = dict(con.execute("select customer_id, valid_orders from customers").fetchall())
    con.close()
    assert ids == {pseudonym("alice@example.com", KEY): 2, pseudonym("bob@example.com", KEY): 1}  # Alice's two ids joined
    [batch] = store.batches()
    assert not any((store.root / "batches" / batch["id"] / "original").iterdir())  # the file itself is not kept
    assert batch["sha256"] and batch["pseudonym_key_id"]

    assignments = tmp_path / "assignments.csv"
    assignments.write_text("experiment,customer_id,variant,assigned_at\nx,ALICE@example.com,control,2024-01-10\n"
                           "x,bob@example.com,treatment,2024-01-10\n")
    result = import_assignments(assignments, store)
    assert not [w for w in result["warnings"] if "no valid order" in w]  # the same key: ids join
    assert "ALICE@" not in store_text(store).upper().replace("P_", "")

    hashed = subprocess.run([sys.executable, "-m", "ingest.privacy"], input="Alice@Example.com \n", text=True,
                            capture_output=True, cwd=ROOT, env={**os.environ, KEY_ENV: KEY})
    assert hashed.stdout.strip() == f"Alice@Example.com ,{pseudonym('alice@example.com', KEY)}"

    before = (store.root / "manifest.json").read_bytes()
    monkeypatch.setenv(KEY_ENV, "another-key-0123456789")
    with pytest.raises(ImportRefused, match="not the one this store's ids were made with"):
        import_file(orders, store)
    monkeypatch.delenv(KEY_ENV)
    with pytest.raises(ImportRefused, match="no pseudonym key is configured"):
        import_file(orders, store)
    raw_store = Store(tmp_path / "raw")
    import_file(fixture("generic_orders.csv"), raw_store)
    with pytest.raises(ImportRefused, match="holds raw customer ids"):
        import_file(orders, raw_store, pseudonym_key=KEY)
    assert (store.root / "manifest.json").read_bytes() == before

"""Issue 20, items 5 and 6 on the wire: Streamlit's own endpoints, measured with the probe of the issue.

`serve.py` (what `make run` serves) puts ui/guard.py in front of Streamlit; `dashboard.py` run
directly is the "before". With sign-in on, a session that never signed in takes the XSRF cookie
from the server and PUTs 1 MB to /_stcore/upload_file/<its session>/<any id>.
"""

import asyncio

import pytest
import requests

from browser_support import browser, start_server  # noqa: F401  (browser: the Chromium fixture)
from ui.users import USERS_ENV, UsersFile

MEGABYTE = b"x" * (1 << 20)




def probe(url: str) -> dict:
    """What an anonymous visitor gets: the metrics endpoint, and a 1 MB upload into its own session."""
    http = requests.Session()
    health = http.get(f"{url}/_stcore/health", timeout=10)
    cookie = http.cookies.get("_streamlit_xsrf")
    assert health.status_code == 200 and cookie

    async def upload() -> int:
        import websockets
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
        async with websockets.connect(ws_url, subprotocols=["streamlit"], origin=url, max_size=None,
                                      additional_headers={"Cookie": f"_streamlit_xsrf={cookie}"}) as ws:
            message = BackMsg()
            message.rerun_script.query_string = ""
            await ws.send(message.SerializeToString())
            while True:
                forward = ForwardMsg()
                forward.ParseFromString(await asyncio.wait_for(ws.recv(), 30))
                if forward.WhichOneof("type") == "new_session":
                    session_id = forward.new_session.initialize.session_id
                    break
            answer = await asyncio.to_thread(
                http.put, f"{url}/_stcore/upload_file/{session_id}/probe-1",
                files={"file": ("probe.csv", MEGABYTE, "text/csv")}, headers={"X-Xsrftoken": cookie}, timeout=30)
            return answer.status_code

    metrics = http.get(f"{url}/_stcore/metrics", timeout=10)
    page = http.get(url, timeout=10)
    return {"upload": asyncio.run(upload()), "metrics": metrics.status_code,
            "x-frame-options": page.headers.get("x-frame-options"),
            "frame-ancestors": page.headers.get("content-security-policy")}


@pytest.fixture(scope="module")
def signed_in_required(tmp_path_factory):
    folder = tmp_path_factory.mktemp("endpoints")
    users = folder / "users.json"
    UsersFile(users).put("ann", "analyst", "analyst-pass-123", by="test")
    return {USERS_ENV: str(users)}, folder


def test_anonymous_session_cannot_upload_nor_read_metrics_behind_serve_py(signed_in_required):
    env, folder = signed_in_required
    results = {}
    for script in ("dashboard.py", "serve.py"):
        url, process = start_server(folder / "store", script=script, env=env)
        try:
            results[script] = probe(url)
        finally:
            process.terminate()
            process.wait(timeout=10)
    print(results)  # the before/after table of docs/security.md
    assert results["dashboard.py"]["upload"] == 204 and results["dashboard.py"]["metrics"] == 200  # the doors
    assert results["serve.py"] == {"upload": 403, "metrics": 404, "x-frame-options": "DENY",
                                   "frame-ancestors": "frame-ancestors 'none'"}


def test_without_sign_in_configured_serve_py_still_takes_uploads(tmp_path):
    url, process = start_server(tmp_path / "store", script="serve.py", env={USERS_ENV: str(tmp_path / "none.json")})
    try:
        result = probe(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert result["upload"] == 204 and result["metrics"] == 404  # one person on their own machine


# ---- production defaults in the app (AppTest) ----------------------------------------------


def test_config_hides_error_details_and_keeps_xsrf_protection():
    import tomllib
    from pathlib import Path

    config = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"]["enableXsrfProtection"] is True


def test_lock_out_survives_a_restart_and_failed_sign_ins_are_logged(tmp_path, monkeypatch):
    import stat
    import time as time_module

    from streamlit.testing.v1 import AppTest

    from store import STORE_ENV, Store
    from test_auth import APP, sign_in
    from ui import users as accounts

    users = tmp_path / "users.json"
    UsersFile(users).put("adam", "admin", "admin-pass-1234", by="test")
    monkeypatch.setenv(USERS_ENV, str(users))
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    for _ in range(accounts.MAX_FAILURES):
        sign_in(app, "Adam", "guessing-the-password")
    assert app.error[0].value == "Wrong name or password."

    accounts._failures.clear()  # a restart: nothing kept in memory ...
    app = AppTest.from_file(APP, default_timeout=90)
    app.run()
    sign_in(app, "adam", "admin-pass-1234")  # ... and the right password still waits
    assert "Too many failed attempts" in app.error[0].value
    failures = accounts.FailureLog(users).path
    assert stat.S_IMODE(failures.stat().st_mode) == 0o600

    log = [(e["action"], e["user"], e["via"]) for e in store.audit_log()]
    assert log == [("sign_in_failed", "adam", "app")] * 5 + [("locked_out", "adam", "app"),
                                                             ("sign_in_refused_locked", "adam", "app")]
    # five minutes later the name may try again
    later = time_module.time() + accounts.FAILURE_WINDOW + 1
    monkeypatch.setattr(accounts.time, "time", lambda: later)
    assert accounts.check_password_login(UsersFile(users).load(), "adam", "admin-pass-1234", users) == ("adam", 0.0)


@pytest.mark.browser
def test_in_the_browser_the_page_only_talks_to_its_own_host_and_downloads_are_logged(demo_store, browser, tmp_path):
    """Chromium on serve.py, sign-in on: every request of every page goes to the app's own host (no
    font or emoji CDN for the favicon), an analyst's upload passes the guard, and a customer-list
    download is in the activity log."""
    import shutil
    from pathlib import Path

    from playwright.sync_api import expect

    from conftest import fixture
    from store import Store
    from test_auth import PASSWORDS, browser_sign_in
    from browser_support import PAGES, wait_for_app

    store = Store(tmp_path / "store")
    shutil.copytree(demo_store.root, store.root)
    logged_before = len(store.audit_log())  # the shared demo store keeps other tests' entries
    users = tmp_path / "users.json"
    UsersFile(users).put("ann", "analyst", PASSWORDS["ann"], by="test")
    url, process = start_server(store.root, script="serve.py", env={USERS_ENV: str(users)})
    requests_made = []
    try:
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page = context.new_page()
        page.on("request", lambda request: requests_made.append(request.url))
        page.goto(f"{url}/customers")
        browser_sign_in(page, "ann")
        expect(page.get_by_text("Signed in as ann (analyst)")).to_be_visible(timeout=30_000)
        wait_for_app(page)
        with page.expect_download() as download_info:
            page.get_by_role("button", name="⬇ CSV").last.click()
        assert Path(download_info.value.path()).read_text(encoding="utf-8-sig").startswith("customer_id,")
        for path in PAGES.values():  # every page, through the navigation as a user clicks
            link = page.get_by_test_id("stTopNavLink").nth(list(PAGES.values()).index(path))
            link.click()
            wait_for_app(page)
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(fixture("shopify_orders.csv")))
        wait_for_app(page)
        expect(page.get_by_text("Preview: first rows")).to_be_visible()  # the upload reached the server
        icon = page.locator("link[rel='shortcut icon'], link[rel='icon']").first.get_attribute("href")
        context.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    foreign = sorted({r for r in requests_made if not r.startswith((url + "/", "data:", "blob:"))})
    assert foreign == [] and len(requests_made) > 20
    assert icon and ("/media/" in icon) and "gstatic" not in icon
    downloads = [e for e in store.audit_log()[logged_before:] if e["action"] == "download_customer_list"]
    assert [(e["user"], e["format"]) for e in downloads] == [("ann", "csv")] and downloads[0]["rows"] > 0


def test_serve_py_starts_the_store_s_warm_up_before_any_page_is_opened(tmp_path):
    """The first page view of a new server finds the pages' imports done and the warm-up under way or done."""
    import time

    from conftest import write_one_month_export
    from ingest.pipeline import import_file
    from store import Store
    from ui.kept_results import kept_path

    write_one_month_export(tmp_path / "may.csv")
    store = Store(tmp_path / "store")
    import_file(tmp_path / "may.csv", store)
    evidence = kept_path(str(store.root), store.manifest()["version"], "playbook/evidence") / "views.json"
    url, process = start_server(store.root, script="serve.py", env={USERS_ENV: str(tmp_path / "none.json")})
    try:
        deadline = time.monotonic() + 60
        while not evidence.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert evidence.exists(), "without any page view, the server's start should have kept the Playbook's evidence"
    log = process.stdout.read().decode()
    assert "You can now view your Streamlit app" in log, log
    assert "No runtime found" not in log and "Traceback" not in log, log  # the pages' modules imported early, quietly

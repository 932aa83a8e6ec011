"""Issue 20, items 2-4 and 6: uploads leave no trace, built-in presets cannot be shadowed, file names
are stored and shown without control or bidirectional characters, e-mails and phone numbers in any
mapped column are pseudonymised.

Expected pseudonyms are computed here with hmac directly, not with ingest.privacy.
"""

import hashlib
import hmac
import json
import logging
import os
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest

from conftest import data_page_app, fixture
from hostile import as_read
from store import STORE_ENV, Store, clean_file_name

ROOT = Path(__file__).resolve().parent.parent
KEY = "test-key-0123456789-abcdef"

# Contacts in the customer column and in other mapped columns (coupon, store, amount).
ORDERS = (
    "order_id,email,order_date,amount,coupon,store,channel\n"
    "1001,Ann@Example.com,2024-01-05,100,WELCOME,Shop A,web\n"
    "1002,ann@example.com,2024-02-05,50,Ann@Example.com,+44 20 7946 0958,web\n"
    "1003,bob@example.org,2024-02-06,70,,13912345678,app\n"
    "1004,carol@example.net,2024-02-07,not a number,SAVE10,Shop A,web\n"
    "1005,dave@example.com,2024-02-08,+86 139-1234-5678,SAVE10,Shop B,web\n"
)
# What must not be found in any file the app or the importer wrote (compared case-insensitively).
RAW_VALUES = ("ann@example.com", "bob@example.org", "carol@example.net", "dave@example.com",
              "20 7946 0958", "13912345678", "139-1234-5678")


def hmac_pseudonym(value: str) -> str:
    return "p_" + hmac.new(KEY.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


page_app = data_page_app


def every_text_written(*roots: Path) -> str:
    """The bytes of every file under `roots` as text, and every Parquet file's values (compressed
    on disk, so decoded), lower-cased."""
    con = duckdb.connect()
    texts = []
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            texts.append(path.read_bytes().decode("utf-8", "replace"))
            if path.suffix == ".parquet":
                texts.append(str(con.execute("select * from read_parquet($p)", {"p": str(path)}).fetchall()))
    return "\n".join(texts).lower()


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temporary folder of this test's own for everything the app writes there."""
    import streamlit.testing.v1  # noqa: F401 - it makes its scripts' folder when first imported: not in this one
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    monkeypatch.setenv("TMPDIR", str(folder))
    return folder


def test_pseudonymised_uploads_leave_no_file_and_no_raw_contact_anywhere(tmp_path, private_tmp, monkeypatch, caplog):
    from ingest.privacy import KEY_ENV
    from ui import upload_flow
    from ui.uploads import uploads_root

    monkeypatch.setenv(KEY_ENV, KEY)
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = page_app()
    app.run()

    # accepted
    app.get("file_uploader")[0].set_value(("orders.csv", ORDERS.encode(), "text/csv"))
    app.run()
    app.selectbox(key="upload_currency").set_value("EUR").run()  # the file states no currency
    app.button(key="import_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("Imported 3 orders from 5 rows" in s.value for s in app.success), [s.value for s in app.success]
    assert list(uploads_root().iterdir()) == []  # the upload is gone once the run has ended

    # refused (garbage)
    app.get("file_uploader")[0].set_value(("garbage.csv", b"\x00\x01binary ann@example.com", "text/csv"))
    app.run()
    assert app.error and app.error[0].value.startswith("Not imported: garbage.csv")
    assert list(uploads_root().iterdir()) == []

    # crashed: the importer raises something unexpected; the file must go all the same
    seen = {}

    def crash(path, *args, **kwargs):
        seen["file_mode"] = stat.S_IMODE(os.stat(path).st_mode)
        seen["folder_mode"] = stat.S_IMODE(os.stat(Path(path).parent).st_mode)
        seen["root_mode"] = stat.S_IMODE(os.stat(uploads_root()).st_mode)
        raise RuntimeError("importer crashed")

    monkeypatch.setattr(upload_flow, "import_file", crash)  # the Data page's import step
    # Streamlit's loggers do not propagate to the root logger, where caplog listens: the one that records
    # the traceback is among them (the test passed only after another test had let them)
    for name in [name for name in logging.root.manager.loggerDict if name.startswith("streamlit")]:
        monkeypatch.setattr(logging.getLogger(name), "propagate", True)
    app.get("file_uploader")[0].set_value(("again.csv", ORDERS.encode(), "text/csv"))
    app.run()
    app.selectbox(key="upload_currency").set_value("EUR").run()
    app.button(key="import_button").click().run()
    # the user sees a plain sentence (client.showErrorDetails = "none"); the traceback goes to the log
    assert app.exception and "importer crashed" not in app.exception[0].value
    assert "pages/data.py" not in str(app.exception[0].proto) and "importer crashed" in caplog.text
    assert seen == {"file_mode": 0o600, "folder_mode": 0o700, "root_mode": 0o700}
    assert list(uploads_root().iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))

    # the command line, on a second export with contacts elsewhere
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "march.csv").write_text(ORDERS.replace("2024-02", "2024-03").replace("\n100", "\n200"))
    result = subprocess.run([sys.executable, "-m", "ingest", str(inbox / "march.csv"), "--store", str(store.root), "--json",
                             "--currency", "EUR"],
                            cwd=ROOT, capture_output=True, text=True,
                            env={**os.environ, KEY_ENV: KEY, "TMPDIR": str(private_tmp)})
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["values_pseudonymised"] == {"amount": 1, "coupon": 1, "store": 2}

    written = every_text_written(private_tmp, store.root)
    assert [raw for raw in RAW_VALUES if raw in written] == []
    assert [p for p in private_tmp.rglob("*") if p.is_file()] == []

    # the values are there, as the same keyed hash as customer ids (so they still join and count)
    con = store.connect()
    orders = {row[0]: row[1:] for row in con.execute(
        "select order_id, customer_id, coupon_code, store from orders where order_id like '100%'").fetchall()}
    con.close()
    ann = hmac_pseudonym("ann@example.com")
    assert orders == {
        "1001": (ann, "WELCOME", "Shop A"),
        "1002": (ann, ann, hmac_pseudonym("+44 20 7946 0958")),
        "1003": (hmac_pseudonym("bob@example.org"), None, hmac_pseudonym("13912345678")),
    }
    # the rejected rows keep the pseudonym where the file had a phone number as the amount
    batch = store.batches()[0]
    rejected = duckdb.sql(f"select * from read_parquet('{store.root}/batches/{batch['id']}/rejected_rows.parquet')").fetchall()
    assert hmac_pseudonym("+86 139-1234-5678") in str(rejected)


def test_the_contact_detector_is_linear_and_knows_contacts_from_codes():
    from ingest.privacy import CONTACT_PATTERN

    con = duckdb.connect()

    def looks_like_contact(value: str) -> bool:
        return con.execute("select regexp_matches($v, $p)", {"v": value, "p": CONTACT_PATTERN}).fetchone()[0]

    contacts = ["a@b.co", "Contact: Bob@Ex.CN", "张三@例子.中国", "13912345678", "+86 139-1234-5678", "139 1234 5678",
                "+44 20 7946 0958", "+1 (555) 123-4567", '="13912345678"', "call 15012345678 now"]
    codes = ["SAVE10", "SAVE@10.00", "a@b", "1234567890123456789", "2024-03-31 14:05:00+08:00", "+12345.67", "12.50",
             "1391234567", "+1234", "WELCOME-2024", "4006001234", "#1001", "SKU-139123456789"]
    assert [v for v in contacts if not looks_like_contact(v)] == []
    assert [v for v in codes if looks_like_contact(v)] == []
    for hostile in ("a" * 1_000_000 + "@", "@" * 1_000_000, "+1" + " 1" * 500_000, "1" * 1_000_000):
        started = time.perf_counter()
        looks_like_contact(hostile)
        assert time.perf_counter() - started < 0.5


def test_stale_uploads_of_dead_processes_are_swept(private_tmp):
    from ui.uploads import sweep_stale_uploads, upload_on_disk, uploads_root

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = uploads_root() / f"{dead.stdout.strip()}-abc"
    stale.mkdir()
    (stale / "orders.csv").write_text("ann@example.com")
    (uploads_root() / "0123456789abcdef").mkdir()  # the layout before this change: one folder per digest
    with upload_on_disk("live.csv", b"x") as live:
        assert sweep_stale_uploads() == 2
        assert live.exists()  # this process is alive: its upload stays while it is used
    assert list(uploads_root().iterdir()) == []


# ---- built-in presets cannot be shadowed ---------------------------------------------------


def test_built_in_preset_names_are_reserved_and_saves_and_deletes_are_logged(tmp_path, monkeypatch):
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = page_app()
    app.run()
    app.get("file_uploader")[0].set_value(("shopify_orders.csv", fixture("shopify_orders.csv").read_bytes(), "text/csv"))
    app.run()
    for name in ("shopify", "Shopify ", "SHOPIFY", "uci online retail", "Woo_Commerce"):
        app.text_input(key="preset_name").input(name).run()
        app.button(key="save_preset").click().run()
        assert app.error and "built-in mapping" in app.error[0].value, name
    assert not (store.root / "presets").exists() or list((store.root / "presets").iterdir()) == []
    app.text_input(key="preset_name").input("monthly").run()
    app.button(key="save_preset").click().run()
    assert (store.root / "presets" / "monthly.json").exists()
    app.button(key="_delete_preset_monthly").click().run()
    assert not (store.root / "presets" / "monthly.json").exists()
    assert [(e["action"], e["preset"]) for e in store.audit_log()] == [("save_preset", "monthly"), ("delete_preset", "monthly")]


def test_a_saved_file_that_shadows_a_built_in_is_ignored(tmp_path):
    clean = Store(tmp_path / "clean")
    shadowed = Store(tmp_path / "shadowed")
    (shadowed.root / "presets").mkdir(parents=True)
    bogus = {"name": "shopify", "label": "planted", "signature": ["Name", "Email"],
             "columns": {"order_id": ["Email"], "customer_id": ["Name"], "order_ts": ["Paid at"], "amount": ["Taxes"]}}
    for name in ("shopify", "Shopify", "woo commerce"):
        (shadowed.root / "presets" / f"{name}.json").write_text(json.dumps(bogus))

    def run(store: Store, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "ingest", str(fixture("shopify_orders.csv")), "--store",
                               str(store.root), "--json", *args], cwd=ROOT, capture_output=True, text=True)

    for args in (["--preset", "shopify"], []):  # by name, and detected
        expected, got = json.loads(run(clean, *args).stdout), json.loads(run(shadowed, *args).stdout)
        assert (got["preset"], got["mapping"], got["orders_accepted"]) == \
            (expected["preset"], expected["mapping"], expected["orders_accepted"]) == \
            ("shopify", expected["mapping"], 6)
    listed = subprocess.run([sys.executable, "-m", "ingest", "--list-presets", "--store", str(shadowed.root)],
                            cwd=ROOT, capture_output=True, text=True).stdout
    assert "planted" not in listed

    refused = run(Store(tmp_path / "third"), "--save-preset", "Shopify")
    assert refused.returncode == 2 and "built-in preset" in json.loads(refused.stdout)["refused"]
    assert not (tmp_path / "third" / "manifest.json").exists()


# ---- file names ----------------------------------------------------------------------------


def test_clean_file_name_drops_controls_and_bidi_and_caps_the_length():
    assert clean_file_name("订单_\u202eslx.csv") == "订单_slx.csv"
    assert clean_file_name("a\u2066b\u2069\u200e\u200f\u202a\u202b\u202c\u202d.csv") == "ab.csv"
    assert clean_file_name("x\x00\x1b[31m\x7f\x85\x9b\n\r\t.csv") == "x[31m.csv"
    assert clean_file_name("../../etc/passwd") == "passwd" and clean_file_name("C:\\x\\y.xlsx") == "y.xlsx"
    long = clean_file_name("订" * 300 + ".xlsx")
    assert len(long) == 120 and long.endswith("….xlsx")
    assert clean_file_name("\u202e\u202e") == "upload" and clean_file_name("..") == "upload"


def test_uploaded_file_names_are_stored_logged_and_shown_clean(tmp_path, monkeypatch, private_tmp):
    store = Store(tmp_path / "store")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = page_app()
    app.run()
    hostile = "订单_\u202eslx" + "x" * 200 + ".csv"
    app.get("file_uploader")[0].set_value((hostile, fixture("shopify_orders.csv").read_bytes(), "text/csv"))
    app.run()
    app.button(key="import_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    expected = "订单_slx" + "x" * (120 - len("订单_slx") - len("….csv")) + "….csv"
    [batch] = store.batches()
    [entry] = store.audit_log()
    assert batch["file"] == entry["file"] == expected and len(expected) == 120
    assert [p.name for p in (store.root / "batches" / batch["id"] / "original").iterdir()] == [expected]
    shown = " ".join(as_read(m.value) for m in [*app.markdown, *app.success])  # as the reader sees it
    assert expected in shown and "\u202e" not in shown

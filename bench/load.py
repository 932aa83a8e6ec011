"""Load test: 20 sessions read the dashboard while an analyst uploads an export.

Bounded and local: the app runs on 127.0.0.1 only, the sessions and rounds are capped, and the
whole run stops by itself after --max-seconds. Not part of `make test` (it takes a few minutes).

    .venv/bin/python bench/load.py                      # 20 websocket viewers x 3 rounds of 5 pages, one upload
    .venv/bin/python bench/load.py --clients browser    # the same with 20 Chromium tabs
    .venv/bin/python bench/load.py --sessions 10 --rounds 2 --customers 20000

Two kinds of viewer:
- `websocket` (default): a client speaking Streamlit's own protocol, as the browser does, one
  connection per session; each page is a rerun of that session on the page (as a click in the
  navigation is) and lasts until the server reports the script finished. It measures the server,
  without 20 browsers competing with it for the same two cores;
- `browser`: headless Chromium tabs (Playwright, Debian's /usr/bin/chromium) that open each page's
  address and wait until it is drawn: end to end, including drawing the charts, on the same cores.

What it does:
1. builds a demo store (`ingest.demo`, --customers customers, as `make run` does) in a temp folder,
   and a second export to upload (another seed: new orders, some overlapping);
2. starts `streamlit run dashboard.py` on 127.0.0.1 (a free port) on that store;
3. starts --sessions viewers, each visiting the viewer pages (Overview, Cohorts, Customers,
   Customer value, Strategy tests) in turn, starting at a different page, for --rounds rounds;
4. meanwhile a Chromium tab (the analyst) uploads the export on the Data page and imports it;
5. reports per page the load times (median, 90th percentile, max), every error (an exception box
   in a page, a page error in the browser, an HTTP 5xx, a timeout), the upload's time, which store
   versions the viewers saw, and checks the store afterwards (consistent, both batches there).

Results: printed, and written to bench/results/load-<time>.md. Exit code 1 if there was any error.
"""

import argparse
import asyncio
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--renderer-process-limit=8"]
PAGES = {"overview": "", "cohorts": "cohorts", "customers": "customers", "value": "value", "strategy": "strategy"}
MAX_SESSIONS = 50
HOST = "127.0.0.1"  # never anything else

DONE_JS = """() => document.querySelector('[data-test-script-state="notRunning"]')
    && document.querySelector('[data-testid="stMain"] h1')
    && document.querySelectorAll('[data-stale="true"]').length === 0
    && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def build_store(folder: Path, customers: int) -> tuple[Path, Path]:
    """A demo store (orders + assignments) and a second orders export (CSV) to upload."""
    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file
    from store import Store

    store = Store(folder / "store")
    paths = write_demo(folder / "demo", customers=customers)
    import_file(paths["orders"], store)
    import_assignments(paths["assignments"], store)
    upload = write_demo(folder / "upload", customers=max(customers // 5, 1_000), seed=7, csv=True)["orders"]
    named = upload.with_name("orders_next_month.csv")
    upload.rename(named)
    return store.root, named


def start_server(store_root: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "REPURCHASE_STORE": str(store_root)}
    env.pop("REPURCHASE_USERS", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
         "--server.address", HOST, "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"http://{HOST}:{port}/_stcore/health", timeout=2).read() == b"ok":
                return process
        except OSError:
            time.sleep(0.3)
    process.kill()
    raise SystemExit("Streamlit did not start")


async def load_page(page, url: str, timeout_ms: int) -> float:
    started = time.monotonic()
    await page.goto(url, wait_until="domcontentloaded", timeout=timeout_ms)
    await page.wait_for_timeout(200)  # let the script start
    await page.wait_for_function(DONE_JS, timeout=timeout_ms, polling=100)
    await page.wait_for_timeout(300)
    if await page.get_by_test_id("stException").count():
        raise RuntimeError("exception box: " + (await page.get_by_test_id("stException").first.inner_text())[:300])
    return time.monotonic() - started - 0.5  # minus the two fixed waits


async def viewer(index: int, browser, base: str, rounds: int, deadline: float, timeout_ms: int,
                 times: dict, errors: list, versions: set) -> None:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    page.on("pageerror", lambda error: errors.append(f"viewer {index}: page error {error}"))
    page.on("response", lambda r: errors.append(f"viewer {index}: HTTP {r.status} {r.url}") if r.status >= 500 else None)
    names = list(PAGES)
    try:
        for round_ in range(rounds):
            for step in range(len(names)):
                if time.monotonic() > deadline:
                    return
                name = names[(index + step) % len(names)]
                try:
                    seconds = await load_page(page, f"{base}/{PAGES[name]}", timeout_ms)
                    times.setdefault(name, []).append(seconds)
                    caption = page.get_by_text("Store version", exact=False)
                    if await caption.count():
                        found = re.match(r"Store version \d+", await caption.first.inner_text())
                        versions.add(found.group(0) if found else "?")
                except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                    errors.append(f"viewer {index} {name} round {round_ + 1}: {str(error).splitlines()[0][:300]}")
    finally:
        await context.close()


async def ws_viewer(index: int, port: int, rounds: int, deadline: float, timeout: float,
                    times: dict, errors: list, versions: set) -> None:
    """A viewer speaking Streamlit's websocket protocol: one session, one rerun per page."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    names = list(PAGES)
    async with websockets.connect(f"ws://{HOST}:{port}/_stcore/stream", subprotocols=["streamlit"],
                                  origin=f"http://{HOST}:{port}", max_size=None, open_timeout=timeout) as ws:
        for round_ in range(rounds):
            for step in range(len(names)):
                if time.monotonic() > deadline:
                    return
                name = names[(index + step) % len(names)]
                message = BackMsg()
                message.rerun_script.query_string = ""
                message.rerun_script.page_name = PAGES[name]
                started = time.monotonic()
                try:
                    await ws.send(message.SerializeToString())
                    while True:
                        forward = ForwardMsg()
                        forward.ParseFromString(await asyncio.wait_for(ws.recv(), timeout))
                        kind = forward.WhichOneof("type")
                        if kind == "delta" and forward.delta.WhichOneof("type") == "new_element":
                            element = forward.delta.new_element
                            if element.WhichOneof("type") == "exception":
                                raise RuntimeError(f"exception box: {element.exception.message[:300]}")
                            if element.WhichOneof("type") == "markdown" and "Store version" in element.markdown.body:
                                found = re.search(r"Store version \d+", element.markdown.body)
                                versions.add(found.group(0) if found else "?")
                        if kind == "script_finished":
                            if forward.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                                continue
                            if forward.script_finished != ForwardMsg.FINISHED_SUCCESSFULLY:
                                raise RuntimeError(f"script finished with {forward.script_finished}")
                            break
                    times.setdefault(name, []).append(time.monotonic() - started)
                except Exception as error:  # noqa: BLE001 - every failure is counted and reported
                    errors.append(f"viewer {index} {name} round {round_ + 1}: {str(error).splitlines()[0][:300]}")
                    if isinstance(error, (asyncio.TimeoutError, websockets.ConnectionClosed)):
                        return


async def analyst(browser, base: str, upload: Path, delay: float, timeout_ms: int, result: dict, errors: list) -> None:
    await asyncio.sleep(delay)
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    page = await context.new_page()
    try:
        await load_page(page, f"{base}/data", timeout_ms)
        started = time.monotonic()
        await page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(upload))
        await page.get_by_role("button", name="Import").wait_for(timeout=timeout_ms)
        await page.wait_for_function(DONE_JS, timeout=timeout_ms, polling=200)
        await page.get_by_role("button", name="Import").click()
        await page.get_by_text(f"of {upload.name}").first.wait_for(timeout=timeout_ms)
        result["upload_seconds"] = time.monotonic() - started
        result["message"] = (await page.get_by_text(f"of {upload.name}").first.inner_text())[:200]
    except Exception as error:  # noqa: BLE001
        errors.append(f"analyst upload: {str(error).splitlines()[0][:300]}")
    finally:
        await context.close()


async def run_load(base: str, upload: Path, sessions: int, rounds: int, max_seconds: float, timeout_ms: int,
                   clients: str = "websocket") -> dict:
    from playwright.async_api import async_playwright

    times: dict[str, list[float]] = {}
    errors: list[str] = []
    versions: set[str] = set()
    upload_result: dict = {}
    deadline = time.monotonic() + max_seconds
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        warm = await browser.new_page()  # one visit first, so that the run measures sessions, not the first cache fill
        await load_page(warm, base, timeout_ms)
        await warm.close()
        started = time.monotonic()
        if clients == "browser":
            tasks = [viewer(i, browser, base, rounds, deadline, timeout_ms, times, errors, versions) for i in range(sessions)]
        else:
            port = int(base.rsplit(":", 1)[1])
            tasks = [ws_viewer(i, port, rounds, deadline, timeout_ms / 1000, times, errors, versions) for i in range(sessions)]
        tasks.append(analyst(browser, base, upload, 5.0, timeout_ms, upload_result, errors))
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=max_seconds + 60)
        elapsed = time.monotonic() - started
        await browser.close()
    return {"times": times, "errors": errors, "versions": versions, "upload": upload_result, "elapsed": elapsed}


def check_store(store_root: Path) -> list[str]:
    """After the run: both uploads are there and every table of the version agrees with the manifest."""
    from store import Store

    store = Store(store_root)
    manifest = store.manifest()
    problems = []
    orders = [b for b in manifest["batches"] if b["kind"] == "orders"]
    if len(orders) != 2:
        problems.append(f"expected 2 order batches after the upload, found {len(orders)}")
    con = store.connect(manifest["version"])
    for table, rows in manifest["tables"].items():
        found = con.execute(f"select count(*) from {table}").fetchone()[0]
        if found != rows:
            problems.append(f"{table}: {found} rows, manifest says {rows}")
    if manifest["tables"]["orders"] != sum(b["orders_live"] for b in orders):
        problems.append("orders table does not match the live orders of the batches")
    return problems


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help=f"viewer sessions (at most {MAX_SESSIONS})")
    parser.add_argument("--clients", choices=["websocket", "browser"], default="websocket", help="kind of viewer")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the five viewer pages per session")
    parser.add_argument("--customers", type=int, default=50_000, help="demo store size (make run: 50,000)")
    parser.add_argument("--max-seconds", type=float, default=600, help="stop the sessions after this long")
    parser.add_argument("--page-timeout", type=float, default=120, help="seconds before a page load counts as an error")
    parser.add_argument("--keep", action="store_true", help="keep the temporary store")
    args = parser.parse_args(argv)
    sessions = max(1, min(args.sessions, MAX_SESSIONS))
    rounds = max(1, min(args.rounds, 10))
    max_seconds = max(10.0, min(args.max_seconds, 1800.0))
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser`"

    folder = Path(tempfile.mkdtemp(prefix="repurchase-load-"))
    server = None
    try:
        print(f"building a demo store of {args.customers:,} customers in {folder} …", flush=True)
        store_root, upload = build_store(folder, args.customers)
        port = free_port()
        server = start_server(store_root, port)
        base = f"http://{HOST}:{port}"
        print(f"{sessions} {args.clients} viewer sessions x {rounds} rounds of {len(PAGES)} pages on {base}, "
              f"uploading {upload.name} ({upload.stat().st_size / 1e6:.1f} MB) meanwhile …", flush=True)
        result = asyncio.run(run_load(base, upload, sessions, rounds, max_seconds, int(args.page_timeout * 1000),
                                      args.clients))
        healthy = urllib.request.urlopen(f"{base}/_stcore/health", timeout=5).read() == b"ok"
    finally:
        if server:
            server.terminate()
            server.wait(timeout=20)
    problems = check_store(store_root)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)

    errors = result["errors"] + problems + ([] if healthy else ["server not healthy after the run"])
    if not result["upload"].get("upload_seconds"):
        errors.append("the upload did not finish")
    all_times = [t for values in result["times"].values() for t in values]
    lines = [
        f"# Load test {datetime.now():%Y-%m-%d %H:%M}",
        "",
        f"- {sessions} concurrent viewer sessions ({'headless Chromium tabs, each page opened by its address' if args.clients == 'browser' else 'websocket clients speaking Streamlit protocol, each page a rerun of the session as a click in the navigation'}) "
        f"x {rounds} rounds of {len(PAGES)} pages, plus one analyst (Chromium) uploading on the Data page; "
        f"demo store of {args.customers:,} customers",
        f"- machine: {os.cpu_count()} cores; server and browser on the same machine (127.0.0.1)",
        f"- page loads: {len(all_times)} in {result['elapsed']:.0f} s; errors: {len(errors)}",
        f"- upload: {upload.name} imported in {result['upload'].get('upload_seconds', float('nan')):.1f} s "
        f"while the viewers read ({result['upload'].get('message', 'no message')})",
        f"- store versions seen by viewers: {', '.join(sorted(result['versions'])) or 'n/a'}",
        f"- store afterwards: {'consistent, both batches present' if not problems else '; '.join(problems)}",
        "",
        "| page | loads | median s | p90 s | max s |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in PAGES:
        values = result["times"].get(name, [])
        if values:
            lines.append(f"| {name} | {len(values)} | {statistics.median(values):.2f} | {percentile(values, 0.9):.2f} "
                         f"| {max(values):.2f} |")
    if all_times:
        lines.append(f"| all | {len(all_times)} | {statistics.median(all_times):.2f} | "
                     f"{percentile(all_times, 0.9):.2f} | {max(all_times):.2f} |")
    if errors:
        lines += ["", "## Errors", *[f"- {e}" for e in errors[:100]]]
    report = "\n".join(lines) + "\n"
    print(report)
    out = ROOT / "bench" / "results" / f"load-{args.clients}-{datetime.now():%Y%m%d-%H%M%S}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(f"written to {out.relative_to(ROOT)}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())

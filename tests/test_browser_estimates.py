"""In Chromium: a large store's first Customers or Cohorts view under a filter set is the orders sample's estimate,
said so, and the page redraws itself with the exact figures once they are counted (ui.data.customer_views_now,
cohort_matrix_now).

The store is the demo at 10,000 customers with a sample of 1 in 2 (SAMPLE_ONE_IN patched for the import); the
server treats it as large (REPURCHASE_ESTIMATE_FROM_ORDERS=1)."""

import pytest
from playwright.sync_api import expect

from browser_support import ARTIFACTS, browser, page, start_server, wait_for_app  # noqa: F401
from metrics.due import due_for_repurchase
from metrics.filters import Filters
from store import Store
from store.models import orders as order_models
from ui.data import ESTIMATE_FROM_ORDERS_ENV

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def sampled_store(tmp_path_factory) -> Store:
    from ingest.demo import write_demo
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("estimates")
    store = Store(root / "store")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(order_models, "SAMPLE_ONE_IN", 2)
        import_file(write_demo(root / "files", customers=10_000)["orders"], store)
        with store.lock():  # the late tables, the sample among them, are built after publishing
            pass
    return store


@pytest.fixture(scope="module")
def estimating_server(sampled_store):
    url, process = start_server(sampled_store.root, "serve.py", env={ESTIMATE_FROM_ORDERS_ENV: "1"})
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_the_first_filtered_view_is_an_estimate_then_the_exact_figures_replace_it(estimating_server, sampled_store,
                                                                                 page):
    due = len(due_for_repurchase(sampled_store.connect(), Filters(channel=("app",))))
    notice = page.get_by_text("Estimated from a sample of 1 in 2 customers")
    with sampled_store.lock():  # as while an upload is written: the exact count waits for it (0.3 s here otherwise)
        page.goto(f"{estimating_server}/customers?channel=app")
        wait_for_app(page)
        expect(notice).to_be_visible(timeout=30_000)
        expect(page.get_by_text("Due for repurchase: about")).to_be_visible()
        expect(page.get_by_text("The list of customers due appears with the exact figures.")).to_be_visible()
        page.wait_for_timeout(3_000)  # the page's check has run at least once: still counting, still the estimate
        expect(notice).to_be_visible()
        page.screenshot(path=str(ARTIFACTS / "customers_estimate.png"), full_page=True)

    # nobody clicks: the page checks every two seconds and redraws itself once the exact figures are kept
    expect(notice).to_have_count(0, timeout=60_000)
    expect(page.get_by_text(f"Due for repurchase: {due:,} customers", exact=True)).to_be_visible()
    expect(page.get_by_text("Due for repurchase: about")).to_have_count(0)
    assert page.url.endswith("/customers?channel=app")
    page.screenshot(path=str(ARTIFACTS / "customers_exact.png"), full_page=True)



def test_the_cohorts_page_redraws_itself_with_the_exact_matrix(estimating_server, sampled_store, page):
    notice = page.get_by_text("Estimated from a sample of 1 in 2 customers")
    with sampled_store.lock():
        page.goto(f"{estimating_server}/cohorts?channel=web")
        wait_for_app(page)
        expect(notice).to_be_visible(timeout=30_000)
        expect(page.get_by_text("in the smallest cohort not marked small")).to_be_visible()
        expect(page.locator(".js-plotly-plot").first).to_be_visible()  # the heatmap, drawn from the estimate
        page.screenshot(path=str(ARTIFACTS / "cohorts_estimate.png"), full_page=True)
    expect(notice).to_have_count(0, timeout=60_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    assert page.url.endswith("/cohorts?channel=web")

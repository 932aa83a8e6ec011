"""The dashboard with the HTTP rules Streamlit's settings cannot express (ui/guard.py).

    .venv/bin/python -m streamlit run serve.py      # as `make run` does

`dashboard.py` is the app itself; running it directly (`streamlit run dashboard.py`) works too,
but without these rules: /_stcore/metrics open, uploads accepted from any session, no anti-framing
headers. See docs/security.md. At server start it also imports the modules the pages use and starts the
store's warm-up, which the first page view would otherwise wait for.
"""

import logging
from contextlib import asynccontextmanager

from starlette.middleware import Middleware

import streamlit as st
from ui.guard import AccessGuard

# Imported at server start: a first page view waited 2-3 s for them. Their cached functions are decorated before
# Streamlit's runtime exists, so Streamlit would warn once per function that it checks their cache settings without
# it (the caches themselves are made at their first call, in the runtime): 22 lines of noise in the server's log.
_cache_log = logging.getLogger("streamlit.runtime.caching.cache_data_api")
_level = _cache_log.level
_cache_log.setLevel(logging.ERROR)
from ui import charts, data, tables  # noqa: E402, F401
_cache_log.setLevel(_level)


@asynccontextmanager
async def ready_before_first_view(_app):
    """At server start, the store's warm-up (`ui.data.warm_up_current_store`, in the background), which the first
    page view would otherwise start beside its own queries."""
    try:
        data.warm_up_current_store()
    except Exception:  # noqa: BLE001 - the first page view starts it again and says what is wrong
        logging.getLogger(__name__).exception("starting the store's warm-up at server start failed")
    yield


app = st.App("dashboard.py", middleware=[Middleware(AccessGuard)], lifespan=ready_before_first_view)

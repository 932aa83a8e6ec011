"""The dashboard with the HTTP rules Streamlit's settings cannot express (ui/guard.py).

    .venv/bin/python -m streamlit run serve.py      # as `make run` does

`dashboard.py` is the app itself; running it directly (`streamlit run dashboard.py`) works too,
but without these rules: /_stcore/metrics open, uploads accepted from any session, no anti-framing
headers. See docs/security.md.
"""

from starlette.middleware import Middleware

import streamlit as st
from ui.guard import AccessGuard

app = st.App("dashboard.py", middleware=[Middleware(AccessGuard)])

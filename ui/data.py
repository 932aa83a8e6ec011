"""Cached access to the store for the pages.

Every cached result is keyed by the store folder and its manifest version, so an upload or a
removed batch invalidates exactly the results computed on the previous version, and nothing else.
"""

import streamlit as st

from metrics.inventory import store_inventory
from store import Store, default_store_dir


def current_store() -> Store:
    """The store at $REPURCHASE_STORE or data/store, read afresh on every run (a path, no state)."""
    return Store(default_store_dir())


def store_version(store: Store) -> int:
    return store.manifest()["version"]


@st.cache_data(show_spinner=False, max_entries=16)
def inventory(root: str, version: int) -> dict:
    """Row counts and date range of the store at `root`, version `version`."""
    con = Store(root).connect()
    try:
        return store_inventory(con)
    finally:
        con.close()

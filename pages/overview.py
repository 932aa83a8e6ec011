"""Overview: what the store holds (the KPI tiles arrive with the metric layer)."""

import streamlit as st

from ui.data import current_store, inventory, store_version

st.title("Repurchase KPIs")
store = current_store()
version = store_version(store)
facts = inventory(str(store.root), version)

if not facts["orders"]:
    st.info(
        "The store is empty. Load the demo data with `make demo`, or import an export with "
        "`python -m ingest FILE`."
    )
    st.stop()

st.caption(
    f"Store version {version} · orders from {facts['first_order']:%Y-%m-%d} "
    f"to {facts['last_order']:%Y-%m-%d}"
)
tiles = st.columns(4)
tiles[0].metric("Orders", f"{facts['orders']:,}", help="All stored orders, any status.")
tiles[1].metric("Valid orders", f"{facts['valid_orders']:,}", help="Orders with status valid; only these count in metrics.")
tiles[2].metric("Customers", f"{facts['customers']:,}", help="Distinct identified customers with a valid order.")
tiles[3].metric("Guest orders", f"{facts['guest_orders']:,}", help="Orders without a customer id.")

st.subheader("Stored batches")
st.dataframe(
    [
        {"file": b["file"], "kind": b["kind"], "imported": b["imported_at"],
         "accepted": b.get("orders_accepted", b.get("rows_accepted")), "rejected": b["rows_rejected"],
         "live orders": b.get("orders_live")}
        for b in store.batches()
    ],
    hide_index=True,
    key="batches_table",
)

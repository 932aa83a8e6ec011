"""The store's models: SQL text builders for the base models (orders, customers, assignments...) and
the summaries precomputed at every change, the SQL dialect helpers, and the registry that orders
their build and says which requests a summary can answer (`store.models.registry`).

Pure SQL builders: nothing here imports metrics, ingest or the UI.
"""

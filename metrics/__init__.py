"""Metric functions: a DuckDB connection over the store plus filters in, small pandas frames out.

The SQL of the base models and summaries they read is in `store.models`; each function asks
`store.models.registry.source_for` whether a summary answers its request. No Streamlit here.
"""

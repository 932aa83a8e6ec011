"""Metric functions: a DuckDB connection over the store plus filters in, small pandas frames out.

All metric SQL lives in this package, one module per family; no Streamlit here.
"""

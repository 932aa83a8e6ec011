"""Streamlit helpers shared by the pages: cached data access, formatting, language."""

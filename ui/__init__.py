"""Streamlit glue for the metacore workbench: state, forms, progress and views.

This package and ``app_pages/`` are the only code that imports streamlit.
"""

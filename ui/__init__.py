"""Streamlit glue for the metacore workbench: state, forms, progress and views.

This package and ``pages/`` are the only code that imports streamlit.
"""

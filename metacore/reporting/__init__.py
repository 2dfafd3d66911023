"""RunResult -> pandas tables -> Plotly figures (no streamlit here)."""

from __future__ import annotations

from metacore.reporting.figures import TEMPLATE, all_figures, method_color
from metacore.reporting.tables import leaderboard, misclassified, per_class_table

__all__ = [
    "TEMPLATE",
    "all_figures",
    "leaderboard",
    "method_color",
    "misclassified",
    "per_class_table",
]

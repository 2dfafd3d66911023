"""Which column holds the texts and which the labels: known names first, then the content.

Also whether a file's first row names its columns, since that uses the same known names.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from metacore.data.findings import Finding, error
from metacore.messages import msg

TEXT_NAMES = (
    "text", "sentence", "content", "utterance", "review", "query", "document", "body",
    "review_text", "文本", "内容", "句子",
)  # fmt: skip
LABEL_NAMES = (
    "label", "labels", "category", "intent", "class", "target", "sentiment", "topic",
    "标签", "类别",
)  # fmt: skip
# Columns that never hold the text or the label, whatever their content looks like.
ID_NAMES = frozenset({"id", "idx", "index", "row", "row_id", "split", "fold", "set"})
_SHOWN_COLUMNS = 20  # messages list the first columns of a file


def norm_name(name: object) -> str:
    return str(name).strip().lower().replace(" ", "_").replace("-", "_")


def has_header(rows: Sequence[Sequence[str]], *, default: bool = True) -> bool:
    """Decide whether the first row names the columns.

    A known column name in the first row means a header. Otherwise the first row
    is data when one of its cells repeats as a value further down (labels repeat,
    column names do not). Without either clue, ``default`` decides: plain .txt
    files are usually header-less `text<TAB>label` lines, other formats have headers.
    """
    known = set(TEXT_NAMES) | set(LABEL_NAMES) | ID_NAMES
    first = rows[0] if rows else []
    if any(norm_name(cell) in known for cell in first):
        return True
    # (column, value) pairs below the first row: one pass over the cells, however wide.
    width = len(first)
    below = {(j, cell.strip()) for r in rows[1:] for j, cell in enumerate(r[:width])}
    if any(cell.strip() and (j, cell.strip()) in below for j, cell in enumerate(first)):
        return False
    return default


def _by_name(columns: Sequence[str], names: Sequence[str], exclude: set[str]) -> str | None:
    """First column (in the priority order of ``names``) whose normalised name matches."""
    normalised = {norm_name(c): c for c in reversed(columns) if c not in exclude}
    for wanted in names:
        if wanted in normalised:
            return normalised[wanted]
    return None


def _candidates(frame: pd.DataFrame, exclude: set[str]) -> dict[str, pd.Series]:
    """Non-empty values (first 5,000 rows) of columns that could hold text or labels."""
    result: dict[str, pd.Series] = {}
    for column in frame.columns:
        name = norm_name(column)
        if column in exclude or name in ID_NAMES or name.startswith("unnamed"):
            continue
        values = frame[column].head(5000).dropna().astype(str).str.strip()
        values = values[values != ""]
        if not values.empty:
            result[column] = values
    return result


def _guess_text(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """The mostly non-numeric column with the longest mean length."""
    best, best_len = None, 0.0
    for column, values in _candidates(frame, exclude).items():
        if pd.to_numeric(values, errors="coerce").notna().mean() >= 0.5:
            continue
        mean_len = float(values.str.len().mean())
        if mean_len > best_len:
            best, best_len = column, mean_len
    return best


def _guess_label(frame: pd.DataFrame, exclude: set[str]) -> str | None:
    """The column with the fewest distinct values relative to its rows."""
    candidates = _candidates(frame, exclude)
    ratios = {c: v.nunique() / len(v) for c, v in candidates.items()}
    if not ratios:
        return None
    best = min(ratios, key=lambda c: ratios[c])
    # With a single remaining column we take it; otherwise it must really repeat.
    return best if len(ratios) == 1 or ratios[best] <= 0.5 else None


def detect_columns(frame: pd.DataFrame) -> tuple[str | None, str | None, bool]:
    """Find the text and label columns.

    Known names (case-insensitive, e.g. "text", "sentence", "utterance", "文本" and
    "label", "intent", "category", "标签") win; otherwise the text column is the
    mostly non-numeric column with the longest mean length and the label column the
    one with the fewest distinct values relative to its rows.

    Args:
        frame: A raw frame from :func:`~metacore.data.readers.read_table`.

    Returns:
        (text column, label column, confident); confident is False when either
        column was guessed from its content. Columns not found are None.
    """
    columns = [str(c) for c in frame.columns]
    text = _by_name(columns, TEXT_NAMES, set())
    label = _by_name(columns, LABEL_NAMES, {text} if text else set())
    confident = text is not None and label is not None
    if text is None:
        text = _guess_text(frame, {label} if label else set())
    if label is None and text is not None:
        label = _guess_label(frame, {text})
    return text, label, confident


def match_column(frame: pd.DataFrame, wanted: str) -> str | None:
    """Exact column match first, then a unique case-insensitive one."""
    if wanted in frame.columns:
        return wanted
    matches = [c for c in frame.columns if norm_name(c) == norm_name(wanted)]
    return matches[0] if len(matches) == 1 else None


def _shown_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns[:_SHOWN_COLUMNS]]


def _explicit_column(
    frame: pd.DataFrame, wanted: str, role: str
) -> tuple[str | None, list[Finding]]:
    """Resolve a user-chosen column, or explain which columns exist."""
    found = match_column(frame, wanted)
    if found is not None:
        return found, []
    existing = _shown_columns(frame) or msg("term.none")
    return None, [error("column_not_found", column=wanted, role=msg(f"term.role.{role}"),
                        columns=existing)]


def choose_columns(
    frame: pd.DataFrame, text_col: str | None, label_col: str | None
) -> tuple[str | None, str | None, list[Finding]]:
    """Combine explicit choices with detection and report what could not be found."""
    findings: list[Finding] = []
    guessed_text, guessed_label, confident = detect_columns(frame)
    text, label = guessed_text, guessed_label
    if text_col is not None:
        text, more = _explicit_column(frame, text_col, "texts")
        findings += more
    if label_col is not None:
        label, more = _explicit_column(frame, label_col, "labels")
        findings += more
    if findings:
        return None, None, findings
    if label_col is None and label == text and text is not None:
        label = _guess_label(frame, {text})
    if text_col is None and text == label and label is not None:
        text = _guess_text(frame, {label})
    explicit = text_col is not None and label_col is not None
    return text, label, _column_problems(frame, text, label, confident or explicit)


def _column_problems(
    frame: pd.DataFrame, text: str | None, label: str | None, confident: bool
) -> list[Finding]:
    """Errors for missing columns and a warning when columns were guessed."""
    if text is None:
        return [error("no_text_column", columns=_shown_columns(frame))]
    if label is None:  # a file of one column has no other column to choose: say what to add
        wording = "one" if len(frame.columns) == 1 else ""
        return [error("no_label_column", wording, columns=_shown_columns(frame))]
    if text == label:
        return [error("same_column", column=text)]
    if not confident:
        return [Finding("warning", "columns_guessed", {"text": text, "label": label})]
    return []

"""Checks that turn data problems into plain-language findings instead of tracebacks.

Every check returns :class:`Finding` objects. Errors stop a run (see
:func:`require_usable`); warnings and infos are shown to the user but do not.
Row numbers in findings are the line (or sheet row) numbers of the uploaded file,
counting a header line as line 1, so a user can find them in an editor.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

import pandas as pd

from metacore.data.dataset import canonical_splits

if TYPE_CHECKING:
    from metacore.data.loading import LoadedData
    from metacore.data.splits import Split

LEVELS = ("error", "warning", "info")
MAX_FINDING_ROWS = 20
# Spellings of "no value" that spreadsheets and pandas exports write into cells.
MISSING_TOKENS = frozenset({"", "nan", "none", "null", "n/a", "#n/a", "<na>"})
# Leading "=" or "@", or "+"/"-" followed by a function-like word: what spreadsheet
# programs would execute if the data were exported and opened again (CSV injection).
_FORMULA_RE = re.compile(r"^\s*(?:[=@]|[+-]\s*[A-Za-z_][\w.]*\s*[(|!])")


@dataclass(frozen=True)
class Finding:
    """One problem or remark about the data.

    Attributes:
        level: "error" (the run cannot go on), "warning" or "info".
        code: Stable snake_case identifier, e.g. "single_class".
        message: One sentence for a non-programmer that says what to do.
        rows: Affected file row numbers (1-based, header = 1), at most 20.
        count: How many rows (or items) are affected in total.
    """

    level: str
    code: str
    message: str
    rows: tuple[int, ...] = ()
    count: int = 0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {LEVELS}, not {self.level!r}")
        object.__setattr__(self, "rows", tuple(int(r) for r in self.rows[:MAX_FINDING_ROWS]))

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "rows": list(self.rows),
            "count": self.count,
        }


@dataclass(frozen=True)
class Limits:
    """Size limits that keep memory bounded.

    Attributes:
        max_file_bytes: Larger files are refused before they are parsed.
        max_rows: More data rows than this is an error.
        max_classes: More distinct labels than this is an error.
        max_text_chars: Longer texts are truncated, with a warning.
    """

    # 50 MB: loading peaks at about 4x the file size (tests/reliability measure it), and a
    # workshop server holds many uploads at once; 200 000 rows of 250 characters fit.
    max_file_bytes: int = 50 * 1024**2
    max_rows: int = 200_000
    max_classes: int = 500
    max_text_chars: int = 2_000

    def to_dict(self) -> dict:
        """Return a JSON-serialisable dict."""
        return asdict(self)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Limits:
        """The defaults, changed by whoever runs the server or the CLI through env vars.

        ``METACORE_MAX_FILE_MB`` (may be fractional), ``METACORE_MAX_ROWS``,
        ``METACORE_MAX_CLASSES`` and ``METACORE_MAX_TEXT_CHARS``; unset or empty keeps the
        default. Both the app and the CLI load data with these limits.

        Raises:
            ValueError: If a variable is not a positive number (one sentence naming it).
        """
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for name, (key, scale) in _LIMIT_VARS.items():
            text = (env.get(name) or "").strip()
            if not text:
                continue
            try:
                number = float(text) * scale
            except ValueError:
                number = 0.0
            if not number >= 1:  # also refuses nan
                raise ValueError(f"{name} must be a positive number, not {text!r}.")
            values[key] = int(number)
        return cls(**values)


# Environment variable -> (Limits field, multiplier to the field's unit).
_LIMIT_VARS = {
    "METACORE_MAX_FILE_MB": ("max_file_bytes", 1024**2),
    "METACORE_MAX_ROWS": ("max_rows", 1),
    "METACORE_MAX_CLASSES": ("max_classes", 1),
    "METACORE_MAX_TEXT_CHARS": ("max_text_chars", 1),
}


class DataError(ValueError):
    """Raised with one clear sentence when the data cannot be used."""


def finding_for_rows(level: str, code: str, message: str, rows: pd.Index) -> Finding:
    """Build a finding whose rows come from a frame index of file row numbers.

    Row numbers are not repeated in the message: interfaces show ``rows`` next to it.

    Args:
        level: Finding level.
        code: Finding code.
        message: The sentence for the user.
        rows: The affected index labels (file row numbers), in file order.

    Returns:
        The finding, with the first 20 rows and the total count.
    """
    return Finding(level, code, message, tuple(int(r) for r in rows[:MAX_FINDING_ROWS]), len(rows))


def agree(n: int, one: str, many: str) -> str:
    """Prefix a count to the matching phrase: agree(1, "row has", "rows have") -> "1 row has"."""
    return f"{n:,} {one if n == 1 else many}"


def quote_list(items: Sequence[str], limit: int = 5) -> str:
    """Quote and join up to ``limit`` items for a message ("'a', 'b' and 3 more")."""
    shown = [repr(str(i)) for i in items[:limit]]
    more = len(items) - len(shown)
    if more > 0:
        return ", ".join(shown) + f" and {more:,} more"
    return " and ".join([", ".join(shown[:-1]), shown[-1]]) if len(shown) > 1 else "".join(shown)


def _is_missing(values: pd.Series) -> pd.Series:
    """Return a mask of cells that are NaN, blank or a spreadsheet "no value" token."""
    as_text = values.astype(object).where(values.notna(), "").astype(str)
    return as_text.str.strip().str.lower().isin(MISSING_TOKENS).astype(bool)


def clean_labels(frame: pd.DataFrame, label_column: str) -> tuple[pd.DataFrame, list[Finding]]:
    """Strip labels and drop rows without one.

    Args:
        frame: Columns "text" and "label", index = file row numbers.
        label_column: Original label column name, for messages.

    Returns:
        The frame without unlabelled rows, and the findings.
    """
    findings: list[Finding] = []
    missing = _is_missing(frame["label"])
    if missing.all():
        msg = (
            f"No row has a label in column '{label_column}'; "
            "fill in the labels or pick the right label column."
        )
        return frame.iloc[0:0], [Finding("error", "all_labels_missing", msg, (), len(frame))]
    if missing.any():
        msg = (
            f"{agree(int(missing.sum()), 'row has', 'rows have')} no label and will not be "
            "used; fill in the missing labels if those rows matter."
        )
        findings.append(finding_for_rows("warning", "missing_labels", msg, frame.index[missing]))
    frame = frame.loc[~missing].copy()
    raw = frame["label"].astype(str)
    stripped = raw.str.strip()
    padded = raw != stripped
    if padded.any():
        example = raw[padded].iloc[0]
        msg = (
            f"Spaces around labels were removed in {agree(int(padded.sum()), 'row', 'rows')} "
            f"(for example {example!r} became {example.strip()!r}); nothing needs to be done."
        )
        findings.append(finding_for_rows("info", "label_whitespace", msg, frame.index[padded]))
    frame["label"] = stripped
    return frame, findings


def clean_texts(frame: pd.DataFrame, limits: Limits) -> tuple[pd.DataFrame, list[Finding]]:
    """Drop empty texts and truncate very long ones.

    Args:
        frame: Columns "text" and "label", index = file row numbers.
        limits: Provides ``max_text_chars``.

    Returns:
        The cleaned frame and the findings.
    """
    findings: list[Finding] = []
    empty = _is_missing(frame["text"])
    if empty.any():
        msg = (
            f"{agree(int(empty.sum()), 'row has', 'rows have')} an empty text and will not be "
            "used; add the texts if those rows matter."
        )
        findings.append(finding_for_rows("warning", "empty_texts", msg, frame.index[empty]))
    frame = frame.loc[~empty].copy()
    frame["text"] = frame["text"].astype(str)
    too_long = frame["text"].str.len() > limits.max_text_chars
    if too_long.any():
        msg = (
            f"{agree(int(too_long.sum()), 'text is', 'texts are')} longer than "
            f"{limits.max_text_chars:,} characters and only the first {limits.max_text_chars:,} "
            "are used; shorten them yourself if the end matters."
        )
        findings.append(finding_for_rows("warning", "texts_truncated", msg, frame.index[too_long]))
        frame.loc[too_long, "text"] = frame.loc[too_long, "text"].str.slice(
            0, limits.max_text_chars
        )
    return frame, findings


def formula_findings(frame: pd.DataFrame) -> list[Finding]:
    """Warn about cells that a spreadsheet program would run as a formula.

    Args:
        frame: Columns "text" and "label", index = file row numbers.

    Returns:
        A "formula_cells" warning, or nothing.
    """
    # A pattern string (not the compiled object) lets pandas use pyarrow's fast regex.
    pattern = _FORMULA_RE.pattern
    mask = frame["text"].str.match(pattern) | frame["label"].str.match(pattern)
    if not mask.any():
        return []
    msg = (
        f"{agree(int(mask.sum()), 'cell starts', 'cells start')} like a spreadsheet formula "
        "(such as '=cmd|...'); such cells are used as plain text here, but do not open exports "
        "of this data in Excel unless you trust the file."
    )
    return [finding_for_rows("warning", "formula_cells", msg, frame.index[mask.to_numpy()])]


def duplicate_findings(frame: pd.DataFrame) -> list[Finding]:
    """Warn about repeated rows and texts that carry conflicting labels.

    Args:
        frame: Columns "text" and "label", index = file row numbers.

    Returns:
        "duplicate_rows" and/or "conflicting_labels" warnings.
    """
    findings: list[Finding] = []
    repeats = frame.duplicated(["text", "label"], keep="first")
    if repeats.any():
        msg = (
            f"{agree(int(repeats.sum()), 'row repeats', 'rows repeat')} an earlier row exactly; "
            "copies are kept but can end up in both training and test data, so remove them "
            "if they are accidental."
        )
        findings.append(finding_for_rows("warning", "duplicate_rows", msg, frame.index[repeats]))
    n_labels = frame.groupby("text", sort=False)["label"].transform("nunique")
    conflict = n_labels > 1
    if conflict.any():
        first = frame.loc[conflict].iloc[0]
        labels = sorted(frame.loc[frame["text"] == first["text"], "label"].unique())
        snippet = first["text"][:60]
        msg = (
            f"{agree(int(conflict.sum()), 'row shares', 'rows share')} a text with a "
            "different label (for example "
            f"{snippet!r} is labelled {quote_list(labels)}); fix the labels, because a "
            "model cannot learn both."
        )
        rows = frame.index[conflict]
        findings.append(finding_for_rows("warning", "conflicting_labels", msg, rows))
    return findings


def _numeric_label_findings(counts: pd.Series, label_column: str) -> list[Finding]:
    """Say whether numeric labels look like class ids (fine) or like measurements (suspicious)."""
    values = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce")
    if values.isna().any():
        return []
    fractional = bool((values % 1 != 0).any())
    many = len(counts) > 50 and len(counts) > 0.5 * int(counts.sum())
    if (fractional and len(counts) >= 5) or many:
        msg = (
            f"The label column '{label_column}' looks like a number, not a class "
            f"({len(counts):,} different values such as {quote_list(list(counts.index), 3)}); "
            "pick a column that names categories."
        )
        return [Finding("warning", "float_labels", msg, (), int(counts.sum()))]
    msg = "All labels are numbers; they are treated as class names, which is fine."
    return [Finding("info", "numeric_labels", msg, (), int(counts.sum()))]


def _case_variant_findings(frame: pd.DataFrame) -> list[Finding]:
    """Warn about labels that differ only in letter case or inner spacing."""
    classes = pd.Series(frame["label"].unique())
    keys = classes.str.casefold().str.replace(r"\s+", " ", regex=True)
    groups = [sorted(g) for _, g in classes.groupby(keys.to_numpy()) if len(g) > 1]
    if not groups:
        return []
    variants = {label for group in groups for label in group}
    mask = frame["label"].isin(variants)
    shown = "; ".join(" and ".join(repr(x) for x in g) for g in groups[:3])
    more = f" (and {len(groups) - 3} more groups)" if len(groups) > 3 else ""
    msg = (
        f"{shown}{more} look like the same class but differ in capital letters or spaces; "
        "they are kept apart, so fix the file if they should be one."
    )
    return [finding_for_rows("warning", "label_case_variants", msg, frame.index[mask.to_numpy()])]


def class_findings(frame: pd.DataFrame, limits: Limits, label_column: str) -> list[Finding]:
    """Check the number and size of classes.

    Args:
        frame: Cleaned frame with columns "text" and "label", index = file row numbers.
        limits: Provides ``max_classes``.
        label_column: Original label column name, for messages.

    Returns:
        Findings about classes.
    """
    counts = frame["label"].value_counts()
    if len(counts) == 1:
        msg = (
            f"Every row has the same label ({counts.index[0]!r}); a classifier needs at least "
            "two classes, so add examples of other classes or pick another label column."
        )
        return [Finding("error", "single_class", msg, (), len(frame))]
    if len(counts) > limits.max_classes:
        msg = (
            f"The file has {len(counts):,} different labels, more than the limit of "
            f"{limits.max_classes:,}; check that '{label_column}' is the label column or "
            "merge rare classes."
        )
        return [Finding("error", "too_many_classes", msg, (), len(frame))]
    numeric = _numeric_label_findings(counts, label_column)
    if numeric and numeric[0].code == "float_labels":
        return numeric  # per-class remarks would only repeat that each number is rare
    findings = _case_variant_findings(frame)
    singles = list(counts.index[counts == 1])
    if singles:
        mask = frame["label"].isin(singles)
        msg = (
            f"{agree(len(singles), 'class has', 'classes have')} only one example "
            f"({quote_list(singles)}) and cannot appear in both training and test data; "
            "add more examples."
        )
        rows = frame.index[mask.to_numpy()]
        findings.append(finding_for_rows("warning", "tiny_class", msg, rows))
    return findings + numeric


def clean_split_column(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Strip split values and warn early about values make_split will refuse.

    Args:
        frame: Has a "split" column; index = file row numbers.

    Returns:
        The frame with a str split column, and an "unknown_split_values" warning if needed.
    """
    frame["split"] = frame["split"].astype(object).where(frame["split"].notna(), "")
    frame["split"] = frame["split"].astype(str).str.strip()
    unknown = canonical_splits(frame["split"]).isna()
    if not unknown.any():
        return frame, []
    values = sorted(set(frame.loc[unknown, "split"]))
    msg = (
        f"The split column has values {quote_list([v or '(empty)' for v in values])} that are "
        "not train, validation or test; rename them, or turn off the split column so the "
        "rows are split automatically."
    )
    rows = frame.index[unknown.to_numpy()]
    return frame, [finding_for_rows("warning", "unknown_split_values", msg, rows)]


def check_and_clean(
    frame: pd.DataFrame,
    limits: Limits,
    *,
    text_column: str = "text",
    label_column: str = "label",
) -> tuple[pd.DataFrame, list[Finding]]:
    """Clean a text/label frame and report every problem found.

    Args:
        frame: Columns "text", "label" and optionally "split"; index = file row numbers.
        limits: Size limits.
        text_column: Original text column name, for messages.
        label_column: Original label column name, for messages.

    Returns:
        The cleaned frame (index still file row numbers) and findings. An error
        finding means the frame is not usable.
    """
    frame, findings = clean_labels(frame, label_column)
    if frame.empty:
        return frame, findings
    frame, text_findings = clean_texts(frame, limits)
    findings += text_findings
    if frame.empty:
        msg = (
            f"No row has both a text in column '{text_column}' and a label; "
            "check that the right columns were chosen."
        )
        return frame, findings + [Finding("error", "no_rows", msg)]
    if "split" in frame.columns:
        frame, split_findings = clean_split_column(frame)
        findings += split_findings
    findings += formula_findings(frame)
    findings += duplicate_findings(frame)
    findings += class_findings(frame, limits, label_column)
    return frame, findings


def _k_shot_findings(frame: pd.DataFrame, k_shot: int) -> list[Finding]:
    """Warn about classes too small for K examples to train on plus one to test on."""
    has_column = "split" in frame.columns
    is_train = canonical_splits(frame["split"]) == "train" if has_column else None
    if is_train is not None and is_train.any():
        pool, need, why = frame.loc[is_train], k_shot, f"K={k_shot} training examples"
    else:
        pool, need = frame, k_shot + 1
        why = f"{need} examples, which K={k_shot} needs ({k_shot} to learn from and 1 to test on)"
    counts = pool["label"].value_counts().reindex(sorted(frame["label"].unique()), fill_value=0)
    short = counts[counts < need].sort_values()
    if short.empty:
        return []
    shown = ", ".join(f"{name!r} ({int(n)})" for name, n in short.iloc[:5].items())
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    msg = (
        f"{agree(len(short), 'class has', 'classes have')} fewer than {why}: {shown}{more}; "
        "they will use what they have, so choose a smaller K or add examples for a fair "
        "comparison."
    )
    affected = int(frame["label"].isin(short.index).sum())
    return [Finding("warning", "too_few_for_k", msg, (), affected)]


def _limit_findings(frame: pd.DataFrame, limits: Limits, present: set[str]) -> list[Finding]:
    """Re-check row and class limits when validate() is given stricter limits than loading."""
    findings: list[Finding] = []
    if "too_many_rows" not in present and len(frame) > limits.max_rows:
        msg = (
            f"The data has {len(frame):,} rows, more than the limit of {limits.max_rows:,}; "
            "use a smaller sample of the file."
        )
        findings.append(Finding("error", "too_many_rows", msg, (), len(frame)))
    n_classes = frame["label"].nunique() if "label" in frame.columns else 0
    if "too_many_classes" not in present and n_classes > limits.max_classes:
        msg = (
            f"The data has {n_classes:,} different labels, more than the limit of "
            f"{limits.max_classes:,}; merge rare classes or pick another label column."
        )
        findings.append(Finding("error", "too_many_classes", msg, (), len(frame)))
    return findings


def validate(
    data: LoadedData, *, k_shot: int | None = None, limits: Limits | None = None
) -> list[Finding]:
    """Return the findings from loading plus those that depend on the run settings.

    Args:
        data: The loaded data.
        k_shot: Examples per class the user chose, or None for "all".
        limits: Limits to re-check (row and class counts); None keeps the loading ones.

    Returns:
        All findings, loading ones first; pass them to :func:`require_usable`.

    Raises:
        ValueError: If ``k_shot`` is smaller than 1 (a programming error).
    """
    if k_shot is not None and k_shot < 1:
        raise ValueError(f"k_shot must be at least 1, not {k_shot}")
    findings = list(data.findings)
    if any(f.level == "error" for f in findings) or data.frame.empty:
        return findings
    if limits is not None:
        findings += _limit_findings(data.frame, limits, {f.code for f in findings})
    if k_shot is not None:
        findings += _k_shot_findings(data.frame, k_shot)
    return findings


def require_usable(findings: Sequence[Finding]) -> None:
    """Raise if any finding is an error.

    Args:
        findings: Findings from :func:`validate` or loading.

    Raises:
        DataError: With the first error's message.
    """
    for finding in findings:
        if finding.level == "error":
            raise DataError(finding.message)


def _overlap_finding(part: str, texts: Sequence[str], train_texts: set[str]) -> list[Finding]:
    """Warn when texts of ``part`` also occur in the training set."""
    shared = sum(1 for t in texts if t in train_texts)
    if not shared:
        return []
    code = "test_in_train" if part == "test" else "val_in_train"
    msg = (
        f"{agree(shared, part + ' text also appears', part + ' texts also appear')} in the "
        "training data, which makes results look better than they are; remove the copies "
        "from one of the two."
    )
    return [Finding("warning", code, msg, (), shared)]


def cross_split_findings(split: Split) -> list[Finding]:
    """Compare the parts of a split: shared texts and classes seen on one side only.

    Args:
        split: A split from :func:`metacore.data.splits.make_split`.

    Returns:
        "test_in_train", "val_in_train", "test_unseen_classes" and
        "train_classes_missing_from_test" warnings.
    """
    train_texts = set(split.train.texts)
    findings = _overlap_finding("test", split.test.texts, train_texts)
    if split.val is not None:
        findings += _overlap_finding("validation", split.val.texts, train_texts)
    train_classes = set(split.train.labels)
    unseen = sorted(set(split.test.labels) - train_classes)
    if unseen:
        unseen_set = set(unseen)
        n_rows = sum(1 for lab in split.test.labels if lab in unseen_set)
        msg = (
            f"The test data has {agree(n_rows, 'row', 'rows')} with classes that never appear "
            "in training "
            f"({quote_list(unseen)}); they will always count as wrong, so add training "
            "examples for them or remove them from the test data."
        )
        findings.append(Finding("warning", "test_unseen_classes", msg, (), n_rows))
    absent = sorted(train_classes - set(split.test.labels))
    if absent:
        msg = (
            "The test data has no examples of "
            f"{agree(len(absent), 'training class', 'training classes')} "
            f"({quote_list(absent)}), so their accuracy cannot be measured; "
            "add test rows if it matters."
        )
        code = "train_classes_missing_from_test"
        findings.append(Finding("warning", code, msg, (), len(absent)))
    return findings

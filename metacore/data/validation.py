"""Checks that turn data problems into plain-language findings instead of tracebacks.

Every check returns :class:`Finding` objects. Errors stop a run (see
:func:`require_usable`); warnings and infos are shown to the user but do not.
Row numbers in findings are the line (or sheet row) numbers of the uploaded file,
counting a header line as line 1, so a user can find them in an editor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import pandas as pd

from metacore.data.dataset import canonical_splits
from metacore.data.findings import DataError, Finding, finding_for_rows
from metacore.data.limits import Limits
from metacore.messages import listing, msg

if TYPE_CHECKING:
    from metacore.data.loading import LoadedData
    from metacore.data.splits import Split

# DataError, Finding and Limits have their own modules, so that every module of metacore.data
# can import them without importing this one; they are importable from here too.
__all__ = ["DataError", "Finding", "Limits", "check_and_clean", "cross_split_findings",
           "finding_for_rows", "require_usable", "validate"]

# Spellings of "no value" that spreadsheets and pandas exports write into cells.
MISSING_TOKENS = frozenset({"", "nan", "none", "null", "n/a", "#n/a", "<na>"})
# Leading "=" or "@", or "+"/"-" followed by a function-like word: what spreadsheet
# programs would execute if the data were exported and opened again (CSV injection).
_FORMULA_RE = re.compile(r"^\s*(?:[=@]|[+-]\s*[A-Za-z_][\w.]*\s*[(|!])")


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
        params = {"column": label_column}
        return frame.iloc[0:0], [Finding("error", "all_labels_missing", params, (), len(frame))]
    if missing.any():
        params = {"n": int(missing.sum())}
        findings.append(finding_for_rows("warning", "missing_labels", params,
                                         frame.index[missing]))
    frame = frame.loc[~missing].copy()
    raw = frame["label"].astype(str)
    stripped = raw.str.strip()
    padded = raw != stripped
    if padded.any():
        example = raw[padded].iloc[0]
        params = {"n": int(padded.sum()), "before": example, "after": example.strip()}
        findings.append(finding_for_rows("info", "label_whitespace", params,
                                         frame.index[padded]))
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
        params = {"n": int(empty.sum())}
        findings.append(finding_for_rows("warning", "empty_texts", params, frame.index[empty]))
    frame = frame.loc[~empty].copy()
    frame["text"] = frame["text"].astype(str)
    too_long = frame["text"].str.len() > limits.max_text_chars
    if too_long.any():
        params = {"n": int(too_long.sum()), "limit": limits.max_text_chars}
        findings.append(finding_for_rows("warning", "texts_truncated", params,
                                         frame.index[too_long]))
        frame.loc[too_long, "text"] = frame.loc[too_long, "text"].str.slice(
            0, limits.max_text_chars
        )
    return frame, findings


def remove_nul(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[Finding]]:
    """Remove NUL characters from texts and labels, naming the rows that had them.

    A NUL byte in the first 8 KB makes the file binary (``not_text``); one further on, or a
    ``\\u0000`` in JSON, would otherwise go silently into a text.

    Args:
        frame: Columns "text" and "label" (str), index = file row numbers.

    Returns:
        The frame without NUL characters and a "nul_characters" warning, or nothing.
    """
    has_nul = frame["text"].str.contains("\x00", regex=False) | frame["label"].str.contains(
        "\x00", regex=False
    )
    if not has_nul.any():
        return frame, []
    frame = frame.copy()
    for column in ("text", "label"):
        frame.loc[has_nul, column] = frame.loc[has_nul, column].str.replace("\x00", "",
                                                                             regex=False)
    params = {"n": int(has_nul.sum())}
    return frame, [finding_for_rows("warning", "nul_characters", params,
                                    frame.index[has_nul.to_numpy()])]


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
    params = {"n": int(mask.sum())}
    return [finding_for_rows("warning", "formula_cells", params, frame.index[mask.to_numpy()])]


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
        params = {"n": int(repeats.sum())}
        findings.append(finding_for_rows("warning", "duplicate_rows", params,
                                         frame.index[repeats]))
    n_labels = frame.groupby("text", sort=False)["label"].transform("nunique")
    conflict = n_labels > 1
    if conflict.any():
        first = frame.loc[conflict].iloc[0]
        labels = sorted(frame.loc[frame["text"] == first["text"], "label"].unique())
        params = {"n": int(conflict.sum()), "text": first["text"][:60],
                  "labels": listing(labels)}
        rows = frame.index[conflict]
        findings.append(finding_for_rows("warning", "conflicting_labels", params, rows))
    return findings


def _numeric_label_findings(counts: pd.Series, label_column: str) -> list[Finding]:
    """Say whether numeric labels look like class ids (fine) or like measurements (suspicious)."""
    values = pd.to_numeric(pd.Series(counts.index, dtype=object), errors="coerce")
    if values.isna().any():
        return []
    fractional = bool((values % 1 != 0).any())
    many = len(counts) > 50 and len(counts) > 0.5 * int(counts.sum())
    if (fractional and len(counts) >= 5) or many:
        params = {"column": label_column, "count": len(counts),
                  "values": listing(list(counts.index), 3)}
        return [Finding("warning", "float_labels", params, (), int(counts.sum()))]
    return [Finding("info", "numeric_labels", {}, (), int(counts.sum()))]


def _case_variant_findings(frame: pd.DataFrame) -> list[Finding]:
    """Warn about labels that differ only in letter case or inner spacing."""
    classes = pd.Series(frame["label"].unique())
    keys = classes.str.casefold().str.replace(r"\s+", " ", regex=True)
    groups = [sorted(g) for _, g in classes.groupby(keys.to_numpy()) if len(g) > 1]
    if not groups:
        return []
    variants = {label for group in groups for label in group}
    mask = frame["label"].isin(variants)
    shown = [list(g) for g in groups[:3]]
    params = (msg("finding.label_case_variants-more", groups=shown, more=len(groups) - 3)
              if len(groups) > 3 else {"groups": shown})
    rows = frame.index[mask.to_numpy()]
    return [finding_for_rows("warning", "label_case_variants", params, rows)]


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
        params = {"label": counts.index[0]}
        return [Finding("error", "single_class", params, (), len(frame))]
    if len(counts) > limits.max_classes:
        params = {"n": len(counts), "limit": limits.max_classes, "column": label_column}
        return [Finding("error", "too_many_classes", params, (), len(frame))]
    numeric = _numeric_label_findings(counts, label_column)
    if numeric and numeric[0].code == "float_labels":
        return numeric  # per-class remarks would only repeat that each number is rare
    findings = _case_variant_findings(frame)
    singles = list(counts.index[counts == 1])
    if singles:
        mask = frame["label"].isin(singles)
        params = {"n": len(singles), "classes": listing(singles)}
        rows = frame.index[mask.to_numpy()]
        findings.append(finding_for_rows("warning", "tiny_class", params, rows))
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
    params = {"values": listing([v or msg("term.empty") for v in values])}
    rows = frame.index[unknown.to_numpy()]
    return frame, [finding_for_rows("warning", "unknown_split_values", params, rows)]


def check_and_clean(
    frame: pd.DataFrame,
    limits: Limits,
    *,
    text_column: str = "text",
    label_column: str = "label",
    multi: str | None = None,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Clean a text/label frame and report every problem found.

    Args:
        frame: Columns "text", "label" and optionally "split"; index = file row numbers.
        limits: Size limits.
        text_column: Original text column name, for messages.
        label_column: Original label column name, for messages.
        multi: For multi-label rows (canonical label lists), the format they were read in.

    Returns:
        The cleaned frame (index still file row numbers) and findings. An error
        finding means the frame is not usable.
    """
    frame, findings = clean_labels(frame, label_column)
    if frame.empty:
        return frame, findings
    frame, text_findings = clean_texts(frame, limits)
    findings += text_findings
    frame, nul = remove_nul(frame)
    findings += nul
    if frame.empty:
        return frame, findings + [Finding("error", "no_rows", {"column": text_column})]
    if "split" in frame.columns:
        frame, split_findings = clean_split_column(frame)
        findings += split_findings
    findings += formula_findings(frame)
    findings += duplicate_findings(frame)
    if multi:
        findings += multi_label_findings(frame, limits, label_column, multi)
    else:
        findings += class_findings(frame, limits, label_column)
    return frame, findings


def multi_label_findings(frame: pd.DataFrame, limits: Limits, label_column: str,
                         how: str) -> list[Finding]:
    """What multi-label rows need checking: how many labels a row carries (an info that also
    says how they were read, so it can be confirmed), labels that never occur alone, labels
    with one row, rows with none of the labels, and the class limits.

    Args:
        frame: Cleaned frame whose "label" column holds canonical label lists.
        limits: Provides ``max_classes``.
        label_column: The label column's name (or the 0/1 columns'), for messages.
        how: The format read (a separator, "json" or "columns").
    """
    from metacore.data.multilabel import decode, label_counts

    sets = frame["label"].map(decode)
    counts = label_counts(sets)
    sizes = sets.map(len)
    if len(counts) < 2:
        params = {"label": next(iter(counts), "")}
        return [Finding("error", "single_class", params, (), len(frame))]
    if len(counts) > limits.max_classes:
        params = {"n": len(counts), "limit": limits.max_classes, "column": label_column}
        return [Finding("error", "too_many_classes", params, (), len(frame))]
    how_read = msg(f"term.label_format.{'separator' if how in ';|,' else how}", sep=how)
    info = {"labels": len(counts), "mean": round(float(sizes.mean()), 2),
            "most": int(sizes.max()), "several": int((sizes > 1).sum()), "how": how_read,
            "column": label_column}
    wording = info if how in ";|," else msg("finding.multi_label-fixed", **info)
    findings = [Finding("info", "multi_label", wording, (), len(frame))]
    alone = {s[0] for s in sets if len(s) == 1}
    never = sorted(set(counts) - alone)
    if never:
        rows = frame.index[sets.map(lambda s: bool(set(s) & set(never))).to_numpy()]
        params = {"n": len(never), "classes": listing([[c, counts[c]] for c in never])}
        findings.append(finding_for_rows("warning", "label_never_alone", params, rows))
    singles = sorted(c for c, n in counts.items() if n == 1)
    if singles:
        rows = frame.index[sets.map(lambda s: bool(set(s) & set(singles))).to_numpy()]
        params = {"n": len(singles), "classes": listing(singles)}
        findings.append(finding_for_rows("warning", "tiny_class", params, rows))
    empty = sizes == 0
    if empty.any():
        params = {"n": int(empty.sum())}
        findings.append(finding_for_rows("warning", "no_label_rows", params,
                                         frame.index[empty.to_numpy()]))
    return findings


def label_pool_counts(frame: pd.DataFrame, multi: bool) -> pd.Series:
    """Rows per class, or per label of multi-label rows (a row counts once for each)."""
    if not multi:
        return frame["label"].value_counts()
    from metacore.data.multilabel import decode, label_counts

    return pd.Series(label_counts(frame["label"].map(decode)), dtype=int)


def _k_shot_findings(frame: pd.DataFrame, k_shot: int, multi: bool = False) -> list[Finding]:
    """Warn about classes (labels, for multi-label rows) too small for K examples to train on
    plus one to test on."""
    has_column = "split" in frame.columns
    is_train = canonical_splits(frame["split"]) == "train" if has_column else None
    from_train = is_train is not None and bool(is_train.any())
    pool, need = (frame.loc[is_train], k_shot) if from_train else (frame, k_shot + 1)
    every = label_pool_counts(frame, multi)
    counts = label_pool_counts(pool, multi).reindex(sorted(every.index), fill_value=0)
    short = counts[counts < need].sort_values()
    if short.empty:
        return []
    pairs = [[str(name), int(n)] for name, n in short.items()]
    params = {"n": len(short), "k": k_shot, "need": need, "classes": listing(pairs)}
    variant = "-train" if from_train else ""
    if multi:
        variant += "-labels"
    wording = msg(f"finding.too_few_for_k{variant}", **params) if variant else params
    affected = int(every[short.index].sum())
    return [Finding("warning", "too_few_for_k", wording, (), affected)]


def _limit_findings(frame: pd.DataFrame, limits: Limits, present: set[str],
                    multi: bool = False) -> list[Finding]:
    """Re-check row and class limits when validate() is given stricter limits than loading."""
    findings: list[Finding] = []
    if "too_many_rows" not in present and len(frame) > limits.max_rows:
        wording = msg("finding.too_many_rows-data", n=len(frame), limit=limits.max_rows)
        findings.append(Finding("error", "too_many_rows", wording, (), len(frame)))
    n_classes = len(label_pool_counts(frame, multi)) if "label" in frame.columns else 0
    if "too_many_classes" not in present and n_classes > limits.max_classes:
        wording = msg("finding.too_many_classes-data", n=n_classes, limit=limits.max_classes)
        findings.append(Finding("error", "too_many_classes", wording, (), len(frame)))
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
        findings += _limit_findings(data.frame, limits, {f.code for f in findings},
                                    data.multi_label)
    if k_shot is not None:
        findings += _k_shot_findings(data.frame, k_shot, data.multi_label)
    return findings


def require_usable(findings: Sequence[Finding]) -> None:
    """Raise if any finding is an error.

    Args:
        findings: Findings from :func:`validate` or loading.

    Raises:
        DataError: With the first error's (coded) message.
    """
    for finding in findings:
        if finding.level == "error":
            raise DataError(finding.as_message())


def _overlap_finding(part: str, texts: Sequence[str], train_texts: set[str]) -> list[Finding]:
    """Warn when texts of ``part`` also occur in the training set."""
    shared = sum(1 for t in texts if t in train_texts)
    if not shared:
        return []
    code = "test_in_train" if part == "test" else "val_in_train"
    return [Finding("warning", code, {"n": shared}, (), shared)]


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
        params = {"n": n_rows, "classes": listing(unseen)}
        findings.append(Finding("warning", "test_unseen_classes", params, (), n_rows))
    absent = sorted(train_classes - set(split.test.labels))
    if absent:
        params = {"n": len(absent), "classes": listing(absent)}
        code = "train_classes_missing_from_test"
        findings.append(Finding("warning", code, params, (), len(absent)))
    return findings

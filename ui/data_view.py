"""The Data page: choose a file, map its columns, read the findings, set the split."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import streamlit as st

from metacore.data import LoadedData, load_dataset, read_table
from metacore.reporting import figures
from ui import state

# "xls" is accepted so that the engine can say what to do with it (save as .xlsx) instead of
# the uploader refusing it without a reason.
UPLOAD_TYPES = ["csv", "tsv", "txt", "tab", "jsonl", "ndjson", "json", "xlsx", "xlsm", "xls"]
UNSURE_CODES = {"columns_guessed", "no_text_column", "no_label_column", "column_not_found",
                "same_column"}


def sample_names() -> list[str]:
    return sorted(p.name for p in state.SAMPLES.glob("*.csv"))


def save_upload(name: str, raw: bytes) -> Path:
    """Keep an upload under METACORE_HOME/uploads so runs (and their command) can reread it."""
    safe = re.sub(r"[^\w.\-]+", "_", Path(name).name)[-80:] or "upload.csv"
    # a folder per content hash keeps the user's file name (shown in History) and never
    # overwrites an earlier upload that past runs point to
    path = state.uploads_dir() / hashlib.sha1(raw).hexdigest()[:12] / safe
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(raw)
    return path


@st.cache_data(show_spinner="Reading the file…", max_entries=16)
def load(path: str, text_col: str | None, label_col: str | None) -> LoadedData:
    return load_dataset(path, text_col=text_col, label_col=label_col)


@st.cache_data(show_spinner=False, max_entries=16)
def raw_columns(path: str) -> list[str]:
    try:
        raw = read_table(path, filename=Path(path).name)[0]
    except Exception:  # noqa: BLE001 - an unreadable file has no columns to offer
        return []
    return [str(c) for c in raw.columns]


def choose_source(data: dict[str, Any]) -> None:
    """Sample or upload; updates ``data`` in place (path, name, kind)."""
    options = ["Bundled sample", "Upload a file"]
    kind = st.radio("Source", options, index=0 if data["kind"] == "sample" else 1,
                    horizontal=True, key="data_source", label_visibility="collapsed")
    if kind == options[0]:
        names = sample_names()
        current = data["name"] if data["kind"] == "sample" and data["name"] in names else \
            state.DEFAULT_SAMPLE
        name = st.selectbox("Sample dataset", names, index=names.index(current),
                            key="data_sample", help="Small bilingual datasets written for "
                            "this project (see sample_data/README.md).")
        _set_file(data, "sample", str(state.SAMPLES / name), name)
        return
    upload = st.file_uploader("Labelled text file", type=UPLOAD_TYPES, key="data_upload",
                              help="CSV, TSV, JSONL, Excel, or text<TAB>label lines. One text "
                              "column and one label column; an optional split column.")
    if upload is not None:
        _set_file(data, "upload", str(save_upload(upload.name, upload.getvalue())), upload.name)
    elif data["kind"] != "upload":
        st.info("Drop a file above, or go back to a bundled sample.")
    else:  # kept from earlier in this session, or from the URL after a reload
        st.caption(f"Using `{data['name']}`, uploaded earlier. Drop a file to replace it.")


def _set_file(data: dict[str, Any], kind: str, path: str, name: str) -> None:
    if data["path"] != path:  # a new file: forget the old column mapping
        data.update(kind=kind, path=path, name=name, text_col=None, label_col=None)


def column_mapping(data: dict[str, Any], loaded: LoadedData) -> bool:
    """Let the user pick the columns; open when detection was unsure. True if changed."""
    columns = raw_columns(data["path"])
    unsure = any(f.code in UNSURE_CODES for f in loaded.findings)
    if len(columns) < 2:
        return False
    with st.expander("Column mapping", expanded=unsure, icon=":material/swap_horiz:"):
        if unsure:
            st.caption("The columns were guessed. Check that these are right.")
        left, right = st.columns(2)
        # Nothing chosen or detected (the file did not load): no preselection, so the page
        # does not quietly load the first two columns; the user picks them.
        applied = (data["text_col"] or loaded.text_column, data["label_col"] or loaded.label_column)
        known = all(applied)
        text = left.selectbox("Text column", columns, key="data_text_col",
                              index=_index(columns, applied[0]) if known else None,
                              placeholder="Choose the text column",
                              help="The column with the texts to classify.")
        label = right.selectbox("Label column", columns, key="data_label_col",
                                index=_index(columns, applied[1], 1) if known else None,
                                placeholder="Choose the label column",
                                help="The column with each text's class.")
    if text is None or label is None:
        return False
    # Compare with what is applied, not with what loading found: a file that fails to load
    # finds no columns, and comparing with that would rerun the page forever.
    changed = (text, label) != applied
    if changed:
        data.update(text_col=text, label_col=label)
    return changed


def _index(options: list[str], value: str | None, fallback: int = 0) -> int:
    return options.index(value) if value in options else min(fallback, len(options) - 1)


def show_findings(findings: list[Any]) -> None:
    """Errors block (red), warnings inform (amber); notes go in a small expander."""
    for finding in findings:
        if finding.level == "error":
            st.error(finding.message, icon=":material/error:")
    for finding in findings:
        if finding.level == "warning":
            st.warning(finding.message, icon=":material/warning:")
    notes = [f for f in findings if f.level == "info"]
    if notes:
        with st.expander(f"{len(notes)} note(s) about the file"):
            for finding in notes:
                st.markdown(f":material/info: {finding.message}")


def overview(loaded: LoadedData) -> None:
    """Counts, a preview table and the class-distribution chart."""
    frame = loaded.frame
    a, b, c, d = st.columns(4)
    a.metric("Examples", f"{len(frame):,}")
    b.metric("Classes", frame["label"].nunique())
    c.metric("Smallest class", int(frame["label"].value_counts().min()))
    d.metric("Format", f"{loaded.format} · {loaded.encoding}")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Preview**")
        st.dataframe(frame.head(200), hide_index=True, height=380, key="data_preview",
                     column_config={"text": st.column_config.TextColumn(width="large")})
    with right:
        st.plotly_chart(figures.class_distribution(frame), theme=None, key="data_chart")


def split_settings(data: dict[str, Any], loaded: LoadedData) -> None:
    """Test/validation share, seed, the file's split column or a separate test file."""
    has_split = "split" in loaded.frame.columns
    st.subheader("Split")
    st.caption("Test texts are held out for scoring; validation texts steer early stopping. "
               "Training texts are then sampled down to K per class on Train & compare.")
    cols = st.columns(4)
    data["use_split_column"] = cols[3].toggle(
        "Use the file's split column", value=data["use_split_column"] and has_split,
        disabled=not has_split, key="data_use_split",
        help="Rows marked train / validation / test keep their part." if has_split else
        "This file has no 'split' column.")
    fixed = (has_split and data["use_split_column"]) or bool(data["test_path"])
    data["test_size"] = cols[0].slider("Test share", 0.05, 0.5, data["test_size"], 0.05,
                                       key="data_test_size", disabled=fixed,
                                       help="Share of the rows held out for the test score.")
    data["val_size"] = cols[1].slider("Validation share", 0.0, 0.3, data["val_size"], 0.05,
                                      key="data_val_size", help="0 turns early stopping off.")
    data["seed"] = int(cols[2].number_input("Seed", 0, 10_000, data["seed"], key="data_seed",
                                            help="Same seed, same split and same K-shot "
                                            "sample."))
    _test_file(data)


def _test_file(data: dict[str, Any]) -> None:
    upload = st.file_uploader("Separate test file (optional)", type=UPLOAD_TYPES,
                              key="data_test_upload", help="Score on this file instead of a "
                              "held-out share; it needs the same columns.")
    if upload is not None:
        data["test_path"] = str(save_upload(upload.name, upload.getvalue()))
        data["test_name"] = upload.name
    if data["test_path"]:
        cols = st.columns([4, 1])
        cols[0].caption(f"Test file: `{data['test_name']}`")
        if cols[1].button("Remove", key="data_test_remove"):
            data.update(test_path=None, test_name=None)
            st.rerun()


def test_findings(data: dict[str, Any]) -> list[Any]:
    if not data["test_path"]:
        return []
    loaded = load(data["test_path"], data["text_col"], data["label_col"])
    return [f for f in loaded.findings if f.level != "info"]



"""The Data page: choose a file, map its columns, read the findings, set the split."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import streamlit as st

from metacore.data import Limits, LoadedData, load_dataset, read_table
from metacore.data.readers.columns import norm_name
from metacore.messages import MessageError, msg
from metacore.reporting import figures
from metacore.text import markdown_literal
from ui import state
from ui.i18n import language, lkey, say, t

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


def load(path: str, text_col: str | None, label_col: str | None,
         label_format: str | None = None) -> LoadedData:
    try:  # the operator's limits, read now: a changed setting is not hidden by the cache
        limits = Limits.from_env()
    except MessageError as exc:  # a bad METACORE_MAX_* value: name it, like the CLI does
        return LoadedData.bad_limit(Path(path).name, exc.message)
    with st.spinner(t("data.reading"), show_time=False):
        return _load(path, text_col, label_col, limits, label_format)


def load_chosen(data: dict[str, Any]) -> LoadedData:
    """The Data page's file, with its columns and label format as chosen there."""
    return load(data["path"], data["text_col"], data["label_col"], data.get("label_format"))


@st.cache_data(show_spinner=False, max_entries=16)
def _load(path: str, text_col: str | None, label_col: str | None, limits: Limits,
          label_format: str | None = None) -> LoadedData:
    # The readers stop at the limits' cells, columns, unzipped bytes and seconds, so no
    # upload keeps this session (or the server) busy past max_parse_seconds.
    return load_dataset(path, text_col=text_col, label_col=label_col, limits=limits,
                        label_format=label_format)


LABEL_FORMATS = ("auto", "none", ";", "|", ",", "json", "columns")


def label_format_picker(data: dict[str, Any], loaded: LoadedData) -> bool:
    """How many labels a row carries: detected, shown and changeable (one label per row, or
    several separated by ; | , or as a JSON list or 0/1 columns). True if changed."""
    chosen = data.get("label_format") or "auto"
    found = loaded.label_format or "none"
    words = {f: t(f"data.label_format.{_format_key(f)}", sep=f) for f in LABEL_FORMATS[1:]}
    # What was found goes in the caption, not in the "auto" option's words: a combo box keeps
    # showing an option's old words when only the words change (another file, same choice).
    words["auto"] = t("data.label_format.auto_option")
    picked = st.selectbox(t("data.label_format.label"), LABEL_FORMATS,
                          index=LABEL_FORMATS.index(chosen), format_func=words.get,
                          key="data_label_format", help=t("data.label_format.help"))
    if picked == "auto":
        st.caption(t("data.label_format.auto", found=words[found]))
    value = None if picked == "auto" else picked
    if value != data.get("label_format"):
        data["label_format"] = value
        return True
    return False


def _format_key(fmt: str) -> str:
    return "separator" if fmt in (";", "|", ",") else fmt


@st.cache_data(show_spinner=False, max_entries=16)
def raw_columns(path: str) -> list[str]:
    try:
        raw = read_table(path, filename=Path(path).name, limits=Limits.from_env())[0]
    except Exception:  # noqa: BLE001 - an unreadable file has no columns to offer
        return []
    return [str(c) for c in raw.columns]


SOURCE = "data_source_choice"


def choose_source(data: dict[str, Any]) -> None:
    """Sample or upload; updates ``data`` in place (path, name, kind)."""
    words = {"sample": t("data.source_sample"), "upload": t("data.source_upload")}
    chosen = st.session_state.get(SOURCE, data["kind"])  # kept by id across languages
    kind = st.radio(t("data.source"), list(words), index=0 if chosen == "sample" else 1,
                    format_func=words.get, horizontal=True, key=lkey("data_source"),
                    label_visibility="collapsed")
    st.session_state[SOURCE] = kind
    if kind == "sample":
        names = sample_names()
        current = data["name"] if data["kind"] == "sample" and data["name"] in names else \
            state.default_sample()
        name = st.selectbox(t("data.sample"), names, index=names.index(current),
                            key="data_sample", help=t("data.sample_help"))
        _set_file(data, "sample", str(state.SAMPLES / name), name)
        return
    upload = st.file_uploader(t("data.upload"), type=UPLOAD_TYPES, key="data_upload",
                              help=t("data.upload_help"))
    if upload is not None:
        _set_file(data, "upload", str(save_upload(upload.name, upload.getvalue())), upload.name)
    elif data["kind"] != "upload":
        st.info(t("data.drop_hint"))
    else:  # kept from earlier in this session, or from the URL after a reload
        st.caption(t("data.uploaded_earlier", name=markdown_literal(data["name"])))


def _set_file(data: dict[str, Any], kind: str, path: str, name: str) -> None:
    if data["path"] != path:  # a new file: forget the old column mapping
        data.update(kind=kind, path=path, name=name, text_col=None, label_col=None,
                    label_format=None)


def column_mapping(data: dict[str, Any], loaded: LoadedData) -> bool:
    """Let the user pick the columns; open when detection was unsure. True if changed."""
    columns = raw_columns(data["path"])
    unsure = any(f.code in UNSURE_CODES for f in loaded.findings)
    if len(columns) < 2:
        return False
    with st.expander(t("data.mapping"), expanded=unsure, icon=":material/swap_horiz:"):
        if unsure:  # guessed, or not found (nothing preselected then): say which
            failed = not (loaded.text_column and loaded.label_column)
            st.caption(t("data.picker.choose") if failed else t("data.guessed"))
        left, right = st.columns(2)
        # Nothing chosen or detected (the file did not load): no preselection, so the page
        # does not quietly load the first two columns; the user picks them.
        applied = (data["text_col"] or loaded.text_column, data["label_col"] or loaded.label_column)
        known = all(applied)
        text = left.selectbox(t("data.text_col"), columns, key="data_text_col",
                              index=_index(columns, applied[0]) if known else None,
                              placeholder=t("data.text_col_placeholder"),
                              help=t("data.text_col_help"))
        label = right.selectbox(t("data.label_col"), columns, key="data_label_col",
                                index=_index(columns, applied[1], 1) if known else None,
                                placeholder=t("data.label_col_placeholder"),
                                help=t("data.label_col_help"))
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


def finding_rows(finding: Any) -> str:
    """"Rows 3, 5, 9" (and how many more) for a finding that names file rows, else ""."""
    rows = list(getattr(finding, "rows", ()) or ())
    if not rows:
        return ""
    shown = ", ".join(str(r) for r in rows)
    more = max(0, int(getattr(finding, "count", 0) or 0) - len(rows))
    if more:
        return t("data.finding_rows_more", rows=shown, more=f"{more:,}")
    return t("data.finding_rows", rows=shown)


def finding_text(finding: Any) -> str:
    """The finding's sentence in the interface language (by its code, see ``say``), with the
    file rows it names."""
    rows = finding_rows(finding)
    return say(finding) + (f"  \n{rows}" if rows else "")


def show_findings(findings: list[Any]) -> None:
    """Errors block (red), warnings inform (amber); notes go in a small expander."""
    for finding in findings:
        if finding.level == "error":
            st.error(finding_text(finding), icon=":material/error:")
    for finding in findings:
        if finding.level == "warning":
            st.warning(finding_text(finding), icon=":material/warning:")
    notes = [f for f in findings if f.level == "info"]
    if notes:
        with st.expander(t("data.notes", n=len(notes))):
            for finding in notes:
                st.markdown(f":material/info: {finding_text(finding)}")


def overview(loaded: LoadedData) -> None:
    """Counts, a preview table and the class-distribution chart."""
    frame = loaded.frame
    per_label = frame  # one row per (text, label) for multi-label data: what the chart counts
    a, b, c = st.columns(3)
    a.metric(t("data.examples"), f"{len(frame):,}")
    if loaded.multi_label:
        from metacore.data.multilabel import decode, shown

        sets = frame["label"].map(decode)
        frame = frame.assign(label=sets.map(shown))  # "billing; refund", not a JSON list
        per_label = frame.assign(label=sets.map(list)).explode("label").dropna(
            subset=["label"])
        b.metric(t("data.labels"), per_label["label"].nunique(),
                 help=t("data.labels_help", mean=f"{sets.map(len).mean():.2f}"))
        c.metric(t("data.rarest_label"), int(per_label["label"].value_counts().min()))
    else:
        b.metric(t("data.classes"), frame["label"].nunique())
        c.metric(t("data.smallest"), int(frame["label"].value_counts().min()))
    st.caption(t("data.fmt.line", format=format_words(loaded)))  # our words, no user text
    many = per_label["label"].nunique() > 8  # a chart of many (long) class names needs room
    left, right = st.columns([1, 1] if many else [3, 2], gap="large")
    with left:
        st.markdown(f"**{t('data.preview')}**")
        # the file's own column names head the preview (a table header is plain text)
        names = preview_names(loaded)
        st.dataframe(frame.head(200), hide_index=True, height=380, key="data_preview",
                     column_config={
                         "text": st.column_config.TextColumn(
                             names["text"], width="medium" if many else "large"),
                         "label": st.column_config.TextColumn(names["label"]),
                         "split": st.column_config.TextColumn(names["split"])})
    with right:
        title = t("data.rows_per_label") if loaded.multi_label else None
        chart = figures.class_distribution(per_label, title, lang=language())
        # many classes: the chart keeps a row per class, in a box that scrolls beside the
        # preview (its axis on top stays in view), instead of a page-long column
        box = st.container(height=CHART_BOX) if chart.layout.height > CHART_BOX else st
        box.plotly_chart(chart, theme=None, key="data_chart")


CHART_BOX = 640  # pixels: a taller class chart scrolls in a box this high


def preview_names(loaded: LoadedData) -> dict[str, str]:
    """The file's own names of the text, label and split columns (the frame calls them
    "text", "label" and "split")."""
    split = next((c for c in raw_columns(state.dataset()["path"]) if norm_name(c) == "split"),
                 "")
    return {"text": loaded.text_column or t("data.col_text"),
            "label": loaded.label_column or t("data.col_label"),
            "split": split or t("data.col_split")}


_ENCODINGS = {"utf-8": "data.enc.utf8", "utf-8-sig": "data.enc.utf8_bom",
              "utf-16": "data.enc.utf16"}
_ENGINE_ENCODINGS = {"gb18030": "gb18030", "cp1252": "cp1252", "latin-1": "latin1"}


def format_words(loaded: LoadedData) -> str:
    """The file's format in words, "CSV, separated by commas, UTF-8" or "Excel workbook
    (.xlsx)": never the reader's codes ("binary" is not an encoding a person chose)."""
    ext = Path(loaded.source).suffix.lower()
    if loaded.format == "csv":
        separator = next((f.params.get("separator") for f in loaded.findings
                          if f.code == "delimiter_detected"), None)
        if separator is None and ext == ".csv":
            separator = msg("term.separator.commas")
        kind = t("data.fmt.csv_sep", separator=say(separator, markdown=False)) \
            if separator is not None else t("data.fmt.csv")
    elif loaded.format == "tsv":
        kind = t("data.fmt.tsv")
    elif loaded.format == "xlsx":
        kind = t("data.fmt.xlsx", ext=ext if ext in (".xlsx", ".xlsm") else ".xlsx")
    elif loaded.format in ("jsonl", "text-tab-label"):
        kind = t(f"data.fmt.{loaded.format.replace('-', '_')}")
    else:
        kind = t("data.fmt.unknown")
    encoding = loaded.encoding.lower()
    if encoding in _ENCODINGS:
        return t("data.fmt.with_encoding", kind=kind, encoding=t(_ENCODINGS[encoding]))
    if encoding in _ENGINE_ENCODINGS:
        words = say(msg(f"term.encoding.{_ENGINE_ENCODINGS[encoding]}"), markdown=False)
        return t("data.fmt.with_encoding", kind=kind, encoding=words)
    return kind  # a workbook has no text encoding ("binary" is the reader's word for it)


def split_settings(data: dict[str, Any], loaded: LoadedData) -> None:
    """Test/validation share, seed, the file's split column or a separate test file."""
    has_split = "split" in loaded.frame.columns
    st.subheader(t("data.split"))
    st.caption(t("data.split_caption"))
    cols = st.columns(4)
    data["use_split_column"] = cols[3].toggle(
        t("data.use_split"), value=data["use_split_column"] and has_split,
        disabled=not has_split, key="data_use_split",
        help=t("data.use_split_help") if has_split else t("data.no_split_help"))
    fixed = (has_split and data["use_split_column"]) or bool(data["test_path"])
    data["test_size"] = cols[0].slider(t("data.test_share"), 0.05, 0.5, data["test_size"], 0.05,
                                       key="data_test_size", disabled=fixed,
                                       help=t("data.test_share_help"))
    data["val_size"] = cols[1].slider(t("data.val_share"), 0.0, 0.3, data["val_size"], 0.05,
                                      key="data_val_size", help=t("data.val_share_help"))
    data["seed"] = int(cols[2].number_input(t("data.seed"), 0, 10_000, data["seed"],
                                            key="data_seed", help=t("data.seed_help")))
    _test_file(data)


def _test_file(data: dict[str, Any]) -> None:
    upload = st.file_uploader(t("data.test_file"), type=UPLOAD_TYPES,
                              key="data_test_upload", help=t("data.test_file_help"))
    if upload is not None:
        data["test_path"] = str(save_upload(upload.name, upload.getvalue()))
        data["test_name"] = upload.name
    if data["test_path"]:
        cols = st.columns([4, 1])
        cols[0].caption(t("data.test_file_name", name=markdown_literal(data["test_name"])))
        if cols[1].button(t("data.remove"), key="data_test_remove"):
            data.update(test_path=None, test_name=None)
            st.rerun()


def test_findings(data: dict[str, Any]) -> list[Any]:
    if not data["test_path"]:
        return []
    loaded = load(data["test_path"], data["text_col"], data["label_col"],
                  data.get("label_format") or "none")
    return [f for f in loaded.findings if f.level != "info"]



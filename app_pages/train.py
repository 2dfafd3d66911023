"""Train & compare: pick methods and settings, then run them in the background queue."""

from __future__ import annotations

import streamlit as st

from metacore.text import markdown_literal
from ui import classroom_view, data_view, episodic_view, form, progress, state, train_view
from ui.i18n import say, t

st.title(t("train.title"))
st.caption(t("train.caption"))

data = state.dataset()
loaded = data_view.load_chosen(data)
f = form.current()  # a running comparison's plan comes back with a reload
classroom_view.load()  # a classroom link fills (and may lock or hide) the settings
classroom_view.notes()
if not loaded.ok:
    st.error(t("train.bad_data", name=markdown_literal(data["name"])), icon=":material/error:")
    st.page_link("app_pages/data.py", label=t("train.go_data"), icon=":material/table_view:")
    st.stop()

st.markdown(t("train.data_line_labels" if loaded.multi_label else "train.data_line",
              name=markdown_literal(data["name"]), texts=f"{len(loaded.frame):,}",
              classes=len(loaded.to_textset().classes) if loaded.multi_label
              else loaded.frame["label"].nunique()))
classroom_view.preset_picker(data, len(loaded.frame))
episodic = train_view.protocol(f) == "episodic"  # draws the protocol switch
if episodic:
    ready = episodic_view.form(f, loaded)
    label, key = t("train.start_episodic"), "ep_start"
else:
    frame = loaded.frame
    left, right = st.columns([1, 1], gap="large")
    with right:  # K first: the methods' settings show what this K changes in them
        seeds_ok = train_view.run_settings(f)
    sizes = train_view.adapt_sizes(f, frame, data)
    with left:
        train_view.backbone(f)
        train_view.methods(f, sizes, multi_label=loaded.multi_label)
    ready = seeds_ok and bool(f.plan.methods)
    label, key = t("train.start"), "train_start"

if st.button(label, type="primary", disabled=not ready, key=key, icon=":material/play_arrow:"):
    test = data_view.load(data["test_path"], data["text_col"], data["label_col"],
                          data.get("label_format") or loaded.label_format or "none") \
        if data["test_path"] and f.protocol == "adapt" else None
    try:
        queued = form.submit(f, data, queue=state.queue(), owner=state.owner(), loaded=loaded,
                             test_loaded=test)
        st.session_state[state.COMPARISON] = queued.run_ids
        st.rerun()  # redraw from the top: the sidebar's queue line goes live too
    except ValueError as exc:
        st.error(say(exc), icon=":material/error:")

if not episodic:
    # below the button, full width: every column of the table readable, and the button does
    # not move when the estimates arrive (a click during that shift was lost)
    train_view.estimates(f, sizes, texts=frame["text"].head(16).tolist())
classroom_view.share_box(data, split_column="split" in loaded.frame.columns)
progress.show(state.comparison())

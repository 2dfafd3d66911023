"""Train & compare: pick methods and settings, then run them in the background queue."""

from __future__ import annotations

import streamlit as st

from ui import classroom_view, comparison, data_view, episodic_view, progress, state, train_view
from ui.i18n import t

st.title(t("train.title"))
st.caption(t("train.caption"))

data = state.dataset()
loaded = data_view.load(data["path"], data["text_col"], data["label_col"])
choice = train_view.choice()
classroom_view.load()  # a classroom link fills (and may lock or hide) the settings
classroom_view.notes()
if not loaded.ok:
    st.error(t("train.bad_data", name=data["name"]), icon=":material/error:")
    st.page_link("app_pages/data.py", label=t("train.go_data"), icon=":material/table_view:")
    st.stop()

st.markdown(t("train.data_line", name=data["name"], texts=f"{len(loaded.frame):,}",
              classes=loaded.frame["label"].nunique()))
classroom_view.preset_picker(data, len(loaded.frame))
protocol = train_view.protocol()
if protocol == "episodic":
    ready = episodic_view.form(choice, data, loaded)
    if st.button(t("train.start_episodic"), type="primary", disabled=not ready,
                 key="ep_start", icon=":material/play_arrow:"):
        episodic_view.start(choice, data)
else:
    left, right = st.columns([1, 1], gap="large")
    with left:
        train_view.backbone(choice)
        train_view.methods(choice)
    with right:
        seeds_ok = train_view.run_settings(choice, data)
        frame = loaded.frame
        n_classes = frame["label"].nunique()
        n_test = 0 if data["test_path"] else int(len(frame) * data["test_size"])
        n_val = int((len(frame) - n_test) * data["val_size"])
        n_train = n_classes * choice.shots if choice.shots else len(frame) - n_test - n_val
        if choice.methods:
            train_view.estimates(choice, n_train, n_classes, n_val=n_val, n_test=n_test,
                                 texts=frame["text"].head(16).tolist())

    ready = seeds_ok and bool(choice.methods)
    if st.button(t("train.start"), type="primary", disabled=not ready, key="train_start",
                 icon=":material/play_arrow:"):
        test = data_view.load(data["test_path"], data["text_col"], data["label_col"]) \
            if data["test_path"] else None
        try:
            _, run_ids = comparison.start(state.queue(), data, choice, owner=state.owner(),
                                          loaded=loaded, test_loaded=test)
            st.session_state[state.COMPARISON] = run_ids
            st.rerun()  # redraw from the top: the sidebar's queue line goes live too
        except ValueError as exc:
            st.error(str(exc), icon=":material/error:")

classroom_view.share_box(data, split_column="split" in loaded.frame.columns)
progress.show(state.comparison())

"""Train & compare: pick methods and settings, then run them in the background queue."""

from __future__ import annotations

import streamlit as st

from ui import comparison, data_view, episodic_view, progress, state, train_view

st.title("Train & compare")
st.caption("Every method trains on the same split and the same K examples per class, so the "
           "scores compare like with like. Runs go to one background queue shared by everyone "
           "on this machine.")

data = state.dataset()
loaded = data_view.load(data["path"], data["text_col"], data["label_col"])
choice = train_view.choice()
if not loaded.ok:
    st.error(f"The data `{data['name']}` cannot be used yet; fix it on the Data page.",
             icon=":material/error:")
    st.page_link("pages/data.py", label="Go to Data", icon=":material/table_view:")
    st.stop()

st.markdown(f"Data: **{data['name']}** · {len(loaded.frame):,} texts · "
            f"{loaded.frame['label'].nunique()} classes")
protocol = train_view.protocol()
if protocol == "episodic":
    ready = episodic_view.form(choice, data, loaded)
    if st.button("Start episodic comparison", type="primary", disabled=not ready,
                 key="ep_start", icon=":material/play_arrow:"):
        episodic_view.start(choice, data)
else:
    left, right = st.columns([1, 1], gap="large")
    with left:
        train_view.backbone(choice)
        train_view.methods(choice)
    with right:
        seeds_ok = train_view.run_settings(choice, data)
        n_classes = loaded.frame["label"].nunique()
        n_train = n_classes * choice.shots if choice.shots else int(len(loaded.frame) * 0.7)
        if choice.methods:
            train_view.estimates(choice, n_train, n_classes)

    ready = seeds_ok and bool(choice.methods)
    if st.button("Start comparison", type="primary", disabled=not ready, key="train_start",
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

progress.show(state.comparison())

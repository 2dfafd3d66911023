"""Inner loop: the support and query loss at each adaptation step of a gradient meta-learner."""

from __future__ import annotations

import streamlit as st

from ui import inner_loop_view, teach_episode, teach_state

teach_state.header("inner")
data = teach_state.data()
teach_state.data_line(data)
pool = teach_episode.pools(data)
method, head, lr, model = inner_loop_view.controls()
inner_loop_view.explain(method)
episode = teach_episode.episode_controls("inner", data, pool)
learner, model_key = inner_loop_view.learner(method, model, data, pool)
if learner is None:
    st.stop()
trace = inner_loop_view.trace(learner, model_key, data, episode, head, lr)
steps = inner_loop_view.steps_slider()
inner_loop_view.show(trace, steps)

"""Episode inspector: support, queries and prototypes of one episode, before and after."""

from __future__ import annotations

import streamlit as st

from metacore.text import markdown_literal
from ui import inspector_view, teach_episode, teach_state
from ui.i18n import t

teach_state.header("inspector")
data = teach_state.data()
teach_state.data_line(data)
pool = teach_episode.pools(data)
st.caption(t("inspector.pools", novel=markdown_literal(", ".join(pool.novel)),
             base=markdown_literal(", ".join(pool.base)))
           if pool.disjoint else t("inspector.pools_shared"))
episode = teach_episode.episode_controls("insp", data, pool)
after = inspector_view.choose_after(data, pool)
shown = inspector_view.views(data, episode, after)
selected = inspector_view.pick_query(shown[0][1])
inspector_view.show(data, shown, selected)
inspector_view.texts(data, episode, shown)

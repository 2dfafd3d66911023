"""Learn: how meta-learning works, each idea with a live figure of the loaded texts."""

from __future__ import annotations

from ui import learn_view, teach_state

teach_state.header("learn")
data = teach_state.data()
teach_state.data_line(data)
learn_view.presets_box()
lesson = learn_view.lesson(data)
learn_view.transfer(lesson)
learn_view.finetuning(lesson)
learn_view.few_shot(lesson)
episode = learn_view.episodes(lesson)
learn_view.prototypes(lesson, episode)
learn_view.loops(lesson)
learn_view.small_k(lesson, data)
learn_view.next_steps()

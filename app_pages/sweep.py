"""K-shot sweep: accuracy and macro-F1 against K, with 95% intervals over seeds."""

from __future__ import annotations

from ui import background, sweep_view, teach_state

teach_state.header("sweep")
data = teach_state.data()
teach_state.data_line(data)
train, test = teach_state.split(data)
plan = sweep_view.settings()
sweep_view.estimate(plan, train)
task = sweep_view.run_button(data, plan, train, test)
if task is not None and task.active:
    background.watch(task.key, sweep_view.live)
elif task is not None:
    sweep_view.results(task)

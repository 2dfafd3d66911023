"""K-shot sweep: accuracy and macro-F1 against K, with 95% intervals over seeds."""

from __future__ import annotations

from ui import sweep_view, tasks, teach_state

teach_state.header("sweep")
data = teach_state.data()
teach_state.data_line(data)
split = teach_state.split(data)
plan = sweep_view.settings(data)
expected = sweep_view.estimate(plan, split)
job = sweep_view.run_button(data, plan, split, expected)
if job is not None and job.active:
    tasks.watch(job.job_id, sweep_view.live)
elif job is not None:
    sweep_view.results(job)

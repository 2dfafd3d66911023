"""The app opens on a damaged run history: the first page says what happened, History lists
the runs again from their saved results, and shows how much disk the models and uploads use."""

from __future__ import annotations

import os

from metacore.runs.result import RunResult
from metacore.runs.store import DB_NAME, RunStore
from tests.markdown import shown


def _result(run_id: str, accuracy: float) -> RunResult:
    return RunResult(run_id=run_id, method="tfidf-logreg", backbone=None, protocol="adapt",
                     status="completed", metrics={"accuracy": accuracy, "macro_f1": accuracy},
                     data={"source": "data.csv"}, created="2025-01-01T00:00:00+00:00")


def test_history_heals_a_corrupt_database_and_lists_the_runs(app, home) -> None:
    store = RunStore(home)
    for run_id, accuracy in (("run-a", 0.8), ("run-b", 0.6)):
        store.record_result(_result(run_id, accuracy), owner="someone")
        store.set_shared(run_id, True)  # shown to every session, whoever it is
    store.record_result(_result("private", 0.5), owner="someone")
    (home / DB_NAME).write_bytes(os.urandom(16_384))  # garbage where the database was

    app.run()  # the first page the session opens says what happened, in the sidebar
    assert not app.exception, [e.value for e in app.exception]
    [warning] = [shown(w.value) for w in app.sidebar.warning]
    assert "could not be read" in warning and "moved aside as runs.sqlite.corrupt-" in warning
    assert "rebuilt from the runs' saved results" in warning
    assert "3 runs were added back to the history" in warning
    app.switch_page("app_pages/history.py").run()
    assert not app.exception and not app.sidebar.warning  # said once
    table = app.dataframe[0].value
    assert sorted(table["run"]) == ["run-a", "run-b"]  # the private run stays private
    assert list(home.glob(f"{DB_NAME}.corrupt-*"))
    caption = " ".join(c.value for c in app.caption)
    assert "saved models use" in caption and "of 5.0 GB" in caption
    assert "unused for 30 days are deleted" in caption

    app.switch_page("app_pages/data.py").run()
    app.switch_page("app_pages/history.py").run()
    assert not app.exception and not app.warning  # said once

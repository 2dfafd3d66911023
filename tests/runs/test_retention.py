"""Retention: saved models and uploads are deleted by age, then oldest first beyond their
quota; results, the models of runs still going and the uploads they read are kept."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from metacore.messages import MessageError
from metacore.plan import DataSource, ExperimentPlan
from metacore.runs.result import RunResult
from metacore.runs.retention import MB, RetentionPolicy, apply_policy, usage
from metacore.runs.store import RunStore

NOW = time.time()
DAY = 86_400


def aged(path: Path, days: float) -> Path:
    stamp = NOW - days * DAY
    os.utime(path, (stamp, stamp))
    return path


def make_result(run_id: str) -> RunResult:
    return RunResult(run_id=run_id, method="tfidf-logreg", backbone=None, protocol="adapt",
                     status="completed", metrics={"accuracy": 0.75})


def saved_model(store: RunStore, run_id: str, *, days: float, size_mb: float = 1) -> Path:
    store.record_result(make_result(run_id), owner="ana")
    folder = store.artifact_dir(run_id) / "model"
    folder.mkdir()
    (folder / "weights").write_bytes(b"\0" * int(size_mb * MB))
    return aged(folder, days)


def upload(store: RunStore, name: str, *, days: float, size_mb: float = 1) -> Path:
    path = store.root / "uploads" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * int(size_mb * MB))
    return aged(path, days)


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "home")


def test_models_by_age_then_oldest_beyond_the_quota(store: RunStore) -> None:
    for run_id, days in (("ancient", 40), ("old", 10), ("mid", 5), ("new", 1)):
        saved_model(store, run_id, days=days)
    policy = RetentionPolicy(keep_days=30, models_quota_bytes=int(2.5 * MB))
    done = apply_policy(store, policy, now=NOW)
    assert done.deleted_models == ["ancient", "old"]  # too old; then over 2.5 MB: the oldest
    left = sorted(p.parent.name for p in (store.root / "artifacts").glob("*/model"))
    assert left == ["mid", "new"]
    assert (done.models, done.models_bytes) == (2, 2 * MB)
    for run_id in ("ancient", "old", "mid", "new"):  # every result is kept, and listed
        assert (store.root / "artifacts" / run_id / "result.json").is_file()
    assert {s.run_id for s in store.list_runs()} == {"ancient", "old", "mid", "new"}
    assert store.get("ancient").metrics["accuracy"] == 0.75


def test_a_running_run_keeps_its_model_folder_and_its_uploads(store: RunStore) -> None:
    data = upload(store, "0123456789ab/data.csv", days=90)
    other = upload(store, "ba9876543210/old.csv", days=90)
    recent = upload(store, "aaaaaaaaaaaa/recent.csv", days=1)
    plan = ExperimentPlan(methods={"tfidf-logreg": {}}, data=DataSource(path=str(data)))
    store.record_queued("busy", plan, owner="ana")
    folder = store.artifact_dir("busy") / "model"
    folder.mkdir()
    aged(folder, 90)
    saved_model(store, "done", days=90)
    done = apply_policy(store, RetentionPolicy(keep_days=30), now=NOW)
    assert done.deleted_models == ["done"] and folder.is_dir()
    assert done.deleted_uploads == ["ba9876543210/old.csv"]
    assert data.is_file() and recent.is_file() and not other.exists()
    assert not other.parent.exists()  # its empty folder goes too


def test_uploads_beyond_the_quota_oldest_first(store: RunStore) -> None:
    for name, days in (("a" * 12 + "/1.csv", 3), ("b" * 12 + "/2.csv", 2),
                       ("c" * 12 + "/3.csv", 1)):
        upload(store, name, days=days)
    done = apply_policy(store, RetentionPolicy(keep_days=0, uploads_quota_bytes=int(1.5 * MB)),
                        now=NOW)
    assert done.deleted_uploads == ["aaaaaaaaaaaa/1.csv", "bbbbbbbbbbbb/2.csv"]
    assert usage(store).uploads == 1 and usage(store).uploads_bytes == MB


def test_keep_days_zero_keeps_everything_under_the_quota(store: RunStore) -> None:
    saved_model(store, "ancient", days=3000)
    upload(store, "a" * 12 + "/1.csv", days=3000)
    done = apply_policy(store, RetentionPolicy(keep_days=0), now=NOW)
    assert done.deleted_models == [] and done.deleted_uploads == []


def test_the_defaults_and_the_environment(monkeypatch) -> None:
    policy = RetentionPolicy.from_env({})
    assert (policy.keep_days, policy.models_quota_bytes, policy.uploads_quota_bytes) == (
        30, 5 * 1024 ** 3, 500 * MB)
    policy = RetentionPolicy.from_env({"METACORE_KEEP_DAYS": "7", "METACORE_MODELS_QUOTA_GB":
                                       "0.5", "METACORE_UPLOADS_QUOTA_MB": " 20 "})
    assert (policy.keep_days, policy.models_quota_bytes, policy.uploads_quota_bytes) == (
        7, 512 * MB, 20 * MB)


@pytest.mark.parametrize(("name", "value", "words"), [
    ("METACORE_KEEP_DAYS", "a week", "METACORE_KEEP_DAYS must be a number, not 'a week'."),
    ("METACORE_KEEP_DAYS", "-1", "METACORE_KEEP_DAYS must be at least 0, not -1."),
    ("METACORE_KEEP_DAYS", "1.5", "METACORE_KEEP_DAYS must be a whole number of days"),
    ("METACORE_MODELS_QUOTA_GB", "0", "METACORE_MODELS_QUOTA_GB must be at least 0.001"),
    ("METACORE_UPLOADS_QUOTA_MB", "nan", "METACORE_UPLOADS_QUOTA_MB must be a number"),
])
def test_nonsense_settings_are_refused_in_one_sentence(name, value, words) -> None:
    with pytest.raises(MessageError) as caught:
        RetentionPolicy.from_env({name: value})
    assert str(caught.value).startswith(words)


def test_a_nonsense_setting_deletes_nothing(store: RunStore, monkeypatch) -> None:
    model = saved_model(store, "ancient", days=400)
    monkeypatch.setenv("METACORE_MODELS_QUOTA_GB", "lots")
    with pytest.raises(MessageError):
        apply_policy(store)
    assert model.is_dir()

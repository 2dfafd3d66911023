"""The same data, settings and seed give the same metrics on the CPU, for every method.

Parametrised over the registry (a new method is covered the moment it registers), through
the runner (``metacore.run.run``) as the CLI and the app call it, with the tiny backbone and
tiny settings, in both protocols.
"""

from __future__ import annotations

import pytest

from metacore.methods import available
from metacore.plan import DataSource, EpisodeShape, ExperimentPlan
from metacore.run import prepare, run
from tests.conftest import write_csv

FAST = {"epochs": 1, "batch_size": 8}
EPISODIC_FAST = {"meta_episodes": 2, "n_way": 3, "k_shot": 2, "n_query": 2, "val_episodes": 0,
                 "trace_episodes": 2, "inner_steps": 1}
# Second-order MAML through the encoder takes ~10 s on 2 shared cores; its head-only variant
# runs the same second-order code path.
ONLY = {"maml": {"adapt": "head"}}
NAMES = [s.name for s in available()]


def tiny_settings(name: str) -> dict:
    fields = {f.name for f in next(s for s in available() if s.name == name).config_cls.fields()}
    wanted = {**FAST, **EPISODIC_FAST}
    return {**{k: v for k, v in wanted.items() if k in fields}, **ONLY.get(name, {})}


@pytest.fixture(scope="module")
def csv_file(tmp_path_factory) -> str:
    return write_csv(tmp_path_factory.mktemp("det") / "data.csv", 3, 8, seed=11)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_metrics(name: str, csv_file: str) -> None:
    plan = ExperimentPlan(methods={name: tiny_settings(name)}, data=DataSource(path=csv_file),
                          backbone="tiny", shots=(4,), seeds=(3,), device="cpu")
    first, second = (run(plan, prepared=prepare(plan)) for _ in range(2))
    assert first.status == second.status == "completed", (first.error, second.error)
    assert first.metrics == second.metrics
    assert first.predictions == second.predictions
    assert [s["loss"] for s in first.history["steps"]] == \
        [s["loss"] for s in second.history["steps"]]


@pytest.fixture(scope="module")
def four_classes(tmp_path_factory) -> str:
    return write_csv(tmp_path_factory.mktemp("det-unseen") / "data.csv", 4, 8, seed=12)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_metrics_on_unseen_classes(name: str, four_classes: str) -> None:
    """The unseen-class protocol too: the plan's episode shape, the same test episodes."""
    settings = {k: v for k, v in tiny_settings(name).items()
                if k not in ("n_way", "k_shot", "n_query")}  # the plan's shape
    plan = ExperimentPlan(
        methods={name: settings}, protocol="episodic", backbone="tiny", seeds=(3,),
        data=DataSource(path=four_classes,
                        classes_split="meta_train=sports,weather;novel=finance,food"),
        episodes=EpisodeShape(n_way=2, k_shot=2, n_query=2, test_episodes=3), device="cpu")
    first, second = (run(plan, prepared=prepare(plan)) for _ in range(2))
    assert first.status == second.status == "completed", (first.error, second.error)
    assert first.metrics == second.metrics and first.metrics["episodes"] == 3
    assert first.predictions == second.predictions
    assert first.extra["episodes"] == second.extra["episodes"]
    assert [s["loss"] for s in first.history["steps"]] == \
        [s["loss"] for s in second.history["steps"]]

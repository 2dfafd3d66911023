"""The one runner: results, stop, failure, seeds, saved models, comparisons on one split."""

from __future__ import annotations

import dataclasses
import json

import pytest

from metacore.plan import DataSource, ExperimentPlan
from metacore.plan.command import to_command
from metacore.run import prepare, run
from metacore.runs import RunResult
from metacore.training.events import PhaseChanged, RunControl, RunEnded, StepEnded
from tests.conftest import write_csv


@pytest.fixture
def csv_file(tmp_path):
    return write_csv(tmp_path / "data.csv", 3, 20, seed=5)


def plan_of(csv_file: str, method: str = "full-finetune", *, settings: dict | None = None,
            data: DataSource | None = None, **kw) -> ExperimentPlan:
    if settings is None:
        settings = {"epochs": 3, "batch_size": 8} if method == "full-finetune" else {}
    values = {"backbone": "tiny", "shots": (8,), "device": "cpu", **kw}
    return ExperimentPlan(methods={method: settings}, data=data or DataSource(path=csv_file),
                          **values)


def losses(result: RunResult) -> list[float]:
    return [s["loss"] for s in result.history["steps"]]


def test_result_has_the_documented_keys_and_round_trips(csv_file, tmp_path):
    phases = []
    plan = plan_of(csv_file, out=str(tmp_path / "out"))
    result = run(plan, callbacks=[lambda e: isinstance(e, PhaseChanged) and phases.append(e)])
    assert result.status == "completed"
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    for key in ("method", "backbone", "metrics", "per_class", "confusion", "history", "timing",
                "config", "versions", "predictions", "command", "messages"):
        assert key in saved
    assert set(saved["timing"]) >= {"train_s", "predict_s", "total_s"}
    assert saved["confusion"]["labels"] == ["finance", "sports", "weather"]
    assert len(saved["history"]["steps"]) == 3 * 3  # 24 examples / batch 8, 3 epochs
    assert saved["history"]["evals"] and "val_loss" in saved["history"]["evals"][0]
    assert saved["data"]["n_train"] == 24
    assert RunResult.load(tmp_path / "out").to_dict() == saved
    # the result keeps its plan, and the flat dict older readers look for
    assert ExperimentPlan.from_dict(saved["config"]["plan"]) == plan
    assert saved["config"]["run"]["method"] == "full-finetune"
    assert saved["config"]["run"]["shots"] == 8 and saved["config"]["run"]["seed"] == 0
    assert saved["command"] == to_command(plan)
    assert [p.phase for p in phases] == ["loading_backbone", "training", "predicting",
                                         "projecting"]
    assert all(p.detail and "{" not in p.detail for p in phases)  # English, filled in


def test_same_seed_same_metrics_on_cpu(csv_file):
    plan = plan_of(csv_file)
    a, b = run(plan), run(plan)
    assert a.metrics == b.metrics
    assert losses(a) == losses(b)


def test_stop_returns_a_partial_result_marked_stopped(csv_file):
    control = RunControl()

    def stop_after_two(event):
        if isinstance(event, StepEnded) and event.step == 2:
            control.stop()

    result = run(plan_of(csv_file), callbacks=[stop_after_two], control=control)
    assert result.status == "stopped"
    assert len(result.history["steps"]) == 2
    assert result.metrics["accuracy"] >= 0  # the partial model was still evaluated


def test_failure_while_training_is_recorded_not_raised(csv_file, monkeypatch):
    from metacore.methods import finetune

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(finetune, "train_classifier", boom)
    ended = []
    result = run(plan_of(csv_file), callbacks=[ended.append])
    assert result.status == "failed"
    assert "Out of memory" in result.error and "batch size" in result.error
    assert isinstance(ended[-1], RunEnded) and ended[-1].status == "failed"
    [error] = [m for m in result.messages if m["level"] == "error"]
    assert error["code"] == "run.error.out_of_memory"


def test_methods_in_a_comparison_share_the_split(csv_file):
    plan = plan_of(csv_file, settings={})
    plan = dataclasses.replace(plan, methods={"tfidf-logreg": {}, "linear-probe": {}})
    first, second = plan.runs()
    prepared = prepare(plan, first)
    results = [run(plan, r, prepared=prepared) for r in (first, second)]
    texts = [[p["text"] for p in r.predictions] for r in results]
    assert texts[0] == texts[1] and results[0].data["n_train"] == results[1].data["n_train"]
    assert [r.method for r in results] == ["tfidf-logreg", "linear-probe"]
    # each result is the plan of its own run only
    assert [list(ExperimentPlan.from_dict(r.config["plan"]).methods) for r in results] == [
        ["tfidf-logreg"], ["linear-probe"]]


def test_a_plan_of_several_runs_needs_to_be_told_which(csv_file):
    plan = plan_of(csv_file, seeds=(0, 1))
    with pytest.raises(ValueError, match="This plan has 2 runs"):
        run(plan)


def test_saved_model_loads_with_transformers_alone(csv_file, tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    result = run(plan_of(csv_file, out=str(tmp_path), save_model=True))
    model_dir = tmp_path / "model"
    model = AutoModel.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    head = load_file(str(model_dir / "head.safetensors"))
    assert head["weight"].shape == (3, model.config.hidden_size)
    assert model.config.id2label == {0: "finance", 1: "sports", 2: "weather"}
    assert tokenizer("hello")["input_ids"]
    assert result.extra["model_dir"] == str(model_dir)


def test_reproduce_command_names_every_choice(csv_file):
    plan = plan_of(csv_file, seeds=(3,))
    command = to_command(plan)
    assert "--method full-finetune" in command and "--seed 3" in command
    assert "--set epochs=3" in command and "--backbone tiny" in command


def test_unknown_method_and_bad_settings_are_clear(csv_file):
    with pytest.raises(ValueError, match="Unknown method"):
        run(plan_of(csv_file, method="nope"))
    with pytest.raises(ValueError, match="epochs must be at least"):
        run(ExperimentPlan(methods={"full-finetune": {"epochs": 0}},
                           data=DataSource(path=csv_file), backbone="tiny"))


# --- seeds: the data seed, the init seed and the split seed ----------------------------------
def test_init_seeds_hold_the_data_fixed_while_training_repeats(csv_file):
    plan = plan_of(csv_file, settings={"epochs": 2, "batch_size": 8}, seeds=(0,),
                   init_seeds=(0, 1))
    first, second = plan.runs()
    assert (first.seed, first.init_seed, second.seed, second.init_seed) == (0, 0, 0, 1)
    # the same split and the same K-shot sample for both
    data_a, data_b = prepare(plan, first), prepare(plan, second)
    assert data_a.train == data_b.train and data_a.val == data_b.val
    assert data_a.split.test == data_b.split.test
    a, b = run(plan, first, prepared=data_a), run(plan, second, prepared=data_b)
    assert a.status == b.status == "completed"
    assert a.data == b.data and a.data["n_train"] == 24
    assert [p["text"] for p in a.predictions] == [p["text"] for p in b.predictions]
    # but another initialisation: another head, another loss curve
    assert losses(a) != losses(b)
    assert [p["proba"] for p in a.predictions] != [p["proba"] for p in b.predictions]
    assert (a.config["run"]["init_seed"], b.config["run"]["init_seed"]) == (0, 1)
    assert "--init-seed" not in a.command and "--init-seed 1" in b.command
    # the same data and init seed again: the same run, to the last digit
    again = run(plan, second)
    assert again.metrics == b.metrics and losses(again) == losses(b)
    assert again.predictions == b.predictions


def test_the_data_seed_draws_the_split_unless_a_split_seed_fixes_it(csv_file):
    def test_texts(plan):
        return [tuple(prepare(plan, r).split.test.texts) for r in plan.runs()]

    free = plan_of(csv_file, method="tfidf-logreg", shots=(None,), seeds=(0, 1, 2))
    drawn = test_texts(free)
    assert len(set(drawn)) == 3  # each data seed its own split
    fixed = plan_of(csv_file, method="tfidf-logreg", shots=(None,), seeds=(0, 1, 2),
                    data=DataSource(path=csv_file, split_seed=1))
    assert test_texts(fixed) == [drawn[1]] * 3  # the split of seed 1, for every seed
    # the K-shot sample is still the data seed's own
    sampled = dataclasses.replace(fixed, shots=(4,))
    trains = [prepare(sampled, r).train for r in sampled.runs()]
    assert len({tuple(t.texts) for t in trains}) == 3
    assert all(len(t) == 12 for t in trains)
    results = [run(fixed, r) for r in fixed.runs()]
    assert len({tuple(p["text"] for p in r.predictions) for r in results}) == 1
    assert all(r.data["split"] == results[0].data["split"] for r in results)
    assert all("--split-seed 1" in r.command for r in results)

"""The shared API: results, stop, failure, seeds, saved models, comparisons on one split."""

from __future__ import annotations

import json

import pytest

from metacore.api import RunSpec, prepare_data, run_experiment
from metacore.runs import RunResult
from metacore.training.events import RunControl, RunEnded, StepEnded
from tests.conftest import write_csv


@pytest.fixture
def csv_file(tmp_path):
    return write_csv(tmp_path / "data.csv", 3, 20, seed=5)


def spec(csv_file, method="full-finetune", **kw):
    config = {"epochs": 3, "batch_size": 8} if method == "full-finetune" else {}
    return RunSpec(data=csv_file, method=method, backbone="tiny", shots=8, device="cpu",
                   method_config=config, **kw)


def test_result_has_the_documented_keys_and_round_trips(csv_file, tmp_path):
    result = run_experiment(spec(csv_file, out=str(tmp_path / "out")))
    assert result.status == "completed"
    saved = json.loads((tmp_path / "out" / "result.json").read_text())
    for key in ("method", "backbone", "metrics", "per_class", "confusion", "history", "timing",
                "config", "versions", "predictions", "command"):
        assert key in saved
    assert set(saved["timing"]) >= {"train_s", "predict_s", "total_s"}
    assert saved["confusion"]["labels"] == ["finance", "sports", "weather"]
    assert len(saved["history"]["steps"]) == 3 * 3  # 24 examples / batch 8, 3 epochs
    assert saved["history"]["evals"] and "val_loss" in saved["history"]["evals"][0]
    assert saved["data"]["n_train"] == 24
    assert RunResult.load(tmp_path / "out").to_dict() == saved


def test_same_seed_same_metrics_on_cpu(csv_file):
    a, b = run_experiment(spec(csv_file)), run_experiment(spec(csv_file))
    assert a.metrics == b.metrics
    assert [s["loss"] for s in a.history["steps"]] == [s["loss"] for s in b.history["steps"]]


def test_stop_returns_a_partial_result_marked_stopped(csv_file):
    control = RunControl()

    def stop_after_two(event):
        if isinstance(event, StepEnded) and event.step == 2:
            control.stop()

    result = run_experiment(spec(csv_file), callbacks=[stop_after_two], control=control)
    assert result.status == "stopped"
    assert len(result.history["steps"]) == 2
    assert result.metrics["accuracy"] >= 0  # the partial model was still evaluated


def test_failure_while_training_is_recorded_not_raised(csv_file, monkeypatch):
    from metacore.methods import finetune

    def boom(*a, **k):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2 GiB")

    monkeypatch.setattr(finetune, "train_classifier", boom)
    ended = []
    result = run_experiment(spec(csv_file), callbacks=[ended.append])
    assert result.status == "failed"
    assert "Out of memory" in result.error and "batch size" in result.error
    assert isinstance(ended[-1], RunEnded) and ended[-1].status == "failed"


def test_methods_in_a_comparison_share_the_split(csv_file):
    prepared = prepare_data(spec(csv_file))
    results = [run_experiment(spec(csv_file, method=m), prepared=prepared)
               for m in ("tfidf-logreg", "linear-probe")]
    texts = [[p["text"] for p in r.predictions] for r in results]
    assert texts[0] == texts[1] and results[0].data["n_train"] == results[1].data["n_train"]


def test_saved_model_loads_with_transformers_alone(csv_file, tmp_path):
    from safetensors.torch import load_file
    from transformers import AutoModel, AutoTokenizer

    result = run_experiment(spec(csv_file, out=str(tmp_path), save_model=True))
    model_dir = tmp_path / "model"
    model = AutoModel.from_pretrained(model_dir)
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    head = load_file(str(model_dir / "head.safetensors"))
    assert head["weight"].shape == (3, model.config.hidden_size)
    assert model.config.id2label == {0: "finance", 1: "sports", 2: "weather"}
    assert tokenizer("hello")["input_ids"]
    assert result.extra["model_dir"] == str(model_dir)


def test_reproduce_command_names_every_choice(csv_file):
    s = spec(csv_file, seed=3)
    command = s.to_command()
    assert "--method full-finetune" in command and "--seed 3" in command
    assert "--set epochs=3" in command and "--backbone tiny" in command


def test_unknown_method_and_bad_settings_are_clear(csv_file):
    with pytest.raises(ValueError, match="Unknown method"):
        run_experiment(spec(csv_file, method="nope"))
    with pytest.raises(ValueError, match="epochs must be at least"):
        run_experiment(RunSpec(data=csv_file, method="full-finetune", backbone="tiny",
                               method_config={"epochs": 0}))

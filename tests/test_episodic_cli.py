"""`metacore episodic` end to end on a small synthetic CSV with the tiny backbone."""

from __future__ import annotations

import csv
import json

import pytest

from metacore.cli import main
from tests.conftest import VOCAB

EXTRA = {
    "music": "guitar song album concert band melody lyrics drum singer chorus",
    "travel": "flight hotel passport beach luggage airport tour island visa cruise",
}


def write_csv(path, per_class: int = 8) -> None:
    import random

    rng = random.Random(0)
    vocab = {**VOCAB, **EXTRA}
    parts = {"sports": "meta_train", "weather": "meta_train", "finance": "meta_train",
             "food": "meta_val", "music": "meta_test", "travel": "meta_test"}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["text", "label", "split"])
        for label, words in vocab.items():
            for _ in range(per_class):
                text = " ".join(rng.choice(words.split()) for _ in range(6))
                writer.writerow([text, label, parts[label]])


@pytest.mark.parametrize("method", ["protonet", "linear-probe"])
def test_episodic_writes_documented_result(tmp_path, method):
    data = tmp_path / "data.csv"
    write_csv(data)
    out = tmp_path / "out"
    code = main(["episodic", "--data", str(data), "--method", method, "--backbone", "tiny",
                 "--ways", "2", "--shots", "2", "--queries", "3", "--meta-train-episodes", "3",
                 "--test-episodes", "4", "--seed", "1", "--out", str(out), "--quiet",
                 "--set" if method == "protonet" else "--device",
                 "val_episodes=1" if method == "protonet" else "cpu"])
    assert code == 0
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["protocol"] == "episodic" and result["status"] == "completed"
    for key in ("accuracy_mean", "accuracy_ci95", "macro_f1_mean", "macro_f1_ci95"):
        assert 0.0 <= result["metrics"][key] <= 1.0
    assert result["metrics"]["episodes"] == 4
    assert set(result["per_class"]) == {"music", "travel"}
    assert result["confusion"]["labels"] == ["music", "travel"]
    assert sum(map(sum, result["confusion"]["matrix"])) == 4 * 2 * 3
    assert {"train_s", "predict_s", "total_s"} <= set(result["timing"])
    assert result["data"]["class_split"]["novel"] == ["music", "travel"]
    if method == "protonet":
        assert len(result["history"]["steps"]) == 3


def test_episodic_explicit_split_and_infeasible_shape(tmp_path, capsys):
    data = tmp_path / "data.csv"
    write_csv(data, per_class=4)
    code = main(["episodic", "--data", str(data), "--method", "nearest-centroid",
                 "--backbone", "tiny", "--ways", "2", "--shots", "2", "--queries", "3",
                 "--classes-split", "meta_train=sports,weather;novel=music,travel", "--quiet"])
    assert code == 2
    assert "fewer than 5 examples" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["protonet", "anil", "nearest-centroid"])
def test_episodic_saves_a_usable_model_of_the_novel_classes(tmp_path, method):
    """--save-model keeps the meta-trained model adapted to K examples of each novel class;
    it loads back and predicts those classes, and the command repeats the flag."""
    from metacore.methods.base import load_method
    from metacore.training.context import RunContext

    data = tmp_path / "data.csv"
    write_csv(data)
    out = tmp_path / "out"
    code = main(["episodic", "--data", str(data), "--method", method, "--backbone", "tiny",
                 "--ways", "2", "--shots", "2", "--queries", "3", "--meta-train-episodes", "2",
                 "--test-episodes", "2", "--out", str(out), "--quiet", "--save-model"])
    assert code == 0
    result = json.loads((out / "result.json").read_text(encoding="utf-8"))
    assert result["extra"]["model_dir"] == str(out / "model")
    assert result["extra"]["model_support"] == {"classes": ["music", "travel"], "k_shot": 2,
                                                "texts": 4}
    assert "--save-model" in result["command"]
    model = load_method(out / "model", ctx=RunContext(seed=0))
    proba = model.predict_proba(["guitar song album", "flight hotel beach"],
                                ctx=RunContext(seed=0))
    assert proba.shape == (2, 2)
    assert list(model.classes) == ["music", "travel"]

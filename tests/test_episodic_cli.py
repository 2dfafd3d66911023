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


def test_episodic_methods_of_one_seed_share_the_test_episodes(tmp_path, capsys):
    """Several methods and seeds: one result each under OUT/<run key>/, the plan in
    OUT/plan.json, a summary line per run; one seed's methods see the same test episodes."""
    data = tmp_path / "data.csv"
    write_csv(data)
    out = tmp_path / "out"
    code = main(["episodic", "--data", str(data), "--method", "protonet,nearest-centroid",
                 "--backbone", "tiny", "--ways", "2", "--shots", "2", "--queries", "3",
                 "--meta-train-episodes", "2", "--test-episodes", "3", "--seed", "0,1",
                 "--set", "protonet.val_episodes=1", "--device", "cpu", "--out", str(out),
                 "--quiet"])
    assert code == 0
    keys = [f"{m}-kall-s{s}" for s in (0, 1) for m in ("protonet", "nearest-centroid")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*keys, "plan.json"])
    results = {k: json.loads((out / k / "result.json").read_text(encoding="utf-8"))
               for k in keys}
    assert all(r["protocol"] == "episodic" and r["status"] == "completed"
               for r in results.values())
    for seed in (0, 1):
        proto, centroid = (results[f"{m}-kall-s{seed}"] for m in ("protonet",
                                                                   "nearest-centroid"))
        assert [p["label"] for p in proto["predictions"]] == \
            [p["label"] for p in centroid["predictions"]]
        assert [e["classes"] for e in proto["extra"]["episodes"]] == \
            [e["classes"] for e in centroid["extra"]["episodes"]]
        assert proto["config"]["method"]["val_episodes"] == 1
        assert proto["config"]["method"]["meta_episodes"] == 2  # the plan's shape
        assert f"--seed {seed}" in proto["command"] and "nearest-centroid" not in \
            proto["command"]
    plan = json.loads((out / "plan.json").read_text(encoding="utf-8"))
    assert plan["protocol"] == "episodic" and plan["episodes"]["k_shot"] == 2
    stdout = capsys.readouterr().out
    rows = [line.split() for line in stdout[stdout.index("method "):].splitlines()[1:]]
    assert [(r[0], r[2], r[4]) for r in rows] == [
        (m, str(s), "completed") for s in (0, 1) for m in ("protonet", "nearest-centroid")]
    assert all(r[1] == "2" for r in rows)  # K of the episodes

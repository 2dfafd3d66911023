"""The command line: JSON keys, exit codes, one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metacore.cli import main
from tests.conftest import write_csv


@pytest.fixture
def csv_file(tmp_path):
    return write_csv(tmp_path / "data.csv", 3, 20, seed=5)


def test_run_writes_result_json(csv_file, tmp_path, capsys):
    code = main(["run", "--data", csv_file, "--method", "full-finetune", "--backbone", "tiny",
                 "--shots", "8", "--epochs", "2", "--batch-size", "8", "--out",
                 str(tmp_path), "--quiet"])
    assert code == 0
    result = json.loads((tmp_path / "result.json").read_text())
    assert {"accuracy", "macro_f1"} <= set(result["metrics"])
    assert set(result["per_class"]["sports"]) == {"precision", "recall", "f1", "support"}
    assert result["config"]["method"]["epochs"] == 2
    out = capsys.readouterr().out
    assert "precision" in out and "sports" in out


def test_methods_lists_names_and_descriptions(capsys):
    assert main(["methods"]) == 0
    out = capsys.readouterr().out
    for name in ("tfidf-logreg", "linear-probe", "full-finetune", "lora"):
        assert name in out


def test_validate_exit_codes(csv_file, tmp_path, capsys):
    assert main(["validate", csv_file]) == 0
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label\nhello,a\nworld,a\n")
    assert main(["validate", str(one_class)]) == 2
    assert "NOT usable" in capsys.readouterr().out
    assert main(["validate", str(one_class), "--json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["usable"] is False and payload["findings"][0]["level"] == "error"


def test_input_problems_exit_2_with_one_sentence(csv_file, tmp_path, capsys):
    assert main(["run", "--data", str(tmp_path / "missing.csv"), "--method", "tfidf-logreg"]) == 2
    assert main(["run", "--data", csv_file, "--method", "nope"]) == 2
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--epochs", "3"]) == 2
    assert main(["episodic", "--data", csv_file]) == 2  # no method (run: the recommended)
    assert main(["run", "--method", "tfidf-logreg"]) == 2  # no data
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--seed", "x"]) == 2
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--shots", "0.5"]) == 2
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--set", "C"]) == 2
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--set",
                 "lora.rank=4"]) == 2
    err = capsys.readouterr().err
    assert "Unknown method" in err and "does not apply" in err
    assert "Choose at least one method" in err and "Give the data file with --data" in err
    assert "Seeds are whole numbers" in err and "--shots must be a positive number" in err
    assert "--set expects KEY=VALUE" in err and "names a method that is not in this run" in err
    assert "Traceback" not in err
    assert all(line.startswith("error: ") for line in err.strip().splitlines())


def test_run_without_a_method_uses_the_recommended_one(csv_file, tmp_path):
    from metacore.methods.recommend import RECOMMENDED

    code = main(["run", "--data", csv_file, "--backbone", "tiny", "--shots", "4", "--out",
                 str(tmp_path / "r"), "--quiet"])
    assert code == 0
    result = json.loads((tmp_path / "r" / "result.json").read_text(encoding="utf-8"))
    assert result["method"] == RECOMMENDED == "centroid-blend"
    assert "--method centroid-blend" in result["command"]


def test_failed_run_exits_1(csv_file, tmp_path):
    code = main(["run", "--data", csv_file, "--method", "full-finetune", "--backbone", "tiny",
                 "--set", "batch_size=8", "--epochs", "1", "--device", "cpu", "--out",
                 str(tmp_path), "--quiet", "--set", "max_length=8", "--set", "lr=1e-4"])
    assert code == 0
    with pytest.raises(SystemExit):
        main(["run", "--data", csv_file, "--epochs", "many"])  # argparse: not a number


def test_a_run_that_fails_while_training_exits_1(csv_file, tmp_path, monkeypatch,
                                                 capsys):
    from metacore.methods import finetune

    def boom(*a, **k):
        raise RuntimeError("something broke")

    monkeypatch.setattr(finetune, "train_classifier", boom)
    code = main(["run", "--data", csv_file, "--method", "full-finetune", "--backbone", "tiny",
                 "--shots", "4", "--device", "cpu", "--out", str(tmp_path), "--quiet"])
    assert code == 1
    result = json.loads((tmp_path / "result.json").read_text())
    assert (result["status"], result["error"]) == ("failed", "RuntimeError: something broke")
    assert "Run failed: RuntimeError: something broke" in capsys.readouterr().err


def test_several_methods_and_seeds_write_one_result_each_and_a_summary(
        csv_file, tmp_path, capsys):
    out = tmp_path / "cmp"
    code = main(["run", "--data", csv_file, "--method", "tfidf-logreg,nearest-centroid",
                 "--backbone", "tiny", "--shots", "4,all", "--seed", "0,1", "--device", "cpu",
                 "--set", "tfidf-logreg.c=2", "--out", str(out), "--quiet"])
    assert code == 0
    keys = [f"{m}-k{k}-s{s}" for k in ("4", "all") for s in (0, 1)
            for m in ("tfidf-logreg", "nearest-centroid")]
    assert sorted(p.name for p in out.iterdir()) == sorted([*keys, "plan.json"])
    results = {key: json.loads((out / key / "result.json").read_text()) for key in keys}
    assert all(r["status"] == "completed" for r in results.values())
    assert results["tfidf-logreg-k4-s1"]["config"]["method"]["c"] == 2.0
    assert results["nearest-centroid-k4-s1"]["data"]["n_train"] == 4 * 3
    # the methods of one data seed and K share the split
    assert [p["text"] for p in results["tfidf-logreg-k4-s1"]["predictions"]] == \
        [p["text"] for p in results["nearest-centroid-k4-s1"]["predictions"]]
    # each result's command repeats that run alone
    single = results["tfidf-logreg-kall-s1"]["command"]
    assert "--shots all --seed 1" in single and "--set c=2.0" in single
    assert "nearest-centroid" not in single
    plan = json.loads((out / "plan.json").read_text())
    assert [m["name"] for m in plan["methods"]] == ["tfidf-logreg", "nearest-centroid"]
    assert (plan["shots"], plan["seeds"]) == ([4, None], [0, 1])
    stdout = capsys.readouterr().out
    table = stdout[stdout.index("method "):].splitlines()
    assert table[0].split() == ["method", "K", "seed", "init", "status", "accuracy",
                                "macro-F1"]
    rows = [line.split() for line in table[1:9]]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (m, k, s) for k in ("4", "all") for s in ("0", "1")
        for m in ("tfidf-logreg", "nearest-centroid")]
    assert all(r[4] == "completed" for r in rows)
    for row, key in zip(rows, keys, strict=True):
        metrics = results[key]["metrics"]
        assert float(row[5]) == pytest.approx(metrics["accuracy"], abs=5e-5)
        assert float(row[6]) == pytest.approx(metrics["macro_f1"], abs=5e-5)

    # --plan runs the same plan again, with the same figures
    again = tmp_path / "again"
    assert main(["run", "--plan", str(out / "plan.json"), "--out", str(again), "--quiet"]) == 0
    for key in keys:
        rerun = json.loads((again / key / "result.json").read_text())
        assert rerun["metrics"] == results[key]["metrics"], key


def test_init_seeds_repeat_training_on_the_same_data(csv_file, tmp_path, capsys):
    out = tmp_path / "init"
    code = main(["run", "--data", csv_file, "--method", "full-finetune", "--backbone", "tiny",
                 "--shots", "4", "--seed", "2", "--init-seed", "0-1", "--epochs", "1",
                 "--batch-size", "4", "--device", "cpu", "--out", str(out), "--quiet"])
    assert code == 0
    a, b = (json.loads((out / key / "result.json").read_text())
            for key in ("full-finetune-k4-s2-i0", "full-finetune-k4-s2-i1"))
    assert a["data"] == b["data"]
    assert [s["loss"] for s in a["history"]["steps"]] != [s["loss"] for s in
                                                          b["history"]["steps"]]
    assert "--seed 2 --init-seed 0" in a["command"] and "--init-seed 1" in b["command"]
    stdout = capsys.readouterr().out
    rows = [line.split() for line in stdout[stdout.index("method "):].splitlines()[1:]]
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [("full-finetune", "4", "2", "0"),
                                                      ("full-finetune", "4", "2", "1")]


def test_console_script_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "metacore.cli", "methods"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "full-finetune" in proc.stdout


def test_importing_metacore_never_imports_streamlit():
    code = ("import sys, metacore, metacore.plan, metacore.plan.command, metacore.run, "
            "metacore.run.queue, metacore.cli, metacore.methods, metacore.data; "
            "assert 'streamlit' not in sys.modules, 'streamlit imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

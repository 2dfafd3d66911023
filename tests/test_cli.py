"""The command line: JSON keys, exit codes, one-sentence errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from metacore.cli import main
from tests.test_api import csv_file  # noqa: F401 - fixture


def test_run_writes_result_json(csv_file, tmp_path, capsys):  # noqa: F811
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


def test_validate_exit_codes(csv_file, tmp_path, capsys):  # noqa: F811
    assert main(["validate", csv_file]) == 0
    one_class = tmp_path / "one.csv"
    one_class.write_text("text,label\nhello,a\nworld,a\n")
    assert main(["validate", str(one_class)]) == 2
    assert "NOT usable" in capsys.readouterr().out
    assert main(["validate", str(one_class), "--json"]) == 2
    payload = json.loads(capsys.readouterr().out)
    assert payload["usable"] is False and payload["findings"][0]["level"] == "error"


def test_input_problems_exit_2_with_one_sentence(csv_file, tmp_path, capsys):  # noqa: F811
    assert main(["run", "--data", str(tmp_path / "missing.csv"), "--method", "tfidf-logreg"]) == 2
    assert main(["run", "--data", csv_file, "--method", "nope"]) == 2
    assert main(["run", "--data", csv_file, "--method", "tfidf-logreg", "--epochs", "3"]) == 2
    err = capsys.readouterr().err
    assert "Unknown method" in err and "does not apply" in err
    assert "Traceback" not in err


def test_failed_run_exits_1(csv_file, tmp_path):  # noqa: F811
    code = main(["run", "--data", csv_file, "--method", "full-finetune", "--backbone", "tiny",
                 "--set", "batch_size=8", "--epochs", "1", "--device", "cpu", "--out",
                 str(tmp_path), "--quiet", "--set", "max_length=8", "--set", "lr=1e-4"])
    assert code == 0
    with pytest.raises(SystemExit):
        main(["run", "--data", csv_file])  # argparse: --method is required


def test_console_script_entry_point(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "metacore.cli", "methods"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0 and "full-finetune" in proc.stdout


def test_importing_metacore_never_imports_streamlit():
    code = ("import sys, metacore, metacore.api, metacore.cli, metacore.methods, "
            "metacore.data; assert 'streamlit' not in sys.modules, 'streamlit imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)

"""ONNX export: the file gives the PyTorch model's probabilities, and runs without metacore."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")

from metacore.cli import main  # noqa: E402
from metacore.messages import MessageError  # noqa: E402
from metacore.runs.onnx import export_onnx, locate  # noqa: E402
from tests.conftest import write_csv  # noqa: E402


def _run(tmp_path, method: str, *extra: str):
    data = write_csv(tmp_path / "data.csv", 3, 16, seed=3)
    out = tmp_path / method
    code = main(["run", "--data", data, "--method", method, "--backbone", "tiny", "--shots",
                 "8", "--device", "cpu", "--out", str(out), "--quiet", "--save-model", *extra])
    assert code == 0
    return out


@pytest.mark.parametrize("method,extra", [
    ("full-finetune", ("--epochs", "1", "--batch-size", "8")),
    ("nearest-centroid", ()),
    ("protonet", ("--set", "meta_episodes=2")),
])
def test_export_matches_pytorch_on_the_test_texts(tmp_path, method, extra):
    out = _run(tmp_path, method, *extra)
    model, texts = locate(out)
    assert model == out / "model" and len(texts) >= 10
    report = export_onnx(model, tmp_path / "onnx", texts=texts)
    assert report.checked_texts == len(texts)
    assert report.max_abs_diff < 1e-4 and report.same_prediction == 1.0
    assert report.classes == json.loads((out / "result.json").read_text())["data"]["classes"]
    assert report.file_bytes == (tmp_path / "onnx" / "model.onnx").stat().st_size > 10_000
    assert report.latency_ms["onnxruntime"] > 0 and report.latency_ms["pytorch"] > 0
    info = json.loads((tmp_path / "onnx" / "onnx.json").read_text())
    assert info["max_abs_diff"] == report.max_abs_diff


def test_a_multi_label_export_gives_its_sigmoids_and_thresholds(tmp_path):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "sample_data" / \
        "support_tickets_multilabel.csv"
    out = tmp_path / "nc"  # a prototype per label: a sigmoid of cosine similarities
    assert main(["run", "--data", str(sample), "--method", "nearest-centroid", "--backbone",
                 "tiny",
                 "--shots", "4", "--device", "cpu", "--out", str(out), "--quiet",
                 "--save-model"]) == 0
    model, texts = locate(out)
    report = export_onnx(model, tmp_path / "onnx", texts=texts)
    assert report.multi_label and len(report.thresholds) == len(report.classes) == 7
    assert report.max_abs_diff < 1e-4 and report.same_prediction == 1.0


def test_the_example_classifies_without_metacore(tmp_path):
    out = _run(tmp_path, "nearest-centroid")
    report = export_onnx(out / "model", tmp_path / "onnx", texts=[])
    example = (tmp_path / "onnx" / "example.py").read_text()
    assert "metacore" not in example and "torch" not in example
    assert len(example.strip().splitlines()) == 10
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    assert not name.startswith(('metacore', 'torch')), name\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "exec(open('example.py').read())\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / "onnx",
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = eval(done.stdout.strip())  # the list the example prints
    assert len(printed) == 2 and set(printed) <= set(report.classes)


def test_models_onnx_cannot_hold_say_so(tmp_path):
    out = _run(tmp_path, "tfidf-logreg")
    with pytest.raises(MessageError, match="cannot be exported to ONNX"):
        export_onnx(out / "model", tmp_path / "x")
    with pytest.raises(MessageError, match="kept no model"):
        locate(tmp_path / "nowhere")


def test_cli_export_of_a_run_folder(tmp_path, capsys):
    out = _run(tmp_path, "nearest-centroid")
    capsys.readouterr()
    assert main(["export", str(out), "--format", "onnx", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (out / "onnx" / "model.onnx").is_file() and report["max_abs_diff"] < 1e-4
    assert main(["export", str(tmp_path / "missing"), "--format", "onnx"]) == 2
    assert "kept no model" in capsys.readouterr().err
    assert np.isfinite(report["latency_ms"]["onnxruntime"])


def test_history_download_is_a_checked_zip_or_a_reason(tmp_path):
    import io
    import zipfile

    from metacore.runs.export import onnx_zip
    from metacore.runs.onnx import why_not

    good = _run(tmp_path, "linear-probe")
    assert why_not(good / "model") is None
    names = zipfile.ZipFile(io.BytesIO(onnx_zip(good / "model", ["a goal", "rain"]))).namelist()
    assert {"onnx/model.onnx", "onnx/onnx.json", "onnx/example.py", "onnx/tokenizer.json"} \
        <= set(names)
    problem = why_not(_run(tmp_path, "tfidf-logreg") / "model")
    assert problem is not None and problem.code == "onnx.error.format"
    blended = _run(tmp_path, "centroid-blend")
    manifest = json.loads((blended / "model" / "metacore.json").read_text())
    expected = "onnx.error.ngram" if manifest["blend_weight"] > 0 else None
    assert getattr(why_not(blended / "model"), "code", None) == expected

"""ONNX export: the file gives the method's own probabilities (PyTorch's, scikit-learn's), and
runs without metacore."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime", reason="the [onnx] extra is not installed")

from metacore.cli import main  # noqa: E402
from metacore.messages import MessageError  # noqa: E402
from metacore.runs.onnx import export_onnx, locate  # noqa: E402
from tests.conftest import write_csv  # noqa: E402

SAMPLE_EN = str(Path(__file__).resolve().parents[2] / "sample_data" / "support_intents_en.csv")


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


@pytest.mark.parametrize("method", ["nearest-centroid", "tfidf-logreg"])
def test_a_multi_label_export_gives_its_sigmoids_and_thresholds(tmp_path, method):
    """A prototype per label (a sigmoid of cosine similarities), and one-vs-rest logistic
    regressions on TF-IDF features: the same labels above their thresholds."""
    sample = Path(__file__).resolve().parents[2] / "sample_data" / \
        "support_tickets_multilabel.csv"
    out = tmp_path / method
    assert main(["run", "--data", str(sample), "--method", method, "--backbone", "tiny",
                 "--shots", "4", "--device", "cpu", "--out", str(out), "--quiet",
                 "--save-model"]) == 0
    model, texts = locate(out)
    report = export_onnx(model, tmp_path / "onnx", texts=texts)
    assert report.multi_label and len(report.thresholds) == len(report.classes) == 7
    assert report.max_abs_diff < 1e-4 and report.same_prediction == 1.0
    printed = _runs_alone(tmp_path / "onnx", report.classes, multi_label=True)
    assert all(isinstance(labels, list) for labels in printed)


def test_the_example_classifies_without_metacore(tmp_path):
    out = _run(tmp_path, "nearest-centroid")
    report = export_onnx(out / "model", tmp_path / "onnx", texts=[])
    example = (tmp_path / "onnx" / "example.py").read_text()
    assert "metacore" not in example and "torch" not in example
    assert len(example.strip().splitlines()) == 10
    _runs_alone(tmp_path / "onnx", report.classes)


def _runs_alone(folder, classes, multi_label: bool = False) -> list:
    """example.py runs with neither metacore nor torch importable; prints known classes."""
    code = ("import sys, builtins\n"
            "real = builtins.__import__\n"
            "def guard(name, *a, **k):\n"
            "    assert not name.startswith(('metacore', 'torch')), name\n"
            "    return real(name, *a, **k)\n"
            "builtins.__import__ = guard\n"
            "exec(open('example.py').read())\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = eval(done.stdout.strip())  # the list the example prints
    flat = [c for labels in printed for c in labels] if multi_label else printed
    assert len(printed) == 2 and set(flat) <= set(classes)
    return printed


HOSTILE = ["", "   ", "ÉCOLE Straße ПРИВЕТ", "中文\u3000测试 x\xa0y", "tab\tsep\nnew line",
           "a", "reset my password!!! " * 30]


def test_the_tfidf_pipeline_exports_with_texts_in(tmp_path):
    """tfidf-logreg: the graph takes strings and gives scikit-learn's probabilities, also on
    empty, accented, Cyrillic, Chinese and oddly spaced texts; its example needs no
    tokenizer."""
    out = _run(tmp_path, "tfidf-logreg")
    model, texts = locate(out)
    report = export_onnx(model, tmp_path / "onnx", texts=texts + HOSTILE)
    assert report.inputs == ["text"] and report.reference == "scikit-learn"
    assert report.max_abs_diff < 1e-5 and report.same_prediction == 1.0
    assert report.latency_ms["onnxruntime"] > 0 and report.latency_ms["scikit-learn"] > 0
    assert not (tmp_path / "onnx" / "tokenizer.json").exists()
    _runs_alone(tmp_path / "onnx", report.classes)


def test_tfidf_features_match_on_a_batch_and_one_by_one():
    """The graph's padding (words and characters of shorter texts) changes no count: the
    same probabilities for a text alone and within a batch of longer ones, Chinese too."""
    import onnxruntime as ort

    from metacore.methods.tfidf import TfidfLogreg, TfidfLogregConfig
    from metacore.runs.onnx_tfidf import tfidf_model

    texts = ["the card is lost", "lost my card again", "where is my parcel", "包裹 在哪里",
             "退款 请 尽快", "refund please", "a a a a", "parcel late"] * 2
    labels = [0, 0, 1, 1, 2, 2, 0, 1] * 2
    pipeline = TfidfLogreg(TfidfLogregConfig())._build().fit(texts, labels)
    session = ort.InferenceSession(tfidf_model(pipeline, method="tfidf-logreg",
                                               multi_label=False, opset=17,
                                               locale="C").SerializeToString())
    batch = texts[:8] + HOSTILE[1:]
    together = session.run(["probabilities"], {"text": np.array(batch, dtype=object)})[0]
    alone = np.concatenate([session.run(["probabilities"], {"text": np.array([t],
                                                                             dtype=object)})[0]
                            for t in batch])
    assert np.abs(together - alone).max() < 1e-6
    assert np.abs(together[:8] - pipeline.predict_proba(batch[:8])).max() < 1e-5


def test_centroid_blend_exports_both_views_blended(tmp_path):
    """centroid-blend with its n-gram view chosen (the random-init backbone reads the sample
    poorly, so the n-grams get weight): one graph, ids, mask and text in."""
    out = tmp_path / "blend"
    assert main(["run", "--data", SAMPLE_EN, "--method", "centroid-blend", "--backbone", "tiny",
                 "--shots", "8", "--device", "cpu", "--out", str(out), "--quiet",
                 "--save-model", "--set", "tune_encoder=false"]) == 0
    assert json.loads((out / "model" / "metacore.json").read_text())["blend_weight"] > 0
    model, texts = locate(out)
    report = export_onnx(model, tmp_path / "onnx", texts=texts)
    assert report.inputs == ["input_ids", "attention_mask", "text"]
    assert report.max_abs_diff < 1e-4 and report.same_prediction == 1.0
    _runs_alone(tmp_path / "onnx", report.classes)


def test_models_onnx_cannot_hold_say_so(tmp_path):
    from metacore.runs.onnx import why_not

    folder = tmp_path / "setfit-like"
    folder.mkdir()
    (folder / "metacore.json").write_text(json.dumps({"method": "setfit", "format": "setfit",
                                                      "classes": ["a", "b"]}))
    with pytest.raises(MessageError, match="cannot be exported to ONNX"):
        export_onnx(folder, tmp_path / "x")
    (folder / "metacore.json").write_text(json.dumps({
        "method": "tfidf-logreg", "format": "joblib", "classes": ["only"]}))
    assert why_not(folder).code == "onnx.error.one_class"
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
    tfidf = _run(tmp_path, "tfidf-logreg") / "model"
    assert why_not(tfidf) is None
    names = zipfile.ZipFile(io.BytesIO(onnx_zip(tfidf, ["a goal", "rain"]))).namelist()
    assert {"onnx/model.onnx", "onnx/onnx.json", "onnx/example.py"} <= set(names)


def test_a_label_on_every_training_text_keeps_its_constant_probability():
    """One-vs-rest keeps a constant predictor for a label that every (or no) training text
    carries: the graph gives that constant, the other labels their logistic regressions."""
    import onnxruntime as ort

    from metacore.methods.tfidf import TfidfLogreg, TfidfLogregConfig
    from metacore.runs.onnx_tfidf import tfidf_model

    method = TfidfLogreg(TfidfLogregConfig())
    method.multi_label = True
    texts = ["late parcel", "parcel lost", "card lost", "card blocked"] * 3
    y = np.array([[1, 1, 0], [1, 1, 0], [1, 0, 0], [1, 0, 0]] * 3)  # label 0 always, 2 never
    with pytest.warns(UserWarning):
        pipeline = method._build().fit(texts, y)
    session = ort.InferenceSession(tfidf_model(pipeline, method="tfidf-logreg",
                                               multi_label=True, opset=17).SerializeToString())
    test = np.array(["parcel", "card", "nothing known"], dtype=object)
    got = session.run(["probabilities"], {"text": test})[0]
    assert np.abs(got - pipeline.predict_proba(list(test))).max() < 1e-5
    assert got[:, 0].min() > 0.999 and got[:, 2].max() < 0.001

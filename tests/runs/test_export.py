"""Exports: CSV injection is defused, zips hold what they promise, HTML works offline."""

from __future__ import annotations

import csv
import html
import io
import json
import zipfile
from pathlib import Path

import pytest

from metacore.runs import export
from metacore.runs.result import RunResult

EVIL = "=cmd|' /C calc'!A0"


def make_result() -> RunResult:
    labels = [EVIL, "+plus", "-minus", "@at", "\ttab", "normal"]
    return RunResult(
        run_id="r1", method="tfidf-logreg", backbone=None, protocol="adapt", status="completed",
        metrics={"accuracy": 0.5, "macro_precision": 0.4, "macro_recall": 0.5, "macro_f1": 0.45,
                 "weighted_precision": 0.4, "weighted_recall": 0.5, "weighted_f1": 0.45},
        per_class={lab: {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
                   for lab in labels},
        confusion={"labels": labels, "matrix": [[1] * 6 for _ in labels]},
        history={"steps": [{"step": 1, "epoch": 0, "loss": 1.0}], "evals": []},
        predictions=[{"text": "=HYPERLINK(\"http://x\")", "label": EVIL, "predicted": "normal",
                      "confidence": 0.6, "proba": [0.1, 0.1, 0.1, 0.05, 0.05, 0.6]}],
        extra={"proba_labels": labels},
        command="metacore run --data d.csv --method tfidf-logreg",
        created="2025-01-01T00:00:00+00:00",
    )


def read_csv(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


def test_per_class_csv_escapes_formulas() -> None:
    rows = read_csv(export.per_class_csv(make_result()))
    assert rows[0] == ["class", "precision", "recall", "f1", "support"]
    classes = [row[0] for row in rows[1:]]
    assert classes == ["'" + EVIL, "'+plus", "'-minus", "'@at", "'\ttab", "normal",
                       "macro avg", "weighted avg"]
    assert rows[-2][1:] == ["0.4", "0.5", "0.45", "12"]


def test_predictions_csv_escapes_text_and_labels() -> None:
    rows = read_csv(export.predictions_csv(make_result()))
    assert rows[0][:5] == ["text", "label", "predicted", "correct", "confidence"]
    assert rows[0][5] == "p(=cmd|' /C calc'!A0)"  # not at the start of the cell: harmless
    assert rows[1][:4] == ["'=HYPERLINK(\"http://x\")", "'" + EVIL, "normal", "False"]
    assert rows[1][-1] == "0.6"


def test_result_json_and_command() -> None:
    result = make_result()
    assert json.loads(export.result_json(result))["run_id"] == "r1"
    assert export.reproduce_command(result) == result.command
    result.command = ""
    result.config = {"run": {"data": "d.csv", "method": "tfidf-logreg", "seed": 4}}
    assert export.reproduce_command(result).startswith("metacore run --data d.csv")
    assert "--seed 4" in export.reproduce_command(result)
    # newer results keep their plan, which wins over the flat dict
    from metacore.plan import DataSource, ExperimentPlan
    from metacore.plan.command import to_command

    plan = ExperimentPlan(methods={"tfidf-logreg": {}}, data=DataSource(path="d.csv"),
                          shots=(8,), seeds=(2,), init_seeds=(5,))
    result.config = {"run": {"data": "d.csv", "method": "tfidf-logreg", "seed": 4},
                     "plan": plan.to_dict()}
    assert export.reproduce_command(result) == to_command(plan)
    assert "--seed 2 --init-seed 5" in export.reproduce_command(result)
    result.config = {}
    assert export.reproduce_command(result) == ""


def make_model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    (model / "sub").mkdir(parents=True)
    (model / "config.json").write_text("{}")
    (model / "sub" / "weights.bin").write_bytes(b"\x00" * 10)
    return model


def test_model_zip(tmp_path: Path) -> None:
    with zipfile.ZipFile(io.BytesIO(export.model_zip(make_model(tmp_path)))) as archive:
        assert sorted(archive.namelist()) == ["model/config.json", "model/sub/weights.bin"]
    with pytest.raises(FileNotFoundError):
        export.model_zip(tmp_path / "missing")


def test_bundle_zip(tmp_path: Path) -> None:
    data = export.bundle_zip(make_result(), make_model(tmp_path))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert {"result.json", "per_class.csv", "predictions.csv", "command.txt", "README.txt",
                "model/config.json", "model/sub/weights.bin"} <= names
        assert archive.read("command.txt").decode().strip() == make_result().command
    with zipfile.ZipFile(io.BytesIO(export.bundle_zip(make_result(), None))) as archive:
        assert not any(name.startswith("model/") for name in archive.namelist())


def test_figures_html_is_standalone_and_escaped() -> None:
    figures = pytest.importorskip("metacore.reporting.figures")
    result = make_result()
    result.method = "<script>alert(1)</script>"
    page = export.figures_html(result).decode("utf-8")
    titles = [f.layout.title.text for f in figures.all_figures(result).values()]
    for title in filter(None, titles):
        assert f"<h2>{html.escape(title)}</h2>" in page
    assert page.count("<h2>") == len(titles)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert 'src="http' not in page  # plotly.js is inlined, so the page works offline


def test_figures_html_follows_the_language_it_is_given() -> None:
    """The History page passes the interface language: the exported figures' titles and axes
    are in it."""
    import re

    figures = pytest.importorskip("metacore.reporting.figures")
    result = make_result()
    page = export.figures_html(result, "zh").decode("utf-8")
    titles = [f.layout.title.text for f in figures.all_figures(result, lang="zh").values()]
    assert titles and all(re.search(r"[\u4e00-\u9fff]", t) for t in filter(None, titles))
    for title in filter(None, titles):
        assert f"<h2>{html.escape(title)}</h2>" in page

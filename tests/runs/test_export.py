"""Exports: CSV injection is defused, zips hold what they promise, HTML works offline."""

from __future__ import annotations

import csv
import html
import io
import json
import shlex
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
        # the recorded command, with the folder it writes its result.json to
        assert archive.read("command.txt").decode().strip() == \
            make_result().command + " --out runs/r1"
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


def _app_run(tmp_path: Path, status: str = "completed", **fields) -> RunResult:
    """A result the app recorded: data and test file in its upload folder, no --out."""
    uploads = tmp_path / "home" / "uploads"
    command = (f"metacore run --data {uploads}/0123456789ab/bank_15.csv --method protonet "
               f"--backbone minilm --shots 8 --seed 0 --test {uploads}/abcdef012345/held_out.csv")
    return RunResult(run_id="20260101-120000-abc123", method="protonet", backbone="minilm",
                     protocol="adapt", status=status, command=command, **fields)


def test_exported_command_writes_a_result_and_says_where_the_data_goes(tmp_path) -> None:
    from metacore.plan.command import from_command

    result = _app_run(tmp_path)
    text = export.export_command(result)
    *comments, command = text.splitlines()
    assert comments == [
        "# data: put bank_15.csv next to this command (on the server it was "
        "uploads/0123456789ab/bank_15.csv in the run store)",
        "# data: put held_out.csv next to this command (on the server it was "
        "uploads/abcdef012345/held_out.csv in the run store)"]
    assert str(tmp_path) not in text  # nothing of the server's folders
    argv = shlex.split(command)
    assert argv[argv.index("--data") + 1] == "./bank_15.csv"
    assert argv[argv.index("--test") + 1] == "./held_out.csv"
    assert argv[-2:] == ["--out", "runs/20260101-120000-abc123"]  # it writes result.json
    plan = from_command(command)  # the command line still runs as it is
    assert (plan.data.path, plan.out, plan.methods) == ("./bank_15.csv",
                                                        "runs/20260101-120000-abc123",
                                                        {"protonet": {}})
    assert "# this run was stopped" not in text
    # a command that has its own --out (a CLI run) and a file of its own keeps them
    result.command = "metacore run --data my.csv --method protonet --out results/a"
    assert export.export_command(result) == result.command


def test_a_stopped_run_says_so_in_its_command(tmp_path) -> None:
    steps = [{"step": i, "epoch": 0, "loss": 1.0} for i in range(1, 16)]
    result = _app_run(tmp_path, "stopped", history={"steps": steps, "evals": []},
                      extra={"total_steps": 30})
    lines = export.export_command(result).splitlines()
    assert lines[-2] == "# this run was stopped at step 15 of 30; the command runs it in full"
    assert export.export_command(result, "zh").splitlines()[-2] == \
        "# 此运行在第 15 步（共 30 步）时被停止；此命令会完整运行"
    result.extra = {}  # recorded before the total was kept
    assert export.export_command(result).splitlines()[-2] == \
        "# this run was stopped at step 15; the command runs it in full"
    completed = _app_run(tmp_path)
    assert export.export_command(result).splitlines()[-1] == \
        export.export_command(completed).splitlines()[-1]  # the same command: it runs in full


def test_exported_command_in_chinese_and_with_a_hostile_file_name(tmp_path) -> None:
    result = _app_run(tmp_path)
    assert export.export_command(result, "zh").splitlines()[0] == (
        "# 数据：把 bank_15.csv 放在运行此命令的文件夹里（在服务器上它是运行存储中的 "
        "uploads/0123456789ab/bank_15.csv）")
    result.command = ("metacore run --data "
                      f"'{tmp_path}/home/uploads/0123456789ab/a\nrm -rf ~ #.csv' --method protonet")
    comment, command = export.export_command(result).split("\n", 1)
    # the comment stays one line; the command keeps the name whole, quoted: no second command
    assert comment.startswith("# data: put a?rm -rf ~ #.csv next to")
    argv = shlex.split(command)
    assert argv[:4] == ["metacore", "run", "--data", "./a\nrm -rf ~ #.csv"]


def test_sample_data_is_named_in_the_checkout(tmp_path) -> None:
    sample = export.SAMPLES / "support_intents_en.csv"
    assert sample.is_file()
    result = _app_run(tmp_path)
    result.command = f"metacore run --data {sample} --method protonet"
    assert export.export_command(result).splitlines() == [
        "# data: sample_data/support_intents_en.csv ships with metacore; run this in the "
        "metacore folder",
        "metacore run --data sample_data/support_intents_en.csv --method protonet "
        "--out runs/20260101-120000-abc123"]


def test_bundle_and_report_carry_the_exported_command(tmp_path) -> None:
    result = _app_run(tmp_path)
    with zipfile.ZipFile(io.BytesIO(export.bundle_zip(result, None))) as archive:
        command = archive.read("command.txt").decode("utf-8")
        readme = archive.read("README.txt").decode("utf-8")
    assert command == export.export_command(result) + "\n"
    assert "--out runs/" in command and str(tmp_path) not in command + readme
    page = export.figures_html(result).decode("utf-8")
    assert html.escape("--data ./bank_15.csv") in page and str(tmp_path) not in page

"""The command line checks its settings and --out before any work: a bad one exits 2 with one
sentence before the data is read or anything trains (the result would otherwise be lost)."""

from __future__ import annotations

from pathlib import Path

import pytest

from metacore.cli import main


@pytest.fixture
def csv_file(tmp_path: Path) -> str:
    path = tmp_path / "data.csv"
    path.write_text("text,label\n" + "".join(f"t{i},{'ab'[i % 2]}\n" for i in range(20)),
                    encoding="utf-8")
    return str(path)


@pytest.fixture
def no_work(monkeypatch) -> list[str]:
    """Records any attempt to read the data, load a backbone or train."""
    done: list[str] = []

    def refuse(what):
        def call(*args, **kwargs):
            done.append(what)
            raise AssertionError(f"{what} ran before the checks")
        return call

    monkeypatch.setattr("metacore.run.prepare", refuse("prepare"))
    monkeypatch.setattr("metacore.run.run", refuse("train"))
    monkeypatch.setattr("metacore.backbones.load_backbone", refuse("backbone"))
    monkeypatch.setattr("metacore.data.load_dataset", refuse("load data"))
    return done


def _cli(csv_file: str, out: Path, *extra: str) -> list[str]:
    return ["run", "--data", csv_file, "--method", "tfidf-logreg", "--out", str(out),
            "--quiet", *extra]


def test_out_that_is_a_file_exits_2_before_any_work(csv_file, tmp_path, no_work,
                                                     capsys) -> None:
    existing = tmp_path / "results.txt"
    existing.write_text("keep me", encoding="utf-8")
    assert main(_cli(csv_file, existing)) == 2
    assert main(_cli(csv_file, existing / "sub")) == 2  # a folder under a file
    err = capsys.readouterr().err
    assert err.count("is a file; give a folder for the results.") == 2
    assert no_work == [] and existing.read_text(encoding="utf-8") == "keep me"


def test_unwritable_out_exits_2_before_any_work(csv_file, tmp_path, no_work, monkeypatch,
                                                capsys) -> None:
    def refuse(*args, **kwargs):  # what a read-only folder does (root ignores chmod)
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkstemp", refuse)
    assert main(_cli(csv_file, tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert "cannot be written to (Permission denied); give a folder you can write to." in err
    assert no_work == [] and "Traceback" not in err


def test_bad_settings_exit_2_before_the_backbone_loads(csv_file, tmp_path, no_work,
                                                       capsys) -> None:
    argv = ["run", "--data", csv_file, "--method", "tfidf-logreg", "--method", "linear-probe",
            "--backbone", "tiny", "--set", "linear-probe.c=-1", "--quiet"]
    assert main(argv) == 2
    assert no_work == []
    assert "must be" in capsys.readouterr().err


def test_a_good_out_still_runs(csv_file, tmp_path) -> None:
    assert main(_cli(csv_file, tmp_path / "new" / "out")) == 0
    assert sorted(p.name for p in (tmp_path / "new" / "out").iterdir()) == ["result.json"]

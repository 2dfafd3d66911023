"""A run folder reused (the command line's --out) holds the model and the result of one run:
a crash at any point of writing a new pair leaves the old pair or the new one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from metacore.run.runner import save_pair
from metacore.runs import atomic
from metacore.runs.atomic import commit_pair, recover_pair
from metacore.runs.result import RunResult


class Crash(BaseException):
    """A process killed here: nothing after it runs (no except: clean-up either)."""


def result(run_id: str) -> RunResult:
    return RunResult(run_id=run_id, method="m", backbone=None, protocol="adapt",
                     status="completed")


def model(folder: Path, tag: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "weights").write_text(tag)
    return folder


def pair(out: Path) -> tuple[str | None, str | None]:
    """(the model's tag, the result's run id) as a reader would find them."""
    tag = (out / "model" / "weights").read_text() if (out / "model").exists() else None
    run_id = RunResult.load(out / "result.json").run_id if (out / "result.json").exists() \
        else None
    return tag, run_id


@pytest.fixture
def out(tmp_path: Path) -> Path:
    folder = tmp_path / "out"
    commit_pair(folder, result("old"), model(folder / ".model.new-a", "old"))
    assert pair(folder) == ("old", "old")
    return folder


def crash_at(monkeypatch, step: int | str) -> None:
    """Kill the commit just before its ``step``-th rename (the journal, the old model aside,
    the new model in place when there is one, result.json), or at "end": after every rename,
    before the clean-up."""
    real, calls = os.replace, []

    def replace(src, dst):
        calls.append(dst)
        if len(calls) == step:
            raise Crash
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    monkeypatch.setattr(atomic, "recover_pair", lambda folder, keep=None: "none")  # dead
    if step == "end":
        monkeypatch.setattr(atomic, "finish_commit", lambda *a: (_ for _ in ()).throw(Crash))


# with a new model the renames are journal, old aside, new in place, result (the commit
# point: 4); with none, journal, old aside, result (3)
CASES = [(True, s) for s in (1, 2, 3, 4, "end")] + [(False, s) for s in (1, 2, 3, "end")]


@pytest.mark.parametrize(("with_model", "step"), CASES)
def test_a_crash_while_replacing_a_pair_leaves_one_pair(out: Path, monkeypatch, step,
                                                        with_model: bool) -> None:
    new_model = model(out / ".model.new-b", "new") if with_model else None
    crash_at(monkeypatch, step)
    with pytest.raises(Crash):
        commit_pair(out, result("new"), new_model)
    monkeypatch.undo()
    recover_pair(out)  # what the next run into this folder (or retention) does first
    committed = step == "end"  # a crash before the result's rename keeps the old pair
    assert pair(out) == (("new" if with_model else None, "new") if committed else ("old", "old"))
    assert sorted(p.name for p in out.iterdir()) == (
        ["model", "result.json"] if pair(out)[0] else ["result.json"])


def test_an_error_while_replacing_puts_the_old_pair_back(out: Path, monkeypatch) -> None:
    def no_space(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(RunResult, "save", no_space)
    with pytest.raises(OSError):
        commit_pair(out, result("new"), model(out / ".model.new-b", "new"))
    assert pair(out) == ("old", "old")
    assert sorted(p.name for p in out.iterdir()) == ["model", "result.json"]


def test_runner_saves_model_and_result_as_one_pair(out: Path, monkeypatch) -> None:
    save_pair(result("second"), out, lambda staged: model(staged, "second"))
    assert pair(out) == ("second", "second")
    save_pair(result("third"), out, None)  # a run that keeps no model
    assert pair(out) == (None, "third")  # not the second run's model next to it


def test_runner_reports_an_unwritable_folder_as_a_failed_run(out: Path, monkeypatch) -> None:
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(out / ".commit.json"))

    monkeypatch.setattr("metacore.runs.result.write_atomic", refuse)
    done = result("new")
    save_pair(done, out, lambda staged: model(staged, "new"))
    assert done.status == "failed"
    assert done.error.startswith(f"The run finished but its files could not be written to {out}")
    assert "model_dir" not in done.extra
    monkeypatch.undo()
    assert pair(out) == ("old", "old")

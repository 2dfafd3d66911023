"""Write a saved model all at once: into a temporary folder next to it, then one rename.

A model is many files (config, weights, tokenizer, head, manifest). Written in place, a crash
or a killed server halfway through leaves a folder that looks like a model but does not load;
``load_method`` would then fail on a run History lists as completed. A rename within one folder
is atomic on POSIX file systems, so readers see the old model, or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path
from typing import Any

TMP_MARK = ".tmp-"
OLD_MARK = ".old-"


def save_model_atomic(method: Any, directory: str | Path) -> Path:
    """Call ``method.save`` into a temporary sibling folder, then move it to ``directory``.

    Args:
        method: Anything with ``save(directory)`` (a ``Method``).
        directory: The final folder; an existing one is replaced only once the new model is
            complete.

    Returns:
        ``directory``.

    Raises:
        Whatever ``method.save`` raises; the temporary folder is removed and ``directory``
        keeps what it had.
    """
    final = Path(directory)
    final.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(final)
    tmp = final.with_name(f".{final.name}{TMP_MARK}{uuid.uuid4().hex[:8]}")
    try:
        method.save(tmp)
        _sync_tree(tmp)
        old = None
        if final.exists():
            old = final.with_name(f".{final.name}{OLD_MARK}{uuid.uuid4().hex[:8]}")
            os.replace(final, old)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return final


def remove_leftovers(directory: str | Path) -> int:
    """Delete temporary folders an interrupted save left next to ``directory``; how many."""
    final = Path(directory)
    if not final.parent.is_dir():
        return 0
    removed = 0
    for mark in (TMP_MARK, OLD_MARK):
        for path in final.parent.glob(f".{final.name}{mark}*"):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _sync_tree(folder: Path) -> None:
    """Flush the files to disk before the rename publishes them (best effort)."""
    for path in folder.rglob("*"):
        if path.is_file():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                os.fsync(fd)
            except OSError:
                pass
            finally:
                os.close(fd)


# --- a model and its result, together ---------------------------------------------------------
# A run's folder holds ``model/`` and ``result.json``; reused (the command line's ``--out``), the
# new pair must replace the old one as a pair: a crash between the two writes must not leave a
# new model next to an old result (or an old model next to a new result). The commit writes a
# journal first, moves the old model aside, puts the new model in place, replaces result.json
# (one atomic rename: the commit point), and only then deletes the old model and the journal.
# ``recover_pair`` finishes or undoes an interrupted commit: before the commit point it puts the
# old model back, after it deletes the old one.
JOURNAL = ".commit.json"
NEW_MARK = ".new-"
MODEL = "model"
RESULT = "result.json"


def staging_dir(folder: str | Path) -> Path:
    """A fresh hidden folder next to ``folder/model`` to save a new model into before
    ``commit_pair`` publishes it."""
    return Path(folder) / f".{MODEL}{NEW_MARK}{uuid.uuid4().hex[:8]}"


def commit_pair(folder: str | Path, result: Any, new_model: str | Path | None) -> Path:
    """Publish ``new_model`` (a complete model folder, or None: the run kept no model) as
    ``folder/model`` and ``result`` as ``folder/result.json``, so that a crash at any point
    leaves the old pair or the new pair. An old model with no new one is removed with the
    commit (it belonged to another run). Returns the result's path.

    Raises:
        OSError: the folder cannot be written; what was there is put back first.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    recover_pair(folder, keep=new_model)
    model = folder / MODEL
    old = folder / f".{MODEL}{OLD_MARK}{uuid.uuid4().hex[:8]}" if model.exists() else None
    journal = {"run_id": result.run_id, "old": old.name if old else None,
               "new": Path(new_model).name if new_model else None}
    from metacore.runs.result import write_atomic

    try:
        write_atomic(folder / JOURNAL, json.dumps(journal))
        if old is not None:
            os.replace(model, old)
        if new_model is not None:
            os.replace(new_model, model)
        path = result.save(folder / RESULT)  # the commit point
    except BaseException:
        recover_pair(folder, keep=new_model)
        raise
    finish_commit(folder, old)
    return path


def finish_commit(folder: Path, old: Path | None) -> None:
    """The commit is in: drop the old model, then the journal."""
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    (folder / JOURNAL).unlink(missing_ok=True)


def recover_pair(folder: str | Path, keep: str | Path | None = None) -> str:
    """Finish or undo a commit a crash interrupted in ``folder``; remove staging leftovers
    (but ``keep``, a model staged for the commit about to start). Returns "none" (nothing
    was pending), "committed" or "rolled back"."""
    folder = Path(folder)
    journal_path = folder / JOURNAL
    outcome = "none"
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        journal = None
    if isinstance(journal, dict):
        old = folder / journal["old"] if journal.get("old") else None
        if _result_run_id(folder / RESULT) == journal.get("run_id"):
            outcome = "committed"
            finish_commit(folder, old)
        else:
            outcome = "rolled back"
            model = folder / MODEL
            if old is not None and old.exists():
                if model.exists():
                    shutil.rmtree(model)
                os.replace(old, model)
            elif old is None and journal.get("new") and model.exists():
                shutil.rmtree(model)  # there was no model before: the new one goes
            journal_path.unlink(missing_ok=True)
    if folder.is_dir():
        for mark in (NEW_MARK, OLD_MARK, TMP_MARK):
            for path in folder.glob(f".{MODEL}{mark}*"):
                if keep is None or path.name != Path(keep).name:
                    shutil.rmtree(path, ignore_errors=True)
    return outcome


def _result_run_id(path: Path) -> str | None:
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("run_id")
    except (OSError, ValueError, AttributeError):
        return None

"""Write a saved model all at once: into a temporary folder next to it, then one rename.

A model is many files (config, weights, tokenizer, head, manifest). Written in place, a crash
or a killed server halfway through leaves a folder that looks like a model but does not load;
``load_method`` would then fail on a run History lists as completed. A rename within one folder
is atomic on POSIX file systems, so readers see the old model, or the new one, never half of one.
"""

from __future__ import annotations

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

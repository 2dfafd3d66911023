"""Run history: one SQLite table of summaries plus one artifact folder per run.

Layout under the root (``$METACORE_HOME``, else the platform's user data folder)::

    runs.sqlite                 one row per run: what the History page lists and filters
    artifacts/<run_id>/         result.json (the full ``RunResult``) and model/ when saved

The row is written first (queued, running) so a run is never lost if the process dies; the full
result is written atomically when the run ends. The store is used from Streamlit's script
threads and the worker thread at once, so every call opens its own connection (SQLite
connections must not be shared across threads) and the database runs in WAL mode, where readers
never block the writer.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metacore.runs.result import RunResult, write_atomic

if TYPE_CHECKING:
    from metacore.plan import ExperimentPlan

DB_NAME = "runs.sqlite"
ARTIFACTS = "artifacts"
RESULT_FILE = "result.json"
BUSY_TIMEOUT_S = 30.0
UNFINISHED = ("queued", "running")
INTERRUPTED_ERROR = "The server stopped before this run finished."
_SAFE_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id TEXT NOT NULL UNIQUE,
    method TEXT NOT NULL,
    backbone TEXT,
    protocol TEXT NOT NULL,
    status TEXT NOT NULL,
    created TEXT NOT NULL,
    accuracy REAL,
    macro_f1 REAL,
    train_s REAL,
    trainable_params INTEGER,
    owner TEXT NOT NULL DEFAULT '',
    grp TEXT NOT NULL DEFAULT '',
    data_source TEXT NOT NULL DEFAULT '',
    error TEXT,
    shared INTEGER NOT NULL DEFAULT 0,
    spec_json TEXT,
    host TEXT,
    pid INTEGER
);
CREATE INDEX IF NOT EXISTS runs_owner ON runs(owner);
CREATE INDEX IF NOT EXISTS runs_status ON runs(status);
"""

# ``created`` is not updated on conflict: the history stays ordered by submission time. Owner
# and group keep their old value when the new one is empty, so a
# result recorded without them does not orphan a run that was queued with them.
_UPSERT = """
INSERT INTO runs (run_id, method, backbone, protocol, status, created, accuracy, macro_f1,
                  train_s, trainable_params, owner, grp, data_source, error, spec_json, host, pid)
VALUES (:run_id, :method, :backbone, :protocol, :status, :created, :accuracy, :macro_f1,
        :train_s, :trainable_params, :owner, :grp, :data_source, :error, :spec_json, :host, :pid)
ON CONFLICT(run_id) DO UPDATE SET
    method = excluded.method, backbone = excluded.backbone, protocol = excluded.protocol,
    status = excluded.status, accuracy = excluded.accuracy, macro_f1 = excluded.macro_f1,
    train_s = excluded.train_s, trainable_params = excluded.trainable_params,
    owner = CASE WHEN excluded.owner != '' THEN excluded.owner ELSE runs.owner END,
    grp = CASE WHEN excluded.grp != '' THEN excluded.grp ELSE runs.grp END,
    data_source = excluded.data_source, error = excluded.error,
    spec_json = COALESCE(excluded.spec_json, runs.spec_json),
    host = excluded.host, pid = excluded.pid
"""

_SUMMARY_COLUMNS = ("run_id, method, backbone, protocol, status, created, accuracy, macro_f1, "
                    "train_s, trainable_params, owner, grp, data_source, error, shared")


@dataclass(frozen=True)
class RunSummary:
    """One row of the run history: enough to list, filter and sort without reading results."""

    run_id: str
    method: str
    backbone: str | None
    protocol: str
    status: str
    created: str
    accuracy: float | None
    macro_f1: float | None
    train_s: float | None
    trainable_params: int | None
    owner: str
    group: str
    data_source: str
    error: str | None
    shared: bool


def default_root() -> Path:
    """``$METACORE_HOME``, else the platform's per-user data folder."""
    home = os.environ.get("METACORE_HOME")
    if home:
        return Path(home).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("metacore"))


class RunStore:
    """SQLite summaries + artifact folders; safe to use from several threads at once."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ARTIFACTS).mkdir(exist_ok=True)
        self.db_path = self.root / DB_NAME
        with self._connect() as conn:
            # WAL is a property of the database file: set once, every later connection uses it.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection for one call, committed on success and always closed."""
        with closing(sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S)) as conn:
            conn.row_factory = sqlite3.Row
            with conn:
                yield conn

    # --- writing ----------------------------------------------------------------------------
    def record_queued(self, run_id: str, plan: ExperimentPlan, *, owner: str = "",
                      group: str = "") -> None:
        """Note a submitted run (a single-run plan) before it starts, so a crash leaves a
        trace of it."""
        from metacore.methods import registry

        _check_id(run_id)
        run = plan.runs()[0]
        row = _empty_row(run_id, status="queued", owner=owner, group=group)
        row.update(method=run.method, data_source=str(plan.data.path), protocol=plan.protocol,
                   backbone=plan.backbone if registry.get(run.method).uses_backbone else None,
                   spec_json=json.dumps({"plan": plan.to_dict()}, ensure_ascii=False,
                                        default=str))
        with self._connect() as conn:
            conn.execute(_UPSERT, row)

    def record_running(self, run_id: str) -> None:
        """Mark a queued run as started (by this process)."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE runs SET status = 'running', host = ?, pid = ? "
                               "WHERE run_id = ?", (socket.gethostname(), os.getpid(), run_id))
        if cur.rowcount == 0:
            raise KeyError(run_id)

    def record_result(self, result: RunResult, *, owner: str = "", group: str = "") -> None:
        """Write ``artifacts/<run_id>/result.json`` atomically, then insert or update the row."""
        _check_id(result.run_id)
        write_atomic(self.artifact_dir(result.run_id) / RESULT_FILE, result.to_json())
        row = _empty_row(result.run_id, status=result.status, owner=owner, group=group)
        run_config = result.config.get("run") or {}
        stored = {"plan": result.config["plan"]} if result.config.get("plan") else run_config
        params = result.parameters.get("trainable") if result.parameters else None
        row.update(
            method=result.method, backbone=result.backbone, protocol=result.protocol,
            created=result.created or row["created"],
            # episodic runs report the mean over test episodes
            accuracy=_number(result.metrics, "accuracy", "accuracy_mean"),
            macro_f1=_number(result.metrics, "macro_f1", "macro_f1_mean"),
            train_s=_number(result.timing, "train_s"),
            trainable_params=int(params) if params is not None else None, error=result.error,
            data_source=str(result.data.get("source") or run_config.get("data") or ""),
            spec_json=json.dumps(stored, ensure_ascii=False, default=str) if stored else None,
        )
        with self._connect() as conn:
            conn.execute(_UPSERT, row)

    def set_shared(self, run_id: str, shared: bool) -> None:
        """Show (or hide) a run to every user of a shared server."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE runs SET shared = ? WHERE run_id = ?",
                               (int(bool(shared)), run_id))
        if cur.rowcount == 0:
            raise KeyError(run_id)

    def delete(self, run_id: str) -> None:
        """Remove the row and the artifact folder (a missing run is not an error)."""
        with self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
        if _SAFE_ID.match(run_id):
            shutil.rmtree(self.root / ARTIFACTS / run_id, ignore_errors=True)

    def mark_interrupted(self) -> int:
        """Close rows left queued or running by a process that is gone; return how many.

        Rows of a process still alive on this machine (another queue in this process, or a
        second app) are left alone. A run whose result.json was written before the crash is
        recorded from it instead of being marked interrupted.
        """
        with self._connect() as conn:
            rows = conn.execute("SELECT run_id, host, pid FROM runs WHERE status IN (?, ?)",
                                UNFINISHED).fetchall()
        orphans = [r["run_id"] for r in rows if not _process_alive(r["host"], r["pid"])]
        interrupted = []
        for run_id in orphans:
            finished = self._finished_result(run_id)
            if finished is not None:
                self.record_result(finished)
            else:
                interrupted.append(run_id)
        with self._connect() as conn:
            conn.executemany(
                "UPDATE runs SET status = 'interrupted', error = ? WHERE run_id = ? "
                "AND status IN ('queued', 'running')",
                [(INTERRUPTED_ERROR, run_id) for run_id in interrupted])
        return len(interrupted)

    # --- reading ----------------------------------------------------------------------------
    def list_runs(self, *, owner: str | None = None, limit: int = 500) -> list[RunSummary]:
        """Newest first. ``owner=None``: every run; else that owner's runs and shared ones."""
        where, args = _owner_filter(owner)
        sql = (f"SELECT {_SUMMARY_COLUMNS} FROM runs {where} "
               "ORDER BY created DESC, seq DESC LIMIT ?")
        with self._connect() as conn:
            rows = conn.execute(sql, (*args, int(limit))).fetchall()
        return [_summary(row) for row in rows]

    def get(self, run_id: str) -> RunResult:
        """The full result; for runs without result.json (queued, running, interrupted) one
        built from the row. Raises ``KeyError`` if the run is unknown."""
        with self._connect() as conn:
            row = conn.execute("SELECT * FROM runs WHERE run_id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(run_id)
        path = self.root / ARTIFACTS / run_id / RESULT_FILE
        if row["status"] not in UNFINISHED and path.exists():
            try:
                return RunResult.load(path)
            except (OSError, ValueError, TypeError):
                pass  # a damaged file: the row still says what is known
        return _result_from_row(row)

    def groups(self, owner: str | None = None) -> list[str]:
        """Names of comparison groups visible to ``owner`` (as in ``list_runs``), newest first."""
        where, args = _owner_filter(owner)
        where = f"{where} AND grp != ''" if where else "WHERE grp != ''"
        sql = f"SELECT grp FROM runs {where} GROUP BY grp ORDER BY MAX(created) DESC, MAX(seq) DESC"
        with self._connect() as conn:
            return [row["grp"] for row in conn.execute(sql, args).fetchall()]

    def artifact_dir(self, run_id: str) -> Path:
        """The run's folder (created on demand); the worker saves the model in ``model/``."""
        _check_id(run_id)
        path = self.root / ARTIFACTS / run_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _finished_result(self, run_id: str) -> RunResult | None:
        path = self.root / ARTIFACTS / run_id / RESULT_FILE
        try:
            result = RunResult.load(path)
        except (OSError, ValueError, TypeError):
            return None
        return result if result.status in {"completed", "stopped", "failed"} else None


def _check_id(run_id: str) -> None:
    """Run ids name folders: refuse anything that could step outside the artifact root."""
    if not isinstance(run_id, str) or not _SAFE_ID.match(run_id):
        raise ValueError(f"Invalid run id {run_id!r}: use letters, digits, '.', '_' and '-'.")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _empty_row(run_id: str, *, status: str, owner: str, group: str) -> dict[str, Any]:
    return {"run_id": run_id, "method": "", "backbone": None, "protocol": "adapt",
            "status": status, "created": _now(), "accuracy": None, "macro_f1": None,
            "train_s": None, "trainable_params": None, "owner": owner or "", "grp": group or "",
            "data_source": "", "error": None, "spec_json": None,
            "host": socket.gethostname(), "pid": os.getpid()}


def _number(values: dict[str, Any], *keys: str) -> float | None:
    """The first of ``keys`` that holds a number, as a float."""
    for key in keys:
        value = values.get(key)
        if isinstance(value, (int, float)):
            return float(value)
    return None


def _owner_filter(owner: str | None) -> tuple[str, tuple[Any, ...]]:
    if owner is None:
        return "", ()
    return "WHERE (owner = ? OR shared = 1)", (owner,)


def _summary(row: sqlite3.Row) -> RunSummary:
    return RunSummary(
        run_id=row["run_id"], method=row["method"], backbone=row["backbone"],
        protocol=row["protocol"], status=row["status"], created=row["created"],
        accuracy=row["accuracy"], macro_f1=row["macro_f1"], train_s=row["train_s"],
        trainable_params=row["trainable_params"], owner=row["owner"], group=row["grp"],
        data_source=row["data_source"], error=row["error"], shared=bool(row["shared"]),
    )


def _result_from_row(row: sqlite3.Row) -> RunResult:
    """A result for a run that has none on disk: what the row knows, and the command."""
    from metacore.plan import legacy_dict, plan_of_result
    from metacore.plan.command import to_command

    stored = json.loads(row["spec_json"]) if row["spec_json"] else {}
    config = stored if "plan" in stored else ({"run": stored} if stored else {})
    plan = plan_of_result(config, row["protocol"]) if config else None
    if plan is not None and "run" not in config:
        config = {**config, "run": legacy_dict(plan)}
    return RunResult(
        run_id=row["run_id"], method=row["method"], backbone=row["backbone"],
        protocol=row["protocol"], status=row["status"], error=row["error"],
        config=config, data={"source": row["data_source"]},
        command=to_command(plan) if plan is not None else "", created=row["created"],
    )


def _process_alive(host: str | None, pid: int | None) -> bool:
    """Whether the process that wrote a row still runs (checked on this machine only)."""
    if not pid or host != socket.gethostname():
        return False  # another machine (or a restarted container): assume it is gone
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True

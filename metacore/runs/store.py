"""Run history: one SQLite table of summaries plus one artifact folder per run.

Layout under the root (``$METACORE_HOME``, else the platform's user data folder)::

    runs.sqlite                 one row per run: what the History page lists and filters;
                                and ``shares``: the token of each run's read-only link
    artifacts/<run_id>/         result.json (the full ``RunResult``) and model/ when saved

The row is written first (queued, running) so a run is never lost if the process dies; the full
result is written atomically when the run ends. The store is used from Streamlit's script
threads and the worker thread at once, so every call opens its own connection (SQLite
connections must not be shared across threads) and the database runs in WAL mode, where readers
never block the writer.

The database is only an index: every finished run's ``result.json`` (and ``owner.json``: who it
belongs to, its group, whether it is shared) is the record. Opening a database that cannot be
read (garbage, truncated, empty, another schema, a failing ``quick_check``) moves it aside to
``runs.sqlite.corrupt-<time>`` and rebuilds the index from the artifact folders; runs whose
``result.json`` is on disk but not in the index are added back too. What was repaired is in
``RunStore.notices`` (coded messages, for the app to say once).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from metacore.messages import Message, MessageError, msg
from metacore.runs.result import RunResult, write_atomic

if TYPE_CHECKING:
    from metacore.plan import ExperimentPlan

DB_NAME = "runs.sqlite"
ARTIFACTS = "artifacts"
RESULT_FILE = "result.json"
OWNER_FILE = "owner.json"  # owner, group, shared: never exported with the result
ASIDE_MARK = ".corrupt-"
BUSY_TIMEOUT_S = 30.0
UNFINISHED = ("queued", "running")
INTERRUPTED_ERROR = "The server stopped before this run finished."
SHARE_TOKEN_BYTES = 16  # 128 random bits: a link cannot be guessed
_SHARE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
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
CREATE TABLE IF NOT EXISTS shares (
    token TEXT PRIMARY KEY,
    run_id TEXT NOT NULL UNIQUE,
    created TEXT NOT NULL
);
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


def _is_busy(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corruption(exc: BaseException) -> bool:
    """An error that says the database file itself is broken (not busy, not a bad query)."""
    if not isinstance(exc, sqlite3.DatabaseError) or _is_busy(exc):
        return False
    if isinstance(exc, sqlite3.OperationalError):
        text = str(exc).lower()
        return "no such table" in text or "no such column" in text or "malformed" in text
    return not isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError,
                                sqlite3.InterfaceError))


def _healing(method: Any) -> Any:
    """Run a store call; if the database turns out to be broken, heal it and try once more."""
    import functools

    @functools.wraps(method)
    def call(self: RunStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise
            self.heal(msg("store.reason.damaged", detail=str(exc)))
            return method(self, *args, **kwargs)

    return call


class RunStore:
    """SQLite summaries + artifact folders; safe to use from several threads at once."""

    def __init__(self, root: str | Path | None = None) -> None:
        self.root = Path(root).expanduser() if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / ARTIFACTS).mkdir(exist_ok=True)
        self.db_path = self.root / DB_NAME
        # What opening repaired (coded messages): the app says them once.
        self.notices: list[Message] = []
        self._open()

    def _open(self, problem: Message | None = None) -> None:
        """Check the database, move an unreadable one aside, create the schema, and add back
        every run whose result.json is on disk but not in the index."""
        problem = problem or database_problem(self.db_path)
        salvaged: dict[str, dict[str, Any]] = {}
        if problem is not None:
            aside = self._move_aside()
            salvaged = _salvage(aside)
            self.notices.append(msg("store.moved_aside", name=DB_NAME, reason=problem,
                                    aside=aside.name))
        with self._connect() as conn:
            # WAL is a property of the database file: set once, every later connection uses it.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
        restored, unowned = self._restore_from_artifacts(salvaged)
        if restored:
            self.notices.append(msg("store.restored", n=restored,
                                    folder=str(self.root / ARTIFACTS)))
        if unowned:
            self.notices.append(msg("store.unowned", n=unowned))

    def heal(self, problem: Message) -> None:
        """Move the database aside and rebuild it now (it broke while the app was running)."""
        self._open(problem)

    def _move_aside(self) -> Path:
        """Rename the database (and its WAL) to ``runs.sqlite.corrupt-<time>``; its -shm goes."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.db_path.with_name(f"{DB_NAME}{ASIDE_MARK}{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.db_path.with_name(f"{DB_NAME}{ASIDE_MARK}{stamp}-{n}")
        if self.db_path.exists():
            os.replace(self.db_path, aside)
        wal = self.db_path.with_name(f"{DB_NAME}-wal")
        if wal.exists():
            os.replace(wal, aside.with_name(f"{aside.name}-wal"))
        self.db_path.with_name(f"{DB_NAME}-shm").unlink(missing_ok=True)
        return aside

    def _restore_from_artifacts(self, salvaged: dict[str, dict[str, Any]]) -> tuple[int, int]:
        """Index every ``artifacts/<run>/result.json`` the table lacks; (restored, of them
        with no recorded owner). The owner comes from ``owner.json``, else from what could be
        read of a moved-aside database; runs saved before owner.json existed have none."""
        folder = self.root / ARTIFACTS
        with self._connect() as conn:
            known = {row[0] for row in conn.execute("SELECT run_id FROM runs")}
        restored = unowned = 0
        rows, shared = [], []
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.name in known or not _SAFE_ID.match(path.name) or not path.is_dir():
                continue
            try:
                result = RunResult.load(path / RESULT_FILE)
            except (OSError, ValueError, TypeError):
                continue  # no result (a run that never finished) or a damaged one
            if result.run_id != path.name:
                continue
            meta = {**salvaged.get(path.name, {}), **_read_owner_file(path)}
            row = self._row_of(result, owner=str(meta.get("owner") or ""),
                               group=str(meta.get("group") or ""))
            rows.append(row)
            if meta.get("shared"):
                shared.append((path.name,))
            restored += 1
            unowned += not row["owner"]
        if rows:
            with self._connect() as conn:  # one transaction: a large history in one write
                conn.executemany(_UPSERT, rows)
                conn.executemany("UPDATE runs SET shared = 1 WHERE run_id = ?", shared)
        return restored, unowned

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A fresh connection for one call, committed on success and always closed."""
        with closing(sqlite3.connect(self.db_path, timeout=BUSY_TIMEOUT_S)) as conn:
            conn.row_factory = sqlite3.Row
            with conn:
                yield conn

    # --- writing ----------------------------------------------------------------------------
    @_healing
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

    @_healing
    def record_running(self, run_id: str) -> None:
        """Mark a queued run as started (by this process)."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE runs SET status = 'running', host = ?, pid = ? "
                               "WHERE run_id = ?", (socket.gethostname(), os.getpid(), run_id))
        if cur.rowcount == 0:
            raise KeyError(run_id)

    @_healing
    def record_result(self, result: RunResult, *, owner: str = "", group: str = "") -> None:
        """Write ``artifacts/<run_id>/result.json`` (and ``owner.json``) atomically, then
        insert or update the row.

        Raises:
            MessageError: the files could not be written (a read-only or full disk). The row
                is then still updated, as failed with that sentence, so it never stays
                "running"; the caller goes on.
        """
        _check_id(result.run_id)
        try:
            folder = self.artifact_dir(result.run_id)
            write_atomic(folder / RESULT_FILE, result.to_json())
            self._write_owner_file(result.run_id, owner=owner, group=group)
        except OSError as exc:
            problem = msg("store.error.not_written", folder=str(self.root / ARTIFACTS /
                                                               result.run_id),
                          detail=exc.strerror or str(exc))
            row = self._row_of(result, owner=owner, group=group)
            row.update(status="failed", error=result.error if result.status == "failed"
                       and result.error else str(problem))
            with self._connect() as conn:
                conn.execute(_UPSERT, row)
            raise MessageError(problem) from exc
        with self._connect() as conn:
            conn.execute(_UPSERT, self._row_of(result, owner=owner, group=group))

    def _write_owner_file(self, run_id: str, *, owner: str = "", group: str = "",
                          shared: bool | None = None) -> None:
        """Keep who a run belongs to next to its result, so a rebuilt index knows it (the
        owner id is a private key, so it is not in result.json, which is exported)."""
        folder = self.root / ARTIFACTS / run_id
        meta = _read_owner_file(folder)
        if owner:
            meta["owner"] = owner
        if group:
            meta["group"] = group
        if shared is not None:
            meta["shared"] = bool(shared)
        if meta and meta != _read_owner_file(folder):
            write_atomic(folder / OWNER_FILE, json.dumps(meta, ensure_ascii=False))

    def _row_of(self, result: RunResult, *, owner: str, group: str) -> dict[str, Any]:
        """The table row of a result."""
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
        return row

    @_healing
    def set_shared(self, run_id: str, shared: bool) -> None:
        """Show (or hide) a run to every user of a shared server."""
        with self._connect() as conn:
            cur = conn.execute("UPDATE runs SET shared = ? WHERE run_id = ?",
                               (int(bool(shared)), run_id))
        if cur.rowcount == 0:
            raise KeyError(run_id)
        if _SAFE_ID.match(run_id) and (self.root / ARTIFACTS / run_id).is_dir():
            try:
                self._write_owner_file(run_id, shared=shared)
            except OSError:
                pass  # the index has it; only a rebuild would forget it

    # --- read-only links (one random token per run; ``?share=<token>`` in the app) -----
    def create_share(self, run_id: str) -> str:
        """The run's read-only link token: the one it has, else a new random one. Raises
        ``KeyError`` if the run is unknown."""
        with self._connect() as conn:
            if conn.execute("SELECT 1 FROM runs WHERE run_id = ?", (run_id,)).fetchone() is None:
                raise KeyError(run_id)
            conn.execute("INSERT OR IGNORE INTO shares (token, run_id, created) VALUES (?, ?, ?)",
                         (secrets.token_urlsafe(SHARE_TOKEN_BYTES), run_id, _now()))
            return conn.execute("SELECT token FROM shares WHERE run_id = ?",
                                (run_id,)).fetchone()["token"]

    def share_token(self, run_id: str) -> str | None:
        """The run's link token, or None when it has none (never shared, or revoked)."""
        with self._connect() as conn:
            row = conn.execute("SELECT token FROM shares WHERE run_id = ?", (run_id,)).fetchone()
        return row["token"] if row is not None else None

    def revoke_share(self, run_id: str) -> bool:
        """Make the run's link stop working (a later ``create_share`` makes a new one); True
        if it had one."""
        with self._connect() as conn:
            return conn.execute("DELETE FROM shares WHERE run_id = ?", (run_id,)).rowcount > 0

    def shared_run(self, token: str) -> str | None:
        """The run a link token opens, or None (unknown, revoked, malformed, run deleted)."""
        if not isinstance(token, str) or not _SHARE_TOKEN.match(token):
            return None
        with self._connect() as conn:
            row = conn.execute("SELECT s.run_id FROM shares s JOIN runs r ON r.run_id = s.run_id "
                               "WHERE s.token = ?", (token,)).fetchone()
        return row["run_id"] if row is not None else None

    def delete(self, run_id: str) -> None:
        """Remove the row and the artifact folder (a missing run is not an error)."""
        if _SAFE_ID.match(run_id):  # the result first: a rebuilt index must not bring it back
            (self.root / ARTIFACTS / run_id / RESULT_FILE).unlink(missing_ok=True)
        with self._connect() as conn:
            conn.execute("DELETE FROM runs WHERE run_id = ?", (run_id,))
            conn.execute("DELETE FROM shares WHERE run_id = ?", (run_id,))
        if _SAFE_ID.match(run_id):
            shutil.rmtree(self.root / ARTIFACTS / run_id, ignore_errors=True)

    @_healing
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
    @_healing
    def list_runs(self, *, owner: str | None = None, limit: int = 500) -> list[RunSummary]:
        """Newest first. ``owner=None``: every run; else that owner's runs and shared ones."""
        where, args = _owner_filter(owner)
        sql = (f"SELECT {_SUMMARY_COLUMNS} FROM runs {where} "
               "ORDER BY created DESC, seq DESC LIMIT ?")
        with self._connect() as conn:
            rows = conn.execute(sql, (*args, int(limit))).fetchall()
        return [_summary(row) for row in rows]

    @_healing
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

    @_healing
    def groups(self, owner: str | None = None) -> list[str]:
        """Names of comparison groups visible to ``owner`` (as in ``list_runs``), newest first."""
        where, args = _owner_filter(owner)
        where = f"{where} AND grp != ''" if where else "WHERE grp != ''"
        sql = f"SELECT grp FROM runs {where} GROUP BY grp ORDER BY MAX(created) DESC, MAX(seq) DESC"
        with self._connect() as conn:
            return [row["grp"] for row in conn.execute(sql, args).fetchall()]

    @_healing
    def plan_keys(self, group: str, *, with_ids: bool = False) -> list[tuple[str, ...]]:
        """``(key, status)`` of every run in ``group``, the key being its single-run plan's
        (``ExperimentPlan.key``), for sweeps that resume; ``with_ids`` adds the run id."""
        from metacore.plan import ExperimentPlan

        with self._connect() as conn:
            rows = conn.execute("SELECT run_id, status, spec_json FROM runs WHERE grp = ? "
                                "ORDER BY seq", (group,)).fetchall()
        out: list[tuple[str, ...]] = []
        for row in rows:
            try:
                key = ExperimentPlan.from_dict(json.loads(row["spec_json"])["plan"]).key()
            except (ValueError, KeyError, TypeError):
                continue  # a row without its plan (older store): never counted as done
            out.append((key, row["status"], row["run_id"]) if with_ids else (key, row["status"]))
        return out

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


_REQUIRED_COLUMNS = {"seq", "run_id", "method", "backbone", "protocol", "status", "created",
                     "accuracy", "macro_f1", "train_s", "trainable_params", "owner", "grp",
                     "data_source", "error", "shared", "spec_json", "host", "pid"}
_HEADER = b"SQLite format 3\x00"


def database_problem(path: Path) -> Message | None:
    """Why the database at ``path`` cannot be used as the index (a coded reason), or None
    when it can (or does not exist yet: it is then created). Extra tables and columns are
    fine; a missing ``runs`` table is created."""
    try:
        if not path.exists():
            return None
        if path.stat().st_size == 0:
            return msg("store.reason.empty")
        with path.open("rb") as handle:
            if handle.read(len(_HEADER)) != _HEADER:
                return msg("store.reason.not_a_database")
        with closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as conn:
            checks = [row[0] for row in conn.execute("PRAGMA quick_check").fetchall()]
            if checks != ["ok"]:
                return msg("store.reason.damaged", detail="; ".join(map(str, checks[:3])))
            tables = {row[0] for row in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "runs" not in tables:
                return None
            columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
            if not _REQUIRED_COLUMNS <= columns:
                return msg("store.reason.schema", missing=sorted(_REQUIRED_COLUMNS - columns))
            conn.execute("SELECT * FROM runs").fetchall()  # every row can be read
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            return None  # another process is writing: it is readable, just not right now
        return msg("store.reason.damaged", detail=str(exc))
    except sqlite3.DatabaseError as exc:
        return msg("store.reason.damaged", detail=str(exc))
    return None


def _salvage(aside: Path) -> dict[str, dict[str, Any]]:
    """Owner, group and shared of whatever rows of a moved-aside database can still be read."""
    out: dict[str, dict[str, Any]] = {}
    try:
        if aside.stat().st_size == 0:
            return out
        with closing(sqlite3.connect(f"{aside.resolve().as_uri()}?mode=ro&immutable=1",
                                     uri=True)) as conn:
            for row in conn.execute("SELECT run_id, owner, grp, shared FROM runs"):
                out[str(row[0])] = {"owner": row[1] or "", "group": row[2] or "",
                                    "shared": bool(row[3])}
    except (sqlite3.Error, OSError, IndexError, TypeError):
        pass  # what was read before the damage is kept
    return out


def _read_owner_file(folder: Path) -> dict[str, Any]:
    try:
        values = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return values if isinstance(values, dict) else {}


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

"""The job store: one SQLite file that outlives the process.

Every job is written before it is acknowledged, with its input bytes; its result and report are written
before it is marked done. The file runs in WAL mode with ``synchronous=NORMAL``: a committed transaction
survives the process being killed (SIGKILL) at any point, which is the failure this store is for (an OS
crash or power cut may lose the last few commits). A job's life is ``queued → running → done | failed |
cancelled``; every transition is one conditional UPDATE, so a late finish cannot overwrite a cancel.
Each job has an owner (:mod:`service.owners`), and deduplication is per owner.

The files are private whatever the umask: the data dir is made 0700 and ``jobs.sqlite3`` (with its
``-wal`` and ``-shm``, which SQLite creates with the database file's mode) and ``lock`` 0600, also when
they exist with looser modes; a data dir this user cannot make private is refused.

:class:`Store` is synchronous and not thread-safe: the server drives it from a single thread (the one
writer). An exclusive lock on ``<data-dir>/lock`` keeps a second service off the same directory.
"""

from __future__ import annotations

import asyncio
import fcntl
import functools
import json
import os
import re
import secrets
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

from catterms.errors import CattermsError

from .owners import DEFAULT_OWNER
from .submission import Submission

QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)
TERMINAL = frozenset({DONE, FAILED, CANCELLED})

#: A job id is this many random bytes in lowercase hex.
JOB_ID_BYTES = 8
JOB_ID = re.compile(f"[0-9a-f]{{{2 * JOB_ID_BYTES}}}")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    baseline INTEGER NOT NULL,
    created REAL NOT NULL,
    started REAL,
    finished REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    tasks INTEGER,
    error_code TEXT,
    error_message TEXT
    -- owner: added by Store._migrate, for new and old files alike
);
CREATE INDEX IF NOT EXISTS jobs_digest ON jobs (digest);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs (state);
CREATE TABLE IF NOT EXISTS inputs (
    seq INTEGER PRIMARY KEY REFERENCES jobs (seq),
    term BLOB NOT NULL, x BLOB NOT NULL, tangent BLOB, cotangent BLOB
);
CREATE TABLE IF NOT EXISTS results (
    seq INTEGER PRIMARY KEY REFERENCES jobs (seq),
    value BLOB NOT NULL, derivative BLOB, report TEXT NOT NULL
);
"""

_COLUMNS = ("seq, id, digest, state, mode, baseline, created, started, finished, attempts, tasks, error_code, "
            "error_message, owner")


@dataclass(frozen=True)
class JobRow:
    """One job's bookkeeping (no payloads)."""

    seq: int
    id: str
    digest: str
    state: str
    mode: str
    baseline: bool
    created: float
    started: float | None
    finished: float | None
    attempts: int
    tasks: int | None
    error_code: str | None
    error_message: str | None
    owner: str = DEFAULT_OWNER

    def to_dict(self) -> dict[str, Any]:
        """The public view of a job (what ``GET /v1/jobs/{id}`` shows, before live progress is added)."""
        out: dict[str, Any] = {
            "id": self.id, "state": self.state, "mode": self.mode, "baseline": self.baseline,
            "created": self.created, "started": self.started, "finished": self.finished, "attempts": self.attempts,
            "owner": self.owner,
        }
        if self.error_code is not None:
            out["error"] = {"code": self.error_code, "message": self.error_message}
        return out


@dataclass(frozen=True)
class Stored:
    """A finished job's result: encoded value and derivative, and the report."""

    value: bytes
    derivative: bytes | None
    report: dict[str, Any]


class DataDirError(CattermsError, RuntimeError):
    """The data dir cannot be used: another service holds it, or it cannot be made private."""


def _private(path: Path, mode: int) -> None:
    """Give ``path`` exactly ``mode`` (tightening a looser one), or refuse a path this user may not chmod."""
    try:
        if path.stat().st_mode & 0o777 != mode:
            os.chmod(path, mode)
    except PermissionError:
        raise DataDirError(f"cannot make {path} private (mode {mode:04o}): it belongs to another user; "
                           "give the service a directory of its own (--data-dir)") from None


def _private_file(path: Path) -> int:
    """Open (creating) ``path`` read-write with mode 0600 whatever the umask; returns the descriptor."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    _private(path, 0o600)
    return fd


def lock_data_dir(path: Path) -> int:
    """Create ``path`` (0700) and hold an exclusive lock on it for this process's life; refuse a second holder."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    _private(path, 0o700)
    fd = _private_file(path / "lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise DataDirError(f"another catterms service is using the data dir {path}") from None
    return fd


class Store:
    """Jobs, inputs, results and reports in ``<data_dir>/jobs.sqlite3``, locked for this process."""

    def __init__(self, data_dir: Path) -> None:
        self._lock = lock_data_dir(Path(data_dir))
        self.path = Path(data_dir) / "jobs.sqlite3"
        # created here, 0600, before SQLite opens it: SQLite gives the -wal and -shm it creates this mode
        os.close(_private_file(self.path))
        for suffix in ("-wal", "-shm"):  # left by a process that was killed, perhaps with a looser mode
            if (extra := self.path.with_name(self.path.name + suffix)).exists():
                _private(extra, 0o600)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.executescript(_SCHEMA)
        self._migrate()

    def _migrate(self) -> None:
        """Bring the file up to this version's schema, in place (a new file goes the same way)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(jobs)")}
        if "owner" not in columns:  # a store from before owners: its jobs were the one owner's
            self._db.execute(f"ALTER TABLE jobs ADD COLUMN owner TEXT NOT NULL DEFAULT '{DEFAULT_OWNER}'")
        self._db.execute("CREATE INDEX IF NOT EXISTS jobs_owner ON jobs (owner, seq)")

    def close(self) -> None:
        self._db.close()
        os.close(self._lock)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _rows(self, where: str, *args: Any) -> list[JobRow]:
        rows = self._db.execute(f"SELECT {_COLUMNS} FROM jobs WHERE {where}", args).fetchall()
        return [JobRow(*r[:5], bool(r[5]), *r[6:]) for r in rows]

    def get(self, job_id: str) -> JobRow | None:
        """The job of that id; None for an unknown id, and for any text that is not an id at all."""
        if not JOB_ID.fullmatch(job_id):  # such text might not even encode as UTF-8 for SQLite (a lone surrogate)
            return None
        found = self._rows("id = ?", job_id)
        return found[0] if found else None

    def add(self, sub: Submission, now: float | None = None, owner: str = DEFAULT_OWNER) -> tuple[JobRow, bool]:
        """The job for ``sub`` of ``owner``: an existing live one of that owner with the same digest, or a
        new queued one.

        Returns ``(row, created)``. A job that failed or was cancelled is not reused: submitting it
        again runs it again. Another owner's identical job is not reused either.
        """
        digest = sub.digest
        found = self._rows("digest = ? AND owner = ? AND state IN (?, ?, ?) ORDER BY seq DESC LIMIT 1",
                           digest, owner, QUEUED, RUNNING, DONE)
        if found:
            return found[0], False
        job_id, now = secrets.token_hex(JOB_ID_BYTES), time.time() if now is None else now
        with self._transaction():
            seq = self._db.execute(
                "INSERT INTO jobs (id, digest, state, mode, baseline, created, owner) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, digest, QUEUED, sub.mode, int(sub.baseline), now, owner),
            ).lastrowid
            self._db.execute(
                "INSERT INTO inputs (seq, term, x, tangent, cotangent) VALUES (?, ?, ?, ?, ?)",
                (seq, sub.term, sub.x, sub.tangent, sub.cotangent),
            )
        row = JobRow(seq, job_id, digest, QUEUED, sub.mode, sub.baseline, now, None, None, 0, None, None, None, owner)
        return row, True

    def submission(self, job_id: str) -> Submission:
        """The stored submission of a job (to run it again after a restart)."""
        term, x, tangent, cotangent, mode, baseline = self._db.execute(
            "SELECT term, x, tangent, cotangent, mode, baseline FROM inputs JOIN jobs USING (seq) WHERE id = ?",
            (job_id,),
        ).fetchone()
        return Submission(term, x, mode, tangent, cotangent, bool(baseline))

    def _move(self, job_id: str, to: str, frm: tuple[str, ...], sets: str = "", args: tuple = ()) -> bool:
        marks = ", ".join("?" * len(frm))
        cur = self._db.execute(
            f"UPDATE jobs SET state = ?{sets} WHERE id = ? AND state IN ({marks})", (to, *args, job_id, *frm)
        )
        return cur.rowcount == 1

    def start(self, job_id: str, now: float | None = None) -> bool:
        """queued → running; counts the attempt. False if the job is no longer queued (e.g. cancelled)."""
        now = time.time() if now is None else now
        return self._move(job_id, RUNNING, (QUEUED,), ", started = ?, attempts = attempts + 1", (now,))

    def requeue(self, job_id: str) -> bool:
        """running → queued, for a job the service was running when it stopped."""
        return self._move(job_id, QUEUED, (RUNNING,))

    def finish(self, job_id: str, result: Stored, now: float | None = None) -> bool:
        """running → done, with the result and report written in the same transaction."""
        now = time.time() if now is None else now
        with self._transaction():
            if not self._move(job_id, DONE, (RUNNING,), ", finished = ?, tasks = ?", (now, result.report.get("tasks"))):
                return False
            self._db.execute(
                "INSERT INTO results (seq, value, derivative, report) SELECT seq, ?, ?, ? FROM jobs WHERE id = ?",
                (result.value, result.derivative, json.dumps(result.report), job_id),
            )
        return True

    def fail(self, job_id: str, code: str, message: str, now: float | None = None) -> bool:
        """queued or running → failed, with the reason."""
        now = time.time() if now is None else now
        sets = ", finished = ?, error_code = ?, error_message = ?"
        return self._move(job_id, FAILED, (QUEUED, RUNNING), sets, (now, code, message))

    def cancel(self, job_id: str, now: float | None = None) -> bool:
        """queued or running → cancelled."""
        now = time.time() if now is None else now
        return self._move(job_id, CANCELLED, (QUEUED, RUNNING), ", finished = ?", (now,))

    def result(self, job_id: str) -> Stored | None:
        row = self._db.execute(
            "SELECT value, derivative, report FROM results JOIN jobs USING (seq) WHERE id = ?", (job_id,)
        ).fetchone()
        return None if row is None else Stored(row[0], row[1], json.loads(row[2]))

    def page(self, limit: int, before: int | None = None, state: str | None = None,
             owner: str | None = None) -> list[JobRow]:
        """Jobs newest first, at most ``limit``, with ``seq < before``, in ``state`` and of ``owner`` when given."""
        where, args = ["1"], []
        for clause, value in (("seq < ?", before), ("state = ?", state), ("owner = ?", owner)):
            if value is not None:
                where.append(clause)
                args.append(value)
        return self._rows(f"{' AND '.join(where)} ORDER BY seq DESC LIMIT ?", *args, limit)

    def unfinished(self) -> list[JobRow]:
        """Jobs queued or running, oldest first: what a restarted service must take up again."""
        return self._rows("state IN (?, ?) ORDER BY seq", QUEUED, RUNNING)

    def counts(self) -> dict[str, int]:
        """Number of jobs in each state."""
        found = dict(self._db.execute("SELECT state, COUNT(*) FROM jobs GROUP BY state").fetchall())
        return {s: found.get(s, 0) for s in STATES}


class AsyncStore:
    """A :class:`Store` driven from asyncio: each call runs on one dedicated thread, in order.

    That thread is the store's one writer, and SQLite's I/O never blocks the event loop.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="catterms-store")

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.store, name)

        def call(*args: Any, **kwargs: Any) -> Awaitable[Any]:
            return asyncio.get_running_loop().run_in_executor(self._thread, functools.partial(method, *args, **kwargs))

        return call

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self.store.close()

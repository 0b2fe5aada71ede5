"""The offline outbox: work done while the database is out of reach, kept durably.

While the connection is down the desk records contact attempts, notes, promises,
next steps and pauses here (a SQLite file of its own, in WAL mode with
``synchronous=FULL``, so ``enqueue`` returning means the operation survives a crash
or power cut) and only then says "saved". When the connection returns,
:meth:`Outbox.replay` applies the pending operations in the order they were made,
each in its own transaction, through the normal services.

Nothing is applied twice: every operation carries a uuid4 ``operation_id``. Contact
attempts, promises and notes store it in their row (unique), and the services return
the existing row when they see it again. A next step has no such column, so it is
recognised by its natural key: the same customer, author, creation time (the
operation's own timestamp, to the microsecond), kind and due time; a pause by its
audit event (same customer, author and time). A crash between
the database commit and marking the operation done therefore only causes a harmless
second look.

Nothing is dropped silently: an operation whose customer changed in the meantime
(stale ``base_version``) becomes ``conflict``, one the rules refuse becomes
``failed``; both stay in :meth:`Outbox.conflicts` until the agent resolves them with
``retry_on_latest`` (apply on top of the colleague's change) or ``discard``.

A contact attempt's next step may be ``"keep"`` (``activity.KEEP``): replayed, the
service keeps the upcoming instalment reminder, promise check or callback exactly as
it does online; if there is none by then (a colleague replaced it, or it fell due),
the operation fails with that reason and waits for review like any refused one.

Several offline operations on one customer share the version the desk saw before
it went offline; on replay each one after the first is checked against the version
the previous one produced, so the agent's own changes never conflict with each other.

This module is the file: recording operations, reading and resolving them, and
marking outcomes. What an operation is and how its payload is kept is
:mod:`~agent_desk.services.outbox_operations`'s; a replay run is
:mod:`~agent_desk.services.outbox_replay`'s, which applies each operation through
:mod:`~agent_desk.services.outbox_apply`. The operation types are re-exported here
because the desk and the tests name them with the outbox.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from agent_desk.domain.codes import Channel, Direction, Outcome
from agent_desk.errors import (
    UsageError,
)
from agent_desk.private_files import private_dir, private_sqlite
from agent_desk.services import activity
from agent_desk.services.actor import Actor
from agent_desk.services.database import Database
from agent_desk.services.outbox_operations import (
    VERSIONED_KINDS,
    OperationKind,
    OperationStatus,
    OutboxOperation,
    ReplayResult,
    Resolution,
    check_payload,
    decode_payload,
    step_payload,
)
from agent_desk.services.outbox_replay import ProgressCallback, ReplayRun

__all__ = [
    "OperationKind",
    "OperationStatus",
    "Outbox",
    "OutboxOperation",
    "ProgressCallback",
    "ReplayResult",
    "Resolution",
]


_VERSIONED_MARKS = ", ".join("?" * len(VERSIONED_KINDS))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS operation (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    operation_id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    customer_id INTEGER NOT NULL,
    base_version INTEGER,
    payload TEXT NOT NULL,
    agent_login TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'pending',
    error TEXT,
    ignore_version INTEGER NOT NULL DEFAULT 0,
    result_id INTEGER,
    result_version INTEGER,
    applied_at TEXT
);
CREATE INDEX IF NOT EXISTS ix_operation_status ON operation (status, seq);
"""

_COLUMNS = (
    "seq, operation_id, created_at, kind, customer_id, base_version, payload, agent_login, "
    "status, error, ignore_version, result_id, result_version, applied_at"
)


class Outbox:
    """One desk's outbox file. Safe to use from several threads (one lock)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        private_sqlite(self.path)  # notes and promises waiting to be sent: the user's alone
        self._lock = threading.RLock()
        self._replaying = threading.Lock()
        self._connection = sqlite3.connect(
            self.path, isolation_level=None, check_same_thread=False, timeout=30
        )
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=FULL")
        self._connection.execute("PRAGMA busy_timeout=30000")
        self._connection.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                yield self._connection
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")

    # ------------------------------------------------------------------ recording

    def enqueue(
        self,
        kind: OperationKind | str,
        *,
        customer_id: int,
        payload: dict[str, Any],
        base_version: int | None,
        agent_login: str,
        now: datetime,
        operation_id: str | None = None,
    ) -> OutboxOperation:
        """Keep one operation; it is on disk (fsynced) when this returns.

        The payload is checked now, with the same rules the services apply that need
        no database (a next step in the past, an empty note, a pause without a
        reason...), so a mistake is reported while the agent is still looking at the
        form rather than at replay time.
        """
        try:
            kind = OperationKind(kind)
        except ValueError:
            raise UsageError("The outbox does not keep '{kind}' operations.", kind=kind) from None
        if now.tzinfo is None:
            raise ValueError("naive datetime given to the outbox; use an aware UTC datetime")
        check_payload(kind, decode_payload(kind, payload), now)
        operation_id = operation_id or str(uuid.uuid4())
        created = now.astimezone(UTC).isoformat()
        with self._write() as connection:
            connection.execute(
                "INSERT INTO operation (operation_id, created_at, kind, customer_id, "
                "base_version, payload, agent_login) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    operation_id,
                    created,
                    kind.value,
                    customer_id,
                    base_version,
                    json.dumps(payload, sort_keys=True),
                    agent_login,
                ),
            )
        found = self.get(operation_id)
        assert found is not None
        return found

    def enqueue_contact_attempt(
        self,
        *,
        customer_id: int,
        base_version: int | None,
        agent_login: str,
        now: datetime,
        channel: Channel,
        direction: Direction,
        outcome: Outcome,
        note: str,
        next_step: activity.NextStepInput | activity.Keep,
    ) -> OutboxOperation:
        """A contact attempt; ``next_step=activity.KEEP`` keeps the open kept step."""
        return self.enqueue(
            OperationKind.CONTACT_ATTEMPT,
            customer_id=customer_id,
            base_version=base_version,
            agent_login=agent_login,
            now=now,
            payload={
                "channel": channel.value,
                "direction": direction.value,
                "outcome": outcome.value,
                "note": note,
                "next_step": (
                    step_payload(next_step)
                    if isinstance(next_step, activity.NextStepInput)
                    else activity.KEEP
                ),
            },
        )

    def enqueue_note(
        self, *, customer_id: int, agent_login: str, now: datetime, text: str
    ) -> OutboxOperation:
        return self.enqueue(
            OperationKind.NOTE,
            customer_id=customer_id,
            base_version=None,
            agent_login=agent_login,
            now=now,
            payload={"text": text},
        )

    def enqueue_promise(
        self,
        *,
        customer_id: int,
        base_version: int | None,
        agent_login: str,
        now: datetime,
        amount_cents: int,
        due_date: date,
    ) -> OutboxOperation:
        return self.enqueue(
            OperationKind.PROMISE,
            customer_id=customer_id,
            base_version=base_version,
            agent_login=agent_login,
            now=now,
            payload={"amount_cents": amount_cents, "due_date": due_date.isoformat()},
        )

    def enqueue_next_step(
        self,
        *,
        customer_id: int,
        base_version: int | None,
        agent_login: str,
        now: datetime,
        step: activity.NextStepInput,
    ) -> OutboxOperation:
        return self.enqueue(
            OperationKind.NEXT_STEP,
            customer_id=customer_id,
            base_version=base_version,
            agent_login=agent_login,
            now=now,
            payload=step_payload(step),
        )

    def enqueue_pause(
        self,
        *,
        customer_id: int,
        base_version: int | None,
        agent_login: str,
        now: datetime,
        until: date | None,
        reason: str,
    ) -> OutboxOperation:
        """Pause collection until a date (``until=None`` ends a pause)."""
        return self.enqueue(
            OperationKind.PAUSE,
            customer_id=customer_id,
            base_version=base_version,
            agent_login=agent_login,
            now=now,
            payload={"until": until.isoformat() if until else None, "reason": reason},
        )

    # ------------------------------------------------------------------ reading

    def _select(self, where: str, params: tuple[Any, ...] = ()) -> list[OutboxOperation]:
        with self._lock:
            rows = self._connection.execute(
                f"SELECT {_COLUMNS} FROM operation WHERE {where} ORDER BY seq", params
            ).fetchall()
        return [_operation(row) for row in rows]

    def get(self, operation_id: str) -> OutboxOperation | None:
        found = self._select("operation_id = ?", (operation_id,))
        return found[0] if found else None

    def pending(self, agent_login: str | None = None) -> list[OutboxOperation]:
        if agent_login is None:
            return self._select("status = 'pending'")
        return self._select("status = 'pending' AND agent_login = ?", (agent_login,))

    def conflicts(self, agent_login: str | None = None) -> list[OutboxOperation]:
        """The review list: operations that could not be applied as they were."""
        where = "status IN ('conflict', 'failed')"
        if agent_login is None:
            return self._select(where)
        return self._select(where + " AND agent_login = ?", (agent_login,))

    def all(self) -> list[OutboxOperation]:
        return self._select("1 = 1")

    def counts(self) -> dict[OperationStatus, int]:
        with self._lock:
            rows = self._connection.execute(
                "SELECT status, count(*) FROM operation GROUP BY status"
            ).fetchall()
        return {OperationStatus(status): int(n) for status, n in rows}

    # ------------------------------------------------------------------ review

    def resolve(self, operation_id: str, action: Resolution | str) -> OutboxOperation:
        """The agent's decision on a conflict or failure.

        ``retry_on_latest``: pending again, applied on the next replay without the
        version check (on top of what the colleague changed). ``discard``: kept in the
        file as discarded, never applied.
        """
        try:
            action = Resolution(action)
        except ValueError:
            raise UsageError(
                "'{action}' is not a way to resolve a conflict; use retry_on_latest or discard.",
                action=action,
            ) from None
        with self._write() as connection:
            row = connection.execute(
                "SELECT status FROM operation WHERE operation_id = ?", (operation_id,)
            ).fetchone()
            if row is None:
                raise UsageError(
                    "There is no operation {operation_id} in the outbox.", operation_id=operation_id
                )
            if row[0] not in (OperationStatus.CONFLICT, OperationStatus.FAILED):
                raise UsageError("Only a conflict or a failed operation can be resolved.")
            if action is Resolution.RETRY_ON_LATEST:
                connection.execute(
                    "UPDATE operation SET status = 'pending', ignore_version = 1 "
                    "WHERE operation_id = ?",
                    (operation_id,),
                )
            else:
                connection.execute(
                    "UPDATE operation SET status = 'discarded' WHERE operation_id = ?",
                    (operation_id,),
                )
        found = self.get(operation_id)
        assert found is not None
        return found

    # ------------------------------------------------------------------ replay

    def replay(
        self,
        database: Database,
        actor: Actor,
        now_fn: Callable[[], datetime],
        on_progress: ProgressCallback | None = None,
        *,
        batch_size: int = 50,
        origin: str | None = None,
    ) -> ReplayResult:
        """Apply the actor's pending operations in order, ``batch_size`` per transaction.

        Each operation gets a savepoint of its own in its batch's transaction, so a
        conflict or a refusal rolls back that operation only (it goes to the review
        list) and the others go on. The outcomes are written to the file (one fsync)
        after the batch has committed: the file never says "done" for work the
        database does not have, and a crash between the commit and the marks only
        makes the next replay recognise those operations in the database and mark
        them then.

        The services get the operation's own time as ``now`` (the call happened then);
        ``now_fn`` stamps when it was applied. Operations enqueued while a replay runs
        are applied by it too. Stops at the first connection failure and leaves the
        rest pending, the uncommitted batch included: call again when the connection
        is back. ``on_progress`` hears of each operation once its batch is committed
        and marked; exceptions from it stop the replay (what was applied stays applied).
        ``origin``: the desk session replaying (its change-log rows say so).
        """
        with self._replaying:
            return ReplayRun(self, database, actor, now_fn, origin).run(on_progress, batch_size)

    def chained_version(self, op: OutboxOperation) -> int:
        """The version ``op`` must find according to the file: what the agent's last
        applied operation on the same base version produced, else its base version."""
        assert op.base_version is not None
        with self._lock:
            row = self._connection.execute(
                "SELECT result_version FROM operation WHERE customer_id = ? AND seq < ? "
                "AND base_version = ? AND status = 'done' AND result_version IS NOT NULL "
                f"AND ignore_version = 0 AND kind IN ({_VERSIONED_MARKS}) ORDER BY seq DESC LIMIT 1",
                (op.customer_id, op.seq, op.base_version, *VERSIONED_KINDS),
            ).fetchone()
        return int(row[0]) if row else op.base_version

    def _flush_marks(self, ops: list[OutboxOperation]) -> None:
        """Write the outcomes of a committed batch to the file, in one transaction."""
        with self._write() as connection:
            connection.executemany(
                "UPDATE operation SET status = ?, error = ?, result_id = ?, "
                "result_version = ?, applied_at = ? WHERE seq = ?",
                [
                    (
                        op.status.value,
                        op.error,
                        op.result_id,
                        op.result_version,
                        op.applied_at.isoformat() if op.applied_at else None,
                        op.seq,
                    )
                    for op in ops
                ],
            )


def _operation(row: tuple[Any, ...]) -> OutboxOperation:
    return OutboxOperation(
        seq=int(row[0]),
        operation_id=row[1],
        created_at=datetime.fromisoformat(row[2]),
        kind=OperationKind(row[3]),
        customer_id=int(row[4]),
        base_version=None if row[5] is None else int(row[5]),
        payload=json.loads(row[6]),
        agent_login=row[7],
        status=OperationStatus(row[8]),
        error=row[9],
        ignore_version=bool(row[10]),
        result_id=None if row[11] is None else int(row[11]),
        result_version=None if row[12] is None else int(row[12]),
        applied_at=None if row[13] is None else datetime.fromisoformat(row[13]),
    )

"""The offline outbox: work done while the database is out of reach, kept durably.

While the connection is down the desk records contact attempts, notes, promises
and next steps here (a SQLite file of its own, in WAL mode with
``synchronous=FULL``, so ``enqueue`` returning means the operation survives a crash
or power cut) and only then says "saved". When the connection returns,
:meth:`Outbox.replay` applies the pending operations in the order they were made,
each in its own transaction, through the normal services.

Nothing is applied twice: every operation carries a uuid4 ``operation_id``. Contact
attempts, promises and notes store it in their row (unique), and the services return
the existing row when they see it again. A next step has no such column, so it is
recognised by its natural key: the same customer, author, creation time (the
operation's own timestamp, to the microsecond), kind and due time. A crash between
the database commit and marking the operation done therefore only causes a harmless
second look.

Nothing is dropped silently: an operation whose customer changed in the meantime
(stale ``base_version``) becomes ``conflict``, one the rules refuse becomes
``failed``; both stay in :meth:`Outbox.conflicts` until the agent resolves them with
``retry_on_latest`` (apply on top of the colleague's change) or ``discard``.

Several offline operations on one customer share the version the desk saw before
it went offline; on replay each one after the first is checked against the version
the previous one produced, so the agent's own changes never conflict with each other.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import (
    AgentDeskError,
    ConflictError,
    DatabaseUnavailableError,
    UsageError,
    ValidationError,
)
from agent_desk.models import Customer, NextStep
from agent_desk.services import activity
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.database import Database
from agent_desk.services.derived import refresh_customer


class OperationKind(StrEnum):
    CONTACT_ATTEMPT = "contact_attempt"
    NOTE = "note"
    PROMISE = "promise"
    NEXT_STEP = "next_step"


class OperationStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    CONFLICT = "conflict"
    FAILED = "failed"
    DISCARDED = "discarded"


class Resolution(StrEnum):
    RETRY_ON_LATEST = "retry_on_latest"
    DISCARD = "discard"


@dataclass(frozen=True)
class OutboxOperation:
    seq: int
    operation_id: str
    created_at: datetime
    kind: OperationKind
    customer_id: int
    base_version: int | None
    payload: dict[str, Any]
    agent_login: str
    status: OperationStatus
    error: str | None
    ignore_version: bool
    result_id: int | None
    result_version: int | None
    applied_at: datetime | None


@dataclass(frozen=True)
class ReplayResult:
    applied: int
    conflicts: int
    failed: int
    remaining: int  # still pending (the connection dropped again, or another agent's)
    offline: bool  # replay stopped because the database could not be reached
    error: str | None = None

    @property
    def needs_review(self) -> bool:
        return bool(self.conflicts or self.failed)


#: Kinds whose service checks the customer's version (and so change it).
_VERSIONED = (
    OperationKind.CONTACT_ATTEMPT.value,
    OperationKind.PROMISE.value,
    OperationKind.NEXT_STEP.value,
)


class _Offline(Exception):
    """The connection dropped during a replay: stop and keep the rest pending."""


ProgressCallback = Callable[[int, int, OutboxOperation], None]

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
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.RLock()
        self._replaying = threading.Lock()
        self._marks: list[tuple[int, int | None, str, int]] = []
        self._chain: dict[tuple[int, int], int] = {}
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

        The payload is checked now, so a malformed operation fails while the agent is
        still looking at it rather than at replay time.
        """
        try:
            kind = OperationKind(kind)
        except ValueError:
            raise UsageError(f"The outbox does not keep '{kind}' operations.") from None
        if now.tzinfo is None:
            raise ValueError("naive datetime given to the outbox; use an aware UTC datetime")
        _decode(kind, payload)
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
        next_step: activity.NextStepInput,
    ) -> OutboxOperation:
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
                "next_step": _step_payload(next_step),
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
            payload=_step_payload(step),
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
                f"'{action}' is not a way to resolve a conflict; use retry_on_latest or discard."
            ) from None
        with self._write() as connection:
            row = connection.execute(
                "SELECT status FROM operation WHERE operation_id = ?", (operation_id,)
            ).fetchone()
            if row is None:
                raise UsageError(f"There is no operation {operation_id} in the outbox.")
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
        mark_every: int = 100,
    ) -> ReplayResult:
        """Apply the actor's pending operations in order, each in its own transaction.

        The services get the operation's own time as ``now`` (the call happened then);
        ``now_fn`` stamps when it was applied. Operations enqueued while a replay runs
        are applied by it too. Stops at the first connection failure and leaves the
        rest pending: call again when the connection is back. Exceptions from
        ``on_progress`` stop the replay (what was applied stays applied).

        "Done" marks are written to the file every ``mark_every`` operations (one
        fsync instead of one per operation): a mark lost in a crash only makes the
        next replay recognise the operation in the database and mark it then.
        """
        applied = conflicts = failed = 0
        with self._replaying:
            self._chain = {}
            try:
                done: set[int] = set()
                while True:
                    todo = [op for op in self.pending(actor.login) if op.seq not in done]
                    if not todo:
                        return ReplayResult(applied, conflicts, failed, 0, offline=False)
                    for index, op in enumerate(todo, start=1):
                        done.add(op.seq)
                        try:
                            result_id, version = self._apply_with_retry(database, actor, op)
                        except (DatabaseUnavailableError, _Offline) as error:
                            self._flush_marks()
                            return ReplayResult(
                                applied,
                                conflicts,
                                failed,
                                len(self.pending(actor.login)),
                                offline=True,
                                error=str(error),
                            )
                        except ConflictError as error:
                            current = self._mark(op, OperationStatus.CONFLICT, str(error), now_fn())
                            conflicts += 1
                        except AgentDeskError as error:
                            current = self._mark(op, OperationStatus.FAILED, str(error), now_fn())
                            failed += 1
                        else:
                            current = self._mark_done(op, result_id, version, now_fn())
                            applied += 1
                            if len(self._marks) >= mark_every:
                                self._flush_marks()
                        if on_progress is not None:
                            on_progress(index, len(todo), current)
            finally:
                self._flush_marks()
                self._chain = {}

    def _apply_with_retry(
        self, database: Database, actor: Actor, op: OutboxOperation
    ) -> tuple[int, int | None]:
        expected = self._expected_version(op)
        for attempt in (1, 2):
            try:
                return self._apply(database, actor, op, expected)
            except IntegrityError:
                # Another replay of the same operation committed first: the second
                # look finds its row and returns it.
                if attempt == 2:
                    raise AgentDeskError(
                        "The database refused this operation twice; it is kept for review."
                    ) from None
            except DBAPIError as error:
                if error.connection_invalidated or isinstance(
                    error, OperationalError | InterfaceError
                ):
                    raise _Offline(_first_line(error)) from None
                raise AgentDeskError(
                    f"The database refused this operation: {_first_line(error)}."
                ) from None
        raise AssertionError("unreachable")

    def _expected_version(self, op: OutboxOperation) -> int | None:
        """The version this operation must find, following the agent's own chain."""
        if op.base_version is None or op.ignore_version:
            return None
        chained = self._chain.get((op.customer_id, op.base_version))
        if chained is not None:
            return chained
        with self._lock:
            row = self._connection.execute(
                "SELECT result_version FROM operation WHERE customer_id = ? AND seq < ? "
                "AND base_version = ? AND status = 'done' AND result_version IS NOT NULL "
                "AND ignore_version = 0 AND kind IN (?, ?, ?) ORDER BY seq DESC LIMIT 1",
                (op.customer_id, op.seq, op.base_version, *_VERSIONED),
            ).fetchone()
        return int(row[0]) if row else op.base_version

    def _apply(
        self,
        database: Database,
        actor: Actor,
        op: OutboxOperation,
        expected_version: int | None,
    ) -> tuple[int, int | None]:
        now = op.created_at  # stable across replays: part of the next step's identity
        values = _decode(op.kind, op.payload)
        with database.transaction() as session:
            if op.kind is OperationKind.CONTACT_ATTEMPT:
                result = activity.log_contact_attempt(
                    session,
                    actor,
                    op.customer_id,
                    channel=values["channel"],
                    direction=values["direction"],
                    outcome=values["outcome"],
                    note=values["note"],
                    next_step=values["next_step"],
                    now=now,
                    expected_version=expected_version,
                    operation_id=op.operation_id,
                )
            elif op.kind is OperationKind.PROMISE:
                result = activity.record_promise(
                    session,
                    actor,
                    op.customer_id,
                    amount_cents=values["amount_cents"],
                    due_date=values["due_date"],
                    now=now,
                    expected_version=expected_version,
                    operation_id=op.operation_id,
                )
            elif op.kind is OperationKind.NOTE:
                result = activity.add_note(
                    session, actor, op.customer_id, values["text"], now, op.operation_id
                )
            else:
                result = _apply_next_step(
                    session, actor, op.customer_id, values["step"], now, expected_version
                )
            session.flush()
            customer = session.get(Customer, op.customer_id)  # usually already loaded
            version = customer.version if customer is not None else None
        return result, version

    def _mark_done(
        self, op: OutboxOperation, result_id: int, result_version: int | None, at: datetime
    ) -> OutboxOperation:
        """Remember the op as done; written to the file by ``_flush_marks``."""
        applied_at = at.astimezone(UTC)
        self._marks.append((result_id, result_version, applied_at.isoformat(), op.seq))
        if (
            op.kind.value in _VERSIONED
            and op.base_version is not None
            and not op.ignore_version
            and result_version is not None
        ):
            self._chain[(op.customer_id, op.base_version)] = result_version
        return replace(
            op,
            status=OperationStatus.DONE,
            error=None,
            result_id=result_id,
            result_version=result_version,
            applied_at=applied_at,
        )

    def _flush_marks(self) -> None:
        if not self._marks:
            return
        marks, self._marks = self._marks, []
        with self._write() as connection:
            connection.executemany(
                "UPDATE operation SET status = 'done', error = NULL, result_id = ?, "
                "result_version = ?, applied_at = ? WHERE seq = ?",
                marks,
            )

    def _mark(
        self, op: OutboxOperation, status: OperationStatus, error: str, at: datetime
    ) -> OutboxOperation:
        applied_at = at.astimezone(UTC)
        with self._write() as connection:
            connection.execute(
                "UPDATE operation SET status = ?, error = ?, applied_at = ? WHERE seq = ?",
                (status.value, error, applied_at.isoformat(), op.seq),
            )
        return replace(op, status=status, error=error, applied_at=applied_at)


def _apply_next_step(
    session: Session,
    actor: Actor,
    customer_id: int,
    step: activity.NextStepInput,
    now: datetime,
    expected_version: int | None,
) -> int:
    """Set a next step once: a replay finds the step written the first time."""
    existing = session.scalar(
        select(NextStep.id).where(
            NextStep.customer_id == customer_id,
            NextStep.created_by_id == actor.agent_id,
            NextStep.created_at == now,
            NextStep.kind == step.kind.value,
            NextStep.due_at == step.due_at,
        )
    )
    if existing is not None:
        return int(existing)
    customer = activity.load_customer(session, customer_id, expected_version)
    new = activity.set_next_step(session, actor, customer, step, now)
    session.flush()
    audit(session, actor, "create", "next_step", new.id, customer_id=customer.id, at=now)
    refresh_customer(session, customer)
    return new.id


# --------------------------------------------------------------------------- payloads


def _step_payload(step: activity.NextStepInput) -> dict[str, str]:
    if step.due_at.tzinfo is None:
        raise ValidationError("The next step needs a date and time with a time zone.", "next_step")
    return {
        "kind": step.kind.value,
        "due_at": step.due_at.astimezone(UTC).isoformat(),
        "note": step.note,
    }


def _step(value: Any) -> activity.NextStepInput:
    due = datetime.fromisoformat(value["due_at"])
    if due.tzinfo is None:
        raise ValueError("due_at without a time zone")
    return activity.NextStepInput(NextStepKind(value["kind"]), due, str(value.get("note", "")))


def _decode(kind: OperationKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The service arguments of a payload; a ``UsageError`` if it is malformed."""
    try:
        if kind is OperationKind.CONTACT_ATTEMPT:
            return {
                "channel": Channel(payload["channel"]),
                "direction": Direction(payload["direction"]),
                "outcome": Outcome(payload["outcome"]),
                "note": str(payload.get("note", "")),
                "next_step": _step(payload["next_step"]),
            }
        if kind is OperationKind.PROMISE:
            amount = payload["amount_cents"]
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise ValueError("amount_cents must be a whole number of cents")
            return {"amount_cents": amount, "due_date": date.fromisoformat(payload["due_date"])}
        if kind is OperationKind.NOTE:
            return {"text": str(payload["text"])}
        return {"step": _step(payload)}
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(
            f"The {kind.value} operation is incomplete or malformed ({error})."
        ) from None


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(original).__name__


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

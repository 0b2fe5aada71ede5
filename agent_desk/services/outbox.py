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

from sqlalchemy import Connection, event, select
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
from agent_desk.models import AuditEvent, Customer, NextStep
from agent_desk.private_files import private_dir, private_sqlite
from agent_desk.services import activity, changelog
from agent_desk.services.actor import Actor
from agent_desk.services.database import Database


class OperationKind(StrEnum):
    CONTACT_ATTEMPT = "contact_attempt"
    NOTE = "note"
    PROMISE = "promise"
    NEXT_STEP = "next_step"
    PAUSE = "pause"


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
    OperationKind.PAUSE.value,
)
_VERSIONED_MARKS = ", ".join("?" * len(_VERSIONED))


class _Offline(Exception):
    """The connection dropped during a replay: stop and keep the rest pending."""


class _Refused(Exception):
    """An operation failed in a batch applied without savepoints: apply it with them."""


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
        private_dir(self.path.parent)
        private_sqlite(self.path)  # notes and promises waiting to be sent: the user's alone
        self._lock = threading.RLock()
        self._replaying = threading.Lock()
        self._chain: dict[tuple[int, int], int] = {}
        self._savepoints = False  # during a replay: a batch was refused, use savepoints
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
        _check(kind, _decode(kind, payload), now)
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
                    _step_payload(next_step)
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
            payload=_step_payload(step),
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
        applied = conflicts = failed = 0
        with self._replaying:
            self._origin = origin
            self._chain, self._savepoints = {}, False
            try:
                seen: set[int] = set()
                while True:
                    todo = [op for op in self.pending(actor.login) if op.seq not in seen]
                    if not todo:
                        return ReplayResult(applied, conflicts, failed, 0, offline=False)
                    seen.update(op.seq for op in todo)
                    for start in range(0, len(todo), batch_size):
                        batch = todo[start : start + batch_size]
                        try:
                            outcomes = self._apply_batch(database, actor, batch, now_fn)
                        except (DatabaseUnavailableError, _Offline) as error:
                            return ReplayResult(
                                applied,
                                conflicts,
                                failed,
                                len(self.pending(actor.login)),
                                offline=True,
                                error=str(error),
                            )
                        self._flush_marks(outcomes)
                        for index, current in enumerate(outcomes, start=start + 1):
                            applied += current.status is OperationStatus.DONE
                            conflicts += current.status is OperationStatus.CONFLICT
                            failed += current.status is OperationStatus.FAILED
                            if on_progress is not None:
                                on_progress(index, len(todo), current)
            finally:
                self._chain, self._savepoints = {}, False

    def _apply_batch(
        self,
        database: Database,
        actor: Actor,
        batch: list[OutboxOperation],
        now_fn: Callable[[], datetime],
    ) -> list[OutboxOperation]:
        """Apply ``batch`` in one transaction; the outcomes, once it has committed.

        Usually nothing is refused, so the batch is first applied without a savepoint
        per operation (two round trips fewer each). If an operation is refused, that
        attempt is rolled back whole and the batch is applied again with savepoints,
        so that only the refused operation is left out; the rest of the replay then
        uses savepoints straight away (refusals tend to come together).
        """
        if not self._savepoints:
            chain = dict(self._chain)
            try:
                return self._apply_in_transaction(database, actor, batch, now_fn, savepoints=False)
            except _Refused:
                self._chain = chain  # forget the versions of the attempt rolled back
                self._savepoints = True
        return self._apply_in_transaction(database, actor, batch, now_fn, savepoints=True)

    def _apply_in_transaction(
        self,
        database: Database,
        actor: Actor,
        batch: list[OutboxOperation],
        now_fn: Callable[[], datetime],
        *,
        savepoints: bool,
    ) -> list[OutboxOperation]:
        outcomes = []
        changes: list[dict[str, Any]] = []  # change-log rows of the applied operations
        with database.batch() as connection:
            for op in batch:
                try:
                    result_id, version = self._apply_with_retry(
                        database, connection, actor, op, changes, savepoints
                    )
                except DatabaseUnavailableError:
                    raise
                except AgentDeskError as error:
                    if not savepoints:
                        raise _Refused from None  # the whole attempt is rolled back
                    status = (
                        OperationStatus.CONFLICT
                        if isinstance(error, ConflictError)
                        else OperationStatus.FAILED
                    )
                    outcomes.append(self._mark(op, status, str(error), now_fn()))
                else:
                    outcomes.append(self._mark_done(op, result_id, version, now_fn()))
            origin = getattr(self, "_origin", None)
            if origin is not None:
                changelog.use_origin(connection, origin, local=True)
                for row in changes:
                    row["origin"] = origin
            changelog.write_changes(connection, changes)
        return outcomes

    def _apply_with_retry(
        self,
        database: Database,
        connection: Connection,
        actor: Actor,
        op: OutboxOperation,
        changes: list[dict[str, Any]],
        savepoint: bool,
    ) -> tuple[int, int | None]:
        expected = self._expected_version(op)
        for attempt in (1, 2):
            try:
                return self._apply(database, connection, actor, op, expected, changes, savepoint)
            except IntegrityError:
                # Another replay of the same operation committed first: the second
                # look (in a savepoint of its own) finds its row and returns it.
                if attempt == 2 or not savepoint:
                    raise AgentDeskError(
                        "The database refused this operation twice; it is kept for review."
                    ) from None
            except DBAPIError as error:
                if error.connection_invalidated or isinstance(
                    error, OperationalError | InterfaceError
                ):
                    raise _Offline(_first_line(error)) from None
                raise AgentDeskError(
                    "The database refused this operation: {error}.", error=_first_line(error)
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
                f"AND ignore_version = 0 AND kind IN ({_VERSIONED_MARKS}) ORDER BY seq DESC LIMIT 1",
                (op.customer_id, op.seq, op.base_version, *_VERSIONED),
            ).fetchone()
        return int(row[0]) if row else op.base_version

    def _apply(
        self,
        database: Database,
        connection: Connection,
        actor: Actor,
        op: OutboxOperation,
        expected_version: int | None,
        changes: list[dict[str, Any]],
        savepoint: bool,
    ) -> tuple[int, int | None]:
        """Apply one operation in the batch's transaction (``connection``).

        Its change-log rows join ``changes`` (written by the batch) once it succeeded;
        rolled back, the operation leaves no trace there either.
        """
        now = op.created_at  # stable across replays: part of the next step's identity
        values = _decode(op.kind, op.payload)
        with database.transaction(within=connection, savepoint=savepoint) as session:
            rows = changelog.collect_changes(session)
            # The session holds what it loads only weakly and the services return ids:
            # keep the customer alive, so reading its new version below needs no SELECT.
            loaded: list[object] = []
            event.listen(session, "loaded_as_persistent", lambda _s, obj: loaded.append(obj))
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
            elif op.kind is OperationKind.PAUSE:
                result = _apply_pause(session, actor, op.customer_id, values, now, expected_version)
            else:
                result = _apply_next_step(
                    session, actor, op.customer_id, values["step"], now, expected_version
                )
            session.flush()
            customer = session.get(Customer, op.customer_id)  # loaded unless recognised
            version = customer.version if customer is not None else None
        changes.extend(rows)
        return result, version

    def _mark_done(
        self, op: OutboxOperation, result_id: int, result_version: int | None, at: datetime
    ) -> OutboxOperation:
        """The op as done (written to the file by ``_flush_marks``); later ops chain on it."""
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
            applied_at=at.astimezone(UTC),
        )

    def _mark(
        self, op: OutboxOperation, status: OperationStatus, error: str, at: datetime
    ) -> OutboxOperation:
        """The op as a conflict or failure (written to the file by ``_flush_marks``)."""
        return replace(op, status=status, error=error, applied_at=at.astimezone(UTC))

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
    return activity.plan_next_step(session, actor, customer_id, step, now, expected_version)


def _apply_pause(
    session: Session,
    actor: Actor,
    customer_id: int,
    values: dict[str, Any],
    now: datetime,
    expected_version: int | None,
) -> int:
    """Pause (or end a pause) once: a replay finds the audit event of the first time."""
    existing = session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.customer_id == customer_id,
            AuditEvent.agent_id == actor.agent_id,
            AuditEvent.action == "pause",
            AuditEvent.at == now,
        )
    )
    if existing is None:
        activity.set_pause(
            session,
            actor,
            customer_id,
            until=values["until"],
            reason=values["reason"],
            now=now,
            expected_version=expected_version,
        )
    return customer_id


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


def _contact_step(value: Any) -> activity.NextStepInput | activity.Keep | None:
    if value is None:
        return None
    if value == activity.KEEP:
        return activity.KEEP
    return _step(value)


def _decode(kind: OperationKind, payload: dict[str, Any]) -> dict[str, Any]:
    """The service arguments of a payload; a ``UsageError`` if it is malformed."""
    try:
        if kind is OperationKind.CONTACT_ATTEMPT:
            return {
                "channel": Channel(payload["channel"]),
                "direction": Direction(payload["direction"]),
                "outcome": Outcome(payload["outcome"]),
                "note": str(payload.get("note", "")),
                # None is decoded so that the check says "choose a next step".
                "next_step": _contact_step(payload["next_step"]),
            }
        if kind is OperationKind.PROMISE:
            amount = payload["amount_cents"]
            if not isinstance(amount, int) or isinstance(amount, bool):
                raise ValueError("amount_cents must be a whole number of cents")
            return {"amount_cents": amount, "due_date": date.fromisoformat(payload["due_date"])}
        if kind is OperationKind.NOTE:
            return {"text": str(payload["text"])}
        if kind is OperationKind.PAUSE:
            until = payload["until"]
            return {
                "until": None if until is None else date.fromisoformat(until),
                "reason": str(payload["reason"]),
            }
        return {"step": _step(payload)}
    except (KeyError, TypeError, ValueError) as error:
        raise UsageError(
            "The {kind} operation is incomplete or malformed ({error}).",
            kind=kind.value,
            error=error,
        ) from None


def _check(kind: OperationKind, values: dict[str, Any], now: datetime) -> None:
    """The services' own checks that need no database; a ``ValidationError`` names the field."""
    if kind is OperationKind.CONTACT_ATTEMPT:
        activity.check_contact_attempt(values["note"], values["next_step"], now)
    elif kind is OperationKind.PROMISE:
        activity.check_promise(values["amount_cents"], values["due_date"], now)
    elif kind is OperationKind.NOTE:
        activity.check_note_text(values["text"])
    elif kind is OperationKind.PAUSE:
        activity.check_pause(values["until"], values["reason"], now)
    else:
        activity.check_next_step(values["step"], now)


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

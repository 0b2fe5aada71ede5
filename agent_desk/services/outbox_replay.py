"""One replay of the outbox: apply the pending operations in batches, mark the outcomes.

One job: a replay run and what it must remember while it runs (the versions its own
operations produced, whether batches need a savepoint per operation, the desk that
replays). Each operation itself is applied by :mod:`agent_desk.services.outbox_apply`;
the file it reads and marks is :class:`agent_desk.services.outbox.Outbox`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from agent_desk.errors import (
    AgentDeskError,
    ConflictError,
    DatabaseUnavailableError,
)
from agent_desk.services import changelog
from agent_desk.services.actor import Actor
from agent_desk.services.database import Database
from agent_desk.services.outbox_apply import apply_operation
from agent_desk.services.outbox_operations import (
    VERSIONED_KINDS,
    OperationStatus,
    OutboxOperation,
    ReplayResult,
)


class _Offline(Exception):
    """The connection dropped during a replay: stop and keep the rest pending."""


class _Refused(Exception):
    """An operation failed in a batch applied without savepoints: apply it with them."""


ProgressCallback = Callable[[int, int, OutboxOperation], None]


class OperationFile(Protocol):
    """What a replay needs of the outbox file (:class:`agent_desk.services.outbox.Outbox`)."""

    def pending(self, agent_login: str | None = None) -> list[OutboxOperation]: ...

    def chained_version(self, op: OutboxOperation) -> int: ...

    def _flush_marks(self, ops: list[OutboxOperation]) -> None: ...


class ReplayRun:
    """One call of :meth:`Outbox.replay`: its state lives as long as the run."""

    def __init__(
        self,
        outbox: OperationFile,
        database: Database,
        actor: Actor,
        now_fn: Callable[[], datetime],
        origin: str | None,
    ) -> None:
        self._outbox = outbox
        self._database = database
        self._actor = actor
        self._now_fn = now_fn
        self._origin = origin
        self._chain: dict[tuple[int, int], int] = {}
        self._savepoints = False  # a batch was refused: use savepoints from now on

    def run(self, on_progress: ProgressCallback | None, batch_size: int) -> ReplayResult:
        """See :meth:`agent_desk.services.outbox.Outbox.replay`."""
        applied = conflicts = failed = 0
        outbox, actor = self._outbox, self._actor
        seen: set[int] = set()
        while True:
            todo = [op for op in outbox.pending(actor.login) if op.seq not in seen]
            if not todo:
                return ReplayResult(applied, conflicts, failed, 0, offline=False)
            seen.update(op.seq for op in todo)
            for start in range(0, len(todo), batch_size):
                batch = todo[start : start + batch_size]
                try:
                    outcomes = self._apply_batch(batch)
                except (DatabaseUnavailableError, _Offline) as error:
                    return ReplayResult(
                        applied,
                        conflicts,
                        failed,
                        len(outbox.pending(actor.login)),
                        offline=True,
                        error=str(error),
                    )
                outbox._flush_marks(outcomes)
                for index, current in enumerate(outcomes, start=start + 1):
                    applied += current.status is OperationStatus.DONE
                    conflicts += current.status is OperationStatus.CONFLICT
                    failed += current.status is OperationStatus.FAILED
                    if on_progress is not None:
                        on_progress(index, len(todo), current)

    def _apply_batch(self, batch: list[OutboxOperation]) -> list[OutboxOperation]:
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
                return self._apply_in_transaction(batch, savepoints=False)
            except _Refused:
                self._chain = chain  # forget the versions of the attempt rolled back
                self._savepoints = True
        return self._apply_in_transaction(batch, savepoints=True)

    def _apply_in_transaction(
        self, batch: list[OutboxOperation], *, savepoints: bool
    ) -> list[OutboxOperation]:
        database, actor, now_fn = self._database, self._actor, self._now_fn
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
            origin = self._origin
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
                return apply_operation(
                    database, connection, actor, op, expected, changes, savepoint
                )
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
        return self._outbox.chained_version(op)

    def _mark_done(
        self, op: OutboxOperation, result_id: int, result_version: int | None, at: datetime
    ) -> OutboxOperation:
        """The op as done (written to the file by ``_flush_marks``); later ops chain on it."""
        if (
            op.kind.value in VERSIONED_KINDS
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


def _first_line(error: BaseException) -> str:
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    return lines[0].rstrip(".") if lines else type(original).__name__

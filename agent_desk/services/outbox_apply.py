"""Applying one offline operation to the database, through the normal services.

One job: replaying a recorded operation exactly once. Contact attempts, promises and
notes are recognised by their ``operation_id``; a next step by its natural key (same
customer, author, creation time, kind and due time) and a pause by its audit event,
so a second look after a crash changes nothing. Which operations to apply, in which
batches, and what to do when one is refused is :class:`agent_desk.services.outbox.Outbox`'s.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from agent_desk.models import AuditEvent, Customer, NextStep
from agent_desk.services import activity, changelog
from agent_desk.services.actor import Actor
from agent_desk.services.database import Database
from agent_desk.services.outbox_operations import OperationKind, OutboxOperation, decode_payload


def apply_operation(
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
    values = decode_payload(op.kind, op.payload)
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

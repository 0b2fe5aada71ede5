"""What an offline operation is: its kinds and states, and its payload in the outbox file.

One job: the outbox's vocabulary. An :class:`OutboxOperation` is one piece of work
the desk recorded offline; its payload is plain JSON, encoded by
:func:`step_payload` and read back (and checked before it is kept) by
:func:`decode_payload` and :func:`check_payload`. Keeping operations is
:mod:`agent_desk.services.outbox`'s, applying them :mod:`agent_desk.services.outbox_apply`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import (
    UsageError,
    ValidationError,
)
from agent_desk.services import activity


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
VERSIONED_KINDS = (
    OperationKind.CONTACT_ATTEMPT.value,
    OperationKind.PROMISE.value,
    OperationKind.NEXT_STEP.value,
    OperationKind.PAUSE.value,
)


def step_payload(step: activity.NextStepInput) -> dict[str, str]:
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


def decode_payload(kind: OperationKind, payload: dict[str, Any]) -> dict[str, Any]:
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


def check_payload(kind: OperationKind, values: dict[str, Any], now: datetime) -> None:
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

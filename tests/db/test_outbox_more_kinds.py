"""Offline pauses and stand-alone next steps; every offline save checked before "saved"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import ValidationError
from agent_desk.models import AuditEvent, Customer, NextStep
from agent_desk.services.activity import NextStepInput, set_pause
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.demo import load_demo
from agent_desk.services.outbox import OperationStatus, Outbox

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


def _now() -> datetime:
    return NOW + timedelta(minutes=30)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=5, today=TODAY)
    return database


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    box = Outbox(tmp_path / "desk-outbox.sqlite3")
    yield box
    box.close()


def _sanne_and_customer(database: Database) -> tuple[Actor, int, int]:
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        row = session.execute(
            select(Customer.id, Customer.version)
            .where(Customer.assigned_agent_id == sanne.agent_id, Customer.paused_until.is_(None))
            .order_by(Customer.id)
            .limit(1)
        ).one()
    return sanne, int(row[0]), int(row[1])


def _pause_state(database: Database, actor: Actor, customer_id: int) -> dict[str, object]:
    with database.transaction() as session:
        customer = session.get(Customer, customer_id)
        assert customer is not None
        steps = session.scalar(
            select(func.count())
            .select_from(NextStep)
            .where(NextStep.customer_id == customer_id, NextStep.created_by_id == actor.agent_id)
        )
        pauses = session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.customer_id == customer_id, AuditEvent.action == "pause")
        )
        return {
            "until": customer.paused_until,
            "reason": customer.pause_reason,
            "next_step": customer.next_step_kind,
            "steps": steps,
            "pause_events": pauses,
            "version": customer.version,
        }


def test_an_offline_pause_is_applied_once_with_its_review_step(
    demo: Database, outbox: Outbox
) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    before = _pause_state(demo, sanne, customer_id)
    until = TODAY + timedelta(days=30)
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        until=until,
        reason="  waiting for the debt counsellor  ",
    )
    # A call logged after the pause, on the version the desk saw before going offline:
    # the agent's own chain, not a conflict.
    outbox.enqueue_contact_attempt(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=1),
        channel=Channel.PHONE,
        direction=Direction.OUTBOUND,
        outcome=Outcome.REACHED,
        note="told them the pause is set",
        next_step=NextStepInput(NextStepKind.REVIEW, datetime.combine(until, time(9), UTC)),
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (2, 0, 0)
    state = _pause_state(demo, sanne, customer_id)
    assert state["until"] == until
    assert state["reason"] == "waiting for the debt counsellor"
    assert state["steps"] == before["steps"] + 2  # type: ignore[operator]
    assert state["pause_events"] == before["pause_events"] + 1  # type: ignore[operator]
    # Forgetting that it was done and replaying again doubles nothing.
    outbox._connection.execute("UPDATE operation SET status = 'pending'")
    again = outbox.replay(demo, sanne, _now)
    assert (again.applied, again.conflicts, again.failed) == (2, 0, 0)
    assert _pause_state(demo, sanne, customer_id) == state


def test_an_offline_pause_on_a_stale_file_goes_to_review(demo: Database, outbox: Outbox) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    with demo.transaction() as session:  # a colleague pauses for a week meanwhile
        marieke = actor_for_login(session, "marieke")
        set_pause(
            session,
            marieke,
            customer_id,
            until=TODAY + timedelta(days=7),
            reason="colleague: customer asked for a week",
            now=NOW,
        )
    op = outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=5),
        until=TODAY + timedelta(days=14),
        reason="hospital stay",
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts) == (0, 1)
    (kept,) = outbox.conflicts(sanne.login)
    assert kept.operation_id == op.operation_id and kept.status is OperationStatus.CONFLICT
    assert _pause_state(demo, sanne, customer_id)["until"] == TODAY + timedelta(days=7)
    outbox.resolve(op.operation_id, "retry_on_latest")
    assert outbox.replay(demo, sanne, _now).applied == 1
    assert _pause_state(demo, sanne, customer_id)["until"] == TODAY + timedelta(days=14)


def test_an_offline_next_step_on_its_own_replaces_the_open_one(
    demo: Database, outbox: Outbox
) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    due = NOW + timedelta(days=2, hours=1)
    outbox.enqueue_next_step(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        step=NextStepInput(NextStepKind.LETTER, due, "send the 14-day letter"),
    )
    assert outbox.replay(demo, sanne, _now).applied == 1
    with demo.transaction() as session:
        open_steps = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).all()
        assert [(s.kind, s.due_at, s.note) for s in open_steps] == [
            ("letter", due, "send the 14-day letter")
        ]
        customer = session.get(Customer, customer_id)
        assert customer is not None and customer.next_step_kind == "letter"


@pytest.mark.parametrize(
    ("kind", "payload", "field"),
    [
        (
            "contact_attempt",
            {"channel": "phone", "direction": "outbound", "outcome": "no_answer", "note": ""},
            "next_step",
        ),
        ("next_step", {"kind": "callback", "due_at": "2026-11-20T09:00:00+00:00"}, "next_step_due"),
        ("note", {"text": "   "}, "note"),
        ("note", {"text": "x" * 4001}, "note"),
        ("promise", {"amount_cents": 0, "due_date": "2026-11-30"}, "amount"),
        ("promise", {"amount_cents": 100, "due_date": "2026-11-01"}, "due_date"),
        ("promise", {"amount_cents": 100, "due_date": "2027-06-01"}, "due_date"),
        ("pause", {"until": "2026-12-20", "reason": " "}, "reason"),
        ("pause", {"until": "2026-11-23", "reason": "ill"}, "until"),
        ("pause", {"until": "2027-11-23", "reason": "ill"}, "until"),
    ],
)
def test_offline_saves_are_checked_like_online_ones_and_nothing_is_kept(
    outbox: Outbox, kind: str, payload: dict[str, object], field: str
) -> None:
    if kind == "contact_attempt":
        payload = {**payload, "next_step": None}
    with pytest.raises(ValidationError) as refused:
        outbox.enqueue(
            kind,
            customer_id=1,
            payload=payload,
            base_version=1,
            agent_login="sanne",
            now=NOW,
        )
    assert refused.value.field == field
    assert outbox.all() == []


def test_ending_a_pause_offline_needs_no_reason(demo: Database, outbox: Outbox) -> None:
    sanne, customer_id, version = _sanne_and_customer(demo)
    before = _pause_state(demo, sanne, customer_id)
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW,
        until=TODAY + timedelta(days=10),
        reason="sick",
    )
    outbox.enqueue_pause(
        customer_id=customer_id,
        base_version=version,
        agent_login=sanne.login,
        now=NOW + timedelta(minutes=2),
        until=None,
        reason="",
    )
    result = outbox.replay(demo, sanne, _now)
    assert (result.applied, result.conflicts, result.failed) == (2, 0, 0)
    state = _pause_state(demo, sanne, customer_id)
    assert state["until"] is None
    assert state["pause_events"] == before["pause_events"] + 2  # type: ignore[operator]

"""A contact keeps an upcoming instalment reminder, promise check or callback unless the
agent sets another step: online and through the offline outbox, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain.arrangement_plan import Mode, Terms
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import ValidationError
from agent_desk.models import Arrangement, Customer, NextStep
from agent_desk.services import activity
from agent_desk.services.activity import (
    KEEP,
    NextStepInput,
    log_contact_attempt,
    record_promise,
)
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.arrangements import agree_arrangement
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.outbox import OperationStatus, Outbox

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3, today=TODAY)
    return database


def _sanne(database: Database) -> Actor:
    with database.transaction() as session:
        return actor_for_login(session, "sanne")


def _free_customer(demo: Database) -> tuple[int, int]:
    """An open customer in arrears with no arrangement running."""
    with demo.transaction() as session:
        running = select(Arrangement.customer_id).where(
            Arrangement.status.in_(["active", "pending_approval"])
        )
        customer = session.scalars(
            select(Customer)
            .where(
                Customer.status == "open",
                Customer.arrears_cents >= 30000,
                Customer.id.not_in(running),
                Customer.paused_until.is_(None),
            )
            .order_by(Customer.id)
        ).first()
        assert customer is not None
        return customer.id, customer.arrears_cents


def _with_arrangement(demo: Database) -> int:
    customer_id, _arrears = _free_customer(demo)
    with demo.transaction() as session:
        agree_arrangement(
            session,
            _sanne(demo),
            customer_id,
            terms=Terms(Mode.COUNT, TODAY + timedelta(days=36), count=3, waive_interest=True),
            now=NOW,
        )
    return customer_id


def _open_steps(demo: Database, customer_id: int) -> list[tuple[int, str, datetime, str]]:
    with demo.transaction() as session:
        return [
            (s.id, s.kind, s.due_at, s.note)
            for s in session.scalars(
                select(NextStep)
                .where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
                .order_by(NextStep.id)
            )
        ]


def _contact(
    demo: Database, customer_id: int, next_step: NextStepInput | activity.Keep | None
) -> int:
    with demo.transaction() as session:
        version = session.get(Customer, customer_id).version  # type: ignore[union-attr]
        return log_contact_attempt(
            session,
            _sanne(demo),
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.REACHED,
            note="Talked it through",
            next_step=next_step,
            now=NOW + timedelta(minutes=5),
            expected_version=version,
        )


@pytest.mark.parametrize("next_step", [None, KEEP], ids=["no step", "keep"])
def test_a_contact_after_an_arrangement_keeps_the_instalment_reminder(
    demo: Database, next_step: activity.Keep | None
) -> None:
    customer_id = _with_arrangement(demo)
    before = _open_steps(demo, customer_id)
    assert [kind for _, kind, _, _ in before] == [NextStepKind.INSTALMENT_REMINDER.value]
    _contact(demo, customer_id, next_step)
    assert _open_steps(demo, customer_id) == before
    with demo.transaction() as session:
        file = customer_file(session, _sanne(demo), customer_id, NOW)
    assert file.next_step_kind == "instalment_reminder"
    assert file.timeline[0].kind == "contact"


def test_a_contact_with_a_new_step_replaces_the_reminder(demo: Database) -> None:
    customer_id = _with_arrangement(demo)
    callback = NOW + timedelta(days=2)
    _contact(demo, customer_id, NextStepInput(NextStepKind.CALLBACK, callback))
    steps = _open_steps(demo, customer_id)
    assert [(kind, due) for _, kind, due, _ in steps] == [("callback", callback)]


def test_a_contact_after_a_promise_keeps_the_promise_check(demo: Database) -> None:
    customer_id, _ = _free_customer(demo)
    with demo.transaction() as session:
        record_promise(
            session,
            _sanne(demo),
            customer_id,
            amount_cents=5000,
            due_date=TODAY + timedelta(days=7),
            now=NOW,
        )
    before = _open_steps(demo, customer_id)
    assert [kind for _, kind, _, _ in before] == ["promise_check"]
    _contact(demo, customer_id, None)
    assert _open_steps(demo, customer_id) == before


def test_keep_without_a_step_to_keep_is_refused(demo: Database) -> None:
    customer_id, _ = _free_customer(demo)
    with demo.transaction() as session:
        activity.plan_next_step(
            session,
            _sanne(demo),
            customer_id,
            NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
            NOW,
        )
    for next_step, message in (
        (KEEP, "There is no upcoming instalment reminder, promise check or callback"),
        (None, "Choose a next step"),
    ):
        with pytest.raises(ValidationError, match=message) as refused:
            _contact(demo, customer_id, next_step)  # type: ignore[arg-type]
        assert refused.value.field == "next_step"


# --------------------------------------------------------------------------- outbox


def test_the_outbox_carries_keep_and_replays_it(demo: Database, tmp_path: Path) -> None:
    customer_id = _with_arrangement(demo)
    before = _open_steps(demo, customer_id)
    sanne = _sanne(demo)
    with demo.transaction() as session:
        version = session.get(Customer, customer_id).version  # type: ignore[union-attr]
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        op = outbox.enqueue_contact_attempt(
            customer_id=customer_id,
            base_version=version,
            agent_login="sanne",
            now=NOW + timedelta(minutes=5),
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.NO_ANSWER,
            note="",
            next_step=KEEP,
        )
        assert op.payload["next_step"] == "keep"
        with pytest.raises(ValidationError, match="Choose a next step"):
            outbox.enqueue(
                "contact_attempt",
                customer_id=customer_id,
                payload={**op.payload, "next_step": None},
                base_version=version,
                agent_login="sanne",
                now=NOW,
            )
        result = outbox.replay(demo, sanne, lambda: NOW + timedelta(hours=1))
        assert (result.applied, result.failed) == (1, 0)
        assert outbox.replay(demo, sanne, lambda: NOW + timedelta(hours=1)).applied == 0
    assert _open_steps(demo, customer_id) == before


def test_an_offline_keep_whose_step_is_gone_waits_for_review(
    demo: Database, tmp_path: Path
) -> None:
    customer_id = _with_arrangement(demo)
    sanne = _sanne(demo)
    with Outbox(tmp_path / "outbox.sqlite3") as outbox:
        op = outbox.enqueue_contact_attempt(  # kept offline while the reminder was open
            customer_id=customer_id,
            base_version=None,
            agent_login="sanne",
            now=NOW,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.REACHED,
            note="",
            next_step=KEEP,
        )
        with demo.transaction() as session:  # meanwhile a colleague plans a retry instead
            activity.plan_next_step(
                session,
                actor_for_login(session, "daan"),
                customer_id,
                NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
                NOW,
            )
        result = outbox.replay(demo, sanne, lambda: NOW + timedelta(hours=1))
        assert (result.applied, result.failed) == (0, 1)
        failed = outbox.get(op.operation_id)
        assert failed is not None and failed.status is OperationStatus.FAILED
        assert failed.error is not None and "to keep" in failed.error

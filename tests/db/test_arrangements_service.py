"""Agreeing, approving, paying, missing and breaking arrangements, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from agent_desk.domain import queue as queue_rules
from agent_desk.domain.arrangements import Frequency, Plan, add_months, plan_by_count
from agent_desk.domain.codes import ArrangementStatus, NextStepKind
from agent_desk.domain.policy import load_default_policy
from agent_desk.errors import ConflictError, PermissionDeniedError, ValidationError
from agent_desk.models import Arrangement, AuditEvent, Customer, Instalment, NextStep
from agent_desk.services.actor import actor_for_login
from agent_desk.services.arrangements import (
    agree_arrangement,
    approve_arrangement,
    decline_arrangement,
    mark_missed_instalments,
    pending_approvals,
)
from agent_desk.services.database import Database
from agent_desk.services.demo import load_demo
from agent_desk.services.derived import facts_of

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)
START = TODAY + timedelta(days=7)
POLICY = load_default_policy()


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=60, agents=3, seed=7, today=TODAY)
    return database


def _free_customer(database: Database, *, skip: int = 0) -> tuple[int, int, int]:
    """An open customer with arrears of at least 300.00 and no arrangement running."""
    with database.transaction() as session:
        running = select(Arrangement.customer_id).where(
            Arrangement.status.in_(["active", "pending_approval"])
        )
        customers = session.scalars(
            select(Customer)
            .where(
                Customer.status == "open",
                Customer.arrears_cents >= 30000,
                Customer.id.not_in(running),
            )
            .order_by(Customer.id)
        ).all()
        assert len(customers) > skip, "the demo has customers in arrears without arrangement"
        customer = customers[skip]
        return customer.id, customer.version, customer.arrears_cents


def _agree(
    database: Database,
    customer_id: int,
    plan: Plan,
    *,
    login: str = "sanne",
    reason: str | None = None,
    expected_version: int | None = None,
) -> int:
    with database.transaction() as session:
        actor = actor_for_login(session, login)
        return agree_arrangement(
            session,
            actor,
            customer_id,
            plan=plan,
            costs_cents=0,
            interest_cents=0,
            costs_waived=True,
            interest_waived=True,
            now=NOW,
            expected_version=expected_version,
            approval_reason=reason,
        )


def _outside_policy(total: int) -> Plan:
    return plan_by_count(total, POLICY.max_instalments + 1, START)


def _nightly(database: Database, today: date) -> None:
    with database.transaction() as session:
        mark_missed_instalments(session, today)


def test_agree_within_policy_is_active_with_instalments_and_a_reminder(demo: Database) -> None:
    customer_id, version, arrears = _free_customer(demo)
    plan = plan_by_count(arrears, 3, START)
    arrangement_id = _agree(demo, customer_id, plan, expected_version=version)
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.ACTIVE
        assert arrangement.approval_needed_reason is None
        assert arrangement.total_cents == arrears == arrangement.principal_cents
        rows = arrangement.instalments
        assert [r.number for r in rows] == [1, 2, 3]
        assert sum(r.amount_cents for r in rows) == arrears
        assert [r.due_date for r in rows] == [START, add_months(START, 1), add_months(START, 2)]
        step = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).one()
        assert step.kind == NextStepKind.INSTALMENT_REMINDER
        remind_on = START - timedelta(days=POLICY.reminder_days_before_due)
        assert step.due_at == datetime.combine(remind_on, NOW.timetz())
        assert "instalment 1" in step.note
        customer = session.get_one(Customer, customer_id)
        assert customer.next_step_kind == NextStepKind.INSTALMENT_REMINDER
        assert customer.version > version
        assert session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "arrangement", AuditEvent.entity_id == arrangement_id
            )
        ).all()


def test_reminder_is_on_the_due_date_when_the_days_before_have_passed(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    _agree(demo, customer_id, plan_by_count(arrears, 2, TODAY + timedelta(days=1)))
    with demo.transaction() as session:
        customer = session.get_one(Customer, customer_id)
        assert customer.next_step_due_at == datetime.combine(
            TODAY + timedelta(days=1), NOW.timetz()
        )


def test_stale_version_is_a_conflict_and_writes_nothing(demo: Database) -> None:
    customer_id, version, arrears = _free_customer(demo)
    with pytest.raises(ConflictError):
        _agree(demo, customer_id, plan_by_count(arrears, 3, START), expected_version=version - 1)
    with demo.transaction() as session:
        assert not session.scalars(
            select(Arrangement).where(Arrangement.customer_id == customer_id)
        ).all()


def test_bad_plans_are_refused(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    with pytest.raises(ValidationError) as too_much:
        _agree(demo, customer_id, plan_by_count(arrears + 100, 3, START))
    assert too_much.value.field == "amount"
    with pytest.raises(ValidationError) as past:
        _agree(demo, customer_id, plan_by_count(arrears, 3, TODAY - timedelta(days=1)))
    assert past.value.field == "start"
    _agree(demo, customer_id, plan_by_count(arrears, 3, START))
    with pytest.raises(ValidationError) as second:
        _agree(demo, customer_id, plan_by_count(arrears, 3, START))
    assert second.value.field == "arrangement"


def test_outside_policy_needs_a_reason_then_waits_for_approval(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    plan = _outside_policy(arrears)
    with pytest.raises(ValidationError) as error:
        _agree(demo, customer_id, plan, reason="  ")
    assert error.value.field == "approval_reason"
    arrangement_id = _agree(demo, customer_id, plan, reason="Income drops for a year.")
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.PENDING_APPROVAL
        assert arrangement.approval_needed_reason is not None
        assert f"at most {POLICY.max_instalments}" in arrangement.approval_needed_reason
        assert "Income drops for a year." in arrangement.approval_needed_reason
        pending = pending_approvals(session)
        assert [p.arrangement_id for p in pending] == [arrangement_id]
        assert pending[0].instalment_count == POLICY.max_instalments + 1
        assert pending[0].agent_login == "sanne"
        assert pending[0].total_cents == arrears


def test_only_a_supervisor_approves(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _outside_policy(arrears), reason="Long illness.")
    with demo.transaction() as session:
        agent = actor_for_login(session, "sanne")
        with pytest.raises(PermissionDeniedError):
            approve_arrangement(session, agent, arrangement_id, "fine", NOW)
        with pytest.raises(PermissionDeniedError):
            decline_arrangement(session, agent, arrangement_id, "no", NOW)
    with demo.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        with pytest.raises(ValidationError):
            approve_arrangement(session, marieke, arrangement_id, " ", NOW)
        approve_arrangement(session, marieke, arrangement_id, "Medical letter seen.", NOW)
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.ACTIVE
        assert arrangement.approved_by_id == actor_for_login(session, "marieke").agent_id
        assert arrangement.approved_at == NOW
        assert arrangement.approval_note == "Medical letter seen."
        assert pending_approvals(session) == []
        assert session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "approve", AuditEvent.entity_id == arrangement_id
            )
        ).one()
        marieke = actor_for_login(session, "marieke")
        with pytest.raises(ConflictError):
            decline_arrangement(session, marieke, arrangement_id, "too late", NOW)


def test_declining_asks_the_agent_to_review_now(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _outside_policy(arrears), reason="Wants long.")
    with demo.transaction() as session:
        marieke = actor_for_login(session, "marieke")
        decline_arrangement(session, marieke, arrangement_id, "Shorter is possible.", NOW)
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.DECLINED
        assert arrangement.approval_note == "Shorter is possible."
        customer = session.get_one(Customer, customer_id)
        assert customer.next_step_kind == NextStepKind.REVIEW
        assert customer.next_step_due_at == NOW
        step = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).one()
        assert step.assigned_agent_id == customer.assigned_agent_id
        assert "Shorter is possible." in step.note


def _reason_messages(customer: Customer) -> list[str]:
    return [r.message for r in queue_rules.reasons(facts_of(customer), NOW)]


def test_nightly_marks_missed_after_grace_then_broken(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, plan_by_count(arrears, 4, START))
    grace = POLICY.missed_after_days
    assert POLICY.missed_instalments_before_broken == 2

    _nightly(demo, START + timedelta(days=grace))  # last day of grace: nothing yet
    with demo.transaction() as session:
        rows = session.get_one(Arrangement, arrangement_id).instalments
        assert [r.status for r in rows] == ["open"] * 4

    _nightly(demo, START + timedelta(days=grace + 1))
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.ACTIVE
        assert [r.status for r in arrangement.instalments] == ["missed", "open", "open", "open"]
        customer = session.get_one(Customer, customer_id)
        assert customer.missed_instalment
        assert customer.queue_bucket == queue_rules.Bucket.BROKEN
        assert "missed instalment" in _reason_messages(customer)
        assert customer.next_step_kind == NextStepKind.REVIEW
        assert queue_rules.in_queue(facts_of(customer), NOW + timedelta(days=30))

    second_missed = add_months(START, 1) + timedelta(days=grace + 1)
    with demo.transaction() as session:
        result = mark_missed_instalments(session, second_missed)
        assert result.arrangements_broken >= 1
        assert arrangement_id in result.changed_arrangement_ids
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.BROKEN
        assert [r.status for r in arrangement.instalments][:2] == ["missed", "missed"]
        customer = session.get_one(Customer, customer_id)
        assert customer.broken_arrangement
        assert customer.queue_bucket == queue_rules.Bucket.BROKEN
        assert "broken arrangement" in _reason_messages(customer)

    # A broken arrangement is left alone by later runs.
    with demo.transaction() as session:
        result = mark_missed_instalments(session, add_months(START, 3))
        assert arrangement_id not in result.changed_arrangement_ids


def test_paying_schedules_the_next_reminder_and_completes(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, plan_by_count(arrears, 3, START))
    with demo.transaction() as session:
        first = session.scalars(
            select(Instalment).where(
                Instalment.arrangement_id == arrangement_id, Instalment.number == 1
            )
        ).one()
        first.paid_cents = first.amount_cents
    with demo.transaction() as session:
        result = mark_missed_instalments(session, START + timedelta(days=1))
        assert result.instalments_paid >= 1
        assert result.reminders_scheduled >= 1
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert [r.status for r in arrangement.instalments] == ["paid", "open", "open"]
        step = session.scalars(
            select(NextStep).where(NextStep.customer_id == customer_id, NextStep.done_at.is_(None))
        ).one()
        assert step.kind == NextStepKind.INSTALMENT_REMINDER
        assert "instalment 2" in step.note
        remind_on = add_months(START, 1) - timedelta(days=POLICY.reminder_days_before_due)
        assert step.due_at.date() == remind_on
        for row in arrangement.instalments:
            row.paid_cents = row.amount_cents

    with demo.transaction() as session:
        result = mark_missed_instalments(session, add_months(START, 3))
        assert result.arrangements_completed >= 1
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.COMPLETED
        assert {r.status for r in arrangement.instalments} == {"paid"}
        customer = session.get_one(Customer, customer_id)
        assert not customer.missed_instalment
        assert not customer.broken_arrangement
        assert customer.next_step_kind != NextStepKind.INSTALMENT_REMINDER


def test_nightly_only_touches_what_changed(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo)
    _agree(demo, customer_id, plan_by_count(arrears, 3, START, Frequency.MONTHLY))
    day = START + timedelta(days=POLICY.missed_after_days + 1)
    with demo.transaction() as session:
        first = mark_missed_instalments(session, day, batch_size=2)
        assert first.arrangements_checked >= 1
    with demo.transaction() as session:
        again = mark_missed_instalments(session, day, batch_size=2)
        assert again.changed_arrangement_ids == []
        assert again.instalments_missed == again.customers_refreshed == 0


def test_the_queue_says_which_instalment_to_remind_of(demo: Database) -> None:
    from agent_desk.i18n import Translator
    from agent_desk.services.queue import queue_rows

    customer_id, _version, arrears = _free_customer(demo)
    _agree(demo, customer_id, plan_by_count(arrears, 3, START))
    reminder_day = NOW + timedelta(days=7 - POLICY.reminder_days_before_due)
    with demo.transaction() as session:
        row = queue_rows(session, [customer_id], reminder_day)[0]
    texts = [(r.text(Translator("en")), r.text(Translator("nl"))) for r in row.reasons]
    day_en = f"{START:%A} {START.day} {START:%b}"
    assert texts[0][0] == f"remind: instalment 1 due {day_en}"
    assert texts[0][1].startswith("herinneren: termijn 1 vervalt ")

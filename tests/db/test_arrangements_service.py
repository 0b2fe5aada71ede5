"""Agreeing, approving, paying, missing and breaking arrangements, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain import queue as queue_rules
from agent_desk.domain.arrangement_plan import Mode, Owed, Terms
from agent_desk.domain.arrangements import Frequency, add_months, plan_by_count
from agent_desk.domain.codes import ArrangementStatus, NextStepKind
from agent_desk.domain.ledger import Channel
from agent_desk.domain.policy import load_default_policy
from agent_desk.errors import ConflictError, PermissionDeniedError, ValidationError
from agent_desk.models import (
    Arrangement,
    AuditEvent,
    Customer,
    DemandNotice,
    Instalment,
    LedgerEntry,
    NextStep,
)
from agent_desk.services import ledger, notices
from agent_desk.services.actor import actor_for_login
from agent_desk.services.arrangements import (
    agree_arrangement,
    approve_arrangement,
    arrangement_owed,
    decline_arrangement,
    pending_approvals,
)
from agent_desk.services.database import Database
from agent_desk.services.derived import facts_of
from agent_desk.services.missed_instalments import mark_missed_instalments

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)
START = TODAY + timedelta(days=7)
POLICY = load_default_policy()


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=60, agents=3, seed=7, today=TODAY)
    return database


def _free_customer(
    database: Database, *, skip: int = 0, letter: bool | None = None
) -> tuple[int, int, int]:
    """An open customer with arrears of at least 300.00 and no arrangement running
    (``letter``: only those with / without costs a 14-day letter made owed)."""
    with database.transaction() as session:
        running = select(Arrangement.customer_id).where(
            Arrangement.status.in_(["active", "pending_approval"])
        )
        query = (
            select(Customer)
            .where(
                Customer.status == "open",
                Customer.arrears_cents >= 30000,
                Customer.id.not_in(running),
            )
            .order_by(Customer.id)
        )
        with_costs = select(DemandNotice.customer_id)
        if letter is True:
            query = query.where(Customer.id.in_(with_costs))
        elif letter is False:
            query = query.where(Customer.id.not_in(with_costs))
        customers = session.scalars(query).all()
        assert len(customers) > skip, "the demo has customers in arrears without arrangement"
        customer = customers[skip]
        return customer.id, customer.version, customer.arrears_cents


def _owed(database: Database, customer_id: int, on: date = TODAY) -> Owed:
    with database.transaction() as session:
        return arrangement_owed(session, customer_id, on)


def _count(count: int, start: date = START, **more: object) -> Terms:
    return Terms(Mode.COUNT, start, count=count, **more)  # type: ignore[arg-type]


def _agree(
    database: Database,
    customer_id: int,
    terms: Terms,
    *,
    login: str = "sanne",
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime = NOW,
    **figures: int,
) -> int:
    with database.transaction() as session:
        actor = actor_for_login(session, login)
        return agree_arrangement(
            session,
            actor,
            customer_id,
            now=now,
            terms=terms,
            expected_version=expected_version,
            approval_reason=reason,
            **figures,
        )


def _outside_policy() -> Terms:
    return _count(POLICY.max_instalments + 1)


def _balance(database: Database, customer_id: int, on: date = TODAY) -> int:
    with database.transaction() as session:
        return ledger.customer_balance(session, customer_id, on).outstanding


def _nightly(database: Database, today: date) -> None:
    with database.transaction() as session:
        mark_missed_instalments(session, today)


def test_agree_within_policy_is_active_with_instalments_and_a_reminder(demo: Database) -> None:
    customer_id, version, _arrears = _free_customer(demo)
    owed = _owed(demo, customer_id)
    arrangement_id = _agree(demo, customer_id, _count(3), expected_version=version)
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.status == ArrangementStatus.ACTIVE
        assert arrangement.approval_needed_reason is None
        assert arrangement.principal_cents == owed.principal
        assert arrangement.total_cents == owed.total
        rows = arrangement.instalments
        assert [r.number for r in rows] == [1, 2, 3]
        assert sum(r.amount_cents for r in rows) == owed.total
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
    customer_id, _, _arrears = _free_customer(demo)
    _agree(demo, customer_id, _count(2, TODAY + timedelta(days=1)))
    with demo.transaction() as session:
        customer = session.get_one(Customer, customer_id)
        assert customer.next_step_due_at == datetime.combine(
            TODAY + timedelta(days=1), NOW.timetz()
        )


def test_stale_version_is_a_conflict_and_writes_nothing(demo: Database) -> None:
    customer_id, version, _arrears = _free_customer(demo)
    before = _balance(demo, customer_id)
    with pytest.raises(ConflictError):
        _agree(demo, customer_id, _count(3), expected_version=version - 1)
    with demo.transaction() as session:
        assert not session.scalars(
            select(Arrangement).where(Arrangement.customer_id == customer_id)
        ).all()
    assert _balance(demo, customer_id) == before


def test_bad_plans_are_refused(demo: Database) -> None:
    customer_id, _, _arrears = _free_customer(demo)
    with pytest.raises(ValidationError) as past:
        _agree(demo, customer_id, _count(3, TODAY - timedelta(days=1)))
    assert past.value.field == "start"
    with pytest.raises(ValidationError) as down:
        _agree(demo, customer_id, _count(3, down_payment=_owed(demo, customer_id).total))
    assert down.value.field == "down_payment"
    with pytest.raises(ValidationError) as above:
        _agree(demo, customer_id, _count(1, capacity=1_000))
    assert above.value.field == "capacity"
    _agree(demo, customer_id, _count(3))
    with pytest.raises(ValidationError) as second:
        _agree(demo, customer_id, _count(3))
    assert second.value.field == "arrangement"


def test_outside_policy_needs_a_reason_then_waits_for_approval(demo: Database) -> None:
    customer_id, _, _arrears = _free_customer(demo)
    plan = _outside_policy()
    owed = _owed(demo, customer_id)
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
        assert pending[0].total_cents == owed.total


def test_only_a_supervisor_approves(demo: Database) -> None:
    customer_id, _, _arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _outside_policy(), reason="Long illness.")
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
    customer_id, _, _arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _outside_policy(), reason="Wants long.")
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
    customer_id, _, _arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _count(4))
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
    customer_id, _, _arrears = _free_customer(demo)
    arrangement_id = _agree(demo, customer_id, _count(3))
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
    customer_id, _, _arrears = _free_customer(demo)
    _agree(demo, customer_id, _count(3, frequency=Frequency.MONTHLY))
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

    customer_id, _version, _arrears = _free_customer(demo)
    _agree(demo, customer_id, _count(3))
    reminder_day = NOW + timedelta(days=7 - POLICY.reminder_days_before_due)
    with demo.transaction() as session:
        row = queue_rows(session, [customer_id], reminder_day)[0]
    texts = [(r.text(Translator("en")), r.text(Translator("nl"))) for r in row.reasons]
    day_en = f"{START:%A} {START.day} {START:%b}"
    assert texts[0][0] == f"remind: instalment 1 due {day_en}"
    assert texts[0][1].startswith("herinneren: termijn 1 vervalt ")


# ------------------------------------------------------------------ on the books


def _send_letter(database: Database, customer_id: int, sent_on: date) -> int:
    """A 14-day letter sent on ``sent_on``, and the nightly run of today: the costs it
    named are booked if its term ran out unpaid. Returns the costs booked."""
    with database.transaction() as session:
        draft = notices.draft_notice(session, customer_id, sent_on, Channel.POST, add_vat=False)
        notice = notices.record_notice(
            session, actor_for_login(session, "sanne"), customer_id, draft, NOW
        )
        notice_id = notice.id
        notices.book_due_costs(session, TODAY, NOW, customer_ids=[customer_id])
    with database.transaction() as session:
        return session.get_one(DemandNotice, notice_id).costs_booked_cents


def _entries(database: Database, arrangement_id: int) -> list[tuple[str, str, int]]:
    with database.transaction() as session:
        return [
            (e.kind, e.part, e.amount_cents)
            for e in session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.arrangement_id == arrangement_id)
                .order_by(LedgerEntry.id)
            )
        ]


def test_without_a_letter_the_arrangement_has_no_costs(demo: Database) -> None:
    customer_id, _, _ = _free_customer(demo, letter=False)
    owed = _owed(demo, customer_id)
    assert owed.costs == 0 and owed.interest > 0  # in default for a while, never a letter
    arrangement_id = _agree(demo, customer_id, _count(3))
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.costs_cents == 0 and not arrangement.costs_waived
        assert arrangement.interest_cents == owed.interest
        assert arrangement.total_cents == owed.principal + owed.interest
    # interest up to today is booked on the claims, marked with the arrangement
    booked = [e for e in _entries(demo, arrangement_id) if e[0] == "interest"]
    assert sum(a for _, _, a in booked) == owed.interest
    assert _balance(demo, customer_id) == owed.principal + owed.interest


def test_a_letter_whose_term_ran_out_puts_its_costs_in_the_arrangement(demo: Database) -> None:
    customer_id, _, _ = _free_customer(demo, letter=False)
    before = _owed(demo, customer_id)
    assert before.costs == 0
    costs = _send_letter(demo, customer_id, TODAY - timedelta(days=30))
    assert costs >= 4_000  # BIK minimum
    owed = _owed(demo, customer_id)
    assert owed.costs == costs and owed.principal == before.principal
    arrangement_id = _agree(demo, customer_id, _count(4), costs_cents=costs)
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        assert arrangement.costs_cents == costs
        assert arrangement.total_cents == owed.principal + costs + owed.interest
        assert sum(i.amount_cents for i in arrangement.instalments) == arrangement.total_cents


def test_a_letter_still_in_its_term_adds_no_costs(demo: Database) -> None:
    customer_id, _, _ = _free_customer(demo, letter=False)
    assert _send_letter(demo, customer_id, TODAY - timedelta(days=3)) == 0
    arrangement_id = _agree(demo, customer_id, _count(2))
    with demo.transaction() as session:
        assert session.get_one(Arrangement, arrangement_id).costs_cents == 0


@pytest.mark.parametrize("part", ["costs", "interest", "principal"])
def test_figures_the_books_do_not_show_are_refused(demo: Database, part: str) -> None:
    customer_id, _, _ = _free_customer(demo, letter=True)
    owed = _owed(demo, customer_id)
    assert owed.costs > 0
    forged = {"costs": 0, "interest": owed.interest + 1, "principal": owed.principal - 100}[part]
    with pytest.raises(ValidationError) as refused:
        _agree(demo, customer_id, _count(3), **{f"{part}_cents": forged})
    assert refused.value.field == "amount"
    assert "changed since you calculated" in str(refused.value)
    assert "recalculate" in str(refused.value).lower()
    with demo.transaction() as session:
        assert not session.scalars(
            select(Arrangement).where(Arrangement.customer_id == customer_id)
        ).all()
        assert not session.scalars(
            select(LedgerEntry).where(
                LedgerEntry.customer_id == customer_id, LedgerEntry.created_at == NOW
            )
        ).all()
    # the same figures as the books are accepted
    _agree(
        demo,
        customer_id,
        _count(3),
        principal_cents=owed.principal,
        costs_cents=owed.costs,
        interest_cents=owed.interest,
    )


def test_a_schedule_made_elsewhere_must_add_up_to_the_books(demo: Database) -> None:
    customer_id, _, arrears = _free_customer(demo, letter=True)
    owed = _owed(demo, customer_id)
    with demo.transaction() as session, pytest.raises(ValidationError) as refused:
        agree_arrangement(
            session,
            actor_for_login(session, "sanne"),
            customer_id,
            now=NOW,
            plan=plan_by_count(arrears, 3, START),  # principal and costs, not the interest
            costs_waived=False,
            interest_waived=False,
        )
    assert refused.value.field == "amount"
    with demo.transaction() as session:
        arrangement_id = agree_arrangement(
            session,
            actor_for_login(session, "sanne"),
            customer_id,
            now=NOW,
            plan=plan_by_count(owed.principal + owed.costs, 3, START),
            costs_waived=False,
            interest_waived=True,
        )
    assert _balance(demo, customer_id) == owed.principal + owed.costs
    waived = [a for kind, part, a in _entries(demo, arrangement_id) if kind == "waiver"]
    assert sum(waived) == -owed.interest


def test_waiving_books_waivers_so_the_balance_is_the_arrangement_total(demo: Database) -> None:
    customer_id, _, _ = _free_customer(demo, letter=True)
    owed = _owed(demo, customer_id)
    assert owed.costs > 0 and owed.interest > 0
    arrangement_id = _agree(demo, customer_id, _count(6, waive_costs=True, waive_interest=True))
    with demo.transaction() as session:
        arrangement = session.get_one(Arrangement, arrangement_id)
        total = arrangement.total_cents
        assert total == owed.principal
        assert (arrangement.costs_cents, arrangement.interest_cents) == (owed.costs, owed.interest)
        assert arrangement.costs_waived and arrangement.interest_waived
        customer = session.get_one(Customer, customer_id)
        assert customer.arrears_cents == total
    entries = _entries(demo, arrangement_id)
    waivers = [(part, amount) for kind, part, amount in entries if kind == "waiver"]
    assert all(amount < 0 for _, amount in waivers)
    assert -sum(a for p, a in waivers if p == "costs") == owed.costs
    assert -sum(a for p, a in waivers if p == "interest") == owed.interest
    assert _balance(demo, customer_id) == total
    # while it runs, the covered claims accrue nothing
    assert _balance(demo, customer_id, TODAY + timedelta(days=90)) == total


def test_declining_undoes_the_waivers_and_interest_runs_again(demo: Database) -> None:
    customer_id, _, _ = _free_customer(demo, letter=True)
    owed = _owed(demo, customer_id)
    arrangement_id = _agree(
        demo,
        customer_id,
        _count(POLICY.max_instalments + 1, waive_costs=True),
        reason="Long illness.",
    )
    assert _balance(demo, customer_id) == owed.principal + owed.interest
    decided = TODAY + timedelta(days=5)
    with demo.transaction() as session:
        decline_arrangement(
            session,
            actor_for_login(session, "marieke"),
            arrangement_id,
            "Shorter is possible.",
            datetime.combine(decided, time(10), tzinfo=UTC),
        )
    entries = _entries(demo, arrangement_id)
    assert sum(a for kind, part, a in entries if kind == "waiver" and part == "costs") == 0
    # frozen while it waited; from the decline on, interest accrues again
    on_decline = _balance(demo, customer_id, decided)
    assert on_decline == owed.total
    assert _balance(demo, customer_id, decided + timedelta(days=60)) > on_decline

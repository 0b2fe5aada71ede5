"""Promises to pay resolve themselves, on both engines, with worked cases.

One customer (900001, Sanne's) owes 412.40 on two claims. On Tuesday 1 December 2026
at 10:00 Sanne records a promise of 250.00 by Thursday 10 December. The policy gives
two grace days (``promise_grace_days`` in ``resources/policy/books.toml``), so a
payment up to Saturday 12 December keeps it; the nightly run of Sunday 13 December
breaks it when it has not been paid by then.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, PromiseStatus
from agent_desk.domain.ledger import load_books_policy
from agent_desk.domain.queue import Bucket
from agent_desk.models import AuditEvent, Customer, NextStep, PromiseToPay
from agent_desk.services.activity import NextStepInput, log_contact_attempt, record_promise
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.importers import import_customers, import_payments
from agent_desk.services.nightly import run_nightly
from agent_desk.services.payments import PaymentInput, receive_payments
from agent_desk.services.promises import (
    PromiseTerms,
    Received,
    allocate,
    last_day,
    resolve_due_promises,
)
from agent_desk.services.queue import QueueRow, agent_queue

MADE = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
BY = date(2026, 12, 10)
LAST_DAY = date(2026, 12, 12)  # BY + two grace days
NUMBER = "900001"
HEADER = (
    "customer_number,first_name,last_name,language,segment,mobile,phone,email,street,"
    "house_number,postcode,city,agent,claim_reference,claim_description,principal,due_date\n"
)
CUSTOMERS = HEADER + (
    "900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,INV-1,Energy,312.40,2026-10-01\n"
    "900001,Fatma,Çelik,nl,consumer,06-12345678,,,Dorpsstraat,4,1234 ab,Ede,sanne,INV-2,Energy,100.00,2026-11-01\n"
)


def at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def night(day: date) -> datetime:
    """The moment the nightly run of ``day`` runs (as ``services.nightly`` does)."""
    return datetime.combine(day, time(0), tzinfo=UTC)


@pytest.fixture
def books(database: Database, tmp_path: Path) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=2, seed=1, today=date(2026, 9, 1))
    path = tmp_path / "customers.csv"
    path.write_text(CUSTOMERS, encoding="utf-8")
    with database.transaction() as session:
        import_customers(session, SYSTEM, path, at(date(2026, 11, 30)))
    return database


def customer_id(session: Session) -> int:
    found = session.scalar(select(Customer.id).where(Customer.customer_number == NUMBER))
    assert found is not None
    return int(found)


def sanne(session: Session) -> Actor:
    return actor_for_login(session, "sanne")


def promise(database: Database, amount: int = 25000, by: date = BY, now: datetime = MADE) -> int:
    with database.transaction() as session:
        return record_promise(
            session, sanne(session), customer_id(session), amount_cents=amount, due_date=by, now=now
        )


_refs = iter(range(1, 10_000))


def pay(database: Database, amount: int, paid_on: date, now: datetime | None = None) -> int:
    """A payment paid on ``paid_on`` reaching the books at ``now`` (default 9:00 that day)."""
    with database.transaction() as session:
        result = receive_payments(
            session,
            SYSTEM,
            [PaymentInput(customer_id(session), amount, paid_on, f"PAY-{next(_refs)}")],
            now or at(paid_on),
        )
        return result.promises_kept


def nightly(database: Database, today: date) -> tuple[int, int]:
    with database.transaction() as session:
        run = resolve_due_promises(session, today, night(today))
        return run.kept, run.broken


def the_promise(database: Database, promise_id: int) -> PromiseToPay:
    with database.transaction() as session:
        found = session.get(PromiseToPay, promise_id)
        assert found is not None
        session.expunge(found)
        return found


def queue_row(database: Database, now: datetime) -> QueueRow | None:
    with database.transaction() as session:
        rows = agent_queue(session, sanne(session).agent_id or 0, now)
        cid = customer_id(session)
    return next((r for r in rows if r.customer_id == cid), None)


def reasons(row: QueueRow | None) -> list[str]:
    assert row is not None, "the customer is not in the queue"
    return [r.message for r in row.reasons]


def open_steps(database: Database) -> list[tuple[str, str]]:
    with database.transaction() as session:
        return [
            (s.kind, s.note)
            for s in session.scalars(
                select(NextStep)
                .where(NextStep.customer_id == customer_id(session), NextStep.done_at.is_(None))
                .order_by(NextStep.id)
            )
        ]


def test_the_policy_gives_two_grace_days() -> None:
    assert last_day(BY, load_books_policy()) == LAST_DAY


# ------------------------------------------------------------------ worked cases


def test_paid_in_full_by_the_date_is_kept_at_once(books: Database) -> None:
    pid = promise(books)
    assert reasons(queue_row(books, at(BY + timedelta(days=1), 11)))[0] == "check promise to pay"
    assert pay(books, 25000, date(2026, 12, 8)) == 1
    kept = the_promise(books, pid)
    assert (kept.status, kept.paid_cents, kept.resolved_on) == ("kept", 25000, date(2026, 12, 8))
    # No longer "check promise to pay": the check is done, a review of what is still open.
    assert open_steps(books) == [("review", "promise kept: 250.00 paid")]
    row = queue_row(books, at(BY + timedelta(days=1), 11))
    assert "check promise to pay" not in reasons(row)
    assert "promise to pay broken" not in reasons(row)
    assert row is not None and row.arrears_cents < 41240
    # The nightly run after the last day finds nothing left to do.
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 0)
    assert the_promise(books, pid).status == "kept"


def test_paid_on_the_last_grace_day_is_kept(books: Database) -> None:
    pid = promise(books)
    assert nightly(books, LAST_DAY) == (0, 0), "the run of the last day itself breaks nothing"
    assert the_promise(books, pid).status == "open"
    assert pay(books, 25000, LAST_DAY) == 1
    kept = the_promise(books, pid)
    assert (kept.status, kept.resolved_on) == ("kept", LAST_DAY)


def test_paid_one_day_too_late_is_broken(books: Database) -> None:
    pid = promise(books)
    # The payment of the 13th arrives before the night run: it does not keep the promise.
    assert pay(books, 25000, LAST_DAY + timedelta(days=1)) == 0
    assert the_promise(books, pid).status == "open"
    assert nightly(books, LAST_DAY + timedelta(days=2)) == (0, 1)
    broken = the_promise(books, pid)
    assert (broken.status, broken.paid_cents, broken.resolved_on) == ("broken", 0, LAST_DAY)


def test_two_partial_payments_that_add_up_keep_it_at_the_second(books: Database) -> None:
    pid = promise(books)
    assert pay(books, 10000, date(2026, 12, 4)) == 0
    half = the_promise(books, pid)
    assert (half.status, half.paid_cents, half.resolved_on) == ("open", 10000, None)
    assert pay(books, 15000, date(2026, 12, 9)) == 1
    kept = the_promise(books, pid)
    assert (kept.status, kept.paid_cents, kept.resolved_on) == ("kept", 25000, date(2026, 12, 9))


def test_a_payment_before_the_promise_was_made_does_not_count(books: Database) -> None:
    # 100.00 paid on 30 November, the day before the promise: already on the books.
    pay(books, 10000, date(2026, 11, 30))
    pid = promise(books)
    assert pay(books, 15000, date(2026, 12, 5)) == 0
    assert the_promise(books, pid).paid_cents == 15000
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    broken = the_promise(books, pid)
    assert (broken.status, broken.paid_cents) == ("broken", 15000)


def test_a_payment_booked_earlier_the_same_day_does_not_count(books: Database) -> None:
    # Paid and imported at 9:00; the promise at 10:00 was made knowing it.
    pay(books, 10000, MADE.date(), at(MADE.date(), 9))
    pid = promise(books, 10000)
    assert the_promise(books, pid).paid_cents == 0
    # Paid the same day but reaching the books after the promise: counts.
    assert pay(books, 5000, MADE.date(), at(MADE.date(), 16)) == 0
    assert the_promise(books, pid).paid_cents == 5000
    assert pay(books, 5000, date(2026, 12, 2)) == 1
    assert the_promise(books, pid).status == "kept"


def test_a_broken_promise_puts_the_customer_back_in_the_queue(books: Database) -> None:
    pid = promise(books)
    pay(books, 5000, date(2026, 12, 3))
    # Before the last day: waiting for the money, then a check the day after the date.
    assert queue_row(books, at(date(2026, 12, 5))) is None
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    broken = the_promise(books, pid)
    assert (broken.status, broken.paid_cents, broken.resolved_on) == ("broken", 5000, LAST_DAY)
    assert open_steps(books) == [("promise_broken", "promise broken: 250.00 by 2026-12-10")]
    row = queue_row(books, at(LAST_DAY + timedelta(days=1)))
    assert row is not None and row.bucket == Bucket.BROKEN
    assert reasons(row)[0] == "promise to pay broken"
    assert "check promise to pay" not in reasons(row)
    with books.transaction() as session:
        events = session.scalars(
            select(AuditEvent).where(
                AuditEvent.entity == "promise_to_pay", AuditEvent.entity_id == pid
            )
        ).all()
        assert [(e.action, e.detail, e.agent_id) for e in events][-1] == (
            "broken",
            "paid 50.00 of 250.00",
            None,
        )


def test_a_callback_the_agent_agreed_is_kept_when_the_promise_breaks(books: Database) -> None:
    pid = promise(books)
    callback = at(date(2026, 12, 15), 14)
    with books.transaction() as session:
        log_contact_attempt(
            session,
            sanne(session),
            customer_id(session),
            channel=Channel.PHONE,
            direction=Direction.INBOUND,
            outcome=Outcome.REACHED,
            note="Pays on the 10th; call back on the 15th about the rest.",
            next_step=NextStepInput(NextStepKind.CALLBACK, callback),
            now=at(date(2026, 12, 2)),
        )
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    assert the_promise(books, pid).status == "broken"
    assert [kind for kind, _ in open_steps(books)] == ["callback"]
    assert queue_row(books, at(LAST_DAY + timedelta(days=1))) is None
    row = queue_row(books, callback)
    assert reasons(row)[0] == "callback {time}"
    assert "promise to pay broken" not in reasons(row)


def test_the_nightly_run_twice_changes_nothing(books: Database) -> None:
    broken_id = promise(books)
    today = LAST_DAY + timedelta(days=1)
    with books.transaction() as session:
        first = run_nightly(session, today)
    assert (first.promises_kept, first.promises_broken) == (0, 1)

    def snapshot() -> tuple[object, ...]:
        with books.transaction() as session:
            p = session.get(PromiseToPay, broken_id)
            assert p is not None
            return (
                p.status,
                p.paid_cents,
                p.resolved_on,
                p.version,
                open_steps(books),
                session.scalar(select(func.count()).select_from(NextStep)),
                session.scalar(select(func.count()).select_from(AuditEvent)),
                session.scalar(select(Customer.version).where(Customer.customer_number == NUMBER)),
            )

    before = snapshot()
    with books.transaction() as session:
        second = run_nightly(session, today)
    assert (second.promises_kept, second.promises_broken) == (0, 0)
    assert nightly(books, today) == (0, 0)
    assert snapshot() == before


def test_a_payment_import_resolves_a_promise_at_once(books: Database, tmp_path: Path) -> None:
    pid = promise(books)
    path = tmp_path / "payments.csv"
    path.write_text(
        "payment_reference,customer_number,amount,paid_on\n"
        'BANK-1,900001,"150,00",2026-12-07\n'
        "BANK-2,900001,100.00,2026-12-08\n",
        encoding="utf-8",
    )
    with books.transaction() as session:
        result = import_payments(session, SYSTEM, path, at(date(2026, 12, 8), 11))
    assert result.created == 2
    kept = the_promise(books, pid)
    assert (kept.status, kept.paid_cents, kept.resolved_on) == ("kept", 25000, date(2026, 12, 8))
    assert "check promise to pay" not in reasons(queue_row(books, at(date(2026, 12, 11))))
    # The same file again: nothing new, nothing changes.
    with books.transaction() as session:
        again = import_payments(session, SYSTEM, path, at(date(2026, 12, 8), 12))
    assert again.created == 0 and the_promise(books, pid).version == kept.version


# ------------------------------------------------------------ what could go wrong


def test_one_payment_does_not_keep_two_promises(books: Database) -> None:
    first = promise(books, 10000, date(2026, 12, 10))
    second = promise(books, 10000, date(2026, 12, 20), now=at(date(2026, 12, 2)))
    assert pay(books, 10000, date(2026, 12, 5)) == 1
    assert the_promise(books, first).status == "kept"
    assert the_promise(books, second).status == "open"
    assert the_promise(books, second).paid_cents == 0
    assert pay(books, 10000, date(2026, 12, 15)) == 1
    assert the_promise(books, second).status == "kept"


def test_an_older_promise_breaking_leaves_the_newer_promise_check(books: Database) -> None:
    """The customer could not make the 10th and promised the 20th instead."""
    old = promise(books, 10000, date(2026, 12, 10))
    new = promise(books, 10000, date(2026, 12, 20), now=at(date(2026, 12, 8)))
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    assert the_promise(books, old).status == "broken"
    assert the_promise(books, new).status == "open"
    assert [kind for kind, _ in open_steps(books)] == ["promise_check"]
    assert pay(books, 10000, date(2026, 12, 18)) == 1
    assert the_promise(books, new).status == "kept"
    assert [kind for kind, _ in open_steps(books)] == ["review"]


def test_a_payment_of_the_last_day_arriving_after_the_night_run_keeps_it_after_all(
    books: Database,
) -> None:
    """The bank file with Saturday's payments arrives on Sunday, after the night run."""
    pid = promise(books)
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    assert [kind for kind, _ in open_steps(books)] == ["promise_broken"]
    assert pay(books, 25000, LAST_DAY, at(LAST_DAY + timedelta(days=1), 9)) == 1
    kept = the_promise(books, pid)
    assert (kept.status, kept.resolved_on) == ("kept", LAST_DAY)
    assert [kind for kind, _ in open_steps(books)] == ["review"]
    assert "promise to pay broken" not in reasons(
        queue_row(books, at(LAST_DAY + timedelta(days=1), 10))
    )
    # A late payment does not turn a broken promise into a kept one.
    late = promise(books, 5000, date(2026, 12, 20), now=at(date(2026, 12, 14)))
    assert nightly(books, date(2026, 12, 23)) == (0, 1)
    assert pay(books, 5000, date(2026, 12, 23)) == 0
    assert the_promise(books, late).status == "broken"


def test_a_closed_customer_gets_no_next_step_from_a_broken_promise(books: Database) -> None:
    pid = promise(books, 5000)
    with books.transaction() as session:
        customer = session.get(Customer, customer_id(session))
        assert customer is not None
        customer.status = "closed"
        session.execute(
            NextStep.__table__.update()
            .where(NextStep.customer_id == customer.id)
            .values(done_at=MADE)
        )
    assert nightly(books, LAST_DAY + timedelta(days=1)) == (0, 1)
    assert the_promise(books, pid).status == "broken"
    assert open_steps(books) == []


def test_the_timeline_says_when_a_promise_was_kept_or_broken(books: Database) -> None:
    kept_id = promise(books, 10000, date(2026, 12, 10))
    pay(books, 10000, date(2026, 12, 9), at(date(2026, 12, 9), 11))
    broken_id = promise(books, 5000, date(2026, 12, 20), now=at(date(2026, 12, 11)))
    nightly(books, date(2026, 12, 23))
    with books.transaction() as session:
        file = customer_file(session, SYSTEM, customer_id(session), at(date(2026, 12, 23)))
    promises = [item for item in file.timeline if item.kind == "promise"]
    assert [(i.summary, i.values["due_date"]) for i in promises] == [
        ("broken", "2026-12-20"),
        ("open", "2026-12-20"),
        ("kept", "2026-12-10"),
        ("open", "2026-12-10"),
    ]
    broken, made_second, kept, made_first = promises
    assert broken.values["resolved_on"] == "2026-12-22"
    assert broken.values["paid_cents"] == "0"
    assert broken.at.astimezone().date() == date(2026, 12, 22)
    assert kept.values["resolved_on"] == "2026-12-09"
    assert kept.values["paid_cents"] == "10000"
    assert kept.at.astimezone().date() == date(2026, 12, 9)
    assert made_first.at == MADE and made_second.at == at(date(2026, 12, 11))
    assert made_first.agent == "Sanne de Vries" and kept.agent is None
    assert {kept_id, broken_id} == {int(i.values["promise_id"]) for i in promises}


# ------------------------------------------------------------------ the pure rule


def terms(pid: int, amount: int, made: datetime, by: date, status: str = "open") -> PromiseTerms:
    return PromiseTerms(pid, made, amount, by, status)


def test_allocate_shares_each_payment_out_once_in_due_order() -> None:
    policy = load_books_policy()
    promises = [
        terms(2, 10000, MADE, date(2026, 12, 20)),
        terms(1, 10000, MADE, date(2026, 12, 10)),
    ]
    payments = [
        Received(1, date(2026, 12, 5), at(date(2026, 12, 5)), 6000),
        Received(2, date(2026, 12, 6), at(date(2026, 12, 6)), 6000),
        Received(3, date(2026, 12, 30), at(date(2026, 12, 30)), 9000),  # too late for both
    ]
    progress = allocate(promises, payments, policy)
    assert (progress[1].paid, progress[1].full_on) == (10000, date(2026, 12, 6))
    assert (progress[2].paid, progress[2].full_on) == (2000, None)


def test_allocate_leaves_a_kept_promise_its_money() -> None:
    policy = load_books_policy()
    kept = PromiseTerms(1, MADE, 10000, date(2026, 12, 20), PromiseStatus.KEPT, date(2026, 12, 5))
    broken = PromiseTerms(2, MADE, 10000, date(2026, 12, 10), PromiseStatus.BROKEN, LAST_DAY)
    payments = [Received(1, date(2026, 12, 5), at(date(2026, 12, 5)), 10000)]
    progress = allocate([broken, kept], payments, policy)
    assert progress[1].full_on == date(2026, 12, 5)
    assert progress[2].paid == 0

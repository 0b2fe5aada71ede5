"""The queue (order, exclusions, holds) and what an agent records, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain import queue as queue_rules
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import ValidationError
from agent_desk.models import Customer
from agent_desk.services.activity import (
    NextStepInput,
    log_contact_attempt,
    record_promise,
    set_pause,
    step_to_keep,
)
from agent_desk.services.actor import actor_for_login
from agent_desk.services.balance import customer_balance
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database
from agent_desk.services.derived import facts_of
from agent_desk.services.queue import QueueScope, QueueSort, agent_queue, queue_ids, queue_rows
from agent_desk.services.queue_claims import claim_next, release_holds

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=400, agents=3, seed=7, today=TODAY)
    return database


def test_queue_order_is_the_domain_order_and_leaves_out_paused_and_waiting(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        rows = agent_queue(session, sanne.agent_id or 0, NOW)
        customers = session.scalars(
            select(Customer).where(Customer.assigned_agent_id == sanne.agent_id)
        ).all()
        expected = sorted(
            (c for c in customers if queue_rules.in_queue(facts_of(c), NOW)),
            key=lambda c: (*queue_rules.sort_key(facts_of(c)), c.id),
        )
        assert [r.customer_id for r in rows] == [c.id for c in expected]
        assert len(rows) > 50
        left_out = {c.id for c in customers} - {r.customer_id for r in rows}
        assert left_out, "the demo has paused and waiting customers"
        for customer in customers:
            if customer.id in left_out:
                paused = customer.paused_until is not None and customer.paused_until >= TODAY
                waiting = customer.next_step_due_at is not None and customer.next_step_due_at > NOW
                assert paused or waiting
        # The first group really is the callbacks; reasons say why in words.
        assert rows[0].bucket == queue_rules.Bucket.DUE_CALLBACK
        assert rows[0].reasons[0].message == "callback {time}"


def test_a_customer_is_never_in_two_agents_queues(demo: Database) -> None:
    with demo.transaction() as session:
        seen: set[int] = set()
        for login in ("sanne", "daan", "eva"):
            agent = actor_for_login(session, login)
            ids = {r.customer_id for r in agent_queue(session, agent.agent_id or 0, NOW)}
            assert not ids & seen
            seen |= ids


def test_search_and_sort_happen_in_the_query(demo: Database) -> None:
    with demo.transaction() as session:
        everyone = queue_ids(session, QueueScope(None, include_waiting=True), NOW)
        target = session.get(Customer, everyone[10])
        assert target is not None
        by_number = queue_ids(
            session, QueueScope(None, search=target.customer_number, include_waiting=True), NOW
        )
        assert target.id in by_number and len(by_number) < 5
        mobile = next(p.value for p in target.contact_points if p.kind == "mobile")
        typed = "0" + mobile[3:5] + "-" + mobile[5:]  # as an agent types it: 06-12345678
        assert target.id in queue_ids(
            session, QueueScope(None, search=typed, include_waiting=True), NOW
        )
        postcode = next(p.postcode for p in target.contact_points if p.kind == "address")
        assert postcode is not None
        assert target.id in queue_ids(
            session,
            QueueScope(None, search=postcode.replace(" ", "").lower(), include_waiting=True),
            NOW,
        )
        by_arrears = queue_rows(
            session,
            queue_ids(session, QueueScope(None, sort=QueueSort.ARREARS, descending=True), NOW),
            NOW,
        )
        amounts = [r.arrears_cents for r in by_arrears]
        assert amounts == sorted(amounts, reverse=True)
        by_name = queue_rows(
            session, queue_ids(session, QueueScope(None, sort=QueueSort.NAME), NOW), NOW
        )
        names = [session.get(Customer, r.customer_id).last_name for r in by_name]  # type: ignore[union-attr]
        assert names == sorted(names)


def test_next_customer_is_held_for_one_agent_until_released(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        first = claim_next(session, sanne, NOW)
        assert first is not None
        assert first.customer_id == agent_queue(session, sanne.agent_id or 0, NOW)[0].customer_id
    with demo.transaction() as session:
        customer = session.get(Customer, first.customer_id)
        assert customer is not None and customer.held_by_agent_id == sanne.agent_id
        # A supervisor moving the customer to Daan: Daan's desk still skips it while held.
        daan = actor_for_login(session, "daan")
        customer.assigned_agent_id = daan.agent_id
    with demo.transaction() as session:
        assert first.customer_id not in {
            r.customer_id for r in agent_queue(session, daan.agent_id or 0, NOW)
        }
        claimed = claim_next(session, daan, NOW)
        assert claimed is not None and claimed.customer_id != first.customer_id
        # The hold expires by itself when the desk dies: a lease after it was taken, by
        # the clock that took it (PostgreSQL's own; on SQLite, the desk's).
        taken_at = NOW if demo.is_sqlite else datetime.now(UTC)
        later = taken_at + timedelta(hours=1)
        assert first.customer_id in {
            r.customer_id for r in agent_queue(session, daan.agent_id or 0, later)
        }
    with demo.transaction() as session:
        assert release_holds(session, sanne) == 1
        assert session.get(Customer, first.customer_id).held_by_agent_id is None  # type: ignore[union-attr]


def test_logging_an_attempt_needs_a_next_step_and_moves_the_customer(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        # A customer with no reminder, promise check or callback a contact would keep.
        row = next(
            r
            for r in agent_queue(session, sanne.agent_id or 0, NOW)
            if step_to_keep(session, r.customer_id, NOW) is None
        )
        with pytest.raises(ValidationError) as refused:
            log_contact_attempt(
                session,
                sanne,
                row.customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.NO_ANSWER,
                note="",
                next_step=None,
                now=NOW,
            )
        assert refused.value.field == "next_step"
        retry = NOW + timedelta(days=1)
        log_contact_attempt(
            session,
            sanne,
            row.customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.NO_ANSWER,
            note="Rang twice",
            next_step=NextStepInput(NextStepKind.RETRY, retry),
            now=NOW,
            expected_version=row.version,
        )
    with demo.transaction() as session:
        assert row.customer_id not in {
            r.customer_id for r in agent_queue(session, sanne.agent_id or 0, NOW)
        }
        file = customer_file(session, sanne, row.customer_id, NOW)
        assert file.timeline[0].kind == "contact" and file.timeline[0].detail == "Rang twice"
        assert file.next_step_kind == "retry" and file.next_step_due_at == retry


def test_promise_and_pause_show_in_the_file_and_change_the_queue(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        queue = agent_queue(session, sanne.agent_id or 0, NOW)
        promised, paused = queue[3], queue[4]
        record_promise(
            session,
            sanne,
            promised.customer_id,
            amount_cents=min(5000, promised.arrears_cents),
            due_date=TODAY + timedelta(days=5),
            now=NOW,
        )
        with pytest.raises(ValidationError) as no_reason:
            set_pause(
                session,
                sanne,
                paused.customer_id,
                until=TODAY + timedelta(days=30),
                reason=" ",
                now=NOW,
            )
        assert no_reason.value.field == "reason"
        set_pause(
            session,
            sanne,
            paused.customer_id,
            until=TODAY + timedelta(days=30),
            reason="Debt help intake",
            now=NOW,
        )
    with demo.transaction() as session:
        ids = {r.customer_id for r in agent_queue(session, sanne.agent_id or 0, NOW)}
        assert promised.customer_id not in ids and paused.customer_id not in ids
        # The day after the promise date the promise check comes first in the queue.
        check_day = NOW + timedelta(days=6)
        top = agent_queue(session, sanne.agent_id or 0, check_day)
        assert promised.customer_id in {
            r.customer_id for r in top if r.bucket == queue_rules.Bucket.DUE_CALLBACK
        }
        file = customer_file(session, sanne, paused.customer_id, NOW)
        assert (
            file.paused_until == TODAY + timedelta(days=30)
            and file.pause_reason == "Debt help intake"
        )
        assert any(item.kind == "pause" for item in file.timeline)
        promised_file = customer_file(session, sanne, promised.customer_id, NOW)
        assert promised_file.timeline[0].kind == "promise"


def test_promise_rules(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        row = agent_queue(session, sanne.agent_id or 0, NOW)[0]
        owed_today = customer_balance(session, row.customer_id, TODAY).outstanding
        cases = [
            (0, TODAY + timedelta(days=3), "amount"),
            (owed_today + 1, TODAY + timedelta(days=3), "amount"),
            (1000, TODAY - timedelta(days=1), "due_date"),
            (1000, TODAY + timedelta(days=120), "due_date"),
        ]
        for amount, due, field in cases:
            with pytest.raises(ValidationError) as error:
                record_promise(
                    session, sanne, row.customer_id, amount_cents=amount, due_date=due, now=NOW
                )
            assert error.value.field == field


def test_demo_data_is_deterministic_and_tells_every_story(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, customers=300, agents=2, seed=11, today=TODAY)
        customers = session.scalars(select(Customer).order_by(Customer.id)).all()
        snapshot = [(c.customer_number, c.name, c.arrears_cents, c.queue_bucket) for c in customers]
        assert any(c.first_time_arrears for c in customers)
        assert any(c.broken_arrangement for c in customers)
        assert any(c.paused_until for c in customers)
        assert any(c.vulnerable for c in customers)
        assert any(c.trigger == "discount_ending" for c in customers)
        assert any(
            c.trigger == "awaiting_support" and c.segment == "self_employed" for c in customers
        )
        assert any(any(ch in c.name for ch in "ÇçØøễıŁł") for c in customers)
        assert all(c.next_step_kind for c in customers), "every open customer has a next step"
    with (
        pytest.raises(Exception, match="already holds customers"),
        database.transaction() as session,
    ):
        load_demo(session, customers=10, seed=11, today=TODAY)
    other = (
        Database(f"sqlite:///{database.engine.url.database}-copy") if database.is_sqlite else None
    )
    if other is not None:
        other.upgrade()
        with other.transaction() as session:
            load_demo(session, customers=300, agents=2, seed=11, today=TODAY)
            again = session.scalars(select(Customer).order_by(Customer.id)).all()
            assert [
                (c.customer_number, c.name, c.arrears_cents, c.queue_bucket) for c in again
            ] == snapshot
        other.dispose()


def test_the_queue_shows_stale_contact_data(demo: Database) -> None:
    from agent_desk.models import ContactPoint

    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        rows = agent_queue(session, sanne.agent_id or 0, NOW)
        stale = [r for r in rows if r.contact_stale]
        fresh = [r for r in rows if not r.contact_stale]
        assert stale and fresh
        assert "contact details out of date" in [x.message for x in stale[0].reasons]
        for point in session.scalars(
            select(ContactPoint).where(ContactPoint.customer_id == stale[0].customer_id)
        ):
            point.verified_at = NOW - timedelta(days=90)
    with demo.transaction() as session:
        row = queue_rows(session, [stale[0].customer_id], NOW)[0]
        assert not row.contact_stale, "verified exactly 90 days ago is still fresh"
        for point in session.scalars(
            select(ContactPoint).where(ContactPoint.customer_id == stale[0].customer_id)
        ):
            point.verified_at = NOW - timedelta(days=91)
    with demo.transaction() as session:
        assert queue_rows(session, [stale[0].customer_id], NOW)[0].contact_stale

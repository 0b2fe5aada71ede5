"""What a colleague changed since an agent opened a file, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.models import Customer
from agent_desk.services.activity import (
    NextStepInput,
    add_note,
    log_contact_attempt,
    set_pause,
)
from agent_desk.services.actor import actor_for_login
from agent_desk.services.audit import audit
from agent_desk.services.conflicts import colleague_changes
from agent_desk.services.customer_file import customer_file
from agent_desk.services.database import Database

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3, today=TODAY)
    return database


def _customer_of(database: Database, login: str) -> int:
    with database.transaction() as session:
        agent = actor_for_login(session, login)
        found = session.scalar(
            select(Customer.id)
            .where(Customer.assigned_agent_id == agent.agent_id)
            .order_by(Customer.id)
            .limit(1)
        )
        assert found is not None
        return int(found)


def _attempt(database: Database, login: str, customer_id: int, at: datetime, note: str) -> None:
    with database.transaction() as session:
        log_contact_attempt(
            session,
            actor_for_login(session, login),
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.NO_ANSWER,
            note=note,
            next_step=NextStepInput(NextStepKind.RETRY, at + timedelta(days=1)),
            now=at,
        )


def test_only_colleagues_changes_after_since_in_order(demo: Database) -> None:
    customer_id = _customer_of(demo, "sanne")
    since = NOW
    _attempt(demo, "daan", customer_id, since - timedelta(minutes=5), "before: not shown")
    _attempt(demo, "sanne", customer_id, since + timedelta(minutes=1), "mine: not shown")
    _attempt(demo, "daan", customer_id, since + timedelta(minutes=2), "Voicemail ingesproken.")
    with demo.transaction() as session:
        daan = actor_for_login(session, "daan")
        add_note(session, daan, customer_id, "Klant belt zelf terug.", since + timedelta(minutes=3))
        set_pause(
            session,
            daan,
            customer_id,
            until=TODAY + timedelta(days=20),
            reason="in debt counselling",
            now=since + timedelta(minutes=4),
        )
        # Reading a file is no change.
        customer_file(session, daan, customer_id, since + timedelta(minutes=5))
        audit(
            session,
            daan,
            "view",
            "customer",
            customer_id,
            customer_id=customer_id,
            at=since + timedelta(minutes=6),
        )
        sanne = actor_for_login(session, "sanne")
        lines = colleague_changes(session, customer_id, since, sanne.agent_id)

    assert [line.kind for line in lines] == ["contact", "event", "next_step", "pause"]
    contact, note, step, pause = lines
    assert contact.who == "Daan Bakker"
    assert contact.at == since + timedelta(minutes=2)
    assert contact.code == Outcome.NO_ANSWER.value and contact.channel == Channel.PHONE.value
    assert contact.detail == "Voicemail ingesproken."
    assert "no answer" in contact.text and "Voicemail ingesproken." in contact.text
    # The latest next step by a colleague: the review the pause set.
    assert step.code == NextStepKind.REVIEW.value and step.who == "Daan Bakker"
    assert (note.action, note.entity) == ("create", "note")
    assert pause.until == TODAY + timedelta(days=20)
    assert pause.detail == "in debt counselling"
    assert "paused until" in pause.text
    assert all("not shown" not in line.text for line in lines)


def test_nothing_by_colleagues_is_an_empty_list(demo: Database) -> None:
    customer_id = _customer_of(demo, "sanne")
    _attempt(demo, "sanne", customer_id, NOW + timedelta(minutes=1), "mine")
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        assert colleague_changes(session, customer_id, NOW, sanne.agent_id) == []
        # Without anyone to leave out, the agent's own attempt counts too.
        everyone = colleague_changes(session, customer_id, NOW, None)
    assert [line.kind for line in everyone] == ["contact", "next_step"]
    assert everyone[0].who == "Sanne de Vries"

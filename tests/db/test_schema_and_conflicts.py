"""Schema, engine settings, version conflicts and the change log, on both engines."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select, text

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.errors import ConflictError
from agent_desk.models import Agent, ChangeLog, Customer
from agent_desk.models.base import utcnow
from agent_desk.services.activity import NextStepInput, log_contact_attempt
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database


def test_migrations_reach_head_and_sqlite_uses_wal_and_foreign_keys(database: Database) -> None:
    assert database.is_current()
    assert not database.is_empty()
    if database.is_sqlite:
        with database.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_two_sessions_editing_the_same_customer_conflict_without_lost_update(
    database: Database,
) -> None:
    with database.transaction() as session:
        load_demo(session, customers=3, agents=1, seed=3)
    first = database.sessions()
    second = database.sessions()
    try:
        a = first.scalars(select(Customer).order_by(Customer.id)).first()
        b = second.get(Customer, a.id)  # type: ignore[union-attr]
        assert a is not None and b is not None
        a.pause_reason = "first agent's reason"
        b.pause_reason = "second agent's reason"
        first.commit()
        with pytest.raises(Exception) as raised:
            second.commit()
        assert "StaleData" in type(raised.value).__name__
        second.rollback()
    finally:
        first.close()
        second.close()
    with database.transaction() as session:
        saved = session.get(Customer, a.id)
        assert saved is not None
        assert saved.pause_reason == "first agent's reason"
        assert saved.version == 2


def test_stale_version_from_the_desk_is_a_conflict_and_writes_nothing(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, customers=2, agents=1, seed=5)
        customer = session.scalars(select(Customer)).first()
        assert customer is not None
        customer_id, seen_version = customer.id, customer.version
    with database.transaction() as session:  # a colleague changes the customer
        colleague = session.get(Customer, customer_id)
        assert colleague is not None
        colleague.pause_reason = "colleague"
    now = utcnow()
    with pytest.raises(ConflictError, match="colleague changed"), database.transaction() as session:
        actor = actor_for_login(session, "sanne")
        log_contact_attempt(
            session,
            actor,
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.NO_ANSWER,
            note="typed text",
            next_step=NextStepInput(NextStepKind.RETRY, now.replace(year=now.year + 1)),
            now=now,
            expected_version=seen_version,
        )
    with database.transaction() as session:
        count = session.scalar(
            text("SELECT COUNT(*) FROM contact_attempt WHERE note = 'typed text'")
        )
        assert count == 0


def test_change_log_is_written_in_the_same_transaction_and_only_grows(database: Database) -> None:
    with database.transaction() as session:
        session.add(Agent(login="kim", display_name="Kim", role="agent"))
    with database.transaction() as session:
        agent_rows = session.scalars(select(ChangeLog).where(ChangeLog.table_name == "agent")).all()
        assert [(r.kind, r.row_id) for r in agent_rows] == [("insert", 1)]
        before = session.scalar(select(func.max(ChangeLog.id)))
    with pytest.raises(RuntimeError), database.transaction() as session:
        agent = session.scalars(select(Agent)).one()
        agent.display_name = "Kim B."
        session.flush()
        raise RuntimeError("crash after the flush, before the commit")
    with database.transaction() as session:
        assert session.scalar(select(func.max(ChangeLog.id))) == before
        agent = session.scalars(select(Agent)).one()
        agent.display_name = "Kim Bakker"
    with database.transaction() as session:
        last = session.scalars(select(ChangeLog).order_by(ChangeLog.id.desc())).first()
        assert last is not None and last.id > (before or 0)
        assert (last.table_name, last.kind) == ("agent", "update")


def test_timestamps_come_back_aware_in_utc(database: Database) -> None:
    with database.transaction() as session:
        session.add(Agent(login="tz", display_name="Tz", role="agent"))
    with database.transaction() as session:
        agent = session.scalars(select(Agent)).one()
        assert agent.created_at.tzinfo is not None
        assert agent.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
        assert agent.created_at.date() <= date.today()

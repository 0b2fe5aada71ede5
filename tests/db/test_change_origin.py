"""Change-log rows and summaries carry the desk session that made them (issue 18).

On SQLite and PostgreSQL: a session's origin lands in its rows; a cursor reading for a
desk leaves that desk's own rows out (counted as ``own``) and keeps a colleague's;
the listener does not wake a desk for its own changes but does for others'. On the
team database no one can borrow a colleague's origin, and row security still decides
which rows (origin included) an agent reads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from agent_desk.demo import load_demo
from agent_desk.models import Agent, ChangeLog, Customer
from agent_desk.services import activity
from agent_desk.services.actor import actor_for_login
from agent_desk.services.changelog import ORIGIN_KEY, log_changes, new_origin, working_as
from agent_desk.services.database import Database
from agent_desk.services.sync import ChangeCursor, latest_change_id, listener_for
from tests.db.test_team_security import Team, team  # noqa: F401  (the module's team)

NOW = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Iterator[Database]:
    with database.transaction() as session:
        load_demo(session, customers=12, agents=2, seed=3)
    yield database


def _customer(database: Database) -> int:
    with database.transaction() as session:
        found = session.scalar(select(Customer.id).order_by(Customer.id).limit(1))
    assert found is not None
    return int(found)


def _note(database: Database, origin: str | None, customer_id: int, text_: str) -> None:
    with database.transaction() as session:
        if origin is not None:
            session.info[ORIGIN_KEY] = origin
        activity.add_note(session, actor_for_login(session, "sanne"), customer_id, text_, NOW)


def test_rows_carry_their_origin_and_the_cursor_leaves_our_own_out(demo: Database) -> None:
    customer_id = _customer(demo)
    with demo.transaction() as session:
        start = latest_change_id(session)
    mine, theirs = new_origin(1), new_origin(2)
    assert mine != theirs and mine.startswith("1:")
    _note(demo, mine, customer_id, "mine")
    _note(demo, theirs, customer_id, "theirs")
    _note(demo, None, customer_id, "a tool's")
    with demo.transaction() as session:
        origins = session.scalars(
            select(ChangeLog.origin).where(ChangeLog.id > start).order_by(ChangeLog.id)
        ).all()
        assert origins == [mine, theirs, None]
        summary = ChangeCursor(start, own_origin=mine).read(session)
    assert summary.count == 2 and summary.own == 1
    assert summary.origins == frozenset({theirs, None})
    assert summary.touches("note") and summary.touches_customer(customer_id)
    assert not summary.came_from(theirs)
    with demo.transaction() as session:
        everything = ChangeCursor(start).read(session)
    assert everything.count == 3 and everything.own == 0


def test_only_our_own_changes_do_not_wake_the_listener(demo: Database) -> None:
    customer_id = _customer(demo)
    mine = new_origin(1)
    woken: list[int] = []
    ready, wake = threading.Event(), threading.Event()

    def on_wake(max_id: int) -> None:
        woken.append(max_id)
        wake.set()

    listener = listener_for(demo, on_wake=on_wake, on_reconnect=ready.set, own_origin=mine)
    with listener:
        assert ready.wait(10)
        _note(demo, mine, customer_id, "our own echo")
        assert not wake.wait(1.5), "woken by our own change"
        assert listener.echoes >= 1
        _note(demo, new_origin(2), customer_id, "a colleague's")
        assert wake.wait(10), "a colleague's change did not wake the desk"
    assert len(woken) == 1


def test_a_colleagues_change_that_rode_on_our_notification_still_wakes_us(
    demo: Database,
) -> None:
    """A claim's wake-up hint is sent by one desk at a time, so a colleague's claim may
    have no notification of its own and ride on ours: our "echo" then carries their
    change too, and must wake the desk (it used to be left out as our own)."""
    if demo.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY: PostgreSQL (SQLite's poller reads every row since)")
    customer_id = _customer(demo)
    mine, theirs = new_origin(1), new_origin(2)
    woken: list[int] = []
    ready, wake = threading.Event(), threading.Event()

    def on_wake(max_id: int) -> None:
        woken.append(max_id)
        wake.set()

    listener = listener_for(demo, on_wake=on_wake, on_reconnect=ready.set, own_origin=mine)
    with listener:
        assert ready.wait(10)
        _note(demo, mine, customer_id, "our own echo")
        assert not wake.wait(1.5), "woken by our own change"
        with demo.engine.begin() as connection:  # a colleague's claim, its hint skipped
            connection.execute(
                text("SELECT set_config('agent_desk.origin', :o, true)"), {"o": theirs}
            )
            connection.execute(
                text(
                    "SELECT agent_desk_log_changes_quietly(ARRAY['customer'], "
                    "ARRAY[CAST(:c AS bigint)], ARRAY['update'], ARRAY[CAST(:c AS bigint)])"
                ),
                {"c": customer_id},
            )
        _note(demo, mine, customer_id, "ours, notified")
        assert wake.wait(10), "the colleague's change on our notification was left out"
        wake.clear()
        _note(demo, mine, customer_id, "ours alone again")
        assert not wake.wait(1.5), "woken by our own change"
    assert len(woken) == 1


def test_bulk_changes_carry_the_origin_too(demo: Database) -> None:
    customer_id = _customer(demo)
    origin = new_origin(7)
    with demo.transaction() as session:
        session.info[ORIGIN_KEY] = origin
        log_changes(session, "customer", [customer_id], "update", [customer_id])
    with demo.transaction() as session:
        last = session.scalars(select(ChangeLog).order_by(ChangeLog.id.desc()).limit(1)).one()
    assert (last.table_name, last.origin) == ("customer", origin)


def test_work_that_opens_its_own_units_writes_as_the_desk(demo: Database) -> None:
    """Sending a message opens units of work of its own (``sending.dispatch``); run by
    the desk's worker inside ``working_as``, their rows carry the desk's origin, so the
    desk does not take its own send for a colleague's change. Outside, nothing leaks."""
    customer_id = _customer(demo)
    mine, theirs = new_origin(1), new_origin(2)
    with demo.transaction() as session:
        start = latest_change_id(session)
    with working_as(mine):
        _note(demo, None, customer_id, "sent by the desk's worker")
        _note(demo, theirs, customer_id, "a session that names its own")
        with working_as(None):
            _note(demo, None, customer_id, "inside, a tool's")
        _note(demo, None, customer_id, "the desk's again")
    _note(demo, None, customer_id, "after: a tool's")
    with demo.transaction() as session:
        origins = session.scalars(
            select(ChangeLog.origin).where(ChangeLog.id > start).order_by(ChangeLog.id)
        ).all()
    assert origins == [mine, theirs, None, mine, None]


# -- the team database: origins are one's own ------------------------------------------------


def test_an_agent_cannot_borrow_a_colleagues_origin(team: Team) -> None:  # noqa: F811
    owner = Database(team.owner_url)
    try:
        with owner.transaction() as session:
            me = session.scalar(select(Agent.id).where(Agent.login == team.agent))
            customer_id = session.scalar(
                select(Customer.id).where(Customer.assigned_agent_id == me).limit(1)
            )
            start = latest_change_id(session)
        assert me is not None and customer_id is not None
        with team.database_for(team.agent) as desk:
            own, borrowed = new_origin(me), new_origin(me + 1000)
            for origin, words in ((own, "with my origin"), (borrowed, "with someone else's")):
                with desk.transaction() as session:
                    session.info[ORIGIN_KEY] = origin
                    actor = actor_for_login(session, team.agent)
                    activity.add_note(session, actor, customer_id, words, datetime.now(UTC))
            with desk.transaction() as session:  # row security still reads for the agent
                seen = session.scalars(
                    select(ChangeLog.origin)
                    .where(ChangeLog.id > start, ChangeLog.table_name == "note")
                    .order_by(ChangeLog.id)
                ).all()
                hidden = session.scalar(
                    select(Customer.id).where(Customer.assigned_agent_id != me).limit(1)
                )
        assert seen == [own, None]  # a borrowed origin is not kept
        assert hidden is None  # only one's own customers, as before
        with owner.transaction() as session:  # a tool (the owner) writes without an origin
            log_changes(session, "customer", [customer_id], "update", [customer_id])
            last = session.scalars(select(ChangeLog).order_by(ChangeLog.id.desc()).limit(1)).one()
            assert last.origin is None
    finally:
        owner.dispose()

"""Live sync: reading the change log incrementally, LISTEN/NOTIFY, catch-up, polling."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import psycopg
import pytest
from sqlalchemy import insert

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.models import ChangeLog, Customer
from agent_desk.models.base import utcnow
from agent_desk.services.activity import NextStepInput, add_note, log_contact_attempt
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.sync import (
    ChangeCursor,
    ChangeListener,
    ConnectionState,
    PollingListener,
    changes_since,
    latest_change_id,
    listener_conninfo,
    summarize,
)

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=3, today=TODAY)
    return database


def _first_customer(database: Database) -> int:
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        customer = session.query(Customer).filter_by(assigned_agent_id=sanne.agent_id).first()
        assert customer is not None
        return customer.id


def _log_call(database: Database, customer_id: int) -> None:
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        log_contact_attempt(
            session,
            sanne,
            customer_id,
            channel=Channel.PHONE,
            direction=Direction.OUTBOUND,
            outcome=Outcome.NO_ANSWER,
            note="",
            next_step=NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=1)),
            now=NOW,
        )


def _note(database: Database, customer_id: int, text: str = "changed elsewhere") -> None:
    with database.transaction() as session:
        add_note(session, actor_for_login(session, "sanne"), customer_id, text, utcnow())


def test_changes_since_reads_incrementally_and_summarises(demo: Database) -> None:
    customer_id = _first_customer(demo)
    with demo.transaction() as session:
        start = latest_change_id(session)
        assert changes_since(session, start) == []
    _log_call(demo, customer_id)
    with demo.transaction() as session:
        changes = changes_since(session, start)
        assert changes and all(c.id > start for c in changes)
        assert [c.id for c in changes] == sorted(c.id for c in changes)
        summary = summarize(changes, start)
        assert summary.customer_ids == {customer_id}
        assert {"contact_attempt", "next_step", "customer"} <= summary.tables
        assert summary.rows["customer"] == {customer_id}
        assert summary.touches("customer") and summary.touches_customer(customer_id)
        assert summary.last_id == changes[-1].id == latest_change_id(session)
        assert changes_since(session, summary.last_id) == []
        # A limit pages through the same changes.
        first = changes_since(session, start, limit=1)
        assert len(first) == 1 and first[0] == changes[0]
        assert changes_since(session, first[0].id) == changes[1:]
        cursor = ChangeCursor(start)
        page = cursor.read(session, limit=2)
        assert page.count == 2 and not page.complete
        rest = cursor.read(session)
        assert rest.complete and page.count + rest.count == len(changes)
        assert cursor.last_id == summary.last_id and cursor.pending_gaps == []


def test_cursor_sees_a_change_that_commits_after_a_later_one(pg_server_url: str) -> None:
    """PostgreSQL assigns ids at insert and shows them at commit: holes fill later."""
    database = Database(pg_server_url)
    try:
        with database.transaction() as session:
            cursor = ChangeCursor(latest_change_id(session))
        row = {"at": utcnow(), "table_name": "customer", "row_id": 1, "kind": "update"}
        slow = database.sessions()
        try:
            slow.execute(insert(ChangeLog), [row])  # takes an id, not committed yet
            with database.transaction() as session:
                session.execute(insert(ChangeLog), [{**row, "row_id": 2}])
            with database.transaction() as session:
                first = cursor.read(session)
            assert first.count == 1 and first.rows["customer"] == {2}
            assert len(cursor.pending_gaps) == 1
            slow.commit()
        finally:
            slow.close()
        with database.transaction() as session:
            late = cursor.read(session)
            assert late.count == 1 and late.rows["customer"] == {1}
            assert cursor.pending_gaps == []
            assert cursor.read(session).empty
    finally:
        database.dispose()


def test_cursor_forgets_holes_after_the_timeout() -> None:
    clock = [0.0]
    cursor = ChangeCursor(0, gap_timeout=10, clock=lambda: clock[0])
    cursor._gaps = [(3, 5, 0.0), (8, 8, 4.0)]
    cursor._fill({4})
    assert cursor.pending_gaps == [(3, 3), (5, 5), (8, 8)]
    clock[0] = 12.0
    cursor._gaps = [g for g in cursor._gaps if clock[0] - g[2] < cursor.gap_timeout]
    assert cursor.pending_gaps == [(8, 8)]


class Recorder:
    """Collects listener callbacks; tests wait on events, never on sleeps."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.woken: list[int] = []
        self.reconnects = 0
        self.states: list[ConnectionState] = []
        self.wake = threading.Event()
        self.reconnected = threading.Event()
        self.offline = threading.Event()
        self.wake_target = 0

    def on_wake(self, max_id: int) -> None:
        with self.lock:
            self.woken.append(max_id)
            if max_id >= self.wake_target:
                self.wake.set()

    def on_reconnect(self) -> None:
        with self.lock:
            self.reconnects += 1
        self.reconnected.set()

    def on_state(self, state: ConnectionState, _reason: str) -> None:
        with self.lock:
            self.states.append(state)
        if state is ConnectionState.OFFLINE:
            self.offline.set()


@pytest.fixture
def pg_demo(pg_server_url: str, database: Database) -> Iterator[Database]:
    if database.is_sqlite:
        pytest.skip("LISTEN/NOTIFY is PostgreSQL only")
    with database.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=3, today=TODAY)
    yield database


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_change_committed_elsewhere_wakes_the_listener_within_a_second(
    pg_demo: Database,
) -> None:
    customer_id = _first_customer(pg_demo)
    recorder = Recorder()
    listener = ChangeListener.for_database(
        pg_demo,
        on_wake=recorder.on_wake,
        on_reconnect=recorder.on_reconnect,
        on_state=recorder.on_state,
    )
    with listener:
        assert recorder.reconnected.wait(5), "the listener never connected"
        assert recorder.states == [ConnectionState.ONLINE]
        for _ in range(3):
            recorder.wake.clear()
            _note(pg_demo, customer_id)
            with pg_demo.transaction() as session:
                recorder.wake_target = latest_change_id(session)
            assert recorder.wake.wait(1.0), "no notification within 1 s"
    assert not listener.running
    assert max(recorder.woken) == recorder.wake_target


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_after_a_dropped_connection_the_desk_catches_up_from_its_last_id(
    pg_demo: Database,
) -> None:
    customer_id = _first_customer(pg_demo)
    recorder = Recorder()
    listener = ChangeListener.for_database(
        pg_demo,
        on_wake=recorder.on_wake,
        on_reconnect=recorder.on_reconnect,
        on_state=recorder.on_state,
        retry_initial=1.0,  # a window in which changes are surely missed
    )
    with listener:
        assert recorder.reconnected.wait(5)
        with pg_demo.transaction() as session:
            last_seen = latest_change_id(session)
        recorder.reconnected.clear()
        pid = listener.backend_pid
        assert pid is not None
        with psycopg.connect(autocommit=True, **listener_conninfo(pg_demo)) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert recorder.offline.wait(5), "the dropped connection went unnoticed"
        _note(pg_demo, customer_id, "while the desk was offline")
        _log_call(pg_demo, customer_id)
        assert recorder.reconnected.wait(10), "no reconnect"
        assert listener.backend_pid not in (None, pid)
        with pg_demo.transaction() as session:
            missed = changes_since(session, last_seen)
        tables = {c.table for c in missed}
        assert {"note", "contact_attempt", "customer"} <= tables
        assert all(c.customer_id == customer_id for c in missed)
        # The missed changes came by catch-up, not by notification.
        assert all(w <= last_seen for w in recorder.woken)
        assert recorder.states == [
            ConnectionState.ONLINE,
            ConnectionState.OFFLINE,
            ConnectionState.ONLINE,
        ]
        assert listener.connects == 2


def test_an_unreachable_server_is_reported_offline_quickly() -> None:
    recorder = Recorder()
    listener = ChangeListener(
        {"host": "127.0.0.1", "port": 1, "dbname": "none", "user": "x", "connect_timeout": 2},
        on_state=recorder.on_state,
        retry_initial=0.05,
        retry_max=0.1,
    )
    with listener:
        assert recorder.offline.wait(3)
    assert recorder.reconnects == 0
    assert recorder.states == [ConnectionState.OFFLINE]


def test_the_polling_listener_wakes_on_a_new_change(demo: Database) -> None:
    customer_id = _first_customer(demo)
    recorder = Recorder()
    listener = PollingListener(
        demo,
        on_wake=recorder.on_wake,
        on_reconnect=recorder.on_reconnect,
        on_state=recorder.on_state,
        interval=0.05,
    )
    with listener:
        assert recorder.reconnected.wait(5)
        _note(demo, customer_id)
        with demo.transaction() as session:
            recorder.wake_target = latest_change_id(session)
        assert recorder.wake.wait(1.0)
    assert recorder.states == [ConnectionState.ONLINE]
    assert recorder.woken[-1] == recorder.wake_target

"""What a keyset page shows is what the row-by-row computation shows, on both engines.

``queue_pages.queue_page`` reads a page with one kept statement (bound values), builds
its rows from tuples with reasons worked out once per kind of row, and asks about early
signals only for the page's rows with an offering 14-day letter. ``queue.queue_rows``
is the old way, one query per kind of fact for a list of ids; every row, reason, due
flag and stale flag must be the same, in every order and scope, cold and warm.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from test_signals import NOW as SIGNAL_NOW
from test_signals import Steps, _customer, _housing

from agent_desk.demo import load_demo
from agent_desk.domain.queue_view import QueueRow
from agent_desk.models import Customer
from agent_desk.services import queue_pages
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.creditor import current_profile, set_values
from agent_desk.services.database import Database
from agent_desk.services.queue import QueueScope, QueueSort, queue_ids, queue_rows
from agent_desk.services.queue_pages import _page_statement, queue_page, sort_keys

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)
SIGNAL = "signal to the municipality due"


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=240, agents=3, seed=5, today=TODAY)
        # Some ties and NULL keys, as the paging tests have them.
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        for number, customer_id in enumerate(ids):
            if number % 4 == 0:
                session.execute(
                    update(Customer)
                    .where(Customer.id == customer_id)
                    .values(oldest_due_date=date(2026, 9, 1), arrears_cents=12_345)
                )
    return database


def _walk(
    session: object, scope: QueueScope, actor_id: int | None, now: datetime
) -> list[QueueRow]:
    rows: list[QueueRow] = []
    cursor: str | None = None
    while True:
        page = queue_page(session, scope, now, actor_id, after=cursor, limit=23)  # type: ignore[arg-type]
        rows += page.rows
        if page.next_cursor is None:
            return rows
        cursor = page.next_cursor


def _row_by_row(
    session: object, scope: QueueScope, actor_id: int | None, now: datetime
) -> list[QueueRow]:
    ids = queue_ids(session, scope, now, actor_id)  # type: ignore[arg-type]
    return queue_rows(session, ids, now)  # type: ignore[arg-type]


@pytest.mark.parametrize("sort", list(QueueSort))
def test_page_rows_are_the_row_by_row_rows_in_every_order_and_scope(
    demo: Database, sort: QueueSort
) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne").agent_id
        for agent_id, waiting, descending in (
            (None, True, False),
            (sanne, False, True),
            (sanne, True, False),
        ):
            scope = QueueScope(agent_id, sort=sort, descending=descending, include_waiting=waiting)
            expected = _row_by_row(session, scope, agent_id, NOW)
            assert len(expected) > 20
            queue_pages.forget_reasons()  # cold: every reason worked out
            assert _walk(session, scope, agent_id, NOW) == expected
            assert _walk(session, scope, agent_id, NOW) == expected  # warm: kept reasons
    kinds = {r.next_step_kind for r in expected}
    assert {"callback", "review"} <= kinds  # the callback's time is in its reason


def test_the_kept_statement_runs_with_each_pages_own_values(demo: Database) -> None:
    """One statement per shape, many values: another agent, another moment, a later day
    (days past due, who is waiting) each give their own rows."""
    with demo.transaction() as session:
        agents = [actor_for_login(session, login).agent_id for login in ("sanne", "daan")]
        for agent_id in agents:
            for now in (NOW, NOW + timedelta(days=3, hours=5)):
                scope = QueueScope(agent_id)
                assert _walk(session, scope, agent_id, now) == _row_by_row(
                    session, scope, agent_id, now
                )


def test_the_benchmarks_anchor_reads_what_the_first_page_reads(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne").agent_id
        scope = QueueScope(sanne)
        statement = _page_statement(scope, NOW, sanne, sort_keys(scope)).limit(50)
        ids = [row.id for row in session.execute(statement)]
        page = queue_page(session, scope, NOW, sanne, limit=50)
        assert ids == [r.customer_id for r in page.rows]


def test_a_due_signal_shows_on_its_page_and_goes_with_the_duty(
    database: Database, tmp_path: Path
) -> None:
    _housing(database)
    due = _customer(database, tmp_path, "800101", Steps())
    waiting = _customer(database, tmp_path, "800102", Steps(letter_days_ago=3))  # offered
    no_offer = _customer(database, tmp_path, "800103", Steps(offer=False))
    scope = QueueScope(None, include_waiting=True)

    def reasons(session: object) -> dict[int, list[str]]:
        rows = _walk(session, scope, None, SIGNAL_NOW)
        assert rows == _row_by_row(session, scope, None, SIGNAL_NOW)
        return {r.customer_id: [x.message for x in r.reasons] for r in rows}

    with database.transaction() as session:
        shown = reasons(session)
    assert SIGNAL in shown[due]
    assert SIGNAL not in shown[waiting] and SIGNAL not in shown[no_offer]
    # A supervisor changes the profile in the same unit of work, and in another one.
    with database.transaction() as session:
        set_values(session, SYSTEM, {"sector": "other"}, SIGNAL_NOW)
        assert SIGNAL not in reasons(session)[due]
        set_values(session, SYSTEM, {"sector": "housing"}, SIGNAL_NOW)
        assert SIGNAL in reasons(session)[due]
    with database.transaction() as session:
        set_values(session, SYSTEM, {"signal_min_arrears": "5000.00"}, SIGNAL_NOW)
    with database.transaction() as session:
        assert SIGNAL not in reasons(session)[due]


def test_the_profile_is_read_once_per_unit_of_work_and_never_stale(database: Database) -> None:
    with database.transaction() as session:
        first = current_profile(session)
        assert current_profile(session) is first  # kept for the unit of work
        # A savepoint that changes it and is rolled back leaves the old one in force.
        savepoint = session.begin_nested()
        changed = set_values(session, SYSTEM, {"sector": "housing"}, NOW)
        assert changed.early_signal_duty and current_profile(session) == changed
        savepoint.rollback()
        assert current_profile(session).version == first.version
        assert current_profile(session).values == first.values
    # Another desk's supervisor changes it: the next unit of work sees the change.
    with database.transaction() as other:
        set_values(other, SYSTEM, {"sector": "housing", "signatory": "M. de Boer"}, NOW)
    with database.transaction() as session:
        profile = current_profile(session)
        assert profile.version == first.version + 1
        assert profile.signatory == "M. de Boer" and profile.early_signal_duty


def test_a_change_the_session_holds_unwritten_is_on_the_page(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne").agent_id
        scope = QueueScope(sanne, sort=QueueSort.NAME)
        last = queue_page(session, scope, NOW, sanne, limit=1000).rows[-1]
        customer = session.get(Customer, last.customer_id)
        assert customer is not None
        customer.last_name = "Aaaa"  # not flushed: the page flushes it first
        first = queue_page(session, scope, NOW, sanne, limit=5).rows[0]
        assert first.customer_id == last.customer_id and first.name.endswith("Aaaa")


def test_a_page_column_that_needs_a_conversion_is_refused(database: Database) -> None:
    """Rows are read from the driver as they come: a column SQLAlchemy would have to
    convert on this engine (other than the dates ``_rows`` converts) is caught when the
    statement is built, on each engine, not shown wrong."""
    from sqlalchemy import select as plain_select

    dialect = database.engine.dialect
    fine = plain_select(Customer.id, Customer.oldest_due_date, Customer.paused_until)
    queue_pages._check_reading(fine, dialect)
    with pytest.raises(AssertionError, match="held_until"):  # UTCDateTime, on both
        queue_pages._check_reading(plain_select(Customer.id, Customer.held_until), dialect)

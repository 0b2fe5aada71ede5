"""Keyset pages of the queue: every order, both directions, team and agent scope, with
ties at page boundaries and writes between pages, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select, update

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.errors import ValidationError
from agent_desk.models import Customer
from agent_desk.services import queue_pages
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue import QueueScope, QueueSort, queue_ids
from agent_desk.services.queue_pages import (
    queue_count,
    queue_estimate,
    queue_page,
)

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def tied(database: Database) -> Database:
    """Demo data with many ties: shared groups, due dates, amounts, names; NULL keys."""
    with database.transaction() as session:
        load_demo(session, customers=300, agents=3, seed=11, today=TODAY)
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
        for number, customer_id in enumerate(ids):
            values: dict[str, object] = {}
            if number % 3 == 0:
                values |= {"oldest_due_date": date(2026, 9, 1), "arrears_cents": 12_345}
                values |= {"last_name": "Jansen", "queue_bucket": 4}
            if number % 7 == 0:
                values["oldest_due_date"] = None
            if number % 5 == 0:
                values["next_step_due_at"] = None
            if values:
                session.execute(update(Customer).where(Customer.id == customer_id).values(values))
    return database


def _walk(session: object, scope: QueueScope, actor_id: int | None, limit: int) -> list[int]:
    seen: list[int] = []
    cursor: str | None = None
    for _ in range(1000):
        page = queue_page(session, scope, NOW, actor_id, after=cursor, limit=limit)  # type: ignore[arg-type]
        assert len(page.rows) <= limit
        seen += [row.customer_id for row in page.rows]
        if page.next_cursor is None:
            return seen
        assert len(page.rows) == limit
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize("sort", list(QueueSort))
@pytest.mark.parametrize("descending", [False, True])
def test_pages_follow_the_order_exactly_with_ties(
    tied: Database, sort: QueueSort, descending: bool
) -> None:
    with tied.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        for agent_id in (None, sanne.agent_id):
            scope = QueueScope(agent_id, sort=sort, descending=descending, include_waiting=True)
            expected = queue_ids(session, scope, NOW, agent_id)
            assert len(expected) > 60
            for limit in (1, 7, 50):
                assert _walk(session, scope, agent_id, limit) == expected
            assert queue_count(session, scope, NOW, agent_id) == len(expected)


@pytest.mark.parametrize("sort", list(QueueSort))
def test_paging_backwards_from_a_jump_gives_the_same_rows(tied: Database, sort: QueueSort) -> None:
    with tied.transaction() as session:
        scope = QueueScope(None, sort=sort, include_waiting=True)
        expected = queue_ids(session, scope, NOW)
        jump = queue_page(session, scope, NOW, offset=42, limit=10)
        assert [r.customer_id for r in jump.rows] == expected[42:52]
        assert jump.previous_cursor is not None
        back = queue_page(session, scope, NOW, before=jump.previous_cursor, limit=10)
        assert [r.customer_id for r in back.rows] == expected[32:42]
        again = queue_page(session, scope, NOW, after=back.next_cursor, limit=10)
        assert [r.customer_id for r in again.rows] == expected[42:52]
        top = queue_page(session, scope, NOW, before=back.previous_cursor, limit=40)
        assert [r.customer_id for r in top.rows] == expected[:32]
        assert top.previous_cursor is None


@pytest.mark.parametrize("sort", [QueueSort.PRIORITY, QueueSort.NAME, QueueSort.NEXT_STEP])
def test_writes_between_pages_skip_and_repeat_no_unchanged_row(
    tied: Database, sort: QueueSort
) -> None:
    scope = QueueScope(None, sort=sort, include_waiting=True)
    with tied.transaction() as session:
        expected = queue_ids(session, scope, NOW)
        first = queue_page(session, scope, NOW, limit=25)
    seen = [r.customer_id for r in first.rows]
    ahead, behind = expected[60], expected[3]
    with tied.transaction() as session:
        # One row still to come moves to the very top, one already seen moves to the end,
        # and a new customer lands in the middle of what is still to come.
        top = session.get(Customer, expected[0])
        last = session.get(Customer, expected[-1])
        assert top is not None and last is not None
        for moved, like in ((ahead, top), (behind, last)):
            session.execute(
                update(Customer)
                .where(Customer.id == moved)
                .values(
                    queue_bucket=like.queue_bucket,
                    oldest_due_date=like.oldest_due_date,
                    arrears_cents=like.arrears_cents,
                    last_name=like.last_name,
                    next_step_due_at=like.next_step_due_at,
                )
            )
        middle = session.get(Customer, expected[100])
        assert middle is not None
        session.execute(
            insert(Customer).values(
                customer_number="NEW-1",
                first_name="Nieuw",
                last_name=middle.last_name,
                status="open",
                queue_bucket=middle.queue_bucket,
                oldest_due_date=middle.oldest_due_date,
                arrears_cents=middle.arrears_cents,
                next_step_due_at=middle.next_step_due_at,
            )
        )
    cursor = first.next_cursor
    with tied.transaction() as session:
        while cursor is not None:
            page = queue_page(session, scope, NOW, after=cursor, limit=25)
            seen += [r.customer_id for r in page.rows]
            cursor = page.next_cursor
        new_id = session.scalar(select(Customer.id).where(Customer.customer_number == "NEW-1"))
        now_order = queue_ids(session, scope, NOW)
    # After the first page: exactly what now follows its last row, in the new order.
    assert seen[25:] == now_order[now_order.index(expected[24]) + 1 :]
    unchanged = [i for i in expected if i not in (ahead, behind)]
    assert [i for i in seen if i in set(unchanged)] == unchanged  # each once, in order
    assert seen.count(new_id) == 1
    assert seen.count(behind) == 2  # read before, and again at its new place at the end


def test_a_cursor_of_another_order_or_a_forged_one_is_refused(tied: Database) -> None:
    with tied.transaction() as session:
        page = queue_page(session, QueueScope(None), NOW, limit=5)
        assert page.next_cursor is not None
        with pytest.raises(ValidationError):
            queue_page(session, QueueScope(None, sort=QueueSort.NAME), NOW, after=page.next_cursor)
        with pytest.raises(ValidationError):
            queue_page(session, QueueScope(None), NOW, after="not-a-cursor")
        with pytest.raises(ValidationError):
            queue_page(session, QueueScope(None), NOW, limit=0)


def test_estimate_is_close_and_the_count_exact(tied: Database) -> None:
    with tied.transaction() as session:
        scope = QueueScope(None)
        exact = len(queue_ids(session, scope, NOW))
        assert queue_count(session, scope, NOW) == exact
        estimate = queue_estimate(session, scope, NOW)
        assert 0 < estimate <= 3 * exact + 10


def test_sqlite_counts_a_queue_up_to_the_sample_exactly_and_estimates_a_longer_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has no planner estimate: a queue no longer than the sample is counted
    exactly (cheaper than sampling), a longer one is estimated from a sample and is
    never below the sample size plus one."""
    database = Database(f"sqlite:///{tmp_path / 'estimate.sqlite3'}")
    database.upgrade()
    try:
        with database.transaction() as session:
            load_demo(session, customers=300, agents=3, seed=11, today=TODAY)
            sanne = actor_for_login(session, "sanne").agent_id
            daan = actor_for_login(session, "daan").agent_id
            # Sanne's customers are the middle ids, where a sample is taken: a sample
            # would overstate her queue by a fifth (300 ids, a sample of 250).
            ids = list(session.scalars(select(Customer.id).order_by(Customer.id)))
            middle = set(ids[100:200])
            for customer_id in ids:
                session.execute(
                    update(Customer)
                    .where(Customer.id == customer_id)
                    .values(assigned_agent_id=sanne if customer_id in middle else daan)
                )
            monkeypatch.setattr(queue_pages, "SAMPLE", 250)
            exact = queue_count(session, QueueScope(sanne), NOW, sanne)
            assert 10 < exact <= 250
            assert queue_estimate(session, QueueScope(sanne), NOW, sanne) == exact
            monkeypatch.setattr(queue_pages, "SAMPLE", 10)  # now both queues are longer
            for scope in (QueueScope(None), QueueScope(sanne)):
                exact = queue_count(session, scope, NOW, sanne)
                estimate = queue_estimate(session, scope, NOW, sanne)
                assert estimate >= 11
                assert exact / 4 <= estimate <= 4 * exact
    finally:
        database.dispose()


def test_cli_team_queue_pages_round_trip(
    tied: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    url = tied.url.render_as_string(hide_password=False)
    with tied.transaction() as session:
        expected = queue_ids(session, QueueScope(None), datetime.now(UTC) + timedelta(seconds=5))
        numbers = dict(session.execute(select(Customer.id, Customer.customer_number)).all())
    seen: list[str] = []
    cursor: str | None = None
    while True:
        command = ["queue", "--team", "--limit", "40", "--json", "--database", url]
        if cursor is not None:
            command += ["--after", cursor]
        assert main(command) == 0
        output = json.loads(capsys.readouterr().out)
        seen += [row["customer_number"] for row in output["customers"]]
        assert output["count"] == len(output["customers"])
        cursor = output["next_cursor"]
        if cursor is None:
            break
    assert seen == [numbers[i] for i in expected]
    assert main(["queue", "--team", "--after", "garbage", "--json", "--database", url]) == 1
    assert "cursor" in capsys.readouterr().err
    assert main(["queue", "--json", "--database", url]) == 2

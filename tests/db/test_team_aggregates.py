"""The team view's figures from maintained aggregates (migration 0010) equal the old,
slow definitions, and the database keeps the aggregate right for every writer: the
services, bulk inserts, plain SQL, a point moved to another customer, a delete, a
reassignment, a migration of existing data; and on PostgreSQL an agent's own
connection (row security) keeps it right but cannot forge it."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import (
    Engine,
    and_,
    create_engine,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, CustomerStatus, Direction, NextStepKind, Outcome, Role
from agent_desk.errors import PermissionDeniedError
from agent_desk.models import Agent, ContactPoint, Customer, NextStep
from agent_desk.services.activity import NextStepInput, log_contact_attempt
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.migrate import alembic_config
from agent_desk.services.queue import eligible_conditions
from agent_desk.services.queue_claims import claim_next
from agent_desk.services.reassign import ReassignFilter, preview_reassign, reassign
from agent_desk.services.team import (
    agent_loads,
    customers_without_next_step,
    stale_contact_customers,
    team_summary,
)
from agent_desk.services.team_security import add_user

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(15, 0), tzinfo=UTC)


@pytest.fixture
def demo(database: Database) -> Database:
    with database.transaction() as session:
        load_demo(session, customers=240, agents=3, seed=11, today=TODAY)
    return database


# ------------------------------------------------------------ the old definitions


def _old_stale(session: Session, now: datetime, days: int = 90) -> int:
    """The stale-contact count as it was: a correlated NOT EXISTS per open customer."""
    cutoff = datetime.combine(now.date() - timedelta(days=days), time(0), UTC)
    usable = and_(ContactPoint.customer_id == Customer.id, ContactPoint.invalid.is_(False))
    stale = exists().where(
        usable, or_(ContactPoint.verified_at.is_(None), ContactPoint.verified_at < cutoff)
    )
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.status == CustomerStatus.OPEN, or_(~exists().where(usable), stale))
    )
    return int(session.scalar(statement) or 0)


def _old_without_next_step(session: Session) -> int:
    open_step = exists().where(NextStep.customer_id == Customer.id, NextStep.done_at.is_(None))
    statement = (
        select(func.count())
        .select_from(Customer)
        .where(Customer.status == CustomerStatus.OPEN, ~open_step)
    )
    return int(session.scalar(statement) or 0)


def _old_per_agent(session: Session, now: datetime) -> tuple[dict[int, int], dict[int, int]]:
    def grouped(*where: object) -> dict[int, int]:
        rows = session.execute(
            select(Customer.assigned_agent_id, func.count())
            .where(*where)  # type: ignore[arg-type]
            .group_by(Customer.assigned_agent_id)
        ).all()
        return {int(a): int(n) for a, n in rows if a is not None}

    return (
        grouped(*eligible_conditions(now, None)),
        grouped(Customer.status == CustomerStatus.OPEN),
    )


def _expected_checks(session: Session) -> dict[int, datetime | None]:
    """Each customer's contact check worked out in Python from its points."""
    points: dict[int, list[tuple[datetime | None, bool]]] = {}
    for customer_id, verified_at, invalid in session.execute(
        select(ContactPoint.customer_id, ContactPoint.verified_at, ContactPoint.invalid)
    ):
        points.setdefault(customer_id, []).append((verified_at, invalid))
    expected: dict[int, datetime | None] = {}
    for customer_id in session.scalars(select(Customer.id)):
        usable = [verified for verified, invalid in points.get(customer_id, []) if not invalid]
        never = not usable or any(v is None for v in usable)
        expected[customer_id] = None if never else min(v for v in usable if v is not None)
    return expected


def _checks(session: Session) -> dict[int, datetime | None]:
    return {i: v for i, v in session.execute(select(Customer.id, Customer.contact_verified_at))}


def _assert_all_right(session: Session) -> None:
    session.flush()
    assert _checks(session) == _expected_checks(session)
    for days in (0, 30, 90, 365, 100_000):
        assert stale_contact_customers(session, NOW, days) == _old_stale(session, NOW, days)


# ------------------------------------------------------------------------- tests


def test_the_team_figures_equal_the_old_definitions_on_a_seeded_book(demo: Database) -> None:
    with demo.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        mine = session.scalars(
            select(Customer.id)
            .where(Customer.assigned_agent_id == sanne.agent_id)
            .order_by(Customer.id)
            .limit(3)
        ).all()
        for customer_id in mine:
            log_contact_attempt(
                session,
                sanne,
                customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.NO_ANSWER,
                note="",
                next_step=NextStepInput(NextStepKind.RETRY, NOW + timedelta(days=2)),
                now=NOW,
            )
        summary = team_summary(session, NOW)
        queue, assigned = _old_per_agent(session, NOW)
        assert {a.agent_id: a.queue_size for a in summary.agents if a.queue_size} == queue
        assert {a.agent_id: a.assigned for a in summary.agents if a.assigned} == assigned
        assert agent_loads(session, NOW) == (queue, assigned)
        assert sum(queue.values()) > 0
        assert summary.stale_contact_customers == _old_stale(session, NOW) > 0
        assert summary.customers_without_next_step == _old_without_next_step(session)
        # Waiting customers (a next step later) are not in the queue: the figures moved.
        later = _old_per_agent(session, NOW + timedelta(days=3))[0]
        assert later[sanne.agent_id or 0] >= queue[sanne.agent_id or 0] + len(mine)
        assert agent_loads(session, NOW + timedelta(days=3))[0] == later
        _assert_all_right(session)

        # The reassign preview: the old two counts (moving, held on a desk).
        boss = actor_for_login(session, "marieke")
        preview = preview_reassign(session, boss, ReassignFilter(from_agent="sanne"), ["daan"], NOW)
        open_mine = assigned[sanne.agent_id or 0]
        assert preview.count + preview.skipped_held == open_mine
        assert preview.per_target == {"daan": preview.count}
        # One of them open on Sanne's desk now: held, not moved; a hold on someone
        # else's customer does not count.
        claimed = claim_next(session, sanne, NOW)
        daan = actor_for_login(session, "daan")
        assert claimed is not None and claim_next(session, daan, NOW) is not None
        held = preview_reassign(session, boss, ReassignFilter(from_agent="sanne"), ["daan"], NOW)
        assert (held.count, held.skipped_held) == (open_mine - 1, 1)
        assert held.sample_names[0] != claimed.name or preview.sample_names[0] != claimed.name


def test_the_contact_check_follows_every_kind_of_write(demo: Database) -> None:
    with demo.transaction() as session:
        _assert_all_right(session)
        ids = list(session.scalars(select(Customer.id).order_by(Customer.id).limit(6)))
        first, second, third, fourth, fifth, sixth = ids
        old = NOW - timedelta(days=400)
        fresh = NOW - timedelta(days=3)
        # The ORM (as the services write): only verified points, then one unverified.
        session.execute(delete(ContactPoint).where(ContactPoint.customer_id == first))
        session.add(
            ContactPoint(customer_id=first, kind="phone", value="+31611111111", verified_at=fresh)
        )
        session.add(
            ContactPoint(customer_id=first, kind="email", value="a@example.nl", verified_at=old)
        )
        _assert_all_right(session)
        assert _checks(session)[first] == old
        session.add(ContactPoint(customer_id=first, kind="phone", value="+31622222222"))
        _assert_all_right(session)
        assert _checks(session)[first] is None
        # Plain SQL: verify everything of one customer, mark a point invalid.
        session.execute(
            update(ContactPoint).where(ContactPoint.customer_id == first).values(verified_at=fresh)
        )
        _assert_all_right(session)
        assert _checks(session)[first] == fresh
        session.execute(
            update(ContactPoint)
            .where(ContactPoint.customer_id == second)
            .values(invalid=True, invalid_reason="bounced")
        )
        _assert_all_right(session)
        assert _checks(session)[second] is None  # no usable point left: stale
        # An invalid point added changes nothing; then a first usable, verified one.
        session.add(ContactPoint(customer_id=second, kind="email", value="x@y.nl", invalid=True))
        _assert_all_right(session)
        assert _checks(session)[second] is None
        session.add(
            ContactPoint(customer_id=second, kind="email", value="ok@y.nl", verified_at=old)
        )
        _assert_all_right(session)
        assert _checks(session)[second] == old
        session.add(
            ContactPoint(customer_id=second, kind="phone", value="+31644", verified_at=fresh)
        )
        _assert_all_right(session)
        assert _checks(session)[second] == old  # the oldest verification counts
        # A bulk insert (executemany) for several customers at once.
        session.execute(
            insert(ContactPoint),
            [
                {
                    "customer_id": c,
                    "kind": "email",
                    "value": f"bulk{c}@example.nl",
                    "verified_at": fresh,
                }
                for c in (third, fourth, fifth)
            ]
            + [
                {
                    "customer_id": sixth,
                    "kind": "email",
                    "value": "late@example.nl",
                    "verified_at": None,
                }
            ],
        )
        _assert_all_right(session)
        # A point moved to another customer: both customers change.
        session.execute(delete(ContactPoint).where(ContactPoint.customer_id.in_([third, fourth])))
        session.add(
            ContactPoint(customer_id=third, kind="phone", value="+31633333333", verified_at=fresh)
        )
        session.flush()
        moved = session.scalar(select(ContactPoint.id).where(ContactPoint.customer_id == third))
        session.execute(
            update(ContactPoint).where(ContactPoint.id == moved).values(customer_id=fourth)
        )
        _assert_all_right(session)
        assert _checks(session)[third] is None and _checks(session)[fourth] == fresh
        # Deleted points, and an update that changes nothing the check looks at.
        session.execute(delete(ContactPoint).where(ContactPoint.customer_id == fourth))
        session.execute(
            update(ContactPoint).where(ContactPoint.customer_id == fifth).values(preferred=True)
        )
        _assert_all_right(session)
        # Reassigning customers leaves the check as it is and moves the agents' figures.
        before = _checks(session)
        boss = actor_for_login(session, "marieke")
        moved_count = reassign(
            session, boss, ReassignFilter(from_agent="sanne"), ["daan"], NOW
        ).moved
        assert moved_count > 0
        assert _checks(session) == before
        assert agent_loads(session, NOW) == _old_per_agent(session, NOW)
        assert customers_without_next_step(session) == _old_without_next_step(session)
        _assert_all_right(session)
    with demo.transaction() as session:  # and so it was committed
        _assert_all_right(session)


def _upgrade(engine: Engine, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_engine(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fresh_pg: Callable[[str], AbstractContextManager[URL]],
) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_engine(f"sqlite:///{tmp_path / 'before.sqlite3'}")
        yield engine
        engine.dispose()
        return
    with fresh_pg("agent_desk_aggregates") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def test_the_migration_fills_in_the_check_of_existing_customers(empty_engine: Engine) -> None:
    _upgrade(empty_engine, "0009")
    pg = empty_engine.dialect.name == "postgresql"
    old = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
    recent = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)

    def at(value: datetime | None) -> datetime | None:
        return value if pg or value is None else value.replace(tzinfo=None)

    # customer -> its points (verified at, invalid)
    books: dict[int, list[tuple[datetime | None, bool]]] = {
        1: [(recent, False), (old, False)],  # oldest verification: old
        2: [(recent, False), (None, False)],  # one never verified
        3: [(None, True), (recent, False)],  # the invalid one does not count
        4: [(recent, True)],  # none usable
        5: [],  # none at all
    }
    with empty_engine.begin() as c:
        for cid, points in books.items():
            c.execute(
                text(
                    "INSERT INTO customer (id, customer_number, first_name, last_name, language, "
                    "segment, status, vulnerable, arrears_cents, credit_cents, "
                    "first_time_arrears, broken_arrangement, missed_instalment, queue_bucket, "
                    "email_opt_out, sms_opt_out, created_at, version) "
                    "VALUES (:id, :n, 'X', 'Y', 'nl', 'consumer', 'open', false, 0, 0, false, "
                    "false, false, 4, false, false, :at, 1)"
                ),
                {"id": cid, "n": f"C{cid}", "at": at(recent)},
            )
            for number, (verified, invalid) in enumerate(points):
                c.execute(
                    text(
                        "INSERT INTO contact_point (customer_id, kind, value, preferred, "
                        "consent_sms, consent_whatsapp, verified_at, invalid, version) "
                        "VALUES (:c, 'phone', :v, false, false, false, :at, :invalid, 1)"
                    ),
                    {"c": cid, "v": f"+3161{cid}{number}", "at": at(verified), "invalid": invalid},
                )
    _upgrade(empty_engine, "head")
    database = Database(empty_engine.url)
    try:
        with database.transaction() as session:
            assert _checks(session) == {1: old, 2: None, 3: recent, 4: None, 5: None}
            assert _checks(session) == _expected_checks(session)
            now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
            assert stale_contact_customers(session, now) == _old_stale(session, now) == 4
    finally:
        database.dispose()


# ------------------------------------------------------------------ PostgreSQL


@pytest.fixture
def team_db(pg_server_url: str) -> Iterator[tuple[Database, str]]:
    prefix = f"a{uuid.uuid4().hex[:8]}_"
    owner = Database(pg_server_url)
    with owner.engine.begin() as connection:
        tables = ", ".join(
            f'"{name}"'
            for name in connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if name != "alembic_version"
        )
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    try:
        with owner.transaction() as session:
            load_demo(session, customers=40, agents=2, seed=5, today=TODAY)
            agent = add_user(session, SYSTEM, f"{prefix}agent", "Agent Drie", Role.AGENT)
            add_user(session, SYSTEM, f"{prefix}super", "Super Vier", Role.SUPERVISOR)
            sanne = session.scalar(select(Agent.id).where(Agent.login == "sanne"))
            session.execute(
                update(Customer)
                .where(Customer.assigned_agent_id == sanne)
                .values(assigned_agent_id=agent.agent_id)
            )
        yield owner, prefix
    finally:
        owner.dispose()
        engine = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            for name in connection.scalars(
                text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": prefix + "%"}
            ).all():
                connection.execute(text(f'DROP OWNED BY "{name}"'))
                connection.execute(text(f'DROP ROLE "{name}"'))
        engine.dispose()


@pytest.mark.pg
def test_an_agents_connection_keeps_the_check_right_but_cannot_forge_it(
    team_db: tuple[Database, str],
) -> None:
    owner, prefix = team_db
    url = make_url(str(owner.engine.url.render_as_string(hide_password=False)))
    desk = Database(url.set(username=f"{prefix}agent"))
    boss = Database(url.set(username=f"{prefix}super"))
    fresh = NOW - timedelta(days=2)
    try:
        with desk.transaction() as session:
            mine = session.scalars(select(Customer.id).order_by(Customer.id)).all()
            assert mine  # row security: only the agent's own customers
            customer_id = mine[0]
            session.execute(
                update(ContactPoint)
                .where(ContactPoint.customer_id == customer_id)
                .values(verified_at=fresh, invalid=False)
            )
            assert (
                session.scalar(
                    select(Customer.contact_verified_at).where(Customer.id == customer_id)
                )
                == fresh
            )
        # An agent may not write the column at all (column grants) ...
        with pytest.raises(PermissionDeniedError), desk.transaction() as session:
            session.execute(
                update(Customer)
                .where(Customer.id == customer_id)
                .values(contact_verified_at=NOW + timedelta(days=999))
            )
        # ... and a supervisor's write of it gets the database's value back.
        with boss.transaction() as session:
            session.execute(
                update(Customer)
                .where(Customer.id.in_(mine[:2]))
                .values(contact_verified_at=NOW + timedelta(days=999))
            )
        with owner.transaction() as session:
            _assert_all_right(session)
            assert _checks(session)[customer_id] == fresh
            others = session.scalars(
                select(Customer.id).where(Customer.id.not_in(mine)).order_by(Customer.id)
            ).all()
            assert others  # the agent did not see them
    finally:
        desk.dispose()
        boss.dispose()

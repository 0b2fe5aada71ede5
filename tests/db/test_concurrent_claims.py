"""Race-free claiming: many desks at once, lease expiry, and the next/release commands.

The concurrency tests need PostgreSQL (``FOR UPDATE SKIP LOCKED``); the CLI tests run
on both engines.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import func, select, text, update

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.models import Agent, AuditEvent, Customer
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.leases import release_customer
from agent_desk.services.queue import QueueScope, queue_ids
from agent_desk.services.queue_claims import DEFAULT_LEASE, claim_next, hold, release_holds

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=UTC)
DESKS = {"sanne": 10, "daan": 5, "eva": 5}  # 20 desks; one agent's desks compete


def _fresh(url: str, customers: int) -> Database:
    database = Database(url)
    with database.engine.begin() as connection:
        tables = ", ".join(
            f'"{name}"'
            for name in connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if name != "alembic_version"
        )
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=3, seed=5, today=TODAY)
    return database


@pytest.fixture
def demo_2000(pg_server_url: str) -> Iterator[Database]:
    database = _fresh(pg_server_url, 2000)
    yield database
    database.dispose()


def test_twenty_desks_never_claim_the_same_customer(demo_2000: Database) -> None:
    with demo_2000.transaction() as session:
        agent_ids = {
            login: session.scalar(select(Agent.id).where(Agent.login == login)) for login in DESKS
        }
        expected = {
            login: set(queue_ids(session, QueueScope(agent_id), NOW, agent_id))
            for login, agent_id in agent_ids.items()
        }
    assert all(len(ids) > 50 for ids in expected.values())

    url = demo_2000.url.render_as_string(hide_password=False)
    claims: list[tuple[str, int, int]] = []  # (agent, desk, customer id)
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(sum(DESKS.values()))

    def desk(login: str, number: int) -> None:
        try:
            with Database(url) as database:
                with database.transaction() as session:
                    actor = actor_for_login(session, login)
                database.check_connection()
                start.wait(timeout=30)
                while True:
                    with database.transaction() as session:
                        row = claim_next(session, actor, NOW, release_previous=False)
                    if row is None:
                        return
                    with lock:
                        claims.append((login, number, row.customer_id))
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [
        threading.Thread(target=desk, args=(login, n))
        for login, count in DESKS.items()
        for n in range(count)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)

    twice = [cid for cid, n in Counter(c for _, _, c in claims).items() if n > 1]
    assert twice == [], f"claimed twice while held: {twice}"
    for login, ids in expected.items():
        assert {c for a, _, c in claims if a == login} == ids  # nothing lost, nothing extra
    assert len({(a, d) for a, d, _ in claims if a == "sanne"}) > 1  # sanne's desks shared

    with demo_2000.transaction() as session:
        held = dict(
            session.execute(
                select(Customer.id, Customer.held_by_agent_id).where(
                    Customer.held_by_agent_id.is_not(None)
                )
            ).all()
        )
        audited = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "claim")
        )
    assert held == {c: agent_ids[a] for a, _, c in claims}
    assert audited == len(claims)


@pytest.fixture
def one_customer_queue(pg_server_url: str) -> Iterator[tuple[Database, int]]:
    """Sanne's queue holds exactly one eligible customer."""
    database = _fresh(pg_server_url, 120)
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        ids = queue_ids(session, QueueScope(sanne.agent_id), NOW, sanne.agent_id)
        keep = ids[0]
        session.execute(
            update(Customer)
            .where(Customer.assigned_agent_id == sanne.agent_id, Customer.id != keep)
            .values(status="closed")
        )
    yield database, keep
    database.dispose()


def test_a_hold_expires_after_its_lease(one_customer_queue: tuple[Database, int]) -> None:
    database, only = one_customer_queue
    lease = timedelta(minutes=5)
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        first = claim_next(session, sanne, NOW, lease, release_previous=False)
    assert first is not None and first.customer_id == only
    with database.transaction() as session:  # another desk, just before the lease ends
        assert claim_next(session, sanne, NOW + lease - timedelta(seconds=1), lease,
                          release_previous=False) is None  # fmt: skip
    # Whether a hold ran out is the server's clock's to say, not a desk's: a desk whose
    # clock runs a lease ahead still finds the customer held.
    with database.transaction() as session:
        assert claim_next(session, sanne, NOW + 5 * lease, lease, release_previous=False) is None
        server_now = session.scalar(select(func.now()))
        held_until = session.get_one(Customer, only).held_until
    assert held_until is not None and server_now < held_until <= server_now + lease
    with database.transaction() as session:  # the first desk died: its lease ran out
        session.execute(
            update(Customer)
            .where(Customer.id == only)
            .values(held_until=func.now() - timedelta(seconds=1))
        )
    later = NOW + lease + timedelta(seconds=1)
    with database.transaction() as session:
        again = claim_next(session, sanne, later, lease, release_previous=False)
    assert again is not None and again.customer_id == only
    with database.transaction() as session:
        customer = session.get_one(Customer, only)
        renewed, server_now = customer.held_until, session.scalar(select(func.now()))
    assert renewed is not None and server_now - lease < renewed <= server_now + lease


def test_a_colleague_who_claims_while_a_supervisor_opens_keeps_the_customer(
    one_customer_queue: tuple[Database, int],
) -> None:
    """The supervisor's desk read the customer (no hold) and is about to hold it; the
    agent's desk claims it and commits first: the supervisor's hold is refused, and the
    agent's claim stands (it used to be overwritten)."""
    database, only = one_customer_queue
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        boss = actor_for_login(session, "marieke")
    supervisor = database.sessions()
    try:
        customer = supervisor.get_one(Customer, only)
        assert customer.held_by_agent_id is None  # what the supervisor's desk saw
        with database.transaction() as session:  # meanwhile the agent's desk claims it
            claimed = claim_next(session, sanne, NOW, release_previous=False)
        assert claimed is not None and claimed.customer_id == only
        assert hold(supervisor, boss, only, NOW) is False
        supervisor.commit()
    finally:
        supervisor.close()
    with database.transaction() as session:
        assert session.get_one(Customer, only).held_by_agent_id == sanne.agent_id
        # Once the agent is done, the supervisor's desk holds it.
        assert release_holds(session, sanne) == 1
    with database.transaction() as session:
        assert hold(session, boss, only, NOW) is True
    with database.transaction() as session:
        assert session.get_one(Customer, only).held_by_agent_id == boss.agent_id


def test_releasing_hands_the_customer_to_the_next_desk(
    one_customer_queue: tuple[Database, int],
) -> None:
    database, only = one_customer_queue
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        claimed = claim_next(session, sanne, NOW, release_previous=False)
        assert claimed is not None
        assert claim_next(session, sanne, NOW, release_previous=False) is None
    with database.transaction() as session:
        assert release_customer(session, sanne, claimed.customer_number, NOW)
        assert not release_customer(session, sanne, claimed.customer_number, NOW)
    with database.transaction() as session:
        again = claim_next(session, sanne, NOW, release_previous=False)
    assert again is not None and again.customer_id == only


def test_a_desk_moving_on_releases_its_previous_customer(
    one_customer_queue: tuple[Database, int],
) -> None:
    database, only = one_customer_queue
    with database.transaction() as session:
        sanne = actor_for_login(session, "sanne")
        assert claim_next(session, sanne, NOW) is not None
    with database.transaction() as session:  # the desk's "next": lets go, then claims
        again = claim_next(session, sanne, NOW + timedelta(minutes=1))
    assert again is not None and again.customer_id == only


# ---------------------------------------------------------------------------- CLI


def _url(database: Database) -> str:
    return database.url.render_as_string(hide_password=False)


def _json(capsys: pytest.CaptureFixture[str]) -> object:
    return json.loads(capsys.readouterr().out)


def test_next_and_release_commands(database: Database, capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(database)
    with database.transaction() as session:
        load_demo(session, customers=40, agents=2, seed=3)
    before = datetime.now(UTC)
    assert main(["next", "--database", url, "--agent", "sanne", "--json"]) == 0
    first = _json(capsys)
    assert main(["next", "--database", url, "--agent", "sanne", "--json"]) == 0
    second = _json(capsys)
    assert isinstance(first, dict) and isinstance(second, dict)
    assert set(first) == {"customer_number", "name", "lease_until"}
    assert first["customer_number"] != second["customer_number"]
    lease_until = datetime.fromisoformat(first["lease_until"])
    assert before + DEFAULT_LEASE <= lease_until <= datetime.now(UTC) + DEFAULT_LEASE

    # Daan may not release what is on Sanne's desk.
    argv = ["release", "--database", url, "--customer", first["customer_number"]]
    assert main([*argv, "--agent", "daan"]) == 1
    assert "on a colleague's desk" in capsys.readouterr().err
    assert main([*argv, "--agent", "sanne", "--json"]) == 0
    assert _json(capsys) == {"released": 1}
    assert main([*argv, "--agent", "sanne"]) == 0
    assert "was not held by sanne" in capsys.readouterr().out
    assert main(["release", "--database", url, "--agent", "sanne", "--json"]) == 0
    assert _json(capsys) == {"released": 1}

    # A supervisor has no queue of their own: null.
    assert main(["next", "--database", url, "--agent", "marieke", "--json"]) == 0
    assert _json(capsys) is None
    assert main(["next", "--database", url, "--agent", "sanne", "--lease-minutes", "1"]) == 0
    assert "held until" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["next", "--agent", "nobody"], 1, "no agent with login 'nobody'"),
        (["next", "--agent", "sanne", "--lease-minutes", "0"], 2, "between 1 and 1440"),
        (["next"], 2, "required: --agent"),
        (["release", "--agent", "sanne", "--customer", "999999"], 1, "no customer 999999"),
        (["release"], 2, "required: --agent"),
    ],
)
def test_next_and_release_bad_usage(
    database: Database,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    status: int,
    message: str,
) -> None:
    with database.transaction() as session:
        load_demo(session, customers=5, agents=1, seed=1)
    assert main([*argv, "--database", _url(database)]) == status
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1

"""The claim as ``agent-desk next`` and the load bench run it (``claim_next_alone``).

On PostgreSQL it is one round trip carrying two transactions: the claim (hold, audit
row, change-log row through ``agent_desk_log_changes_quietly``) and the wake-up
``NOTIFY`` after it. These tests hold it to what the slower path promised: no
customer claimed twice under concurrency, an audit and a change-log row for every
claim, a notification other desks receive, and row security: an agent's own login
claims only their own customers and cannot log a colleague's.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from time import monotonic, sleep

import psycopg
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Role
from agent_desk.models import Agent, AuditEvent, ChangeLog, Customer
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue import QueueScope, queue_ids
from agent_desk.services.queue_claims import claim_next_alone
from agent_desk.services.team_security import add_user

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=UTC)


def _claims_of(database: Database) -> tuple[int, list[int], dict[int, int]]:
    with database.transaction() as session:
        audited = session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "claim")
        )
        logged = list(
            session.scalars(
                select(ChangeLog.row_id).where(
                    ChangeLog.table_name == "customer", ChangeLog.kind == "update"
                )
            )
        )
        held = dict(
            session.execute(
                select(Customer.id, Customer.held_by_agent_id).where(
                    Customer.held_by_agent_id.is_not(None)
                )
            ).all()
        )
    return int(audited or 0), logged, held


def test_each_claim_holds_audits_and_logs_once(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, customers=60, agents=2, seed=3, today=TODAY)
        sanne = actor_for_login(session, "sanne")
        expected = queue_ids(session, QueueScope(sanne.agent_id), NOW, sanne.agent_id)
    claimed = []
    while (row := claim_next_alone(database, sanne, NOW)) is not None:
        claimed.append(row.customer_id)
        assert row.held_by_agent_id == sanne.agent_id
    assert claimed == expected  # in queue order, each once, then None
    audited, logged, held = _claims_of(database)
    assert audited == len(claimed)
    assert set(logged) >= set(claimed)
    assert held == dict.fromkeys(claimed, sanne.agent_id)


def test_twenty_desks_at_once_never_share_a_customer(pg_server_url: str) -> None:
    database = Database(pg_server_url)
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
        load_demo(session, customers=600, agents=2, seed=5, today=TODAY)
        actors = [actor_for_login(session, login) for login in ("sanne", "daan")]
        expected = {
            a.agent_id: set(queue_ids(session, QueueScope(a.agent_id), NOW, a.agent_id))
            for a in actors
        }
    url = database.url.render_as_string(hide_password=False)
    listener = psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    )
    listener.execute('LISTEN "agent_desk_changes"')
    claims: list[tuple[int, int]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(20)

    def desk(number: int) -> None:
        actor = actors[number % 2]
        try:
            with Database(url) as own:
                own.check_connection()
                start.wait(timeout=30)
                while (row := claim_next_alone(own, actor, NOW)) is not None:
                    with lock:
                        claims.append((actor.agent_id or 0, row.customer_id))
        except BaseException as error:  # reported by the test's thread
            errors.append(error)

    threads = [threading.Thread(target=desk, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    twice = [c for c, n in Counter(c for _, c in claims).items() if n > 1]
    assert twice == []
    for agent_id, ids in expected.items():
        assert {c for a, c in claims if a == agent_id} == ids
    audited, _logged, held = _claims_of(database)
    assert audited == len(claims)
    assert held == {c: a for a, c in claims}
    # Woken: at least one hint, each naming a change id that exists.
    payloads = [int(n.payload) for n in listener.notifies(timeout=1, stop_after=1)]
    listener.close()
    assert payloads and all(p > 0 for p in payloads)
    with database.transaction() as session:
        assert session.scalar(select(func.max(ChangeLog.id))) >= max(payloads)
        setting = session.scalar(text("SELECT current_setting('agent_desk.claimed_change', true)"))
    assert not setting  # nothing left behind on a pooled connection
    database.dispose()


@pytest.fixture
def agent_login(pg_server_url: str) -> Iterator[tuple[str, str, int, list[int]]]:
    """An agent with their own server login, their customers and a colleague's one."""
    prefix = f"c{uuid.uuid4().hex[:8]}_"
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
    login = f"{prefix}agent"
    try:
        with owner.transaction() as session:
            load_demo(session, customers=40, agents=2, seed=9, today=TODAY)
            account = add_user(session, SYSTEM, login, "Agent Eén", Role.AGENT)
            sanne = session.scalar(select(Agent.id).where(Agent.login == "sanne"))
            daan = session.scalar(select(Agent.id).where(Agent.login == "daan"))
            session.execute(
                text("UPDATE customer SET assigned_agent_id = :new WHERE assigned_agent_id = :old"),
                {"new": account.agent_id, "old": sanne},
            )
            foreign = list(
                session.scalars(select(Customer.id).where(Customer.assigned_agent_id == daan))
            )
        url = make_url(pg_server_url).set(username=login).render_as_string(hide_password=False)
        yield url, login, account.agent_id, foreign
    finally:
        owner.dispose()
        engine = create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(text(f'DROP OWNED BY "{login}"'))
            connection.execute(text(f'DROP ROLE IF EXISTS "{login}"'))
        engine.dispose()


def test_an_agent_login_claims_only_their_own_and_logs_no_colleagues_rows(
    agent_login: tuple[str, str, int, list[int]],
) -> None:
    url, login, agent_id, foreign = agent_login
    with Database(url) as desk:
        with desk.transaction() as session:
            actor = actor_for_login(session, login)
        first = claim_next_alone(desk, actor, NOW)
        assert first is not None and first.assigned_agent_id == agent_id
        with desk.transaction() as session:  # the audit row is the agent's, under their role
            event = session.scalars(
                select(AuditEvent).where(
                    AuditEvent.action == "claim", AuditEvent.entity_id == first.customer_id
                )
            ).one()
            assert event.agent_id == agent_id
        # The quiet change-log function refuses a colleague's customer, as the noisy one.
        with desk.engine.connect() as connection:
            reason = ""
            try:
                connection.execute(
                    text(
                        "SELECT agent_desk_log_changes_quietly(ARRAY['customer'], "
                        "ARRAY[CAST(:c AS bigint)], ARRAY['update'], ARRAY[CAST(:c AS bigint)])"
                    ),
                    {"c": foreign[0]},
                )
            except Exception as error:  # the server's refusal
                reason = str(error)
            assert "own customers" in reason


def test_a_colleagues_claim_on_ones_own_login_is_refused_by_the_server(
    agent_login: tuple[str, str, int, list[int]], pg_server_url: str
) -> None:
    """A desk claiming in a colleague's name on its own login: nothing of theirs is held."""
    url, _login, _agent_id, foreign = agent_login
    with Database(pg_server_url) as owner, owner.transaction() as session:
        daan = actor_for_login(session, "daan")
    with Database(url) as desk:
        result: object = None
        try:
            result = claim_next_alone(desk, daan, NOW)
        except Exception as error:  # refused by row security or the customer guard
            result = error
        assert result is None or "refused" in str(result) or "holds customers" in str(result)
    with Database(pg_server_url) as owner, owner.transaction() as session:
        held = session.scalar(
            select(func.count()).select_from(Customer).where(Customer.id.in_(foreign),
                                                             Customer.held_by_agent_id.is_not(None))
        )  # fmt: skip
    assert held == 0


def test_a_pooled_connection_that_died_while_idle_is_replaced_unseen(
    pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No ping per checkout any more, but one after the connection sat in the pool."""
    from agent_desk.services import database as database_module

    monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    with Database(pg_server_url) as desk:
        with desk.engine.connect() as connection:
            pid = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
        with Database(pg_server_url) as admin, admin.engine.connect() as connection:
            connection.exec_driver_sql("SELECT pg_terminate_backend(%s)", (pid,))
        with desk.engine.connect() as connection:  # the dead one is pinged and replaced
            assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() != pid


def _empty(database: Database) -> None:
    with database.engine.begin() as connection:
        tables = ", ".join(
            f'"{name}"'
            for name in connection.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
            )
            if name != "alembic_version"
        )
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


def _kept_backend(desk: Database) -> int:
    """The server process of the connection the desk keeps for its claims."""
    from agent_desk.services import queue_claims

    line = queue_claims._LINES[desk]
    assert line.pooled is not None
    return int(line.pooled.driver_connection.info.backend_pid)


def test_a_desk_claiming_in_a_row_keeps_one_connection_and_dispose_closes_it(
    pg_server_url: str,
) -> None:
    owner = Database(pg_server_url)
    _empty(owner)
    with owner.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=4, today=TODAY)
        sanne = actor_for_login(session, "sanne")
    desk = Database(pg_server_url)
    assert claim_next_alone(desk, sanne, NOW) is not None
    pid = _kept_backend(desk)
    assert claim_next_alone(desk, sanne, NOW) is not None
    assert _kept_backend(desk) == pid  # no checkout in between: the same connection
    desk.dispose()
    # The server's backend goes once it has read the close; on a busy machine that is
    # not at once: give it a few seconds.
    deadline = monotonic() + 10
    while True:
        with owner.engine.connect() as connection:
            alive = connection.scalar(
                text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            )
        if alive == 0 or monotonic() > deadline:
            break
        sleep(0.05)
    assert alive == 0  # closed with the database, not left open on the server
    owner.dispose()


def test_a_claim_statement_gone_from_the_connection_is_prepared_anew(
    pg_server_url: str,
) -> None:
    """``DEALLOCATE ALL`` (or ``DISCARD ALL``) on the kept connection: the claim still
    works, once, with its audit row; nothing is claimed twice."""
    owner = Database(pg_server_url)
    _empty(owner)
    with owner.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=4, today=TODAY)
        sanne = actor_for_login(session, "sanne")
    with Database(pg_server_url) as desk:
        first = claim_next_alone(desk, sanne, NOW)
        from agent_desk.services import queue_claims

        queue_claims._LINES[desk].pooled.driver_connection.execute("DEALLOCATE ALL")
        second = claim_next_alone(desk, sanne, NOW)
        assert first is not None and second is not None
        assert second.customer_id != first.customer_id
    audited, _logged, held = _claims_of(owner)
    assert audited == 2
    assert held == {first.customer_id: sanne.agent_id, second.customer_id: sanne.agent_id}
    owner.dispose()


def test_a_kept_connection_that_died_while_idle_is_replaced_unseen(
    pg_server_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Idle past the ping limit, the kept connection goes back to the pool, which
    pings it and connects anew: the desk's next claim just works."""
    from agent_desk.services import queue_claims

    owner = Database(pg_server_url)
    _empty(owner)
    with owner.transaction() as session:
        load_demo(session, customers=30, agents=2, seed=4, today=TODAY)
        sanne = actor_for_login(session, "sanne")
    with Database(pg_server_url) as desk:
        assert claim_next_alone(desk, sanne, NOW) is not None
        pid = _kept_backend(desk)
        with owner.engine.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        monkeypatch.setattr(queue_claims, "PING_AFTER_IDLE_SECONDS", 0.0)
        from agent_desk.services import database as database_module

        monkeypatch.setattr(database_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        assert claim_next_alone(desk, sanne, NOW) is not None
        assert _kept_backend(desk) != pid
    owner.dispose()

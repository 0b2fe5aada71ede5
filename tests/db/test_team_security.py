"""Sign-in and roles on the team database: the server itself refuses what a role may not do.

PostgreSQL only (SQLite has no server roles). The people created here are login roles
on the shared test server, so their names carry a per-run prefix and are dropped at
the end. The test server trusts local connections: connecting as a role needs no
password, which is all these tests need to prove grants and row-level security.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ProgrammingError

from agent_desk.cli import main
from agent_desk.demo import load_demo
from agent_desk.domain.arrangement_plan import Mode, Terms
from agent_desk.domain.arrangements import plan_by_count
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome, Role
from agent_desk.domain.policy import load_default_policy
from agent_desk.errors import DatabaseUnavailableError, PermissionDeniedError, ValidationError
from agent_desk.models import Agent, Arrangement, AuditEvent, ContactAttempt, Customer
from agent_desk.services import secrets
from agent_desk.services.activity import NextStepInput, add_note, log_contact_attempt
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.arrangements import agree_arrangement, approve_arrangement
from agent_desk.services.database import Database
from agent_desk.services.queue import claim_next
from agent_desk.services.team_security import (
    add_user,
    deactivate_user,
    set_role,
    validate_login,
)
from tests.conftest import MemoryKeyring

TODAY = date(2026, 11, 23)
NOW = datetime.combine(TODAY, time(10, 0), tzinfo=UTC)
INSUFFICIENT_PRIVILEGE = "42501"
GROUPS = ("agent_desk_agent", "agent_desk_supervisor")


@dataclass(frozen=True)
class Team:
    owner_url: str
    prefix: str
    agent: str  # login of an agent with customers
    other: str  # login of a second agent with customers
    supervisor: str

    def url_for(self, login: str) -> str:
        return make_url(self.owner_url).set(username=login).render_as_string(hide_password=False)

    def database_for(self, login: str) -> Database:
        return Database(self.url_for(login))


def _drop_roles(owner_url: str, prefix: str) -> None:
    engine = create_engine(owner_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        names = connection.scalars(
            text("SELECT rolname FROM pg_roles WHERE rolname LIKE :p"), {"p": prefix + "%"}
        ).all()
        for name in names:
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))
    engine.dispose()


@pytest.fixture(scope="module")
def team(pg_server_url: str) -> Iterator[Team]:
    prefix = f"t{uuid.uuid4().hex[:8]}_"
    owner = Database(pg_server_url)
    try:
        with owner.engine.begin() as connection:
            tables = ", ".join(
                f'"{name}"'
                for name in connection.scalars(
                    text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
                )
                if name != "alembic_version"
            )
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        with owner.transaction() as session:
            load_demo(session, customers=60, agents=2, seed=11, today=TODAY)
            agent = add_user(session, SYSTEM, f"{prefix}agent", "Agent Eén", Role.AGENT)
            other = add_user(session, SYSTEM, f"{prefix}other", "Agent Twee", Role.AGENT)
            add_user(session, SYSTEM, f"{prefix}super", "Super Visor", Role.SUPERVISOR)
            # The demo's customers move to the people who sign in.
            for demo_login, account in (("sanne", agent), ("daan", other)):
                demo_id = session.scalar(select(Agent.id).where(Agent.login == demo_login))
                session.execute(
                    text(
                        "UPDATE customer SET assigned_agent_id = :new WHERE assigned_agent_id = :old"
                    ),
                    {"new": account.agent_id, "old": demo_id},
                )
        yield Team(pg_server_url, prefix, f"{prefix}agent", f"{prefix}other", f"{prefix}super")
    finally:
        owner.dispose()
        _drop_roles(pg_server_url, prefix)


def _agent_id(team: Team, login: str) -> int:
    with Database(team.owner_url) as owner, owner.transaction() as session:
        return int(session.scalar(select(Agent.id).where(Agent.login == login)) or 0)


def _assigned(team: Team, login: str) -> list[int]:
    agent_id = _agent_id(team, login)
    with Database(team.owner_url) as owner, owner.transaction() as session:
        return list(
            session.scalars(
                select(Customer.id)
                .where(Customer.assigned_agent_id == agent_id)
                .order_by(Customer.id)
            )
        )


def _refused(connection: Connection, statement: str, **params: object) -> str:
    """Run a statement that must be refused; returns the server's reason."""
    with pytest.raises(ProgrammingError) as refused, connection.begin_nested():
        connection.execute(text(statement), params)
    assert getattr(refused.value.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE
    return str(refused.value.orig)


# ---------------------------------------------------------------- users and roles


def test_add_user_creates_login_roles_in_the_right_group(team: Team) -> None:
    with Database(team.owner_url) as owner, owner.engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT rolname, rolcanlogin, rolsuper, "
                "pg_has_role(rolname, 'agent_desk_agent', 'MEMBER'), "
                "pg_has_role(rolname, 'agent_desk_supervisor', 'MEMBER') "
                "FROM pg_roles WHERE rolname LIKE :p ORDER BY rolname"
            ),
            {"p": team.prefix + "%"},
        ).all()
        audited = c.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.entity == "agent", AuditEvent.action == "create")
        )
    assert [tuple(r) for r in rows] == [
        (team.agent, True, False, True, False),
        (team.other, True, False, True, False),
        (team.supervisor, True, False, False, True),
    ]
    assert audited == 3


def test_logins_are_strict_and_server_superusers_are_refused(team: Team) -> None:
    for bad in [
        "Sanne",
        "s",
        "1abc",
        "a b",
        'x";drop',
        "pg_reader",
        "agent_desk_agent",
        "postgres",
    ]:
        with pytest.raises(ValidationError) as refused:
            validate_login(bad)
        assert refused.value.field == "login"
    with Database(team.owner_url) as owner:
        with pytest.raises(ValidationError, match="already a user"), owner.transaction() as s:
            add_user(s, SYSTEM, team.agent, "Dubbel", Role.AGENT)
        with pytest.raises(ValidationError, match="superuser"), owner.transaction() as s:
            add_user(s, SYSTEM, "root", "Root", Role.AGENT)  # a superuser on the test server
        with owner.transaction() as s:
            assert s.scalar(select(Agent.id).where(Agent.login == "root")) is None


def test_only_supervisors_manage_users_in_the_services(team: Team) -> None:
    with Database(team.owner_url) as owner, owner.transaction() as session:
        agent = actor_for_login(session, team.agent)
        with pytest.raises(PermissionDeniedError, match="Only a supervisor"):
            add_user(session, agent, f"{team.prefix}sneaky", "Sneaky", Role.SUPERVISOR)
        with pytest.raises(PermissionDeniedError):
            set_role(session, agent, team.agent, Role.SUPERVISOR)
        with pytest.raises(PermissionDeniedError):
            deactivate_user(session, agent, team.other)


def test_the_password_reaches_the_server_only_as_a_scram_verifier(team: Team) -> None:
    login = f"{team.prefix}pw"
    with Database(team.owner_url) as owner:
        with owner.transaction() as session:
            add_user(session, SYSTEM, login, "Met Wachtwoord", Role.AGENT, "geheim-Ω-123")
        with owner.engine.connect() as connection:
            stored = connection.scalar(
                text("SELECT rolpassword FROM pg_authid WHERE rolname = :n"), {"n": login}
            )
    assert stored is not None and stored.startswith("SCRAM-SHA-256$4096:")
    assert "geheim" not in stored


# ------------------------------------------------------------ the server refuses


@pytest.fixture
def as_agent(team: Team) -> Iterator[Connection]:
    engine = create_engine(team.url_for(team.agent))
    with engine.connect() as connection:
        yield connection
    engine.dispose()


def _pending_arrangement(team: Team) -> int:
    """An arrangement on the agent's first customer, waiting for approval (as owner)."""
    customer_id = _assigned(team, team.agent)[0]
    with Database(team.owner_url) as owner, owner.engine.begin() as c:
        return int(
            c.scalar(
                text(
                    "INSERT INTO arrangement (customer_id, created_at, frequency, "
                    "principal_cents, costs_cents, interest_cents, costs_waived, "
                    "interest_waived, total_cents, status, version) VALUES (:c, now(), "
                    "'monthly', 1000, 0, 0, false, false, 1000, 'pending_approval', 1) "
                    "RETURNING id"
                ),
                {"c": customer_id},
            )
        )


def test_an_agent_connection_cannot_reassign_approve_edit_policy_or_touch_audit(
    team: Team, as_agent: Connection
) -> None:
    mine = _assigned(team, team.agent)[0]
    other_id = _agent_id(team, team.other)
    me = _agent_id(team, team.agent)
    arrangement = _pending_arrangement(team)
    with as_agent.begin():
        assert "customer" in _refused(
            as_agent, "UPDATE customer SET assigned_agent_id = :o WHERE id = :c", o=other_id, c=mine
        )
        _refused(as_agent, "UPDATE customer SET status = 'closed' WHERE id = :c", c=mine)
        _refused(
            as_agent,
            "UPDATE arrangement SET approved_by_id = :me, approved_at = now(), "
            "approval_note = 'ok' WHERE id = :a",
            me=me,
            a=arrangement,
        )
        _refused(as_agent, "UPDATE arrangement SET status = 'active' WHERE id = :a", a=arrangement)
        _refused(  # the database's guards and row-level security both say no
            as_agent,
            "INSERT INTO arrangement (customer_id, created_at, frequency, principal_cents, "
            "costs_cents, interest_cents, costs_waived, interest_waived, total_cents, status, "
            "approved_by_id, approved_at, approval_note, version) VALUES (:c, now(), 'monthly', "
            "1, 0, 0, false, false, 1, 'active', :me, now(), 'self-approved', 1)",
            c=mine,
            me=me,
        )
        _refused(as_agent, "UPDATE audit_event SET detail = 'rewritten'")
        _refused(as_agent, "DELETE FROM audit_event")
        _refused(as_agent, "TRUNCATE audit_event")
        _refused(as_agent, "DELETE FROM change_log")
        _refused(
            as_agent,
            "INSERT INTO setting (key, value, updated_at, version) VALUES ('policy', '{}', now(), 1)",
        )
        _refused(as_agent, "UPDATE setting SET value = '{}'")
        _refused(
            as_agent,
            "INSERT INTO payment (reference, customer_id, amount_cents, paid_on, created_at) "
            "VALUES ('fake', :c, 100, current_date, now())",
            c=mine,
        )
        _refused(
            as_agent,
            "INSERT INTO audit_event (at, agent_id, action, entity, detail) "
            "VALUES (now(), :o, 'view', 'customer', 'in a colleague''s name')",
            o=other_id,
        )
        _refused(as_agent, "UPDATE agent SET role = 'supervisor'")
        _refused(as_agent, "DELETE FROM customer WHERE id = :c", c=mine)


def test_row_level_security_shows_an_agent_only_their_customers(
    team: Team, as_agent: Connection
) -> None:
    mine = _assigned(team, team.agent)
    theirs = _assigned(team, team.other)
    assert mine and theirs
    best_time = "SELECT best_time FROM customer WHERE id = :c"
    with Database(team.owner_url) as owner, owner.engine.connect() as c:
        before = c.scalar(text(best_time), {"c": theirs[0]})
    with as_agent.begin():
        seen = as_agent.scalars(text("SELECT id FROM customer ORDER BY id")).all()
        assert seen == mine
        assert (
            as_agent.scalar(text("SELECT id FROM customer WHERE id = :c"), {"c": theirs[0]}) is None
        )
        # Everything hanging off a customer follows the customer.
        points = as_agent.scalars(text("SELECT DISTINCT customer_id FROM contact_point")).all()
        assert points and set(points) <= set(mine)
        claims = as_agent.scalars(text("SELECT DISTINCT customer_id FROM claim")).all()
        assert claims and set(claims) <= set(mine)
        # An update aimed at a colleague's customer finds nothing to update.
        updated = as_agent.execute(
            text("UPDATE customer SET best_time = 'evening_x' WHERE id = :c"), {"c": theirs[0]}
        )
        assert updated.rowcount == 0
        # Writing work on a colleague's customer is refused outright.
        _refused(
            as_agent,
            "INSERT INTO note (customer_id, at, text, version) VALUES (:c, now(), 'x', 1)",
            c=theirs[0],
        )
    with Database(team.owner_url) as owner, owner.engine.connect() as c:
        assert c.scalar(text(best_time), {"c": theirs[0]}) == before


def test_a_supervisor_sees_everyone_and_can_reassign(team: Team) -> None:
    theirs = _assigned(team, team.other)
    me = _agent_id(team, team.agent)
    engine = create_engine(team.url_for(team.supervisor))
    try:
        with engine.begin() as c:
            total = c.scalar(text("SELECT count(*) FROM customer"))
            assert total == 60
            moved = c.execute(
                text("UPDATE customer SET assigned_agent_id = :me WHERE id = :c"),
                {"me": me, "c": theirs[-1]},
            )
            assert moved.rowcount == 1
            c.execute(
                text(
                    "INSERT INTO setting (key, value, updated_at, version) "
                    "VALUES ('team_test', '1', now(), 1)"
                )
            )
            # Append-only for supervisors too.
            for statement in ("UPDATE audit_event SET detail = 'x'", "DELETE FROM audit_event"):
                _refused(c, statement)
        assert theirs[-1] in _assigned(team, team.agent)
    finally:
        engine.dispose()


# ------------------------------------------------- the services on one's own connection


def test_an_agent_does_normal_work_on_their_own_connection(team: Team) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with team.database_for(team.agent) as desk:
        with desk.transaction() as session:
            actor = actor_for_login(session, team.agent)
            claimed = claim_next(session, actor, now)
            assert claimed is not None
            attempt = log_contact_attempt(
                session,
                actor,
                claimed.customer_id,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.NO_ANSWER,
                note="voicemail",
                next_step=NextStepInput(NextStepKind.RETRY, now + timedelta(days=1)),
                now=now,
                expected_version=claimed.version,
            )
            add_note(session, actor, claimed.customer_id, "Belde terug na 17:00.", now)
        with desk.transaction() as session:
            row = session.get_one(ContactAttempt, attempt)
            assert row.agent_id == actor.agent_id
            customer = session.get_one(Customer, claimed.customer_id)
            assert customer.next_step_kind == NextStepKind.RETRY
            assert customer.held_by_agent_id == actor.agent_id


def test_approval_is_refused_by_the_server_even_if_a_desk_pretends(team: Team) -> None:
    """The agent agrees a plan outside policy; only a supervisor's connection approves it."""
    policy = load_default_policy()
    with Database(team.owner_url) as owner, owner.transaction() as session:
        customer = session.scalars(
            select(Customer)
            .where(
                Customer.assigned_agent_id == _agent_id(team, team.agent),
                Customer.arrears_cents >= 10000,
                Customer.id.not_in(
                    select(Arrangement.customer_id).where(
                        Arrangement.status.in_(["active", "pending_approval"])
                    )
                ),
            )
            .order_by(Customer.id)
        ).first()
        assert customer is not None
        customer_id, arrears = customer.id, customer.arrears_cents
        supervisor = actor_for_login(session, team.supervisor)
    plan = plan_by_count(arrears, policy.max_instalments + 1, date.today() + timedelta(days=7))
    with team.database_for(team.agent) as desk:
        with desk.transaction() as session:
            arrangement_id = agree_arrangement(
                session,
                actor_for_login(session, team.agent),
                customer_id,
                terms=Terms(Mode.COUNT, plan.start, count=plan.count),
                now=datetime.now(UTC),
                approval_reason="Klant heeft een laag inkomen.",
            )
        refused = pytest.raises(PermissionDeniedError, match="refused this for your role")
        with refused, desk.transaction() as session:
            approve_arrangement(session, supervisor, arrangement_id, "ok", datetime.now(UTC))
    with team.database_for(team.supervisor) as boss, boss.transaction() as session:
        approve_arrangement(session, supervisor, arrangement_id, "Akkoord.", datetime.now(UTC))
    with Database(team.owner_url) as owner, owner.transaction() as session:
        assert session.get_one(Arrangement, arrangement_id).status == "active"


def test_set_role_moves_the_server_role_between_groups(team: Team) -> None:
    login = f"{team.prefix}switch"
    with Database(team.owner_url) as owner:
        with owner.transaction() as session:
            add_user(session, SYSTEM, login, "Wisselaar", Role.AGENT)
        with team.database_for(login) as desk, desk.engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM customer")) == 0  # nothing assigned
        with owner.transaction() as session:
            account = set_role(session, SYSTEM, login, Role.SUPERVISOR)
            assert account.role is Role.SUPERVISOR and account.server_role
        with team.database_for(login) as desk, desk.engine.connect() as c:
            assert c.scalar(text("SELECT count(*) FROM customer")) == 60
            groups = [
                c.scalar(text(f"SELECT pg_has_role(current_user, '{g}', 'MEMBER')")) for g in GROUPS
            ]
            assert groups == [False, True]
        with owner.transaction() as session:
            deactivate_user(session, SYSTEM, login)
        with owner.engine.connect() as c:
            assert (
                c.scalar(text("SELECT rolcanlogin FROM pg_roles WHERE rolname = :n"), {"n": login})
                is False
            )
        with pytest.raises(DatabaseUnavailableError, match=f"refused user '{login}'"):
            team.database_for(login).check_connection()
        with owner.transaction() as session, pytest.raises(Exception, match="no longer active"):
            actor_for_login(session, login)


# ---------------------------------------------------------------------------- CLI


def test_admin_cli_adds_users_with_a_prompted_password(
    team: Team, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    login = f"{team.prefix}cli"
    answers = iter(["Zomer2027!", "Zomer2027!"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    argv = ["admin", "add-user", "--database", team.owner_url, "--login", login]
    assert main([*argv, "--name", "Cli Agent", "--role", "agent", "--password-prompt"]) == 0
    out = capsys.readouterr().out
    assert login in out and "sign-in role on the server" in out and "Zomer" not in out
    assert (
        main(
            [
                "admin",
                "set-role",
                "--database",
                team.owner_url,
                "--login",
                login,
                "--role",
                "supervisor",
            ]
        )
        == 0
    )
    assert "role: supervisor" in capsys.readouterr().out

    answers = iter(["een", "twee"])
    again = [*argv[:-1], f"{login}2", "--name", "X", "--role", "agent", "--password-prompt"]
    assert main(again) == 1
    assert capsys.readouterr().err.strip() == (
        "agent-desk: The two passwords differ; nothing was changed."
    )
    assert main([*argv[:-1], "Bad Login", "--name", "X", "--role", "agent"]) == 1
    assert "not a valid login" in capsys.readouterr().err
    assert main([*argv, "--name", "X", "--role", "boss"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert (
        main(
            [
                "admin",
                "set-role",
                "--database",
                team.owner_url,
                "--login",
                "nobody",
                "--role",
                "agent",
            ]
        )
        == 1
    )
    assert "no user with login 'nobody'" in capsys.readouterr().err
    assert main(["admin"]) == 2
    capsys.readouterr()


def test_admin_cli_on_sqlite_manages_agent_rows_only(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path}/desk.sqlite3"
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("no prompt on SQLite"))
    base = ["admin", "add-user", "--database", url, "--login", "sanne.devries", "--name", "Sanne"]
    assert main([*base, "--role", "agent", "--password-prompt"]) == 2
    assert "PostgreSQL" in capsys.readouterr().err
    assert main([*base, "--role", "agent"]) == 0
    assert "sign-in role" not in capsys.readouterr().out
    assert main(["agents", "--database", url, "--json"]) == 0
    assert '"sanne.devries"' in capsys.readouterr().out


def test_login_stores_the_password_in_the_keyring_after_checking_it(
    team: Team, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return "Herfst2027!"

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    url = make_url(team.owner_url)
    plain_url = url.set(username=None, drivername="postgresql").render_as_string()
    assert main(["login", "--database", plain_url, "--user", team.agent]) == 0
    out = capsys.readouterr().out
    assert "Herfst" not in out and "keyring" in out
    assert len(prompts) == 1 and team.agent in prompts[0]
    stored = secrets.get_password(url.host or "", url.port, url.database or "", team.agent)
    assert stored == "Herfst2027!"
    # The desk now connects with it (the trusting test server ignores it, but it is used).
    with Database(make_url(team.url_for(team.agent))) as desk:
        desk.check_connection()

    # A user the server does not know: refused in one sentence, nothing stored.
    assert main(["login", "--database", plain_url, "--user", "nobody_here"]) == 1
    err = capsys.readouterr().err
    assert "refused user 'nobody_here'" in err and err.count("\n") == 1
    assert secrets.get_password(url.host or "", url.port, url.database or "", "nobody_here") is None


@pytest.mark.parametrize(
    ("argv", "status", "message"),
    [
        (["login", "--database", "sqlite:///x.sqlite3", "--user", "a"], 2, "SQLite"),
        (["login", "--database", "postgresql://a:secret@h/db"], 2, "Do not put a password"),
        (["login", "--database", "postgresql://h/db"], 2, "--user NAME"),
        (["login", "--user", "a"], 2, "required: --database"),
    ],
)
def test_login_bad_usage(
    argv: list[str],
    status: int,
    message: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    assert main(argv) == status
    assert message in capsys.readouterr().err


def test_login_without_a_keyring_says_so_and_never_writes_plain_text(
    team: Team, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("getpass.getpass", lambda prompt="": pytest.fail("must not prompt"))
    keyring.set_keyring(fail.Keyring())
    try:
        assert main(["login", "--database", team.owner_url, "--user", team.agent]) == 1
    finally:
        keyring.set_keyring(MemoryKeyring())
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "agent-desk: No keyring is available on this computer, so the password cannot be "
        "remembered; the desk will ask for it each session.\n"
    )


def test_every_table_of_the_team_database_has_row_security_and_a_supervisor_policy(
    pg_server_url: str,
) -> None:
    """A table a later migration adds is guarded too: nothing is open by default."""
    engine = create_engine(pg_server_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT c.relname, c.relrowsecurity, "
                    "EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid "
                    "AND p.polname = 'supervisor_all') "
                    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                    "WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p')"
                )
            ).all()
    finally:
        engine.dispose()
    assert len(rows) >= 19
    unguarded = sorted(name for name, secured, policy in rows if not (secured and policy))
    assert unguarded == []

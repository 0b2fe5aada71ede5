"""Migration 0015 makes the guards cheaper for the owner's bulk writes without changing
what they allow or refuse (PostgreSQL; SQLite has no guards). The refusals themselves
are in ``test_attacks.py``; here: who ``caller()`` says each login is, before and
after, and the date guard's trigger fires only for a date it could refuse."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL

from agent_desk.services import db_rules
from agent_desk.services.migrate import alembic_config

GUARD = db_rules.GUARD_SCHEMA


@pytest.fixture
def engine(fresh_pg: Callable[[str], AbstractContextManager[URL]]) -> Iterator[Engine]:
    with fresh_pg("agent_desk_owner_fast") as url:
        engine = create_engine(url)
        yield engine
        engine.dispose()


def _migrate(engine: Engine, to: str, down: bool = False) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if down else command.upgrade)(config, to)


def _kinds(engine: Engine, logins: dict[str, str]) -> dict[str, str]:
    """What ``caller()`` says each login is, asked as the guards ask it: from a function
    of the owner's (``SECURITY DEFINER``), in a session of that login (``SET SESSION
    AUTHORIZATION`` changes the session's login, as signing in as it would)."""
    kinds = {}
    with engine.connect() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION public.test_who() RETURNS text LANGUAGE sql SECURITY DEFINER "
                f"SET search_path = public, pg_temp AS $$ SELECT kind FROM {GUARD}.caller() $$"
            )
        )  # gone with the rollback below
        for name, login in logins.items():
            connection.execute(text(f'SET SESSION AUTHORIZATION "{login}"'))
            kinds[name] = connection.execute(text("SELECT public.test_who()")).scalar()
            connection.execute(text("RESET SESSION AUTHORIZATION"))
        connection.rollback()
    return kinds


def _team(engine: Engine) -> dict[str, str]:
    """The owner's login, a second superuser, a supervisor, an agent, a stranger and a
    login that was an agent and left."""
    tag = uuid.uuid4().hex[:8]
    logins = {
        "owner": str(
            engine.connect().execute(text("SELECT current_user")).scalar()
        ),  # ran the migrations
        "superuser": f"root_{tag}",
        "supervisor": f"sup_{tag}",
        "agent": f"agt_{tag}",
        "stranger": f"who_{tag}",
        "gone": f"gone_{tag}",
    }
    with engine.begin() as c:
        c.execute(text(f'CREATE ROLE "{logins["superuser"]}" LOGIN SUPERUSER'))
        for name, role in (
            ("supervisor", "agent_desk_supervisor"),
            ("agent", "agent_desk_agent"),
            ("stranger", None),
            ("gone", "agent_desk_agent"),
        ):
            c.execute(text(f'CREATE ROLE "{logins[name]}" LOGIN'))
            if role:
                c.execute(text(f'GRANT {role} TO "{logins[name]}"'))
        for n, (name, role, active) in enumerate(
            (
                ("supervisor", "supervisor", True),
                ("agent", "agent", True),
                ("gone", "agent", False),
            ),
            start=1,
        ):
            c.execute(
                text(
                    "INSERT INTO agent (id, login, display_name, role, active, created_at, "
                    "version) VALUES (:id, :login, :login, :role, :active, now(), 1)"
                ),
                {"id": 100 + n, "login": logins[name], "role": role, "active": active},
            )
    return logins


EXPECTED = {
    "owner": "owner",
    "superuser": "owner",
    "supervisor": "supervisor",
    "agent": "agent",
    "stranger": "nobody",
    "gone": "nobody",
}


def _drop(engine: Engine, logins: dict[str, str]) -> None:
    with engine.begin() as c:
        c.execute(text("DELETE FROM agent WHERE id > 100"))
        for name, login in logins.items():
            if name != "owner":
                c.execute(text(f'DROP OWNED BY "{login}"'))
                c.execute(text(f'DROP ROLE "{login}"'))


def test_caller_names_every_login_as_before_and_the_date_guard_fires_only_for_later_dates(
    engine: Engine,
) -> None:
    _migrate(engine, "0014")
    logins = _team(engine)
    try:
        before = _kinds(engine, logins)
        assert before == EXPECTED
        _migrate(engine, "0015")
        assert _kinds(engine, logins) == before
        with engine.connect() as c:
            definition = c.execute(
                text(
                    "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                    "WHERE tgname = 'guard_dates' AND tgrelid = 'contact_point'::regclass"
                )
            ).scalar_one()
        assert "WHEN ((new.verified_at > (now() + '01:00:00'::interval)))" in definition
        # And back: 0014's caller and trigger, the same answers.
        _migrate(engine, "0014", down=True)
        assert _kinds(engine, logins) == EXPECTED
        with engine.connect() as c:
            definition = c.execute(
                text(
                    "SELECT pg_get_triggerdef(oid) FROM pg_trigger "
                    "WHERE tgname = 'guard_dates' AND tgrelid = 'contact_point'::regclass"
                )
            ).scalar_one()
        assert "WHEN" not in definition
        _migrate(engine, "head")
        assert _kinds(engine, logins) == EXPECTED
    finally:
        _drop(engine, logins)

"""People who sign in: an agent row and, on PostgreSQL, a login role of their own.

Each person connects to the team database as themselves. Their login role is a member
of one group role (``agent_desk_agent`` or ``agent_desk_supervisor``, created by
migration 0002) whose grants and row-level security policies let the server itself
refuse what their role may not do, and it may connect to this database (migration
0004 takes ``CONNECT`` away from everyone else). The group roles are shared by every
Agent Desk database on the server; the policies also require an active row in *this*
database's ``agent`` table, so a login gets nothing in a database whose team it is
not in. The services check the role as well; the server is the second lock.

Run these on a connection that may create roles (the database owner or an admin
with CREATEROLE). On SQLite there are no server roles: only agent rows change.
Passwords never reach the server as text: libpq turns them into a SCRAM verifier
first, so they cannot end up in a server log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg import sql
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from agent_desk.domain.codes import Role
from agent_desk.errors import NotFoundError, PermissionDeniedError, ValidationError
from agent_desk.i18n import N_
from agent_desk.models import Agent, Customer
from agent_desk.services.actor import Actor
from agent_desk.services.audit import audit
from agent_desk.services.changelog import log_changes

GROUP_ROLES = {Role.AGENT: "agent_desk_agent", Role.SUPERVISOR: "agent_desk_supervisor"}
LOGIN_PATTERN = re.compile(r"^[a-z][a-z0-9_.]{1,62}$")
_RESERVED_PREFIXES = ("pg_", "agent_desk_")
_RESERVED = frozenset({"postgres", "public", "none", "current_user", "session_user"})
_ROLE_FACTS = text(
    "SELECT rolsuper OR rolbypassrls, rolcanlogin FROM pg_roles WHERE rolname = :login"
)


@dataclass(frozen=True)
class UserAccount:
    agent_id: int
    login: str
    display_name: str
    role: Role
    active: bool
    server_role: bool  # a PostgreSQL login role exists for this person


def validate_login(login: str) -> str:
    """A login is also a server role name: lower-case, strict, never quoted oddly."""
    login = login.strip()
    if not LOGIN_PATTERN.fullmatch(login):
        raise ValidationError(
            "'{login}' is not a valid login; use 2 to 63 lower-case letters, digits, '.' or '_', "
            "starting with a letter (e.g. sanne.devries).",
            "login",
            login=login,
        )
    if login in _RESERVED or login.startswith(_RESERVED_PREFIXES):
        raise ValidationError("'{login}' is reserved; choose another login.", "login", login=login)
    return login


def _is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _driver_connection(session: Session) -> psycopg.Connection[object]:
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    return raw


def _execute(session: Session, statement: sql.Composed) -> None:
    """Run DDL built with ``psycopg.sql`` on the session's own connection (transaction)."""
    try:
        _driver_connection(session).execute(statement)
    except psycopg.errors.InsufficientPrivilege:
        raise PermissionDeniedError(
            "Your database role may not create or change sign-in roles; run this "
            "as the database owner or an administrator with CREATEROLE."
        ) from None


def _server_role(session: Session, login: str) -> tuple[bool, bool] | None:
    """(superuser or bypasses RLS, can log in) of an existing server role, else None."""
    row = session.execute(_ROLE_FACTS, {"login": login}).first()
    if row is None:
        return None
    return bool(row[0]), bool(row[1])


def _encrypted(session: Session, login: str, password: str) -> str:
    raw = _driver_connection(session)
    verifier: bytes = raw.pgconn.encrypt_password(
        password.encode("utf-8"), login.encode("utf-8"), b"scram-sha-256"
    )
    return verifier.decode("ascii")


def _grant_group(session: Session, login: str, role: Role) -> None:
    for other, group in GROUP_ROLES.items():
        verb = "GRANT {} TO {}" if other is role else "REVOKE {} FROM {}"
        _execute(session, sql.SQL(verb).format(sql.Identifier(group), sql.Identifier(login)))


def _database_access(session: Session, login: str, *, allowed: bool) -> None:
    """Since migration 0004 only the team's people may connect to its database."""
    database = session.execute(text("SELECT current_database()")).scalar_one()
    verb = (
        "GRANT CONNECT ON DATABASE {} TO {}" if allowed else "REVOKE CONNECT ON DATABASE {} FROM {}"
    )
    _execute(session, sql.SQL(verb).format(sql.Identifier(database), sql.Identifier(login)))


def _ensure_server_role(session: Session, login: str, role: Role, password: str | None) -> None:
    current = session.execute(text("SELECT current_user")).scalar_one()
    if login == current:
        raise ValidationError(
            "'{login}' is the role you are connected as; choose another login.",
            "login",
            login=login,
        )
    existing = _server_role(session, login)
    if existing is not None and existing[0]:
        raise ValidationError(
            "The server role '{login}' is a superuser or bypasses row-level security; it cannot "
            "be used as a desk login.",
            "login",
            login=login,
        )
    name = sql.Identifier(login)
    if existing is None:
        _execute(session, sql.SQL("CREATE ROLE {} LOGIN").format(name))
    else:  # e.g. the same person in a second Agent Desk database on this server
        _execute(session, sql.SQL("ALTER ROLE {} LOGIN").format(name))
    if password is not None:
        _execute(
            session,
            sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                name, sql.Literal(_encrypted(session, login, password))
            ),
        )
    _grant_group(session, login, role)
    _database_access(session, login, allowed=True)


def _account(session: Session, agent: Agent) -> UserAccount:
    server = _is_postgresql(session) and _server_role(session, agent.login) is not None
    return UserAccount(
        agent.id, agent.login, agent.display_name, Role(agent.role), agent.active, server
    )


def _agent(session: Session, login: str) -> Agent:
    agent = session.scalar(select(Agent).where(Agent.login == login.strip()))
    if agent is None:
        raise NotFoundError(
            "There is no user with login '{login}'; see 'agent-desk agents'.", login=login
        )
    return agent


def add_user(
    session: Session,
    actor: Actor,
    login: str,
    display_name: str,
    role: Role,
    password: str | None = None,
) -> UserAccount:
    """A new person: their agent row and (PostgreSQL) their login role in the group.

    Without a password the role can only sign in where the server trusts the
    connection (peer or certificate authentication, or tests).
    """
    actor.require_supervisor(N_("add users"))
    login = validate_login(login)
    display_name = display_name.strip()
    if not display_name:
        raise ValidationError("Give the person's name as colleagues know it.", "display_name")
    if len(display_name) > 200:
        raise ValidationError("The name is too long (at most 200 characters).", "display_name")
    if password is not None and not password:
        raise ValidationError("The password is empty.", "password")
    if session.scalar(select(Agent.id).where(Agent.login == login)) is not None:
        raise ValidationError("There is already a user with login '{login}'.", "login", login=login)
    agent = Agent(login=login, display_name=display_name, role=role.value, active=True)
    session.add(agent)
    session.flush()
    postgresql = _is_postgresql(session)
    if postgresql:
        _ensure_server_role(session, login, role, password)
    elif password is not None:
        raise ValidationError(
            "Passwords are for a team database on PostgreSQL; a SQLite desk has none.",
            "password",
        )
    audit(session, actor, "create", "agent", agent.id, detail=f"{login} as {role.value}")
    return UserAccount(agent.id, login, display_name, role, True, postgresql)


def set_role(session: Session, actor: Actor, login: str, role: Role) -> UserAccount:
    """Make someone an agent or a supervisor, in the agent row and on the server."""
    actor.require_supervisor(N_("change someone's role"))
    agent = _agent(session, login)
    if agent.id == actor.agent_id and role is not Role.SUPERVISOR:
        raise ValidationError("You cannot take away your own supervisor role.", "role")
    previous = agent.role
    if previous != role.value:
        agent.role = role.value
        session.flush()
    if _is_postgresql(session) and agent.active and _server_role(session, agent.login):
        _grant_group(session, agent.login, role)
    audit(session, actor, "set_role", "agent", agent.id, detail=f"{previous} -> {role.value}")
    return _account(session, agent)


def deactivate_user(session: Session, actor: Actor, login: str) -> UserAccount:
    """Someone leaves: no more sign-in, holds released; their history stays."""
    actor.require_supervisor(N_("deactivate users"))
    agent = _agent(session, login)
    if agent.id == actor.agent_id:
        raise ValidationError("You cannot deactivate yourself.", "login")
    if agent.active:
        agent.active = False
        session.flush()
    held = list(session.scalars(select(Customer.id).where(Customer.held_by_agent_id == agent.id)))
    if held:
        session.execute(
            update(Customer)
            .where(Customer.id.in_(held))
            .values(held_by_agent_id=None, held_until=None)
            .execution_options(synchronize_session="fetch")
        )
        log_changes(session, "customer", held, "update", held)
    if _is_postgresql(session) and _server_role(session, agent.login):
        _execute(session, sql.SQL("ALTER ROLE {} NOLOGIN").format(sql.Identifier(agent.login)))
        _database_access(session, agent.login, allowed=False)
        for group in GROUP_ROLES.values():
            _execute(
                session,
                sql.SQL("REVOKE {} FROM {}").format(
                    sql.Identifier(group), sql.Identifier(agent.login)
                ),
            )
    audit(session, actor, "deactivate", "agent", agent.id, detail=agent.login)
    return _account(session, agent)


def list_users(session: Session) -> list[UserAccount]:
    agents = session.scalars(select(Agent).order_by(Agent.login)).all()
    return [_account(session, a) for a in agents]


__all__ = [
    "GROUP_ROLES",
    "LOGIN_PATTERN",
    "UserAccount",
    "add_user",
    "deactivate_user",
    "list_users",
    "set_role",
    "validate_login",
]

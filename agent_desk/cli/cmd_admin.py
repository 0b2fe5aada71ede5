"""``agent-desk admin``: add people who sign in, change their role, deactivate them.

Run against the team database as its owner (or an administrator who may create
roles): on PostgreSQL each person gets a login role of their own in the agent or
supervisor group. Passwords are typed at a prompt, never given on the command line.
"""

from __future__ import annotations

import argparse
import getpass
from typing import Any

from sqlalchemy.orm import Session

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.cli._db import open_database
from agent_desk.domain.codes import Role
from agent_desk.errors import UsageError, ValidationError
from agent_desk.services.actor import SYSTEM, Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.team_security import (
    UserAccount,
    add_user,
    deactivate_user,
    set_role,
)

ROLES = [r.value for r in Role]


def register(subparsers: Any) -> None:
    admin = add_command(
        subparsers, "admin", "manage the people who sign in (team database)", database=False
    )
    actions = admin.add_subparsers(dest="admin_command", metavar="ACTION", required=True)

    add = add_command(actions, "add-user", "add an agent or supervisor who signs in as themselves")
    add.add_argument("--login", required=True, help="their login, also their database user")
    add.add_argument("--name", required=True, help="their name as colleagues know it")
    add.add_argument("--role", required=True, choices=ROLES, help="agent or supervisor")
    add.add_argument(
        "--password-prompt",
        action="store_true",
        help="ask for their first password (typed twice, not shown)",
    )
    _add_by(add)
    add.set_defaults(func=run_add_user)

    change = add_command(actions, "set-role", "make someone an agent or a supervisor")
    change.add_argument("--login", required=True, help="their login")
    change.add_argument("--role", required=True, choices=ROLES, help="agent or supervisor")
    _add_by(change)
    change.set_defaults(func=run_set_role)

    leave = add_command(actions, "deactivate", "stop someone signing in (their history stays)")
    leave.add_argument("--login", required=True, help="their login")
    _add_by(leave)
    leave.set_defaults(func=run_deactivate)


def _add_by(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--by", metavar="LOGIN", help="the supervisor doing this, for the audit trail"
    )


def _actor(session: Session, args: argparse.Namespace) -> Actor:
    return actor_for_login(session, args.by) if args.by else SYSTEM


def _ask_password(login: str) -> str:
    first = getpass.getpass(f"Password for {login}: ")
    if not first:
        raise ValidationError("No password was typed; nothing was changed.", "password")
    if getpass.getpass("Type it again: ") != first:
        raise ValidationError("The two passwords differ; nothing was changed.", "password")
    return first


def _describe(account: UserAccount) -> str:
    where = " with a sign-in role on the server" if account.server_role else ""
    state = "" if account.active else " (deactivated)"
    return f"{account.login} ({account.display_name}), role: {account.role.value}{where}{state}."


def run_add_user(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _add_user(args, database)


def _add_user(args: argparse.Namespace, database: Database) -> int:
    password: str | None = None
    if args.password_prompt:
        if database.is_sqlite:
            raise UsageError(
                "Passwords are for a team database on PostgreSQL; a SQLite desk has none."
            )
        password = _ask_password(args.login)
    with database.transaction() as session:
        account = add_user(
            session, _actor(session, args), args.login, args.name, Role(args.role), password
        )
    print(f"Added {_describe(account)}")  # e.g. "Added sanne (Sanne de Vries), role: agent …"
    return EXIT_OK


def run_set_role(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        account = set_role(session, _actor(session, args), args.login, Role(args.role))
    print(f"Now {_describe(account)}")
    return EXIT_OK


def run_deactivate(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        account = deactivate_user(session, _actor(session, args), args.login)
    print(f"Deactivated: {_describe(account)}")
    return EXIT_OK

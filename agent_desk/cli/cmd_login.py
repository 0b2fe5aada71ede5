"""``agent-desk login``: check a password against the team server and keep it in the
OS keyring, so the desk can connect without asking. Never anywhere else."""

from __future__ import annotations

import argparse
import getpass
from typing import Any

import keyring.errors

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.errors import AgentDeskError, UsageError
from agent_desk.services import secrets
from agent_desk.services.database import Database, parse_database_url


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "login",
        "store your team-database password in the keyring (typed, not shown)",
        database=False,
    )
    parser.add_argument(
        "--database",
        required=True,
        metavar="URL",
        help="the team database, e.g. postgresql://desk.example.nl/collections",
    )
    parser.add_argument("--user", metavar="NAME", help="your database user (default: from URL)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    url = parse_database_url(args.database)
    if url.get_backend_name() != "postgresql":
        raise UsageError(
            "A SQLite database has no password; 'agent-desk login' is for a team "
            "database on PostgreSQL."
        )
    user = (args.user or url.username or "").strip()
    if not user:
        raise UsageError("Say who you are with --user NAME.")
    url = url.set(username=user)
    host, port, name = url.host or "", url.port, url.database or ""
    if not secrets.keyring_available():
        raise AgentDeskError(
            "No keyring is available on this computer, so the password cannot be "
            "remembered; the desk will ask for it each session."
        )
    password = getpass.getpass(f"Password for {user} on {host}:{port or 5432}/{name}: ")
    if not password:
        raise UsageError("No password was typed; nothing was stored.")
    with Database(url, password=password) as database:
        database.check_connection()
    try:
        secrets.set_password(host, port, name, user, password)
    except keyring.errors.KeyringError as error:
        raise AgentDeskError(
            f"The keyring did not store the password ({type(error).__name__}); "
            "the desk will ask for it each session."
        ) from None
    print(f"Signed in as {user}; the password for {host}:{port or 5432}/{name} is in the keyring.")
    return EXIT_OK

"""Opening the database for a subcommand."""

from __future__ import annotations

import argparse
from pathlib import Path

from sqlalchemy.engine import make_url

from agent_desk.config import resolve_database_url
from agent_desk.errors import AgentDeskError
from agent_desk.services.database import Database


def open_database(args: argparse.Namespace, *, create: bool = True) -> Database:
    """The database named by --database / the environment / the default.

    ``create``: bring an empty or outdated database up to the current schema, the way
    the desk does on start. Commands that only read pass False and get a clear error.
    """
    choice = resolve_database_url(
        getattr(args, "database", None), demo=getattr(args, "demo", False)
    )
    database = Database(choice.url)
    try:
        database.check_connection()
        if database.is_empty() or not database.is_current():
            if not create:
                raise AgentDeskError(
                    f"The database {database.display} has no Agent Desk tables yet; "
                    "run 'agent-desk db upgrade'."
                )
            database.upgrade()
    except BaseException:
        database.dispose()
        raise
    return database


def team_database(args: argparse.Namespace) -> Database | None:
    """The team's database for a command that also works without one (interest,
    scripts check): the one named by --database or the environment, or the default
    file if it exists and is current; ``None`` means the shipped files apply."""
    choice = resolve_database_url(
        getattr(args, "database", None), demo=getattr(args, "demo", False)
    )
    if choice.source == "default":
        path = make_url(choice.url).database
        if not path or not Path(path).expanduser().exists():
            return None
        database = Database(choice.url)
        try:
            if database.is_empty() or not database.is_current():
                database.dispose()
                return None
        except BaseException:
            database.dispose()
            raise
        return database
    return open_database(args, create=False)

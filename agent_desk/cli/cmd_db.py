"""``agent-desk db upgrade``: apply the schema migrations."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.config import resolve_database_url
from agent_desk.services.database import Database


def register(subparsers: Any) -> None:
    db = add_command(subparsers, "db", "manage the database schema", database=False)
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    upgrade = add_command(db_sub, "upgrade", "create or upgrade the schema to the current version")
    upgrade.set_defaults(func=run_upgrade)


def run_upgrade(args: argparse.Namespace) -> int:
    with Database(resolve_database_url(getattr(args, "database", None)).url) as database:
        database.upgrade()
        print(f"The database {database.display} is up to date.")
    return EXIT_OK

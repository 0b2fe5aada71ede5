"""``agent-desk nightly``: mark missed instalments, broken and completed arrangements."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.services.arrangements import mark_missed_instalments


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "nightly",
        "the nightly run: mark missed instalments and broken or completed arrangements",
    )
    parser.add_argument(
        "--today",
        metavar="DATE",
        type=iso_date,
        help="run as if today were DATE (YYYY-MM-DD); default today",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    today = args.today or date.today()
    with open_database(args) as database, database.transaction() as session:
        result = mark_missed_instalments(session, today)
    if args.json:
        print_json(
            {
                "today": result.today.isoformat(),
                "arrangements_checked": result.arrangements_checked,
                "instalments_paid": result.instalments_paid,
                "instalments_missed": result.instalments_missed,
                "arrangements_broken": result.arrangements_broken,
                "arrangements_completed": result.arrangements_completed,
                "customers_refreshed": result.customers_refreshed,
                "reminders_scheduled": result.reminders_scheduled,
            }
        )
    else:
        print(result.summary())
    return EXIT_OK

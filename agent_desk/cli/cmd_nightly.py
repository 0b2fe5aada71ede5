"""``agent-desk nightly``: the books catch up with the calendar (see services.nightly)."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.services.nightly import run_nightly


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "nightly",
        "the nightly run: book costs and interest, mark missed instalments and broken or "
        "completed arrangements, resolve promises to pay",
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
        result = run_nightly(session, today)
    if args.json:
        print_json(result.as_json())
    else:
        print(result.summary())
    return EXIT_OK

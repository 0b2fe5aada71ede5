"""``agent-desk nightly``: the books catch up with the calendar (see services.nightly)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
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
    parser.add_argument(
        "--send-messages",
        action="store_true",
        help="then queue and send the reminders and missed-instalment messages the day owes "
        "(as 'messages send-due'; what the sending window holds back waits for the next run)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    today = args.today or date.today()
    with open_database(args) as database:
        with database.transaction() as session:
            result = run_nightly(session, today)
        sent = None
        if args.send_messages:  # issue 14
            from agent_desk.services.sending import send_due

            sent = send_due(database, today, datetime.now(UTC))
    if args.json:
        document = result.as_json()
        if sent is not None:
            document["messages"] = sent.as_json()
        print_json(document)
    else:
        print(result.summary())
        if sent is not None:
            print(sent.summary())
    return EXIT_OK

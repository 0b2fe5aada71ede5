"""``agent-desk nightly``: the books catch up with the calendar, then the messages the
night owes are sent (see services.nightly)."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain import team_day
from agent_desk.services.nightly import run_nightly

ZONE = ZoneInfo("Europe/Amsterdam")


def _moment(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a date and time") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZONE)
    return value.astimezone(UTC)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "nightly",
        "the nightly run: book costs and interest, mark missed instalments and broken or "
        "completed arrangements, resolve promises to pay; then send the reminders and "
        "missed-instalment messages the night owes",
    )
    parser.add_argument(
        "--today",
        metavar="DATE",
        type=iso_date,
        help="run as if today were DATE (YYYY-MM-DD); default today",
    )
    parser.add_argument(
        "--now",
        type=_moment,
        metavar="DATETIME",
        help="the moment to judge the sending window by (default: now); for replays and tests",
    )
    parser.add_argument(
        "--no-messages",
        action="store_true",
        help="book only: send no messages (by default the run sends instalment and promise "
        "reminders and missed-instalment messages when a mail server or SMS provider is set "
        "up, within the sending rules; what they hold back waits for the next run)",
    )
    # Sending is the default now; the old opt-in flag is still accepted.
    parser.add_argument("--send-messages", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    now: datetime = args.now or datetime.now(UTC)
    today: date = args.today or team_day.local_day(now)
    with open_database(args) as database:
        with database.transaction() as session:
            result = run_nightly(session, today)
        sent = None
        if not args.no_messages:  # issue 14
            from agent_desk.services.nightly import send_messages

            sent = send_messages(database, today, now)
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

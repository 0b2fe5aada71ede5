"""``agent-desk objection --customer N --date DATE --channel CH``: the customer objects to
an early signal to the municipality (``--withdraw``: withdraws the objection)."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.balance import customer_by_number
from agent_desk.services.signals import OBJECTION_CHANNELS, record_objection


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers, "objection", "record that a customer objects to an early signal"
    )
    parser.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    parser.add_argument(
        "--date", required=True, type=iso_date, metavar="DATE", help="the day it reached you"
    )
    parser.add_argument(
        "--channel",
        required=True,
        metavar="CH",
        help="how it came: " + ", ".join(OBJECTION_CHANNELS),
    )
    parser.add_argument("--withdraw", action="store_true", help="the customer withdraws it")
    parser.add_argument("--note", default="", help="a short note")
    parser.add_argument("--as", dest="as_login", metavar="LOGIN", help="who records it")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        customer = customer_by_number(session, args.customer)
        record_id = record_objection(
            session,
            actor,
            customer.id,
            on=args.date,
            channel=args.channel,
            now=utcnow(),
            source="cli",
            withdrawal=args.withdraw,
            note=args.note,
        )
        number = customer.customer_number
    kind = "withdrawal" if args.withdraw else "objection"
    if args.json:
        print_json(
            {
                "id": record_id,
                "customer_number": number,
                "kind": kind,
                "date": args.date.isoformat(),
                "channel": args.channel.strip().lower(),
            }
        )
    elif args.withdraw:
        print(f"Customer {number} withdrew the objection ({args.date}); signals may go again.")
    else:
        print(
            f"Objection of customer {number} recorded ({args.date}, {args.channel}); no signal goes."
        )
    return EXIT_OK

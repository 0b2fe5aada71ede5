"""``agent-desk signals due|export|sent|status``: early signals to the municipality.

``due --json``: a list of ``customer_number``, ``why``, ``since`` (and the municipality);
``export --municipality NAME --out F.csv``: the due signals of one municipality as CSV,
each recorded as sent today (a second run does not export them again).
"""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, add_database_option, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain.signals import MISSING
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.balance import customer_by_number
from agent_desk.services.signal_export import export_signals, signals_sent
from agent_desk.services.signals import due_signals, signal_status


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "signals", "early signals to the municipality")
    actions = parser.add_subparsers(dest="signals_action", metavar="ACTION", required=True)
    due = actions.add_parser("due", help="customers for whom a signal is due")
    add_database_option(due)
    due.add_argument("--municipality", metavar="NAME", help="only this municipality")
    due.add_argument("--today", type=iso_date, metavar="DATE", help="as on this day")
    due.add_argument("--json", action="store_true", help="print JSON for scripts")
    due.set_defaults(func=run_due)
    export = actions.add_parser("export", help="write the due signals of a municipality")
    add_database_option(export)
    export.add_argument("--municipality", required=True, metavar="NAME")
    export.add_argument("--out", required=True, metavar="F.csv")
    export.add_argument("--today", type=iso_date, metavar="DATE", help="the day they are sent")
    export.add_argument("--as", dest="as_login", metavar="LOGIN", help="the supervisor")
    export.add_argument("--json", action="store_true", help="print JSON for scripts")
    export.set_defaults(func=run_export)
    sent = actions.add_parser("sent", help="the signals sent, newest first")
    add_database_option(sent)
    sent.add_argument("--json", action="store_true", help="print JSON for scripts")
    sent.set_defaults(func=run_sent)
    status = actions.add_parser("status", help="one customer: which conditions hold")
    add_database_option(status)
    status.add_argument("--customer", required=True, metavar="NUMBER")
    status.add_argument("--today", type=iso_date, metavar="DATE")
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.set_defaults(func=run_status)


def _today(args: argparse.Namespace) -> date:
    return args.today or utcnow().date()


def run_due(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        due = due_signals(session, _today(args), municipality=args.municipality)
    if args.json:
        print_json([d.as_json() for d in due])
        return EXIT_OK
    if not due:
        print("No signal to a municipality is due.")
    for d in due:
        print(
            f"{d.customer_number}  {d.municipality or '(municipality unknown)'}  due since {d.since}  {d.why}"
        )
    return EXIT_OK


def run_export(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        result = export_signals(session, actor, args.municipality, args.out, _today(args), utcnow())
    if args.json:
        print_json(
            {
                "municipality": result.municipality,
                "file": str(result.path),
                "exported": len(result.signal_ids),
                "customer_numbers": list(result.customer_numbers),
                "sha256": result.sha256,
            }
        )
    elif result.signal_ids:
        print(
            f"{len(result.signal_ids)} signal(s) for {result.municipality} written to "
            f"{result.path} and recorded as sent today."
        )
    else:
        print(f"No new signal for {result.municipality}; {result.path} holds only the header.")
    return EXIT_OK


def run_sent(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        rows = signals_sent(session)
    if args.json:
        print_json(rows)
        return EXIT_OK
    if not rows:
        print("No signal was sent yet.")
    for row in rows:
        print(
            f"{row['sent_on']}  {row['customer_number']}  {row['municipality']}  {row['arrears']}"
        )
    return EXIT_OK


def run_status(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        customer = customer_by_number(session, args.customer)
        status = signal_status(session, customer.id, _today(args))
        number = customer.customer_number
    result = status.reportability
    document = {
        "customer_number": number,
        "duty": status.duty,
        "due": result.due,
        "since": result.since.isoformat() if result.since else None,
        "met": [c.value for c, _ in result.met],
        "missing": [c.value for c in result.missing],
        "objection": (
            {
                "kind": status.objection[0],
                "date": status.objection[1].isoformat(),
                "channel": status.objection[2],
            }
            if status.objection
            else None
        ),
        "sent": [{"sent_on": d.isoformat(), "municipality": m} for d, m in status.sent],
    }
    if args.json:
        print_json(document)
        return EXIT_OK
    if result.due:
        print(f"Customer {number}: a signal to the municipality is due since {result.since}.")
    else:
        print(f"Customer {number}: no signal due.")
        for condition in result.missing:
            print(f"  - {MISSING[condition]}")
    for day, place in status.sent:
        print(f"  signal sent {day} to {place}")
    return EXIT_OK

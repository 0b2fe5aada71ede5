"""``agent-desk balance --customer NUMBER``: what a customer owes, per claim, from the books."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain import team_day
from agent_desk.domain.money import cents_to_str
from agent_desk.services.balance import balance_report, customer_by_number, report_json


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers, "balance", "what a customer owes: per claim, from the books (art. 6:44 BW)"
    )
    parser.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    parser.add_argument(
        "--on",
        metavar="DATE",
        type=iso_date,
        help="the balance on DATE (YYYY-MM-DD), with interest up to it; default today",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    on = args.on or team_day.today()
    with open_database(args) as database, database.transaction() as session:
        customer = customer_by_number(session, args.customer)
        report = balance_report(session, customer.id, on)
    document = report_json(report)
    if args.json:
        print_json(document)
        return EXIT_OK
    print(f"Customer {report.customer_number} on {on.isoformat()}: {report.status}")
    print(
        f"{'claim':<20} {'due':<10} {'principal':>10} {'costs':>9} {'interest':>9} {'paid':>10} {'owed':>10}"
    )
    for c in document["claims"]:
        print(
            f"{c['reference']:<20} {c['due_date']:<10} {c['principal']:>10} {c['costs']:>9} "
            f"{c['interest']:>9} {c['paid']:>10} {c['outstanding']:>10}"
        )
    t = document["totals"]
    print(
        f"{'total':<31} {t['principal']:>10} {t['costs']:>9} {t['interest']:>9} "
        f"{t['paid']:>10} {t['outstanding']:>10}"
    )
    if report.balance.credit_used:
        print(f"Credit used on these claims: {cents_to_str(report.balance.credit_used)}")
    if report.credit:
        print(f"Credit kept for the customer: {cents_to_str(report.credit)}")
    notice = document["fourteen_day_letter"]
    if notice:
        print(
            f"14-day letter sent {notice['sent_on']} ({notice['channel']}); term ends "
            f"{notice['term_ends']}; costs {notice['costs_named']}: {notice['status']}"
        )
    if document["arrangement"]:
        a = document["arrangement"]
        print(f"Arrangement {a['id']} ({a['status']}): {a['paid']} of {a['total']} paid")
    for p in document["promises"]:
        print(f"Promise: {p['amount']} by {p['by']} ({p['status']})")
    return EXIT_OK

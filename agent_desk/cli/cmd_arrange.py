"""``agent-desk arrange --customer NUMBER ...``: agree a payment arrangement as the desk does.

The amount comes from the books (outstanding principal of the claims due by today,
the costs a 14-day letter made owed, interest up to today); the options only say how
to pay it. Within policy the arrangement is active at once; outside it, it needs
``--reason`` and waits for a supervisor, exactly like the F4 calculator.
"""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.cli.cmd_calc import add_plan_options, terms_from_options
from agent_desk.domain.money import cents_to_str
from agent_desk.models import Arrangement
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.arrangements import agree_arrangement
from agent_desk.services.balance import customer_by_number


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "arrange",
        "agree a payment arrangement over what the books say a customer owes",
    )
    parser.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    add_plan_options(parser)
    parser.add_argument(
        "--waive-costs", action="store_true", help="let the collection costs go (booked)"
    )
    parser.add_argument(
        "--waive-interest", action="store_true", help="let the statutory interest go (booked)"
    )
    parser.add_argument(
        "--reason",
        metavar="TEXT",
        help="why the customer needs a plan outside policy (a supervisor decides)",
    )
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="the agent agreeing it (audit trail; default: the system)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    terms = terms_from_options(args)
    now = utcnow()
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        customer = customer_by_number(session, args.customer)
        arrangement_id = agree_arrangement(
            session, actor, customer.id, now=now, terms=terms, approval_reason=args.reason
        )
        document = arrangement_json(session.get_one(Arrangement, arrangement_id))
    if args.json:
        print_json(document)
        return EXIT_OK
    _print(document, args.customer)
    return EXIT_OK


def arrangement_json(arrangement: Arrangement) -> dict[str, Any]:
    costs = 0 if arrangement.costs_waived else arrangement.costs_cents
    interest = 0 if arrangement.interest_waived else arrangement.interest_cents
    return {
        "id": arrangement.id,
        "status": arrangement.status,
        "principal": cents_to_str(arrangement.principal_cents),
        "costs": cents_to_str(costs),
        "interest": cents_to_str(interest),
        "total": cents_to_str(arrangement.total_cents),
        "costs_waived": cents_to_str(arrangement.costs_cents - costs),
        "interest_waived": cents_to_str(arrangement.interest_cents - interest),
        "frequency": arrangement.frequency,
        "instalments": [
            {
                "number": i.number,
                "due": i.due_date.isoformat(),
                "amount": cents_to_str(i.amount_cents),
            }
            for i in sorted(arrangement.instalments, key=lambda i: (i.due_date, i.number))
        ],
    }


def _print(document: dict[str, Any], customer_number: str) -> None:
    state = (
        "waiting for a supervisor's approval"
        if document["status"] == "pending_approval"
        else document["status"]
    )
    instalments = document["instalments"]
    print(
        f"Arrangement {document['id']} for customer {customer_number}: {state}; "
        f"{document['total']} in {len(instalments)} instalments ({document['frequency']})."
    )
    for name in ("principal", "costs", "interest"):
        waived = document.get(f"{name}_waived", "0.00")
        note = f"  (waived {waived})" if waived != "0.00" else ""
        print(f"  {name:<10} {document[name]:>12}{note}")
    print(f"  {'total':<10} {document['total']:>12}")
    print(f"{'No.':>4}  {'Due':<10}  {'Amount':>12}")
    for i in instalments:
        print(f"{i['number']:>4}  {i['due']:<10}  {i['amount']:>12}")

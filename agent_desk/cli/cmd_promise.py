"""``agent-desk promise --customer NUMBER --amount X --by DATE``: record a promise to pay.

The same service as F3 on the desk (``services.activity.record_promise``), so the same
rules: more than zero, not more than the customer owes, not in the past and not more
than three months ahead; the next step becomes checking it the day after the date.
"""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, iso_date, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain.money import cents_to_str, parse_amount
from agent_desk.errors import UsageError, ValidationError
from agent_desk.models import PromiseToPay
from agent_desk.models.base import utcnow
from agent_desk.services.activity import record_promise
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.balance import customer_by_number


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "promise", "record a customer's promise to pay, as F3 does")
    parser.add_argument("--customer", required=True, metavar="NUMBER", help="customer number")
    parser.add_argument(
        "--amount", required=True, metavar="EUROS", help="the amount promised, e.g. 250.00"
    )
    parser.add_argument(
        "--by",
        required=True,
        type=iso_date,
        metavar="DATE",
        help="the day the customer will have paid (YYYY-MM-DD)",
    )
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="the agent who took the promise (default: the system)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def amount_cents(text: str) -> int:
    """The typed amount in cents. Text that is no amount is bad usage; zero or less is
    passed on, for the service to refuse by its rule."""
    raw = text.strip()
    negative = raw.startswith("-")
    try:
        cents = parse_amount(raw.removeprefix("-"), allow_zero=True)
    except ValidationError as error:
        raise UsageError(str(error)) from None
    return -cents if negative else cents


def run(args: argparse.Namespace) -> int:
    cents = amount_cents(args.amount)
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        customer = customer_by_number(session, args.customer)
        promise_id = record_promise(
            session, actor, customer.id, amount_cents=cents, due_date=args.by, now=utcnow()
        )
        promise = session.get(PromiseToPay, promise_id)
        assert promise is not None
        number, status = customer.customer_number, promise.status
    document = {
        "id": promise_id,
        "customer": number,
        "amount": cents_to_str(cents),
        "by": args.by.isoformat(),
        "status": status,
        "agent": actor.login,
    }
    if args.json:
        print_json(document)
    else:
        print(
            f"Promise {promise_id} recorded: customer {number} pays {document['amount']} by "
            f"{document['by']} ({actor.display_name}); the next step checks it the day after."
        )
    return EXIT_OK

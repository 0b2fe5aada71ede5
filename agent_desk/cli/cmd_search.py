"""``agent-desk search TEXT``: find anyone, the same search as the desk's Ctrl+K."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.search import DEFAULT_LIMIT, MAX_LIMIT, search_customers

WHY = {
    "customer_number": "customer number",
    "claim_reference": "claim reference",
    "phone": "phone",
    "email": "e-mail",
    "postcode_house_number": "postcode + house number",
    "name": "name",
}


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if not 1 <= value <= MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"the limit must be between 1 and {MAX_LIMIT}")
    return value


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "search",
        "find customers by name, customer number, phone, e-mail, postcode + house number "
        "or claim reference (accents and case do not matter)",
    )
    parser.add_argument(
        "text", metavar="TEXT", help="what to look for, e.g. 'huseyin' or '1234AB 4'"
    )
    parser.add_argument(
        "--limit", type=_limit, default=DEFAULT_LIMIT, metavar="N", help="at most N customers"
    )
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="search as this agent (who they may see); default: the whole team",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        hits = search_customers(session, actor, args.text, args.limit)
    if args.json:
        print_json([hit.as_json() for hit in hits])
        return EXIT_OK
    if not hits:
        print(f"No customer found for '{args.text}'.")
        return EXIT_OK
    for hit in hits:
        why = ", ".join(WHY[f.value] for f in hit.matched)
        print(f"{hit.customer_number:<10} {hit.name[:32]:<32}  {why}")
    return EXIT_OK

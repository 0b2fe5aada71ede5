"""``agent-desk queue --agent LOGIN``: an agent's queue in priority order, with reasons."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain.money import cents_to_str
from agent_desk.i18n import Translator
from agent_desk.models.base import utcnow
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue import agent_queue


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError("the limit must be 1 or more")
    return value


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "queue", "show an agent's work queue in priority order")
    parser.add_argument("--agent", required=True, metavar="LOGIN", help="the agent's login")
    parser.add_argument("--limit", type=_limit, metavar="N", help="show at most N customers")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument(
        "--lang", choices=["en", "nl"], default="en", help="language of the reasons"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _run_with(args, database)


def _run_with(args: argparse.Namespace, database: Database) -> int:
    translate = Translator(args.lang)
    now = utcnow()
    with database.transaction() as session:
        actor = actor_for_login(session, args.agent)
        assert actor.agent_id is not None
        rows = agent_queue(session, actor.agent_id, now, args.limit)
    if args.json:
        print_json(
            [
                {
                    "customer_number": r.customer_number,
                    "name": r.name,
                    "priority": position,
                    "group": r.bucket,
                    "reasons": [reason.text(translate) for reason in r.reasons],
                    "arrears": cents_to_str(r.arrears_cents),
                    "oldest_due_date": r.oldest_due_date.isoformat() if r.oldest_due_date else None,
                    "next_step": r.next_step_kind,
                    "next_step_due": r.next_step_due_at.isoformat() if r.next_step_due_at else None,
                }
                for position, r in enumerate(rows, start=1)
            ]
        )
        return EXIT_OK
    if not rows:
        print(f"The queue of {actor.display_name} is empty.")
        return EXIT_OK
    for position, r in enumerate(rows, start=1):
        reasons = ", ".join(reason.text(translate) for reason in r.reasons)
        print(
            f"{position:>5}  {r.customer_number:<8} {r.name[:28]:<28} {cents_to_str(r.arrears_cents):>10}  {reasons}"
        )
    return EXIT_OK

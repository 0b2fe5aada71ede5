"""``agent-desk queue --agent LOGIN``: an agent's queue in priority order, with reasons.

``agent-desk queue --team [--limit N] [--after CURSOR] --json``: the supervisor's
team-wide queue, one page, read by the same keyset service and index as the desk's
team view (``services/queue_pages.py``); ``next_cursor`` continues it.
"""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.domain.money import cents_to_str
from agent_desk.errors import UsageError
from agent_desk.i18n import Translator
from agent_desk.models.base import utcnow
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue import QueueRow, QueueScope, agent_queue
from agent_desk.services.queue_pages import MAX_PAGE, PAGE_SIZE, queue_page


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
    whose = parser.add_mutually_exclusive_group(required=True)
    whose.add_argument("--agent", metavar="LOGIN", help="the agent's login")
    whose.add_argument(
        "--team", action="store_true", help="the whole team's queue, one page (supervisors)"
    )
    parser.add_argument("--limit", type=_limit, metavar="N", help="show at most N customers")
    parser.add_argument(
        "--after",
        metavar="CURSOR",
        help="with --team: the page after this cursor (the next_cursor of the page before)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.add_argument(
        "--lang", choices=["en", "nl"], default="en", help="language of the reasons"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _run_with(args, database)


def _json_row(r: QueueRow, position: int | None, translate: Translator) -> dict[str, Any]:
    row: dict[str, Any] = {
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
    if position is None:
        del row["priority"]
    return row


def _run_team(args: argparse.Namespace, database: Database) -> int:
    translate = Translator(args.lang)
    if args.limit is not None and args.limit > MAX_PAGE:
        raise UsageError("One page has at most {most} customers.", most=MAX_PAGE)
    with database.transaction() as session:
        page = queue_page(
            session, QueueScope(None), utcnow(), after=args.after, limit=args.limit or PAGE_SIZE
        )
    if args.json:
        print_json(
            {
                "customers": [
                    {**_json_row(r, None, translate), "assigned_agent_id": r.assigned_agent_id}
                    for r in page.rows
                ],
                "count": len(page.rows),
                "next_cursor": page.next_cursor,
            }
        )
        return EXIT_OK
    if not page.rows:
        print("The team queue is empty." if args.after is None else "No more customers.")
        return EXIT_OK
    for r in page.rows:
        reasons = ", ".join(reason.text(translate) for reason in r.reasons)
        print(
            f"{r.customer_number:<8} {r.name[:28]:<28} {cents_to_str(r.arrears_cents):>10}  {reasons}"
        )
    if page.next_cursor:
        print(f"more: --after {page.next_cursor}")
    return EXIT_OK


def _run_with(args: argparse.Namespace, database: Database) -> int:
    if args.team:
        return _run_team(args, database)
    if args.after is not None:
        raise UsageError("--after pages the team queue; use it with --team.")
    translate = Translator(args.lang)
    now = utcnow()
    with database.transaction() as session:
        actor = actor_for_login(session, args.agent)
        assert actor.agent_id is not None
        rows = agent_queue(session, actor.agent_id, now, args.limit)
    if args.json:
        print_json([_json_row(r, p, translate) for p, r in enumerate(rows, start=1)])
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

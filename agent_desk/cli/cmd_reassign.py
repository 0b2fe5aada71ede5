"""``agent-desk reassign``: move customers from one agent to others (supervisors)."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.cli._db import open_database
from agent_desk.domain.codes import Segment
from agent_desk.errors import UsageError
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.reassign import ReassignFilter, preview_reassign, reassign


def _postcode(text: str) -> int:
    value = text.strip()
    if not (value.isdigit() and len(value) == 4 and value[0] != "0"):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not the four digits of a postcode, e.g. 1000"
        )
    return int(value)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError("days past due cannot be negative")
    return value


def _logins(text: str) -> list[str]:
    logins = [part.strip().lower() for part in text.split(",")]
    if not logins or any(not login for login in logins):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a list of logins; separate them with commas, e.g. daan,eva"
        )
    return logins


def _numbers(text: str) -> list[str]:
    numbers = [part.strip() for part in text.split(",") if part.strip()]
    if not numbers:
        raise argparse.ArgumentTypeError("give one or more customer numbers, separated by commas")
    return numbers


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "reassign",
        "move customers to another agent or spread them over several (supervisors)",
    )
    parser.add_argument("--from", dest="from_login", metavar="LOGIN", help="the agent they leave")
    parser.add_argument(
        "--to",
        required=True,
        type=_logins,
        metavar="LOGIN[,LOGIN...]",
        help="the agent(s) they move to; several get an even share",
    )
    parser.add_argument("--segment", choices=[s.value for s in Segment], help="only this segment")
    parser.add_argument("--postcode-from", type=_postcode, metavar="NNNN", help="postcode from")
    parser.add_argument("--postcode-to", type=_postcode, metavar="NNNN", help="postcode up to")
    parser.add_argument(
        "--min-days-past-due", type=_days, metavar="N", help="only N or more days past due"
    )
    parser.add_argument(
        "--first-time", action="store_true", help="only customers in arrears for the first time"
    )
    parser.add_argument(
        "--customers", type=_numbers, metavar="NUMBER[,NUMBER...]", help="these customers"
    )
    parser.add_argument("--dry-run", action="store_true", help="show what would move; move nothing")
    parser.add_argument(
        "--as",
        dest="as_login",
        metavar="LOGIN",
        help="the supervisor moving them (audit trail; default: the system)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _run_with(args, database)


def _run_with(args: argparse.Namespace, database: Database) -> int:
    selection = ReassignFilter(
        from_agent=args.from_login,
        segment=args.segment,
        postcode_from=args.postcode_from,
        postcode_to=args.postcode_to,
        min_days_past_due=args.min_days_past_due,
        first_time_only=args.first_time,
        customer_numbers=args.customers,
    )
    if selection.empty:
        raise UsageError(
            "Say which customers to move: --from, --segment, --postcode-from/--postcode-to, "
            "--min-days-past-due, --first-time or --customers."
        )
    now = utcnow()
    with database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        preview = preview_reassign(session, actor, selection, args.to, now)
    if preview.count == 0:
        print("No customers match; nothing to move.")
        _print_skipped(preview.skipped_held)
        return EXIT_OK
    print(preview.sentence())
    if len(preview.per_target) > 1:
        for login, count in preview.per_target.items():
            print(f"  {login}: {count}")
    _print_skipped(preview.skipped_held)
    if args.dry_run:
        print("Dry run: nothing was moved.")
        return EXIT_OK
    with database.transaction() as session:
        actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
        result = reassign(session, actor, selection, args.to, now)
    noun = "customer" if result.moved == 1 else "customers"
    print(f"Moved {result.moved} {noun}.")
    if result.moved != preview.count:
        print("  (Colleagues worked in between, so the number differs from the preview.)")
    return EXIT_OK


def _print_skipped(count: int) -> None:
    if count:
        noun = "customer is" if count == 1 else "customers are"
        print(f"{count} {noun} open on a desk right now and stay where they are.")

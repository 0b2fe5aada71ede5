"""``agent-desk next`` and ``agent-desk release``: claim and release customers from
the command line, for scripted checks and load tests.

Each ``next`` is a desk of its own: it keeps the agent's other holds, so parallel
runs for one agent never get the same customer. ``release`` ends the holds.
"""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.models.base import utcnow
from agent_desk.services.actor import actor_for_login
from agent_desk.services.leases import (
    claim_for_script,
    release_all,
    release_customer,
)
from agent_desk.services.queue import DEFAULT_LEASE


def _minutes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of minutes") from None
    if not 1 <= value <= 24 * 60:
        raise argparse.ArgumentTypeError("the lease must be between 1 and 1440 minutes")
    return value


def register(subparsers: Any) -> None:
    claim = add_command(subparsers, "next", "claim (hold) the next customer of an agent's queue")
    claim.add_argument("--agent", required=True, metavar="LOGIN", help="the agent's login")
    claim.add_argument(
        "--lease-minutes",
        type=_minutes,
        default=int(DEFAULT_LEASE.total_seconds() // 60),
        metavar="N",
        help="how long the hold lasts unless released (default: %(default)s)",
    )
    claim.add_argument("--json", action="store_true", help="print JSON (null: queue empty)")
    claim.set_defaults(func=run_next)

    release = add_command(subparsers, "release", "release customers an agent holds")
    release.add_argument("--agent", required=True, metavar="LOGIN", help="the agent's login")
    release.add_argument(
        "--customer", metavar="NUMBER", help="only this customer (default: all they hold)"
    )
    release.add_argument("--json", action="store_true", help="print JSON for scripts")
    release.set_defaults(func=run_release)


def run_next(args: argparse.Namespace) -> int:
    now = utcnow()
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.agent)
        claimed = claim_for_script(session, actor, now, timedelta(minutes=args.lease_minutes))
    if args.json:
        print_json(
            None
            if claimed is None
            else {
                "customer_number": claimed.customer_number,
                "name": claimed.name,
                "lease_until": claimed.lease_until.isoformat(),
            }
        )
    elif claimed is None:
        print(f"The queue of {actor.display_name} is empty.")
    else:
        until = claimed.lease_until.astimezone().strftime("%H:%M")
        print(f"{claimed.customer_number}  {claimed.name}  (held until {until})")
    return EXIT_OK


def run_release(args: argparse.Namespace) -> int:
    now = utcnow()
    with open_database(args) as database, database.transaction() as session:
        actor = actor_for_login(session, args.agent)
        if args.customer:
            released = int(release_customer(session, actor, args.customer, now))
        else:
            released = release_all(session, actor)
    if args.json:
        print_json({"released": released})
    elif args.customer and not released:
        print(f"Customer {args.customer} was not held by {actor.login}.")
    else:
        print(f"Released {released} customer{'s' if released != 1 else ''} held by {actor.login}.")
    return EXIT_OK

"""``agent-desk team``: the supervisor's overview of queues and today's work."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.models.base import utcnow
from agent_desk.services.database import Database
from agent_desk.services.team import PROMISE_DAYS, AgentStats, team_summary


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers,
        "team",
        "team overview: queues, work done today, promises kept, approvals waiting",
    )
    parser.add_argument(
        "--promise-days",
        type=_days,
        default=PROMISE_DAYS,
        metavar="N",
        help="the kept rate covers the promises taken in the last N days (default: %(default)s)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def _days(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number of days") from None
    if not 1 <= value <= 3660:
        raise argparse.ArgumentTypeError("the period must be between 1 and 3660 days")
    return value


def _rate(stats: AgentStats) -> float | None:
    rate = stats.promise_kept_rate
    return None if rate is None else round(rate, 4)


def _percent(stats: AgentStats) -> str:
    rate = stats.promise_kept_rate
    return "-" if rate is None else f"{rate:.0%}"


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _run_with(args, database)


def _run_with(args: argparse.Namespace, database: Database) -> int:
    with database.transaction() as session:
        summary = team_summary(session, utcnow(), promise_days=args.promise_days)
    if args.json:
        print_json(
            {
                "agents": [
                    {
                        "login": a.login,
                        "display_name": a.display_name,
                        "role": a.role,
                        "queue_size": a.queue_size,
                        "assigned": a.assigned,
                        "attempts_today": a.attempts_today,
                        "customers_reached_today": a.customers_reached_today,
                        "promises_today": a.promises_today,
                        "arrangements_today": a.arrangements_today,
                        "promises_made": a.promises_made,
                        "promises_kept": a.promises_kept,
                        "promises_broken": a.promises_broken,
                        "promise_kept_rate": _rate(a),
                    }
                    for a in summary.agents
                ],
                "pending_approval": summary.pending_approval,
                "stale_contact_customers": summary.stale_contact_customers,
                "customers_without_next_step": summary.customers_without_next_step,
                "unassigned": summary.unassigned,
                "promise_days": summary.promise_days,
            }
        )
        return EXIT_OK
    if not summary.agents:
        print("No agents yet. Load demo data with 'agent-desk demo' or add users.")
        return EXIT_OK
    width = max(len(a.login) for a in summary.agents)
    print(
        f"{'LOGIN':<{width}}  {'NAME':<24} {'QUEUE':>6} {'ASSIGNED':>8} {'ATTEMPTS':>8} "
        f"{'REACHED':>7} {'PROMISES':>8} {'ARRANGEMENTS':>12} {'KEPT':>5}"
    )
    for a in summary.agents:
        print(
            f"{a.login:<{width}}  {a.display_name[:24]:<24} {a.queue_size:>6} {a.assigned:>8} "
            f"{a.attempts_today:>8} {a.customers_reached_today:>7} {a.promises_today:>8} "
            f"{a.arrangements_today:>12} {_percent(a):>5}"
        )
    print()
    print(
        f"KEPT: promises kept of those kept or broken, taken in the last "
        f"{summary.promise_days} days."
    )
    print(f"Arrangements waiting for approval: {summary.pending_approval}")
    print(f"Customers with stale contact data: {summary.stale_contact_customers}")
    print(f"Open customers without a next step: {summary.customers_without_next_step}")
    print(f"Open customers assigned to nobody: {summary.unassigned}")
    return EXIT_OK

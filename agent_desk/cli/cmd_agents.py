"""``agent-desk agents``: who works here, and how big their queues are."""

from __future__ import annotations

import argparse
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command, print_json
from agent_desk.cli._db import open_database
from agent_desk.models.base import utcnow
from agent_desk.services.agents import list_agents
from agent_desk.services.database import Database


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "agents", "list agents and supervisors with their queue sizes")
    parser.add_argument("--json", action="store_true", help="print JSON for scripts")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    with open_database(args) as database:
        return _run_with(args, database)


def _run_with(args: argparse.Namespace, database: Database) -> int:
    with database.transaction() as session:
        agents = list_agents(session, utcnow())
    if args.json:
        print_json(
            [
                {
                    "login": a.login,
                    "display_name": a.display_name,
                    "role": a.role,
                    "active": a.active,
                    "queue_size": a.queue_size,
                    "assigned": a.assigned,
                }
                for a in agents
            ]
        )
        return EXIT_OK
    if not agents:
        print("No agents yet. Load demo data with 'agent-desk demo' or add users.")
        return EXIT_OK
    width = max(len(a.login) for a in agents)
    print(f"{'LOGIN':<{width}}  {'NAME':<24} {'ROLE':<10} {'QUEUE':>6} {'ASSIGNED':>8}")
    for a in agents:
        print(
            f"{a.login:<{width}}  {a.display_name:<24} {a.role:<10} {a.queue_size:>6} {a.assigned:>8}"
        )
    return EXIT_OK

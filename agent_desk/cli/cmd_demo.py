"""``agent-desk demo``: fill an empty database with realistic demo data."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.cli._db import open_database
from agent_desk.demo import load_demo
from agent_desk.errors import UsageError
from agent_desk.services.database import Database


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"'{text}' must be 1 or more")
    return value


def register(subparsers: Any) -> None:
    parser = add_command(subparsers, "demo", "fill an empty database with deterministic demo data")
    parser.add_argument(
        "--customers", type=_positive, default=1000, help="number of customers (default 1000)"
    )
    parser.add_argument(
        "--agents",
        type=_positive,
        default=6,
        help="number of agents besides the supervisor (1-8, default 6)",
    )
    parser.add_argument(
        "--seed", type=int, default=42, help="random seed; the same seed gives the same data"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.agents > 8:
        raise UsageError("Choose between 1 and 8 demo agents.")
    with open_database(args) as database:
        return _run_with(args, database)


def _run_with(args: argparse.Namespace, database: Database) -> int:
    show = sys.stderr.isatty()

    def progress(done: int, total: int) -> None:
        if show:
            print(f"\r{done:,} of {total:,} customers", end="", file=sys.stderr, flush=True)

    with database.transaction() as session:
        summary = load_demo(
            session, customers=args.customers, agents=args.agents, seed=args.seed, progress=progress
        )
    if show:
        print(file=sys.stderr)
    print(
        f"Loaded {summary.customers:,} customers, {summary.claims:,} claims and "
        f"{summary.agents} agents into {database.display} in {summary.seconds:.1f} s."
    )
    return EXIT_OK

"""``agent-desk import customers|payments FILE.csv``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, TextIO

from agent_desk.cli._common import EXIT_OK, add_command
from agent_desk.cli._db import open_database
from agent_desk.domain import import_rows
from agent_desk.models.base import utcnow
from agent_desk.services.actor import SYSTEM, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.importers import ImportResult, import_customers, import_payments

POLICY = (
    "All or nothing: every row is checked first; if any row is bad, nothing is imported "
    "and each bad row is listed with its line number and reason (exit status 1). "
    "Importing the same file twice changes nothing the second time."
)


def register(subparsers: Any) -> None:
    parser = add_command(
        subparsers, "import", "import customers or payments from the billing system", database=False
    )
    kinds = parser.add_subparsers(dest="import_kind", metavar="KIND", required=True)
    customers = add_command(kinds, "customers", "import customers and their claims from a CSV file")
    customers.description = (
        "Import customers and their claims (one row per claim). Columns: "
        + ", ".join(import_rows.CUSTOMER_COLUMNS)
        + ". Required: "
        + ", ".join(import_rows.CUSTOMER_REQUIRED)
        + ". "
        + POLICY
    )
    payments = add_command(kinds, "payments", "import payments received from a CSV file")
    payments.description = (
        "Import payments. Columns: "
        + ", ".join(import_rows.PAYMENT_COLUMNS)
        + ". Required: "
        + ", ".join(import_rows.PAYMENT_REQUIRED)
        + ". "
        + POLICY
    )
    for sub, func in ((customers, run_customers), (payments, run_payments)):
        sub.add_argument("file", type=Path, metavar="FILE.csv")
        sub.add_argument(
            "--as",
            dest="as_login",
            metavar="LOGIN",
            help="the supervisor doing the import (audit trail)",
        )
        sub.add_argument(
            "--progress",
            action="store_true",
            help="show a progress bar on stderr also when it is not a terminal "
            "(on a terminal it is always shown)",
        )
        sub.set_defaults(func=func)


class ProgressBar:
    """``[#####-----]  48%  12.1 of 25.0 MB`` on one stderr line, redrawn at most ten
    times a second; the line is cleared when done."""

    WIDTH = 30

    def __init__(self, name: str, stream: TextIO) -> None:
        self.name = name
        self.stream = stream
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self.last < 0.1:
            return
        self.last = now
        fraction = min(1.0, done / max(1, total))
        filled = int(fraction * self.WIDTH)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        self.stream.write(
            f"\r{self.name} [{bar}] {fraction:4.0%}  {done / 1e6:.1f} of {total / 1e6:.1f} MB"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _run(args: argparse.Namespace, importer: Any) -> int:
    with open_database(args) as database:
        return _run_with(args, database, importer)


def _run_with(args: argparse.Namespace, database: Database, importer: Any) -> int:
    bar = (
        ProgressBar(args.file.name, sys.stderr)
        if getattr(args, "progress", False) or sys.stderr.isatty()
        else None
    )
    try:
        with database.transaction() as session:
            actor = actor_for_login(session, args.as_login) if args.as_login else SYSTEM
            result: ImportResult = importer(session, actor, args.file, utcnow(), progress=bar)
    finally:
        if bar is not None:
            bar.close()
    print(
        f"{args.file.name}: {result.rows} rows; {result.created} new, {result.updated} updated, "
        f"{result.unchanged} unchanged."
    )
    for note in result.notes:
        print(f"  {note}")
    return EXIT_OK


def run_customers(args: argparse.Namespace) -> int:
    return _run(args, import_customers)


def run_payments(args: argparse.Namespace) -> int:
    return _run(args, import_payments)

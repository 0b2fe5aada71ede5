"""The books at portfolio size: importing payments and the nightly run.

    python bench/bench_books.py [--customers 100000] [--payments 100000] [--pg URL]

Builds a demo portfolio (every claim booked in the ledger, 14-day letters with costs
for part of it), then times, each in its own transaction:

* ``import payments`` of a CSV with ``--payments`` rows spread over the customers
  (6:43/6:44 allocation, instalments, promises, closing), payments per second;
* the nightly run on the first of a month (costs of letters whose term ran out,
  monthly interest for every claim in default, arrangements, promises), customers
  per second; and the same night again (nothing left to book).

Prints the figures; not part of the test suite.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from pathlib import Path

from sqlalchemy import func, select

from agent_desk.demo import load_demo
from agent_desk.models import Customer, LedgerEntry
from agent_desk.services.actor import SYSTEM
from agent_desk.services.database import Database
from agent_desk.services.importers import import_payments
from agent_desk.services.nightly import run_nightly

TODAY = date(2026, 11, 23)
NIGHT = date(2026, 12, 1)


def build(database: Database, customers: int) -> list[str]:
    database.upgrade()
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=8, seed=3, today=TODAY)
        return list(session.scalars(select(Customer.customer_number).order_by(Customer.id)))


def payments_file(folder: Path, numbers: list[str], count: int) -> Path:
    rng = random.Random(11)
    path = folder / "payments.csv"
    with path.open("w", encoding="utf-8") as out:
        out.write("payment_reference,customer_number,amount,paid_on\n")
        for n in range(count):
            number = numbers[n % len(numbers)] if n < len(numbers) else rng.choice(numbers)
            cents = rng.randrange(500, 40_000)
            out.write(f"BENCH-{n:07d},{number},{cents // 100}.{cents % 100:02d},2026-11-2{n % 3}\n")
    return path


def timed(label: str, unit: str, count: int, run: object) -> float:
    started = time.perf_counter()
    result = run() if callable(run) else None
    seconds = time.perf_counter() - started
    print(f"{label:<44} {seconds:8.2f} s   {count / seconds:10,.0f} {unit}/s")
    if result is not None and hasattr(result, "summary"):
        print(f"    {result.summary()}")
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL database URL (emptied first)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = args.pg or f"sqlite:///{Path(folder) / 'books.sqlite3'}"
        database = Database(url)
        if args.pg:
            from agent_desk.models import Base

            with database.engine.begin() as connection:
                Base.metadata.drop_all(connection)
                connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        started = time.perf_counter()
        numbers = build(database, args.customers)
        with database.transaction() as session:
            entries = session.scalar(select(func.count()).select_from(LedgerEntry))
        print(
            f"{database.url.get_backend_name()}: {args.customers:,} customers, {entries:,} ledger "
            f"entries built in {time.perf_counter() - started:.1f} s"
        )
        path = payments_file(Path(folder), numbers, args.payments)
        now = datetime.combine(TODAY, clock_time(9), tzinfo=UTC)

        def do_import() -> object:
            with database.transaction() as session:
                return import_payments(session, SYSTEM, path, now)

        def do_nightly() -> object:
            with database.transaction() as session:
                return run_nightly(session, NIGHT)

        timed(f"import {args.payments:,} payments", "payments", args.payments, do_import)
        timed(
            f"nightly run over {args.customers:,} customers",
            "customers",
            args.customers,
            do_nightly,
        )
        timed("the same night again (nothing to book)", "customers", args.customers, do_nightly)
        database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The nightly run over 100,000 active arrangements (SQLite; ``--pg URL`` for PostgreSQL).

Builds 20,000 demo customers with five arrangements each (six monthly instalments),
paid up to date except a few percent that are behind, then times
``mark_missed_instalments`` on the first night (some change) and the second (none).
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select

from agent_desk.demo import load_demo
from agent_desk.models import Arrangement, Customer, Instalment
from agent_desk.services.database import Database
from agent_desk.services.missed_instalments import mark_missed_instalments

TODAY = date(2026, 11, 23)


def build(database: Database, arrangements: int) -> None:
    database.upgrade()
    customers = max(1, arrangements // 5)
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=8, seed=2, today=TODAY)
        ids = list(session.scalars(select(Customer.id)))
        rng = random.Random(5)
        next_arrangement = 10_000_000
        a_rows, i_rows = [], []
        for n in range(arrangements):
            start = TODAY - timedelta(days=rng.randrange(0, 150))
            behind = rng.random() < 0.03
            a_rows.append(
                {
                    "id": next_arrangement + n,
                    "customer_id": ids[n % len(ids)],
                    "agent_id": None,
                    "created_at": datetime.combine(start, datetime.min.time(), tzinfo=UTC),
                    "frequency": "monthly",
                    "principal_cents": 60_000,
                    "costs_cents": 0,
                    "interest_cents": 0,
                    "costs_waived": False,
                    "interest_waived": False,
                    "total_cents": 60_000,
                    "status": "active",
                    "approval_needed_reason": None,
                    "approved_by_id": None,
                    "approved_at": None,
                    "approval_note": None,
                    "version": 1,
                }
            )
            for k in range(6):
                due = start + timedelta(days=30 * k)
                paid = 10_000 if due < TODAY and not behind else 0
                i_rows.append(
                    {
                        "arrangement_id": next_arrangement + n,
                        "number": k + 1,
                        "due_date": due,
                        "amount_cents": 10_000,
                        "paid_cents": paid,
                        "status": "paid" if paid else "open",
                        "version": 1,
                    }
                )
        for start_at in range(0, len(a_rows), 10_000):
            session.execute(insert(Arrangement), a_rows[start_at : start_at + 10_000])
        for start_at in range(0, len(i_rows), 20_000):
            session.execute(insert(Instalment), i_rows[start_at : start_at + 20_000])


def run(database: Database, label: str, arrangements: int) -> None:
    t0 = time.perf_counter()
    build(database, arrangements)
    print(f"{label} build_{arrangements}_arrangements_s  {time.perf_counter() - t0:.1f}")
    for night in ("first_night", "second_night"):
        t0 = time.perf_counter()
        with database.transaction() as session:
            result = mark_missed_instalments(session, TODAY)
        print(
            f"{label} nightly_{night}_s  {time.perf_counter() - t0:.2f}  checked={result.arrangements_checked} "
            f"newly_missed={result.instalments_missed} broken={result.arrangements_broken}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arrangements", type=int, default=100_000)
    parser.add_argument("--pg", help="an empty PostgreSQL database URL to run on as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'nightly.sqlite3'}")
        run(database, "sqlite", args.arrangements)
        database.dispose()
    if args.pg:
        database = Database(args.pg)
        run(database, "postgresql", args.arrangements)
        database.dispose()


if __name__ == "__main__":
    main()

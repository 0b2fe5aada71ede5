"""Foundation benchmarks: demo load of 100,000 customers and the queue query.

Run: ``python bench/bench_foundation.py [--customers 100000] [--pg URL]``. Prints
one line per figure. Counted inside the process (the queue figure is the service
call a CLI or desk makes, without interpreter start-up).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from agent_desk.demo import load_demo
from agent_desk.models import Customer
from agent_desk.models.base import utcnow
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue import (
    QueueScope,
    agent_queue,
    claim_next,
    queue_ids,
    queue_rows,
    release_holds,
)


def bench(database: Database, label: str, customers: int) -> None:
    database.upgrade()
    started = time.perf_counter()
    with database.transaction() as session:
        load_demo(session, customers=customers, agents=8, seed=1)
    print(f"{label} demo_load_{customers}_customers_s  {time.perf_counter() - started:.1f}")
    now = utcnow()
    with database.transaction() as session:
        agent = actor_for_login(session, "sanne")
        assigned = session.scalar(
            select(func.count())
            .select_from(Customer)
            .where(Customer.assigned_agent_id == agent.agent_id)
        )
    print(f"{label} agent_assigned_customers  {assigned}")
    timings = []
    for _ in range(7):
        t0 = time.perf_counter()
        with database.transaction() as session:
            rows = agent_queue(session, agent.agent_id or 0, now)
        timings.append(time.perf_counter() - t0)
    print(
        f"{label} queue_full_agent_s  median={statistics.median(timings):.3f} min={min(timings):.3f} rows={len(rows)}"
    )
    first = []
    for _ in range(7):
        t0 = time.perf_counter()
        with database.transaction() as session:
            ids = queue_ids(session, QueueScope(agent.agent_id), now, agent.agent_id)
            queue_rows(session, ids[:200], now)
        first.append(time.perf_counter() - t0)
    print(f"{label} queue_first_page_agent_s  median={statistics.median(first):.3f}")
    team = []
    for _ in range(5):
        t0 = time.perf_counter()
        with database.transaction() as session:
            ids = queue_ids(session, QueueScope(None), now)
            queue_rows(session, ids[:200], now)
        team.append(time.perf_counter() - t0)
    print(f"{label} queue_first_page_team_s  median={statistics.median(team):.3f} ids={len(ids)}")
    claims = []
    for _ in range(20):
        t0 = time.perf_counter()
        with database.transaction() as session:
            claim_next(session, agent, now)
        claims.append(time.perf_counter() - t0)
    with database.transaction() as session:
        release_holds(session, agent)
    print(
        f"{label} next_customer_ms  median={statistics.median(claims) * 1000:.1f} max={max(claims) * 1000:.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--pg", help="also run on this PostgreSQL database URL (must be empty)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{Path(folder) / 'bench.sqlite3'}")
        bench(database, "sqlite", args.customers)
        database.dispose()
    if args.pg:
        database = Database(args.pg)
        bench(database, "postgresql", args.customers)
        database.dispose()


if __name__ == "__main__":
    main()

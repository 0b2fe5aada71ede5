"""Claim throughput: 20 desks claiming "next customer" at once on 100,000 customers.

Run: ``python bench/bench_claims.py [--customers 100000] [--desks 20] [--agents 4]
[--seconds 10] [--rounds 3] [--server postgresql+psycopg://postgres@127.0.0.1/postgres]``.

Creates (and drops) its own PostgreSQL database, loads the demo data, then runs
``--rounds`` rounds in which ``--desks`` desks, each with its own engine (its own
connection), spread over ``--agents`` agents so that one agent's desks compete for
the same queue, claim in a loop for ``--seconds`` (each desk its own process, as on
a real team; ``--threads`` runs them as threads of one process instead) (``claim_next`` with
``release_previous=False``: every claim is a new customer). Between rounds all holds
are released. Prints claims per second (median over the rounds) and the latency of
one claim (a whole transaction: release-free claim, hold, change log, audit, commit).
Also checks that no customer was claimed twice in a round.

The anchor, measured in the same run with rounds alternated (anchor, project,
anchor, …): the same desks as processes, each looping a bare
``UPDATE customer SET held… WHERE id = (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``
on plain psycopg, autocommit, no audit row, no change log, no ORM. The project's
figure is ``claim_next_alone`` as ``agent-desk next`` runs it: one round trip on the
desk's claim connection (kept out of the pool while the desk claims in a row) carrying
two transactions, the claim (hold, audit row and change-log row in one statement
prepared once per connection, committed durably) and then the wake-up ``NOTIFY``
(gated, one desk at a time); each desk calls ``prepare_claims`` before the clock
starts, as each anchor desk connects before it (and psycopg prepares its statement
after five runs). Prints ``anchor``, ``project`` and ``ratio`` of the medians and the
p99 latency of each; ``--threads`` measures only the project.
"""

from __future__ import annotations

import argparse
import multiprocessing
import statistics
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import timedelta
from typing import Any

from sqlalchemy import create_engine, text, update
from sqlalchemy.engine import make_url

from agent_desk.demo import load_demo
from agent_desk.demo.cast import AGENTS
from agent_desk.models import Customer
from agent_desk.models.base import utcnow
from agent_desk.services.actor import Actor, actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.queue_claims import claim_next, claim_next_alone, prepare_claims


def _round(url: str, actors: list[Actor], desks: int, seconds: float) -> tuple[int, list[float]]:
    latencies: list[list[float]] = [[] for _ in range(desks)]
    claimed: list[list[int]] = [[] for _ in range(desks)]
    databases = [Database(url) for _ in range(desks)]
    for database in databases:
        database.check_connection()  # connect before the clock starts
    start = threading.Barrier(desks + 1)
    stop = threading.Event()
    now = utcnow()

    def desk(index: int) -> None:
        actor = actors[index % len(actors)]
        database = databases[index]
        start.wait()
        while not stop.is_set():
            t0 = time.perf_counter()
            with database.transaction() as session:
                row = claim_next(session, actor, now, timedelta(minutes=20), release_previous=False)
            latencies[index].append(time.perf_counter() - t0)
            if row is None:
                return
            claimed[index].append(row.customer_id)

    threads = [threading.Thread(target=desk, args=(i,)) for i in range(desks)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    for database in databases:
        database.dispose()
    ids = [c for per_desk in claimed for c in per_desk]
    twice = [c for c, n in Counter(ids).items() if n > 1]
    if twice:
        raise SystemExit(f"FAILED: {len(twice)} customers claimed twice while held")
    return round(len(ids) / elapsed), [x for per_desk in latencies for x in per_desk]


def _desk_process(url: str, actor: Actor, ready: Any, stop: Any) -> tuple[list[int], list[float]]:
    """One desk in its own process, as on a real team: its own interpreter and connection."""
    database = Database(url)
    database.check_connection()
    prepare_claims(database)  # a desk's one-time set-up, as the anchor's connect
    now = utcnow()
    claimed: list[int] = []
    latencies: list[float] = []
    ready.wait()  # everyone connected: start together
    while not stop.is_set():
        t0 = time.perf_counter()
        row = claim_next_alone(database, actor, now, timedelta(minutes=20))
        latencies.append(time.perf_counter() - t0)
        if row is None:
            break
        claimed.append(row.customer_id)
    database.dispose()
    return claimed, latencies


def _round_processes(
    url: str, actors: list[Actor], desks: int, seconds: float
) -> tuple[int, list[float]]:
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(max_workers=desks, mp_context=context) as pool,
    ):
        ready = manager.Barrier(desks + 1)
        stop = manager.Event()
        futures = [
            pool.submit(_desk_process, url, actors[i % len(actors)], ready, stop)
            for i in range(desks)
        ]
        ready.wait()
        began = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        results = [f.result() for f in futures]
        elapsed = time.perf_counter() - began
    ids = [c for claimed, _ in results for c in claimed]
    twice = [c for c, n in Counter(ids).items() if n > 1]
    if twice:
        raise SystemExit(f"FAILED: {len(twice)} customers claimed twice while held")
    return round(len(ids) / elapsed), [x for _, lat in results for x in lat]


_BARE = """
UPDATE customer SET held_by_agent_id = %(agent)s, held_until = %(until)s
WHERE id = (
    SELECT id FROM customer
    WHERE assigned_agent_id = %(agent)s AND status = 'open' AND queue_bucket < 9
      AND (paused_until IS NULL OR paused_until < %(today)s)
      AND (next_step_due_at IS NULL OR next_step_due_at <= %(now)s)
      AND (held_until IS NULL OR held_until <= %(now)s)
    ORDER BY queue_bucket, oldest_due_date, arrears_cents DESC, id
    LIMIT 1 FOR UPDATE SKIP LOCKED)
RETURNING id, customer_number, first_name, last_name, status, arrears_cents,
    oldest_due_date, queue_bucket, next_step_kind, next_step_due_at, version
"""


def _bare_process(url: str, agent_id: int, ready: Any, stop: Any) -> tuple[list[int], list[float]]:
    """The anchor: one bare statement per claim on plain psycopg (autocommit)."""
    import psycopg

    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    now = utcnow()
    values = {"agent": agent_id, "until": now + timedelta(minutes=20), "now": now}
    values["today"] = now.date()
    claimed: list[int] = []
    latencies: list[float] = []
    with psycopg.connect(conninfo, autocommit=True) as connection:
        ready.wait()
        while not stop.is_set():
            t0 = time.perf_counter()
            row = connection.execute(_BARE, values).fetchone()
            latencies.append(time.perf_counter() - t0)
            if row is None:
                break
            claimed.append(row[0])
    return claimed, latencies


def _round_bare(
    url: str, actors: list[Actor], desks: int, seconds: float
) -> tuple[int, list[float]]:
    context = multiprocessing.get_context("spawn")
    with (
        context.Manager() as manager,
        ProcessPoolExecutor(max_workers=desks, mp_context=context) as pool,
    ):
        ready = manager.Barrier(desks + 1)
        stop = manager.Event()
        futures = [
            pool.submit(_bare_process, url, actors[i % len(actors)].agent_id, ready, stop)
            for i in range(desks)
        ]
        ready.wait()
        began = time.perf_counter()
        time.sleep(seconds)
        stop.set()
        results = [f.result() for f in futures]
        elapsed = time.perf_counter() - began
    ids = [c for claimed, _ in results for c in claimed]
    twice = [c for c, n in Counter(ids).items() if n > 1]
    if twice:
        raise SystemExit(f"FAILED: anchor claimed {len(twice)} customers twice")
    return round(len(ids) / elapsed), [x for _, lat in results for x in lat]


def _p99(latencies: list[float]) -> float:
    return statistics.quantiles(latencies, n=100)[98] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--desks", type=int, default=20)
    parser.add_argument("--agents", type=int, default=4, help="agents the desks work for")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--threads",
        action="store_true",
        help="desks as threads in one process (GIL-bound) instead of processes",
    )
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()

    server = make_url(args.server).set(drivername="postgresql+psycopg")
    name = f"agent_desk_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    try:
        owner = Database(url)
        owner.upgrade()
        t0 = time.perf_counter()
        with owner.transaction() as session:
            load_demo(session, customers=args.customers, agents=len(AGENTS), seed=1)
        print(f"demo_load_{args.customers}_customers_s  {time.perf_counter() - t0:.1f}")
        with owner.engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        with owner.transaction() as session:
            actors = [actor_for_login(session, login) for login, _ in AGENTS[: args.agents]]
        rates: list[int] = []
        latencies: list[float] = []
        anchor_rates: list[int] = []
        anchor_latencies: list[float] = []
        run_round = _round if args.threads else _round_processes
        for number in range(1, args.rounds + 1):
            kinds = ["project"] if args.threads else ["anchor", "project"]
            for kind in kinds:
                with owner.transaction() as session:
                    session.execute(update(Customer).values(held_by_agent_id=None, held_until=None))
                with owner.engine.connect() as connection:
                    connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                        text("VACUUM ANALYZE customer")
                    )
                if kind == "anchor":
                    rate, round_latencies = _round_bare(url, actors, args.desks, args.seconds)
                    anchor_rates.append(rate)
                    anchor_latencies += round_latencies
                else:
                    rate, round_latencies = run_round(url, actors, args.desks, args.seconds)
                    rates.append(rate)
                    latencies += round_latencies
                print(f"round {number} {kind}: {rate} claims/s ({len(round_latencies)} claims)")
        owner.dispose()
        cuts = statistics.quantiles(latencies, n=100)
        print(
            f"claims_per_second median={statistics.median(rates):.0f} "
            f"min={min(rates)} max={max(rates)} desks={args.desks} agents={args.agents} "
            f"customers={args.customers}"
        )
        print(
            f"claim_latency_ms p50={cuts[49] * 1000:.1f} p90={cuts[89] * 1000:.1f} "
            f"p99={cuts[98] * 1000:.1f} max={max(latencies) * 1000:.1f}"
        )
        if anchor_rates:
            anchor, project = statistics.median(anchor_rates), statistics.median(rates)
            print(
                f"claims anchor={anchor:.0f}/s (bare UPDATE … SKIP LOCKED … RETURNING, "
                f"p99 {_p99(anchor_latencies):.1f} ms) project={project:.0f}/s "
                f"(claim_next, p99 {_p99(latencies):.1f} ms) ratio={project / anchor:.2f} "
                f"(goal >= 0.8) double_claims=0"
            )
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

"""Sync benchmarks on PostgreSQL: change-to-other-desk latency and outbox replay.

Run: ``python bench/bench_sync.py [--pg postgresql://postgres@127.0.0.1/postgres]
[--changes 50] [--edits 1000] [--only latency|replay]``. Creates (and drops) its own
database. Prints one line per figure.

* Latency: one desk writes (a supervisor moves one customer, or an agent adds a
  note); another desk, woken by LISTEN/NOTIFY on its own thread, reads the change
  log from its cursor. Measured from the start of the writing transaction to the
  moment the other desk has read the change (target under 1 s).
* Replay: 1,000 edits (calls, notes, promises, next steps on 200 customers)
  enqueued in the durable outbox while "offline", then replayed (target under 10 s,
  also with the machine loaded). The replay commits in batches of 50 operations;
  then the "done" marks are forgotten and it runs again (everything recognised).
"""

from __future__ import annotations

import argparse
import operator
import queue
import statistics
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

from agent_desk.demo import load_demo
from agent_desk.domain.codes import Channel, Direction, NextStepKind, Outcome
from agent_desk.models import Customer
from agent_desk.models.base import utcnow
from agent_desk.services.activity import NextStepInput, add_note
from agent_desk.services.actor import actor_for_login
from agent_desk.services.database import Database
from agent_desk.services.outbox import Outbox
from agent_desk.services.sync import ChangeCursor, ChangeListener, latest_change_id
from agent_desk.services.team import ReassignFilter, reassign


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def bench_latency(database: Database, changes: int) -> None:
    wakes: queue.Queue[int] = queue.Queue()
    seen: dict[int, float] = {}
    seen_lock = threading.Condition()
    with database.transaction() as session:
        cursor = ChangeCursor(latest_change_id(session))
        marieke = actor_for_login(session, "marieke")
        sanne = actor_for_login(session, "sanne")
        numbers = list(
            session.scalars(
                select(Customer.customer_number)
                .where(Customer.assigned_agent_id == sanne.agent_id, Customer.status == "open")
                .order_by(Customer.id)
                .limit(changes)
            )
        )
    stop = threading.Event()

    def desk() -> None:
        """The other desk's database worker: reads from its cursor when woken."""
        while not stop.is_set():
            try:
                wakes.get(timeout=0.2)
            except queue.Empty:
                continue
            with database.transaction() as session:
                summary = cursor.read(session)
            arrived = time.perf_counter()
            with seen_lock:
                for customer_id in summary.customer_ids:
                    seen.setdefault(customer_id, arrived)
                seen_lock.notify_all()

    worker = threading.Thread(target=desk, daemon=True)
    worker.start()
    ready = threading.Event()

    def on_reconnect() -> None:
        wakes.put(0)  # catch up
        ready.set()

    listener = ChangeListener.for_database(database, on_wake=wakes.put, on_reconnect=on_reconnect)
    reassign_latency: list[float] = []
    note_latency: list[float] = []
    with listener:
        if not ready.wait(10):
            raise SystemExit("the listener did not connect")
        for index, number in enumerate(numbers):
            started = time.perf_counter()
            with database.transaction() as session:
                if index % 2 == 0:
                    result = reassign(
                        session,
                        marieke,
                        ReassignFilter(customer_numbers=[number]),
                        ["daan"],
                        utcnow(),
                    )
                    customer_id = result.customer_ids[0]
                else:
                    customer_id = int(
                        session.scalar(
                            select(Customer.id).where(Customer.customer_number == number)
                        )
                        or 0
                    )
                    add_note(session, sanne, customer_id, f"bench note {index}", utcnow())
            with seen_lock:
                if not seen_lock.wait_for(partial(operator.contains, seen, customer_id), 5):
                    raise SystemExit(f"change {index} never reached the other desk")
                elapsed = seen[customer_id] - started
                del seen[customer_id]
            (reassign_latency if index % 2 == 0 else note_latency).append(elapsed)
            time.sleep(0.02)
    stop.set()
    worker.join()
    every = reassign_latency + note_latency
    for label, values in (
        ("all", every),
        ("reassign_one", reassign_latency),
        ("note", note_latency),
    ):
        print(
            f"pg change_to_other_desk_latency_ms[{label}]  n={len(values)} "
            f"median={statistics.median(values) * 1000:.1f} "
            f"p95={_percentile(values, 0.95) * 1000:.1f} max={max(values) * 1000:.1f}"
        )


def bench_replay(database: Database, edits: int, folder: Path) -> None:
    now = utcnow()
    with database.transaction() as session:
        eva = actor_for_login(session, "eva")
        customers = session.execute(
            select(Customer.id, Customer.version)
            .where(
                Customer.assigned_agent_id == eva.agent_id,
                Customer.status == "open",
                Customer.arrears_cents > 50000,
            )
            .order_by(Customer.id)
            .limit(max(1, edits // 5))
        ).all()
    outbox = Outbox(folder / "outbox.sqlite3")
    started = time.perf_counter()
    for index in range(edits):
        customer_id, version = customers[index % len(customers)]
        at = now + timedelta(milliseconds=index)
        kind = index % 5
        step = NextStepInput(NextStepKind.CALLBACK, now + timedelta(days=2))
        if kind in (0, 1):
            outbox.enqueue_contact_attempt(
                customer_id=customer_id,
                base_version=version,
                agent_login=eva.login,
                now=at,
                channel=Channel.PHONE,
                direction=Direction.OUTBOUND,
                outcome=Outcome.NO_ANSWER if kind == 0 else Outcome.REACHED,
                note=f"offline call {index}",
                next_step=step,
            )
        elif kind == 2:
            outbox.enqueue_note(
                customer_id=customer_id, agent_login=eva.login, now=at, text=f"note {index}"
            )
        elif kind == 3:
            outbox.enqueue_promise(
                customer_id=customer_id,
                base_version=version,
                agent_login=eva.login,
                now=at,
                amount_cents=1000,
                due_date=now.date() + timedelta(days=7),
            )
        else:
            outbox.enqueue_next_step(
                customer_id=customer_id,
                base_version=version,
                agent_login=eva.login,
                now=at,
                step=NextStepInput(NextStepKind.LETTER, now + timedelta(days=3)),
            )
    enqueue_s = time.perf_counter() - started
    print(
        f"pg outbox_enqueue_{edits}_durable_s  {enqueue_s:.2f} "
        f"({enqueue_s / edits * 1000:.2f} ms each, fsync'd)"
    )
    started = time.perf_counter()
    cpu = time.process_time()
    result = outbox.replay(database, eva, utcnow)
    replay_s = time.perf_counter() - started
    print(
        f"pg outbox_replay_{edits}_edits_s  {replay_s:.2f} applied={result.applied} "
        f"conflicts={result.conflicts} failed={result.failed} "
        f"(client CPU {time.process_time() - cpu:.2f} s)"
    )
    for op in outbox.conflicts()[:3]:
        print(f"   review: {op.kind} {op.status}: {op.error}")
    started = time.perf_counter()
    outbox._connection.execute("UPDATE operation SET status = 'pending'")
    again = outbox.replay(database, eva, utcnow)
    print(
        f"pg outbox_replay_again_after_lost_marks_s  {time.perf_counter() - started:.2f} "
        f"applied={again.applied} (all recognised, nothing doubled)"
    )
    outbox.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--changes", type=int, default=50)
    parser.add_argument("--edits", type=int, default=1000)
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument(
        "--only", choices=("latency", "replay"), help="run one of the two benchmarks"
    )
    args = parser.parse_args()
    admin_url = make_url(args.pg).set(drivername="postgresql+psycopg")
    name = f"agent_desk_bench_sync_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    database = Database(admin_url.set(database=name))
    try:
        database.upgrade()
        with database.transaction() as session:
            load_demo(session, customers=args.customers, agents=4, seed=2)
        if args.only != "replay":
            bench_latency(database, args.changes)
        if args.only != "latency":
            with tempfile.TemporaryDirectory() as folder:
                bench_replay(database, args.edits, Path(folder))
    finally:
        database.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()

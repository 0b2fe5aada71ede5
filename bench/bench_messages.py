"""``messages send-due`` over 100,000 arrangements, against a local aiosmtpd server.

Builds N customers (one verified e-mail address each) with one active arrangement of
six monthly instalments each; the next instalment falls 1 to 30 days ahead, so about
a tenth of them owe an instalment reminder tonight (``--all-due``: every one does).
Times the run that queues and sends them (every message through SMTP to a real
aiosmtpd on 127.0.0.1, each journalled in the outbox), then a second run of the same
night (a replay: nothing new, nothing sent twice).

    python bench/bench_messages.py [--arrangements 100000] [--all-due] [--pg URL]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_desk.domain.sending_rules import load_sending_policy
from agent_desk.models import Arrangement, ContactPoint, Customer, Instalment
from agent_desk.services import due_messages, sending
from agent_desk.services import messages as msgs
from agent_desk.services.database import Database
from tests.support.messaging import free_port

TODAY = date(2026, 12, 8)  # a Tuesday
NOW = datetime(2026, 12, 8, 17, 0, tzinfo=UTC)  # 18:00 in Amsterdam


def build(database: Database, arrangements: int, all_due: bool) -> None:
    database.upgrade()
    verified = datetime(2026, 11, 1, tzinfo=UTC)
    with database.transaction() as s:
        for start in range(0, arrangements, 10_000):
            ids = range(start + 1, min(arrangements, start + 10_000) + 1)
            s.execute(
                insert(Customer),
                [
                    {
                        "id": n,
                        "customer_number": f"B{n:07d}",
                        "first_name": "Klant",
                        "last_name": f"Nummer {n}",
                        "salutation": "ms" if n % 2 else "mr",
                        "language": "nl" if n % 5 else "en",
                        "status": "open",
                        "arrears_cents": 60_000,
                        "version": 1,
                    }
                    for n in ids
                ],
            )
            s.execute(
                insert(ContactPoint),
                [
                    {
                        "customer_id": n,
                        "kind": "email",
                        "value": f"klant{n}@example.org",
                        "preferred": True,
                        "verified_at": verified,
                        "version": 1,
                    }
                    for n in ids
                ],
            )
            s.execute(
                insert(Arrangement),
                [
                    {
                        "id": n,
                        "customer_id": n,
                        "principal_cents": 60_000,
                        "total_cents": 60_000,
                        "status": "active",
                        "version": 1,
                    }
                    for n in ids
                ],
            )
            rows = []
            for n in ids:
                ahead = 1 + (n % 3 if all_due else n % 30)
                first = TODAY + timedelta(days=ahead)
                for k in range(6):
                    rows.append(
                        {
                            "arrangement_id": n,
                            "number": k + 1,
                            "due_date": first + timedelta(days=30 * k),
                            "amount_cents": 10_000,
                            "paid_cents": 0,
                            "status": "open",
                            "version": 1,
                        }
                    )
            s.execute(insert(Instalment), rows)


@contextlib.contextmanager
def smtp_sink() -> Any:
    """aiosmtpd in a process of its own (in this process it would fight for the GIL)."""
    port = free_port()
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "aiosmtpd",
            "-n",
            "-l",
            f"127.0.0.1:{port}",
            "-c",
            "aiosmtpd.handlers.Sink",
        ],
    )
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1):
                break
            time.sleep(0.05)
        yield f"smtp://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def run(database: Database, label: str, arrangements: int, all_due: bool) -> None:
    t0 = time.perf_counter()
    build(database, arrangements, all_due)
    print(f"{label} build_{arrangements}_arrangements_s  {time.perf_counter() - t0:.1f}")
    with smtp_sink() as url:
        os.environ["AGENT_DESK_SMTP_URL"] = url
        os.environ["AGENT_DESK_MAIL_FROM"] = "klantenservice@delinde.example"
        for night in ("first_run", "replay"):
            policy = load_sending_policy()
            result = due_messages.SendDueResult(TODAY, False)
            t0 = time.perf_counter()
            with database.transaction() as s:
                due_messages.queue_due(s, TODAY, NOW, policy, result)
            queued_s = time.perf_counter() - t0
            with database.transaction() as s:
                transports = sending.ConfiguredTransports(msgs.team_settings(s))
            result.dispatch = sending.dispatch(database, transports, NOW, policy=policy)
            took = time.perf_counter() - t0
            data = result.as_json()
            queued = sum(n for by in data["queued"].values() for n in by.values())
            rate = data["sent_total"] / (took - queued_s) if took > queued_s else 0.0
            print(
                f"{label} send_due_{night}_s  {took:.1f}  (queue {queued_s:.1f}, send "
                f"{took - queued_s:.1f})  queued={queued} sent={data['sent_total']} "
                f"held={data['held_back']} failed={data['failed']} "
                f"retry_later={data['retry_later']} sent_per_second={rate:.0f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--arrangements", type=int, default=100_000)
    parser.add_argument("--all-due", action="store_true", help="every arrangement owes one")
    parser.add_argument("--pg", help="an empty PostgreSQL database URL to run on as well")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ.setdefault("AGENT_DESK_DATA_DIR", folder)
        database = Database(f"sqlite:///{Path(folder) / 'messages.sqlite3'}")
        run(database, "sqlite", args.arrangements, args.all_due)
        database.dispose()
    if args.pg:
        database = Database(args.pg)
        run(database, "postgresql", args.arrangements, args.all_due)
        database.dispose()


if __name__ == "__main__":
    main()

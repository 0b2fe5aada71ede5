"""Import at portfolio scale: ``import customers`` of 200,000 customers and ``import
payments``, against a raw bulk insert of the same rows, on SQLite and PostgreSQL.

Run: ``python bench/bench_import.py [--customers 200000] [--payments 100000]
[--pg postgresql://postgres@127.0.0.1:5432/postgres] [--only sqlite|postgresql]``.

* project: ``agent-desk import customers FILE.csv`` as the CLI runs it (a child
  process, so its peak RSS is its own), then the same file again (idempotent: nothing
  written), then ``import payments``.
* anchor: the rows the import wrote (customer, contact_point, claim, ledger_entry,
  next_step, audit_event), read back and inserted into an empty database of the same
  schema with the driver's plainest bulk path (sqlite3 ``executemany``, psycopg
  ``COPY``), in the same run; on SQLite with the page cache the import's connection
  has (``IMPORT_CACHE_KIB``), its triggers firing for each row.
Goals (issue 17): under 60 s, at most 10x the anchor, RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from statistics import median

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from agent_desk.demo import load_demo
from agent_desk.services.database import Database
from agent_desk.services.importers.customers import IMPORT_CACHE_KIB

TABLES = ("customer", "contact_point", "claim", "ledger_entry", "next_step", "audit_event")
HEADER = (
    "customer_number,first_name,last_name,date_of_birth,language,segment,mobile,phone,"
    "email,street,house_number,postcode,city,agent,claim_reference,claim_description,"
    "principal,due_date\n"
)
FIRST = ["Fatma", "Jan", "Sanne", "Pieter", "Emma", "Zoë", "Łukasz", "Thi Lan", "René"]
LAST = ["Çelik", "de Jong", "Jansen", "van den Berg", "Nguyễn", "Yılmaz", "Kowalski", "Bos"]
STREETS = ["Dorpsstraat", "Kerkstraat", "Molenweg", "Stationsplein", "Julianalaan"]
CITIES = [("Amsterdam", 1011), ("Rotterdam", 3011), ("Utrecht", 3511), ("Ede", 6711)]
AGENTS = ["sanne", "daan", "eva", "mohammed", ""]


def write_customers(path: Path, customers: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    today = date.today()
    rows = 0
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(customers):
            city, code = rng.choice(CITIES)
            born = date(1950, 1, 1) + timedelta(days=rng.randrange(18_000))
            base = (
                f"{700000 + n},{rng.choice(FIRST)},{rng.choice(LAST)},{born.isoformat()},"
                f"{rng.choice(['nl', 'nl', 'en'])},consumer,06{rng.randrange(1, 6)}{rng.randrange(10**6, 10**7)},,"
                f"klant{n}@example.nl,{rng.choice(STREETS)},{rng.randrange(1, 300)},"
                f"{code + rng.randrange(60)} AB,{city},{rng.choice(AGENTS)}"
            )
            for k in range(1 + (n % 4 == 0)):
                due = today - timedelta(days=rng.randrange(20, 700))
                out.write(
                    f"{base},INV-{n}-{k},Energy {k},{rng.randrange(1000, 250000) / 100:.2f},"
                    f"{due.isoformat()}\n"
                )
                rows += 1
    return rows


def write_payments(path: Path, customers: int, payments: int, seed: int = 8) -> None:
    rng = random.Random(seed)
    today = date.today()
    with path.open("w", encoding="utf-8") as out:
        out.write("payment_reference,customer_number,amount,paid_on\n")
        for n in range(payments):
            paid = today - timedelta(days=rng.randrange(0, 15))
            out.write(
                f"PAY-{n},{700000 + rng.randrange(customers)},"
                f"{rng.randrange(500, 60000) / 100:.2f},{paid.isoformat()}\n"
            )


@dataclass
class Run:
    seconds: float
    cpu: float  # user + system of the child and its worker processes
    rss_mb: float  # the child's own peak
    workers_rss_mb: float  # the largest worker process's peak (0: none)
    out: str


def run_cli(args: list[str], url: str) -> Run:
    """The CLI in a child process: wall seconds, CPU seconds, peak RSS, its output."""
    script = (
        "import resource, sys\n"
        "from agent_desk.cli import main\n"
        "code = main(sys.argv[1:])\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent across exec.
        "peak = next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "print('PEAK_RSS_KB', peak, file=sys.stderr)\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print('WORKERS_RSS_KB', kids, file=sys.stderr)\n"
        "sys.exit(code)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *args, "--database", url],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = re.search(r"PEAK_RSS_KB (\d+)", done.stderr)
    kids = re.search(r"WORKERS_RSS_KB (\d+)", done.stderr)
    return Run(
        seconds,
        cpu,
        int(peak.group(1)) / 1024 if peak else 0.0,
        int(kids.group(1)) / 1024 if kids else 0.0,
        done.stdout.strip(),
    )


_IMPORT_ROWS = {
    "ledger_entry": "WHERE payment_id IS NULL",
    "audit_event": "WHERE action = 'import' AND entity = 'customer'",
}


def anchor(source: Database, target: Database) -> tuple[float, float, int]:
    """Raw bulk insert of the rows the import wrote into an empty database."""
    with source.engine.connect() as connection:
        data = {}
        for table in TABLES:
            # Only the customer import's rows (an odd round reads them after its payments).
            where = _IMPORT_ROWS.get(table, "")
            result = connection.execute(text(f"SELECT * FROM {table} {where} ORDER BY id"))
            data[table] = (list(result.keys()), [tuple(r) for r in result])
    # Only the import's own rows: the demo agents' one customer stays out of it.
    total = sum(len(rows) for _, rows in data.values())
    raw = target.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        started, cpu = time.perf_counter(), time.process_time()
        if target.is_sqlite:
            cursor = driver.cursor()
            # The import's connection has this page cache: so has the anchor's.
            cursor.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KIB}")
            for table, (columns, rows) in data.items():
                marks = ", ".join("?" for _ in columns)
                cursor.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                    [tuple(_sqlite(v) for v in row) for row in rows],
                )
            driver.commit()
        else:
            with driver.cursor() as cursor:
                for table, (columns, rows) in data.items():
                    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                        for row in rows:
                            copy.write_row(row)
            driver.commit()
        return time.perf_counter() - started, time.process_time() - cpu, total
    finally:
        raw.close()


def _sqlite(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return value


def fresh(engine: str, folder: Path, name: str, pg: str) -> tuple[Database, str]:
    if engine == "sqlite":
        for old in folder.glob(f"{name}.sqlite3*"):
            old.unlink()
        url = f"sqlite:///{folder / (name + '.sqlite3')}"
    else:
        admin = create_engine(make_url(pg).set(drivername="postgresql+psycopg"))
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
            c.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = make_url(pg).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    database.upgrade()
    return database, url


def _empty_but_agents(database: Database) -> None:
    with database.transaction() as session:
        load_demo(session, customers=1, agents=4, seed=1)  # the agents the file names
    with database.engine.begin() as c:  # only the import's rows count
        for table in ("ledger_entry", "next_step", "contact_attempt", "claim", "contact_point"):
            c.execute(text(f"DELETE FROM {table}"))
        for table in ("audit_event", "change_log", "promise_to_pay", "instalment"):
            c.execute(text(f"DELETE FROM {table}"))
        for table in ("arrangement", "demand_notice_claim", "demand_notice", "customer"):
            c.execute(text(f"DELETE FROM {table}"))
        c.execute(text("DELETE FROM customer_search_key"))


def _line(label: str, what: str, run: Run) -> str:
    workers = f"  workers_rss_mb={run.workers_rss_mb:.0f}" if run.workers_rss_mb else ""
    return (
        f"{label} {what:<26} project={run.seconds:.1f}s  cpu={run.cpu:.1f}s  "
        f"rss_mb={run.rss_mb:.0f}{workers}  ({run.out[:90]})"
    )


def bench(
    engine: str, folder: Path, customers_csv: Path, payments_csv: Path, pg: str, runs: int
) -> None:
    """``runs`` rounds, each: anchor and project side by side (which goes first
    alternates), then the re-import and the payments; medians at the end."""
    label = f"{engine:<10}"
    rounds: list[tuple[Run, float, float, int, Run, Run]] = []
    previous: Database | None = None
    for n in range(runs):
        # Two project databases in turn: an odd round times the anchor first, on the
        # rows the round before imported (the same file: the same rows).
        database, url = fresh(engine, folder, f"bench_import_project{n % 2}", pg)
        _empty_but_agents(database)
        target, _ = fresh(engine, folder, "bench_import_anchor", pg)
        _empty_but_agents(target)
        if n % 2 and previous is not None:
            raw_seconds, raw_cpu, rows = anchor(previous, target)
            first = run_cli(["import", "customers", str(customers_csv)], url)
        else:
            first = run_cli(["import", "customers", str(customers_csv)], url)
            raw_seconds, raw_cpu, rows = anchor(database, target)
        target.dispose()
        print(_line(label, f"import_customers (run {n + 1})", first))
        print(
            f"{label} import_customers_ratio     anchor={raw_seconds:.1f}s cpu={raw_cpu:.1f}s "
            f"(raw bulk insert of the same {rows} rows)  project={first.seconds:.1f}s  "
            f"ratio={first.seconds / raw_seconds:.1f}x"
        )
        again = run_cli(["import", "customers", str(customers_csv)], url)
        print(_line(label, "import_customers_again", again))
        pay = run_cli(["import", "payments", str(payments_csv)], url)
        print(_line(label, "import_payments", pay), flush=True)
        rounds.append((first, raw_seconds, raw_cpu, rows, again, pay))
        if previous is not None:
            previous.dispose()
        previous = database
    project = median(r[0].seconds for r in rounds)
    raw = median(r[1] for r in rounds)
    print(
        f"{label} MEDIAN of {runs}: import_customers anchor={raw:.1f}s (cpu "
        f"{median(r[2] for r in rounds):.1f}s)  project={project:.1f}s (cpu "
        f"{median(r[0].cpu for r in rounds):.1f}s)  ratio={median(r[0].seconds / r[1] for r in rounds):.1f}x  "
        f"rss_mb={median(r[0].rss_mb for r in rounds):.0f} "
        f"(workers {median(r[0].workers_rss_mb for r in rounds):.0f})  "
        f"goal <60 s, <=10x, rss<300 MB"
    )
    print(
        f"{label} MEDIAN of {runs}: again={median(r[4].seconds for r in rounds):.1f}s "
        f"rss_mb={median(r[4].rss_mb for r in rounds):.0f}  "
        f"payments={median(r[5].seconds for r in rounds):.1f}s "
        f"rss_mb={median(r[5].rss_mb for r in rounds):.0f} "
        f"(workers {median(r[5].workers_rss_mb for r in rounds):.0f})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--payments", type=int, default=100_000)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "AGENT_DESK_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--only", choices=["sqlite", "postgresql"])
    parser.add_argument("--runs", type=int, default=5, help="rounds; medians are printed")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        customers_csv = folder / "customers.csv"
        payments_csv = folder / "payments.csv"
        rows = write_customers(customers_csv, args.customers)
        write_payments(payments_csv, args.customers, args.payments)
        print(
            f"file: {args.customers} customers, {rows} rows, "
            f"{customers_csv.stat().st_size / 1e6:.0f} MB; {args.payments} payments"
        )
        for engine in ("sqlite", "postgresql"):
            if args.only in (None, engine):
                bench(engine, folder, customers_csv, payments_csv, args.pg, args.runs)
    print(f"bench process peak rss {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024} MB")


if __name__ == "__main__":
    main()
